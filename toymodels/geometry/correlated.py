"""§4.4: correlated and anticorrelated sets: how each set is arranged, the superposition-vs-PCA collapse bands,
and local orthogonal bases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..errors import ConfigError
from ..metrics import ARRANGEMENTS, checked_set_size, classify_sets, runs, set_cosines
from ..results import TrainResult
from ..validation import as_float64, check_array
from ..vocabulary import unit_columns
from .losses import _biases, _densities, _pick, _weights, fit_losses

# Collapsed pairs of the 3-correlated-pairs model in m = 2 against density, as the paper states them.
PAPER_COLLAPSE_BANDS = (
    ("none", "p ≤ 0.05"),
    ("one", "0.05 – 0.15"),
    ("two", "0.15 – 0.2"),
    ("all three", "0.25 – 0.5"),
    ("most PCA-like", "p ≥ 0.5"),
)


def across_cosines(W, set_size: int) -> np.ndarray:
    """For W (…, m, n): each feature's most negative cosine with a feature of another set, (…, n). −1 when
    every feature has an antipodal partner in another set (two correlated sets sharing a plane)."""
    W = as_float64("W", W)
    n = W.shape[-1]
    k = checked_set_size(n, set_size)
    if n == k:
        raise ConfigError(f"set_size={k} leaves a single set: there is no other set")
    unit, _ = unit_columns(W)
    cos = np.einsum("...ki,...kj->...ij", unit, unit)
    group = np.arange(n) // k
    return np.where(group[:, None] == group[None, :], np.inf, cos).min(-1)


def pca_alignment(W, set_size: int) -> np.ndarray:
    """Share of ‖W‖_F² in the span of the sets' mean directions (each set's leading principal component, the
    direction (1, …, 1)/√k on its features): 1 when every set is collapsed onto one direction, (…,)."""
    W = as_float64("W", W)
    n = W.shape[-1]
    k = checked_set_size(n, set_size)
    sets = W.reshape(*W.shape[:-1], n // k, k)
    along = (sets.sum(-1) ** 2 / k).sum((-2, -1))  # Σ_sets ‖W_set (1,…,1)/√k‖²
    total = (W**2).sum((-2, -1))
    return np.where(total > 0, along / np.maximum(total, 1e-300), 0.0)


@dataclass(frozen=True)
class SetSweep:
    """Every fit of a correlated or anticorrelated experiment (one setting or a density sweep), its sets'
    arrangements and precise losses; (S,) over settings, (S, K) over fits, (…, n_sets) over sets."""

    density: np.ndarray  # (S,) the sets' 1 − S (increasing for a sweep)
    set_size: int
    correlation: str  # "correlated" or "anticorrelated"
    fit_arrangement: np.ndarray  # (S, K, n_sets) index into ARRANGEMENTS
    fit_cosine: np.ndarray  # (S, K, n_sets) mean cosine between a set's members
    fit_loss: np.ndarray  # (S, K) expected_loss
    best: np.ndarray  # (S,) fit index of the lowest-loss fit
    arrangement: np.ndarray  # (S, n_sets) the lowest-loss fit's arrangements
    cosine: np.ndarray  # (S, n_sets) and its mean within-set cosines
    pca_alignment: np.ndarray  # (S,) and its pca_alignment
    across_cosine: np.ndarray  # (S, n) and, per feature, its most negative cosine with a feature of another set
    best_W: np.ndarray  # (S, m, n) the lowest-loss fit's weights
    best_b: np.ndarray  # (S, n) and biases

    @property
    def fit_collapsed(self) -> np.ndarray:
        """(S, K) number of collapsed sets of every fit."""
        return (self.fit_arrangement == ARRANGEMENTS.index("collapsed")).sum(-1)

    @property
    def collapsed(self) -> np.ndarray:
        """(S,) number of collapsed sets of the lowest-loss fit."""
        return (self.arrangement == ARRANGEMENTS.index("collapsed")).sum(-1)

    def names(self, setting: int = 0) -> tuple[str, ...]:
        """The lowest-loss fit's arrangement of each set at one setting, as names."""
        return tuple(ARRANGEMENTS[a] for a in self.arrangement[setting])


def set_sweep(result: TrainResult, losses: np.ndarray | None = None, n_points: int = 2048) -> SetSweep:
    """Analyse a trained correlated or anticorrelated experiment (``tm.preset("correlated")``,
    ``"anticorrelated"``, ``"correlated_3_pairs"``, ``"pca_sweep"``, …): each fit's set arrangements, its
    loss (:func:`fit_losses`, or the (S, K) ``losses`` given), and the lowest-loss fit's."""
    experiment = result.experiment
    if experiment.data.correlation == "none":
        raise ConfigError("result must come from correlated or anticorrelated data (DataConfig(correlation=...))")
    k = experiment.data.set_size
    W = _weights(result)
    loss = fit_losses(result, n_points) if losses is None else check_array("losses", losses, ndim=2)
    if loss.shape != W.shape[:2]:
        raise ConfigError(f"losses must have shape (n_settings, fits) = {W.shape[:2]}, got {loss.shape}")
    cos = set_cosines(W, k)
    i, j = np.triu_indices(k, 1)
    mean_cos = cos[..., i, j].mean(-1)
    arrangement = classify_sets(W, k)
    best = loss.argmin(-1)
    best_W = _pick(W, best)
    return SetSweep(
        density=_densities(result),
        set_size=k,
        correlation=experiment.data.correlation,
        fit_arrangement=arrangement,
        fit_cosine=mean_cos,
        fit_loss=loss,
        best=best,
        arrangement=_pick(arrangement, best),
        cosine=_pick(mean_cos, best),
        pca_alignment=pca_alignment(best_W, k),
        across_cosine=across_cosines(best_W, k),
        best_W=best_W,
        best_b=_pick(_biases(result), best),
    )


class Band(NamedTuple):
    """A run of neighbouring densities with the same count (e.g. of collapsed pairs)."""

    count: int
    low: float  # first density of the run
    high: float  # last density of the run


def collapse_bands(density, counts) -> tuple[Band, ...]:
    """Runs of neighbouring densities (in the given order) whose counts are equal: ``((count, first density,
    last density), …)``. With a SetSweep: ``collapse_bands(sweep.density, sweep.collapsed)``."""
    density, counts = check_array("density", density, ndim=1), np.asarray(counts)
    if counts.shape != density.shape:
        raise ConfigError(f"counts must have one entry per density ({density.shape}), got {counts.shape}")
    return tuple(
        Band(int(count), float(density[first]), float(density[last])) for first, last, count in runs(counts.tolist())
    )


def paper_collapsed(density) -> np.ndarray:
    """The number of collapsed pairs the paper reports at each density: 0 for p ≤ 0.05, 1 for 0.05 < p < 0.15,
    2 for 0.15 ≤ p ≤ 0.2, 3 for p ≥ 0.25 (all collapsed, "most PCA-like" from 0.5), and −1 where the paper
    states nothing (0.2 < p < 0.25)."""
    p = as_float64("density", density)
    return np.select([p <= 0.05, p < 0.15, p <= 0.2, p < 0.25], [0, 1, 2, -1], 3)


class BlockOverlaps(NamedTuple):
    """The block structure of WᵀW for features in sets: mean |W_i·W_j| (i ≠ j) within sets and across sets,
    and the share of the squared interference Σ_{i≠j} (W_i·W_j)² that lies across sets."""

    within: np.ndarray
    across: np.ndarray
    across_share: np.ndarray


def block_overlaps(W, set_size: int) -> BlockOverlaps:
    """For W (…, m, n) with consecutive sets of ``set_size`` features: within-set against across-set overlaps
    of WᵀW. Local orthogonal bases (paper §4) show within ≈ 0, across > 0, across_share ≈ 1."""
    W = as_float64("W", W)
    if W.ndim < 2:
        raise ConfigError(f"W must have shape (..., n_hidden, n_features), got {W.shape}")
    n = W.shape[-1]
    k = checked_set_size(n, set_size)
    if n == k:
        raise ConfigError(f"set_size={k} leaves a single set: there is nothing across sets")
    gram = np.einsum("...ki,...kj->...ij", W, W)
    group = np.arange(n) // k
    same = group[:, None] == group[None, :]
    off = ~np.eye(n, dtype=bool)
    within, across = same & off, ~same
    squared = gram**2
    total = (squared * off).sum((-2, -1))
    return BlockOverlaps(
        within=np.abs(gram)[..., within].mean(-1),
        across=np.abs(gram)[..., across].mean(-1),
        across_share=np.where(total > 0, (squared * across).sum((-2, -1)) / np.maximum(total, 1e-300), 0.0),
    )
