"""Metrics of learned weights (paper §2, §4, §7, §8, §10).

Every function takes W with shape ``(n_instances, n_hidden, n_features)`` — or a single ``(n_hidden,
n_features)`` matrix, returned without the instance axis — where column ``W[..., :, i]`` is feature i's
direction W_i. (The authors' notebook stores the transpose, ``(instance, feature, hidden)``.) They compute in
float64 and return float64 tensors: float32 sums round differently on another CPU, which could change a digit
the book prints; float64 ones differ only far below the digits shown.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .errors import ConfigError
from .validation import as_float64
from .vocabulary import (
    ANTIPODAL_COS,
    COLLAPSED_COS,
    DEAD_WEIGHT,
    LEARNED_NORM,
    ORTHOGONAL_COS,
    REPRESENTED_NORM,
    RESPONDS_SHARE,
    ZERO_NORM,
    unit_columns,
)

# How the features of a set (consecutive features, ``set_size`` of them) lie, named by :func:`classify_sets`.
ARRANGEMENTS = ("orthogonal", "side by side", "collapsed", "antipodal", "obtuse", "not learned", "mixed")


def _as_batched(W) -> tuple[torch.Tensor, bool]:
    try:
        W = torch.as_tensor(W).detach()
    except (TypeError, ValueError, RuntimeError) as error:
        raise ConfigError(f"W must be an array of numbers, got {W!r:.80}") from error
    if not (W.is_floating_point() or W.dtype in (torch.int32, torch.int64)):
        raise ConfigError(f"W must be an array of numbers, got dtype {W.dtype}")
    if W.ndim == 2:
        return W.unsqueeze(0).double(), True
    if W.ndim != 3:
        raise ConfigError(
            f"W must have shape (n_hidden, n_features) or (n_instances, n_hidden, n_features), got {tuple(W.shape)}"
        )
    return W.double(), False


def _unbatch(value: torch.Tensor, single: bool) -> torch.Tensor:
    return value[0] if single else value


def feature_norms(W) -> torch.Tensor:
    """‖W_i‖ for every feature: ``(n_instances, n_features)``."""
    W, single = _as_batched(W)
    return _unbatch(W.norm(dim=-2), single)


def _overlaps(W: torch.Tensor) -> torch.Tensor:
    """(Ŵ_i · W_j)² as ``(n_instances, i, j)``; rows of absent features are zero."""
    norms = W.norm(dim=-2, keepdim=True)  # (I, 1, n)
    unit = W / norms.clamp_min(ZERO_NORM) * (norms > ZERO_NORM)
    return torch.einsum("khi,khj->kij", unit, W).square()


def superposition(W, sqrt: bool = False) -> torch.Tensor:
    """The paper's superposition of each feature, Σ_{j≠i} (Ŵ_i·W_j)²: 0 when W_i is orthogonal to every other
    feature, ≥ 1 when some group of features activates direction W_i as strongly as feature i does.

    ``sqrt=True`` gives its square root, which is what the authors' notebook and ARENA colour their bars by.
    """
    W, single = _as_batched(W)
    overlaps = _overlaps(W)
    value = overlaps.sum(-1) - overlaps.diagonal(dim1=-2, dim2=-1)
    value = value.clamp_min(0)  # the subtraction can leave -1e-8 where there is no interference
    return _unbatch(value.sqrt() if sqrt else value, single)


def feature_dimensionality(W) -> torch.Tensor:
    """D_i = ‖W_i‖² / Σ_j (Ŵ_i·W_j)² (j = i included): the fraction of a dimension feature i gets.

    1 for a feature with a dimension of its own, 1/2 for an antipodal pair, d/k for k features forming a
    tight frame in d dimensions, and 0 (not NaN) for a feature that is not learned.
    """
    W, single = _as_batched(W)
    squared_norm = W.square().sum(-2)
    denominator = _overlaps(W).sum(-1)
    value = torch.where(
        denominator > 0, squared_norm / denominator.clamp_min(ZERO_NORM**2), torch.zeros_like(squared_norm)
    )
    return _unbatch(value, single)


def dimensions_per_feature(W) -> torch.Tensor:
    """D* = m / ‖W‖_F² per instance (the paper's §4 "dimensions per feature"); inf for W = 0."""
    W, single = _as_batched(W)
    frobenius = W.square().sum((-2, -1))
    return _unbatch(W.shape[-2] / frobenius, single)


def represented_features(W, threshold: float = REPRESENTED_NORM, hidden_relu: bool = False) -> torch.Tensor:
    """Which features are represented, ‖W_i‖ > threshold (a learned feature has norm ≈ 1, default
    :data:`~toymodels.vocabulary.REPRESENTED_NORM`): booleans, (n_instances, n). For a model with a ReLU on its
    hidden layer (``hidden_relu``, as ``ModelConfig.hidden_relu``) the norm of W_i's positive part ‖W_i⁺‖: the
    inputs are non-negative, so only positive weights make a neuron fire, and a feature whose column is ≤ 0
    never reaches the output."""
    W = torch.as_tensor(W)
    return feature_norms(W.clamp_min(0) if hidden_relu else W) > threshold


def count_represented(W, threshold: float = REPRESENTED_NORM, hidden_relu: bool = False) -> torch.Tensor:
    """Number of represented features per instance (:func:`represented_features`)."""
    return represented_features(W, threshold, hidden_relu).sum(-1)


def neuron_features(W, relative_threshold: float = RESPONDS_SHARE, dead_threshold: float = DEAD_WEIGHT) -> torch.Tensor:
    """Which features each neuron responds to (privileged basis, §8; computation, §10).

    A neuron j responds to feature i when |W_ji| ≥ relative_threshold × max_i |W_ji| (the paper's display
    rescales each neuron so its largest weight is 1). Neurons whose largest |W_ji| is below ``dead_threshold``
    respond to nothing. Returns a boolean ``(n_instances, n_hidden, n_features)`` mask.
    """
    W, single = _as_batched(W)
    if not 0 < relative_threshold <= 1:
        raise ConfigError(f"relative_threshold must lie in (0, 1], got {relative_threshold!r}")
    magnitude = W.abs()
    largest = magnitude.amax(-1, keepdim=True)
    mask = (magnitude >= relative_threshold * largest) & (largest >= dead_threshold)
    return _unbatch(mask, single)


def neuron_counts(
    W, relative_threshold: float = RESPONDS_SHARE, dead_threshold: float = DEAD_WEIGHT
) -> dict[str, torch.Tensor]:
    """Counts of monosemantic (one feature), polysemantic (several) and dead neurons per instance."""
    per_neuron = neuron_features(W, relative_threshold, dead_threshold).sum(-1)
    return {
        "monosemantic": (per_neuron == 1).sum(-1),
        "polysemantic": (per_neuron > 1).sum(-1),
        "dead": (per_neuron == 0).sum(-1),
    }


def runs(values: Sequence) -> list[tuple[int, int, object]]:
    """Runs of neighbouring equal values in a sweep, in order: ``(first index, last index, value)``."""
    found: list[tuple[int, int, object]] = []
    for index, value in enumerate(values):
        if found and found[-1][2] == value:
            found[-1] = (found[-1][0], index, value)
        else:
            found.append((index, index, value))
    return found


def angular_gaps(W) -> np.ndarray:
    """For W (…, 2, n): the angles in degrees between neighbouring features going round the circle (…, n),
    starting after the feature with the smallest angle; they sum to 360."""
    W = as_float64("W", W)
    if W.ndim < 2 or W.shape[-2] != 2:
        raise ConfigError(f"W must have shape (..., 2, n_features) (m = 2), got {W.shape}")
    angles = np.sort(np.degrees(np.arctan2(W[..., 1, :], W[..., 0, :])), axis=-1)
    return np.diff(np.concatenate([angles, angles[..., :1] + 360.0], axis=-1), axis=-1)


def checked_set_size(n: int, set_size: int) -> int:
    """``set_size`` as an int, or a ConfigError unless it is an integer >= 2 dividing ``n`` (the feature count)."""
    if isinstance(set_size, bool) or not isinstance(set_size, (int, np.integer)) or set_size < 2 or n % set_size:
        raise ConfigError(f"set_size must be an integer >= 2 dividing n_features={n}, got {set_size!r}")
    return int(set_size)


def set_cosines(W, set_size: int) -> np.ndarray:
    """cos(W_i, W_j) within each set of W (…, m, n): (…, n_sets, set_size, set_size); 0 for an unlearned
    feature's row and column (its direction is undefined)."""
    W = as_float64("W", W)
    if W.ndim < 2:
        raise ConfigError(f"W must have shape (..., n_hidden, n_features), got {W.shape}")
    n = W.shape[-1]
    k = checked_set_size(n, set_size)
    unit, _ = unit_columns(W)
    sets = unit.reshape(*unit.shape[:-1], n // k, k)  # (…, m, n_sets, k)
    return np.einsum("...msi,...msj->...sij", sets, sets)


def classify_sets(W, set_size: int) -> np.ndarray:
    """Arrangement index (into ``ARRANGEMENTS``) of every set of W (…, m, n): (…, n_sets). A set is "not learned"
    if a member's norm is below ``LEARNED_NORM``; else each pair of members is "collapsed" (cos ≥ ``COLLAPSED_COS``),
    "antipodal" (cos ≤ ``ANTIPODAL_COS``), "orthogonal" (|cos| ≤ ``ORTHOGONAL_COS``), "side by side" (other
    positive cos) or "obtuse" (other negative cos), and the set is its pairs' name if they all agree, else
    "mixed"."""
    W = as_float64("W", W)
    cos = set_cosines(W, set_size)
    k = cos.shape[-1]
    norms = np.linalg.norm(W, axis=-2).reshape(*W.shape[:-2], -1, k)
    i, j = np.triu_indices(k, 1)
    pairs = cos[..., i, j]  # (…, n_sets, k(k−1)/2)
    kinds = np.select(
        [pairs >= COLLAPSED_COS, pairs <= ANTIPODAL_COS, np.abs(pairs) <= ORTHOGONAL_COS, pairs > 0],
        [
            ARRANGEMENTS.index("collapsed"),
            ARRANGEMENTS.index("antipodal"),
            ARRANGEMENTS.index("orthogonal"),
            ARRANGEMENTS.index("side by side"),
        ],
        ARRANGEMENTS.index("obtuse"),
    )
    same = (kinds == kinds[..., :1]).all(-1)
    arrangement = np.where(same, kinds[..., 0], ARRANGEMENTS.index("mixed"))
    return np.where((norms < LEARNED_NORM).any(-1), ARRANGEMENTS.index("not learned"), arrangement)
