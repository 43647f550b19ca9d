"""The paper's vocabulary, defined once for every section, table and the live figures' JavaScript.

**Polytopes** (paper, "Superposition as a Phase Change" and "The Geometry of Superposition"). Features in
superposition arrange themselves as the vertices of regular polytopes: k features sharing d dimensions, each
with dimensionality D_i = d / k. :data:`POLYTOPES` lists the ones the paper names, in decreasing D, each with
its ideal frame (:meth:`Polytope.frame`: k unit columns in d dimensions whose Σ vvᵀ = (k/d) I, a tight frame, so
that every feature has D_i = d / k exactly). "Dedicated" is the trivial one, a dimension of a feature's own.

**Thresholds**: what names a feature represented or learned, two features collapsed, antipodal or orthogonal,
and a neuron dead. Each comes with the measurement it reads and why its value; sections use these names, not
their own numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .errors import ConfigError

# ----------------------------------------------------------------------------------------------------
# Thresholds

# ‖W_i‖ above which a feature is represented: a learned feature has norm ≈ 1, an unlearned one ≈ 0, and the
# paper's figures show nothing in between for long; 0.5 is the midpoint.
REPRESENTED_NORM = 0.5
# ‖W_i‖ from which a feature counts as learned while training is under way (chapter 5, correlated sets):
# collapsed members of a correlated set share a direction at norms ≈ 0.4–0.71, below REPRESENTED_NORM.
LEARNED_NORM = 0.25
# cos(W_i, W_j) at or above which two features point the same way (≈ 26°): a collapsed correlated set.
COLLAPSED_COS = 0.9
# cos(W_i, W_j) at or below which two features are opposite: an antipodal pair, a digon.
ANTIPODAL_COS = -0.9
# |cos(W_i, W_j)| at or below which two features are orthogonal (76°–104°).
ORTHOGONAL_COS = 0.25
# Largest |W| entry of a neuron below which it is dead (privileged basis, computation): learned weights are of
# order 1, a neuron that never fires decays towards 0 under weight decay.
DEAD_WEIGHT = 0.1
# A neuron responds to a feature when its |W| entry is at least this share of its largest (the paper's displays
# rescale each neuron so that its largest entry is 1).
RESPONDS_SHARE = 0.25
# Chapter 10's models change the output nonlinearity, which rescales the weights a feature needs (a sigmoid's
# slope is 1/4): there a feature is represented when ‖W_i‖ exceeds this share of its model's largest ‖W_j‖.
REPRESENTED_SHARE = 0.5
# Σ_{j≠i}(Ŵ_i·W_j)² above which a represented feature shares its direction with others: it is in superposition
# (chapter 2's table); at or below it, the feature has a dimension of its own ("dedicated").
INTERFERING = 0.1
# Below this norm a feature (or a decoder column) is absent: its unit vector Ŵ_i is taken to be 0, never NaN.
ZERO_NORM = 1e-8


def unit_columns(W) -> tuple[np.ndarray, np.ndarray]:
    """The unit vectors Ŵ_i of the columns of W (..., d, n), 0 where ‖W_i‖ <= ZERO_NORM, and the norms (..., n),
    in float64."""
    W = np.asarray(W, dtype=float)
    norms = np.linalg.norm(W, axis=-2)
    unit = np.where(norms[..., None, :] > ZERO_NORM, W / np.maximum(norms, ZERO_NORM)[..., None, :], 0.0)
    return unit, norms


# ----------------------------------------------------------------------------------------------------
# Polytopes


def regular_polygon(k: int) -> np.ndarray:
    """(2, k) unit vectors at angles 2πj/k; a tight frame for k >= 3 (Σ v vᵀ = (k/2) I)."""
    if not isinstance(k, (int, np.integer)) or k < 3:
        raise ConfigError(f"k must be an integer >= 3 for a 2-D regular polygon, got {k!r}")
    angles = 2 * np.pi * np.arange(k) / k
    return np.stack([np.cos(angles), np.sin(angles)])


def _square_antiprism() -> np.ndarray:
    # Two squares at heights ±h, the lower turned by 45°. The tight frame needs Σz² = 8h² = 8/3, so
    # h = 1/√3 and radius √(2/3). (The equal-edge antiprism has a different h and is not a tight frame.)
    angles = np.pi / 4 * np.arange(8)
    radius, h = np.sqrt(2 / 3), np.sqrt(1 / 3)
    return np.stack([radius * np.cos(angles), radius * np.sin(angles), h * (-1.0) ** np.arange(8)])


_TETRAHEDRON = np.array([[1.0, 1, -1, -1], [1, -1, 1, -1], [1, -1, -1, 1]])  # alternate vertices of a cube


@dataclass(frozen=True)
class Polytope:
    """One of the paper's polytopes: ``features`` (k) unit vectors in ``dimensions`` (d), each feature with
    dimensionality d / k. ``members``: how a table names the features in it ("4 antipodal", "5 pentagon")."""

    name: str
    features: int
    dimensions: int
    members: str
    _frame: Callable[[], np.ndarray] = field(repr=False, compare=False)

    @property
    def dimensionality(self) -> float:
        """D_i = d / k of each of its features."""
        return self.dimensions / self.features

    def frame(self) -> np.ndarray:
        """The ideal polytope, (d, k): k unit columns forming a tight frame in d dimensions."""
        return self._frame()


POLYTOPES: dict[str, Polytope] = {
    p.name: p
    for p in (
        Polytope("dedicated", 1, 1, "dedicated", lambda: np.ones((1, 1))),
        Polytope(
            "tetrahedron",
            4,
            3,
            "tetrahedron",
            lambda: np.array([[1, 1, -1, -1], [1, -1, 1, -1], [1, -1, -1, 1]]) / 3**0.5,
        ),
        Polytope("triangle", 3, 2, "triangle", lambda: regular_polygon(3)),
        Polytope("digon", 2, 1, "antipodal", lambda: np.array([[1.0, -1.0]])),
        Polytope("pentagon", 5, 2, "pentagon", lambda: regular_polygon(5)),
        Polytope("square antiprism", 8, 3, "square antiprism", _square_antiprism),
    )
}


def polytope(name: str) -> Polytope:
    """The polytope called ``name`` (one of :data:`POLYTOPES`), with a clear error for any other name."""
    if name not in POLYTOPES:
        raise ConfigError(f"name must be one of {tuple(POLYTOPES)}, got {name!r}")
    return POLYTOPES[name]


# The geometries a feature can take part in, by the name a table gives its features (the polytopes above, the
# digon's features "antipodal"): its dimensionality D_i, the hidden dimensions the geometry needs, and how many
# features form one (1: any number). Chapter 1's tables and the live fits' JavaScript name features by it.
FEATURE_GEOMETRIES: dict[str, tuple[float, int, int]] = {
    **{p.members: (p.dimensionality, p.dimensions, p.features) for p in POLYTOPES.values()},
    "not learned": (0.0, 0, 1),
}


def polytope_lines() -> dict[str, float]:
    """The dimensionalities D = d / k the paper draws as lines on its feature-dimensionality plots, by name."""
    return {name: p.dimensionality for name, p in POLYTOPES.items()}


__all__ = [
    "REPRESENTED_NORM",
    "LEARNED_NORM",
    "COLLAPSED_COS",
    "ANTIPODAL_COS",
    "ORTHOGONAL_COS",
    "DEAD_WEIGHT",
    "RESPONDS_SHARE",
    "REPRESENTED_SHARE",
    "INTERFERING",
    "ZERO_NORM",
    "unit_columns",
    "Polytope",
    "POLYTOPES",
    "FEATURE_GEOMETRIES",
    "polytope",
    "polytope_lines",
    "regular_polygon",
]
