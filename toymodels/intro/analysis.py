"""§1 (chapter 1): naming the geometry of a fit from its features' dimensionalities D_i (dedicated, antipodal,
pentagon, not learned, other).
"""

from __future__ import annotations

from collections import Counter

import torch

from ..errors import ConfigError
from ..metrics import feature_dimensionality
from ..vocabulary import FEATURE_GEOMETRIES

GEOMETRIES = FEATURE_GEOMETRIES  # by the name a table gives its features: (D_i, dimensions, features per shape)


def geometry(D: float, n_hidden: int | None = None, tolerance: float = 0.03) -> str:
    """The name of the ideal geometry (possible in ``n_hidden`` dimensions) whose dimensionality is within
    ``tolerance`` of ``D``, else "D = …"."""
    try:
        D = float(D)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"D must be one number (a feature's dimensionality), got {D!r:.60}") from error
    candidates = {name: d for name, (d, dims, _) in GEOMETRIES.items() if n_hidden is None or dims <= n_hidden}
    name, value = min(candidates.items(), key=lambda item: abs(item[1] - D))
    return name if abs(value - D) <= tolerance else f"D = {D:.2f}"


def describe(W) -> list[str]:
    """Per instance, what its features do, e.g. "2 dedicated, 3 not learned": counts by geometry name, in the
    order of the features. A name is used only for a whole number of its shapes (pentagons come in fives);
    other features are listed as "other (D = …)"."""
    D = feature_dimensionality(W)
    D = D.unsqueeze(0) if D.ndim == 1 else D
    n_hidden = torch.as_tensor(W).shape[-2]
    descriptions = []
    for row in D.tolist():
        names = [geometry(d, n_hidden) for d in row]
        counts = Counter(name for name in names if name in GEOMETRIES)  # in order of first appearance
        whole = {name for name, count in counts.items() if count % GEOMETRIES[name][2] == 0}
        parts = [f"{count} {name}" for name, count in counts.items() if name in whole]
        others = [f"{d:.2f}" for d, name in zip(row, names) if name not in whole]
        if others:
            parts.append(f"{len(others)} other (D = {', '.join(others)})")
        descriptions.append(", ".join(parts))
    return descriptions
