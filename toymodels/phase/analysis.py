"""Phase diagrams (paper §3, "Superposition as a phase change"): what a trained fit did with the extra feature,
the empirical diagram by the paper's protocol, and its comparison with the closed-form theory.

Setups (``tm.preset("phase_change_2")`` and ``"phase_change_3"``): n = 2 features in m = 1 dimension, or n = 3
in m = 2; the last ("extra") feature has relative importance r, the others 1; all share the density s = 1 − S.
The settings form an outer grid, r-major (setting = i_r · len(s) + i_s), with ``n_seeds`` fits each.

**Phases.** A fit is classified by the candidate solution of :mod:`toymodels.theory` nearest to it, comparing
Gram matrices WᵀW (which fix W up to a rotation of the hidden space): ‖WᵀW − W_cᵀW_c‖_F is minimised over the
candidates and over permutations of the regular features, which are interchangeable. The n = 2 list adds the
"confused" solution W ≈ [1/√2, 1/√2] (both features on one same-sign direction), which the simple theory has no
candidate for (McGrath's comment on the paper). The distance to the nearest candidate is kept: a fit far from
every candidate is none of them.

**The paper's protocol.** At each grid point train 10 fits, discard the one with the highest loss, and draw
the rest's average; here the average norm ‖W_e‖ and superposition Σ_{j≠e} (Ŵ_e·W_j)² of the extra feature e
(the paper's colours), the most common phase among the kept fits, and the phase of the lowest-loss fit.

"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from .. import grids, theory
from ..errors import ConfigError
from ..experiment import Experiment
from ..results import TrainResult
from ..validation import as_float64

# Candidate weights (m, n) by phase name: the theory's, plus the confused solution for n = 2.
PHASE_WEIGHTS: dict[str, np.ndarray] = dict(theory.CANDIDATE_WEIGHTS, confused=np.full((1, 2), 2**-0.5))
# Phases a fit is classified into; the theory's candidates come first, in the theory's order.
PHASES: dict[int, tuple[str, ...]] = {
    2: theory.PHASE_CANDIDATES[2] + ("confused",),
    3: theory.PHASE_CANDIDATES[3],
}
PHASE_DESCRIPTIONS: dict[str, str] = {
    "extra_ignored": "extra feature not learned",
    "regular_ignored": "extra feature dedicated (the other dropped)",
    "antipodal": "superposition (antipodal pair)",
    "confused": "confused (both at ≈1/√2, same sign)",
    "perp_001": "W ⊥ [0,0,1]: extra not learned",
    "perp_100": "W ⊥ [1,0,0]: a regular feature dropped",
    "perp_011": "W ⊥ [0,1,1]: extra antipodal with a regular",
    "perp_110": "W ⊥ [1,1,0]: regulars antipodal, extra dedicated",
}


def phases(n_features: int) -> tuple[str, ...]:
    """The phase names for n_features = 2 (m = 1) or 3 (m = 2)."""
    if n_features not in PHASES:
        raise ConfigError(f"n_features must be 2 (m = 1) or 3 (m = 2) for a phase diagram, got {n_features!r}")
    return PHASES[n_features]


def _candidate_grams(n_features: int) -> np.ndarray:
    """(n_phases, n_permutations, n, n): each phase's Gram matrix under every permutation of the regular features."""
    grams = []
    for name in phases(n_features):
        W = PHASE_WEIGHTS[name]
        orders = [list(order) + [n_features - 1] for order in itertools.permutations(range(n_features - 1))]
        grams.append([W[:, order].T @ W[:, order] for order in orders])
    return np.array(grams)


def _weights(W) -> np.ndarray:
    W = as_float64("W", W)
    if W.ndim < 2 or W.shape[-1] not in PHASES or W.shape[-2] != W.shape[-1] - 1:
        raise ConfigError(
            f"W must have shape (..., n_hidden, n_features) with (m, n) = (1, 2) or (2, 3), got {W.shape}"
        )
    return W


def classify(W) -> tuple[np.ndarray, np.ndarray]:
    """Phase index (into ``phases(n)``) of each fit in W ``(..., m, n)``, and its Gram distance to that phase."""
    W = _weights(W)
    gram = np.einsum("...ki,...kj->...ij", W, W)
    candidates = _candidate_grams(W.shape[-1])
    distance = np.linalg.norm(gram[..., None, None, :, :] - candidates, axis=(-2, -1)).min(-1)  # (..., n_phases)
    return distance.argmin(-1), distance.min(-1)


def extra_feature_geometry(W) -> tuple[np.ndarray, np.ndarray]:
    """The paper's colours for the extra (last) feature e of each fit: ‖W_e‖ and Σ_{j≠e} (Ŵ_e·W_j)²."""
    W = _weights(W)
    extra = W[..., :, -1]
    norm = np.linalg.norm(extra, axis=-1)
    unit = extra / np.maximum(norm, 1e-12)[..., None]
    overlaps = np.einsum("...k,...kj->...j", unit, W[..., :, :-1])
    return norm, (overlaps**2).sum(-1)


def grid_axes(experiment: Experiment) -> tuple[np.ndarray, np.ndarray]:
    """(relative importances r, densities s) of a phase-change experiment (:func:`toymodels.grids.grid_axes`), for
    the n = 2 and n = 3 models this chapter names phases of."""
    phases(experiment.model.n_features)
    return grids.grid_axes(experiment)


@dataclass(frozen=True)
class EmpiricalPhaseDiagram:
    """The trained diagram; arrays are (len(r), len(s)) unless noted, K = fits per grid point."""

    n_features: int  # 2 (m = 1) or 3 (m = 2)
    relative_importance: np.ndarray  # (R,)
    density: np.ndarray  # (S,), dense first
    names: tuple[str, ...]  # phase names; indices below point into this
    fit_phase: np.ndarray  # (R, S, K) phase of every fit
    fit_distance: np.ndarray  # (R, S, K) Gram distance of every fit to its phase
    fit_loss: np.ndarray  # (R, S, K) evaluation loss (the trainer's: mean over features)
    fit_extra_norm: np.ndarray  # (R, S, K) ‖W_e‖ of every fit
    kept: np.ndarray  # (R, S, K) bool: the fits the protocol keeps (all but the highest-loss one)
    phase: np.ndarray  # most common phase among the kept fits (ties: the earlier name)
    purity: np.ndarray  # share of the kept fits in that phase
    best_phase: np.ndarray  # phase of the lowest-loss fit
    extra_norm: np.ndarray  # mean ‖W_e‖ over the kept fits
    extra_superposition: np.ndarray  # mean Σ_{j≠e} (Ŵ_e·W_j)² over the kept fits

    def agreement(self, theory_phase: np.ndarray, best: bool = False) -> float:
        """Share of grid points where the most common phase (the lowest-loss fit's with ``best``) is the
        theory's, ``theory_phase`` being an index array of shape (R, S) into the same names."""
        theory_phase = np.asarray(theory_phase)
        if theory_phase.shape != self.phase.shape:
            raise ConfigError(f"theory_phase must have shape {self.phase.shape}, got {theory_phase.shape}")
        return float(((self.best_phase if best else self.phase) == theory_phase).mean())


def empirical_phase_diagram(result: TrainResult, discard_worst: int = 1) -> EmpiricalPhaseDiagram:
    """The paper's protocol on a trained phase-change grid (``tm.train(tm.preset("phase_change_2"))``): at each
    point discard the ``discard_worst`` highest-loss fits and summarise the rest."""
    r, s = grid_axes(result.experiment)
    k = result.fits_per_setting
    grids.check_discard_worst(discard_worst, k)
    shape = (len(r), len(s), k)
    W = result.model.W.detach().cpu().numpy().reshape(shape + result.model.W.shape[1:])
    fit_phase, fit_distance = classify(W)
    norm, superposition = extra_feature_geometry(W)
    loss = result.losses.detach().cpu().numpy().astype(np.float64).reshape(shape)
    order = np.argsort(loss, axis=-1, kind="stable")
    kept = np.zeros(shape, dtype=bool)
    np.put_along_axis(kept, order[..., : k - discard_worst], True, axis=-1)
    names = phases(result.experiment.model.n_features)
    counts = np.stack([(kept & (fit_phase == index)).sum(-1) for index in range(len(names))], axis=-1)
    mean = lambda values: (values * kept).sum(-1) / kept.sum(-1)  # noqa: E731
    return EmpiricalPhaseDiagram(
        n_features=result.experiment.model.n_features,
        relative_importance=r,
        density=s,
        names=names,
        fit_phase=fit_phase,
        fit_distance=fit_distance,
        fit_loss=loss,
        fit_extra_norm=norm,
        kept=kept,
        phase=counts.argmax(-1),
        purity=counts.max(-1) / kept.sum(-1),
        best_phase=np.take_along_axis(fit_phase, order[..., :1], axis=-1)[..., 0],
        extra_norm=mean(norm),
        extra_superposition=mean(superposition),
    )


def theory_boundaries(
    n_features: int, density, r_max: float = 10.0, optimal_bias: bool = True
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The theoretical diagram's phase boundaries as curves (s, r) over ``density`` (NaN where a curve does not
    exist), from q(s) = ignored_feature_loss and g(s) = antipodal_feature_loss, with s_c the critical density
    where q = 2g (:func:`critical_density`):

    * n = 2: antipodal wins for r_low < r < r_high = 1/r_low, r_low = g/(q − g) (``antipodal_window``), which
      needs s < s_c; denser, r = 1 separates "extra ignored" (below) from "regular ignored" (above).
    * n = 3: the candidates cost r·q (⊥[0,0,1]), q (⊥[1,0,0]), (1 + r)·g (⊥[0,1,1]) and 2g (⊥[1,1,0]). Below
      r = 1 the choice is r·q against (1 + r)·g: the same r_low. Above r = 1 it is q against 2g, whatever r: a
      vertical line at s = s_c, up to ``r_max``. Across r = 1 the phase changes at every density.
    """
    s = theory._density(density)
    q, g = theory.ignored_feature_loss(s), theory.antipodal_feature_loss(s, optimal_bias)
    r_low, r_high = theory.antipodal_window(s, optimal_bias)
    dense = q <= 2 * g
    if n_features == 2:
        return {"r_low": (s, r_low), "r_high": (s, r_high), "r_one": (s, np.where(dense, 1.0, np.nan))}
    phases(n_features)
    s_c = critical_density(optimal_bias)
    return {
        "r_low": (s, np.where(r_low < 1, r_low, np.nan)),
        "r_one": (s, np.ones_like(s)),
        "s_critical": (np.array([s_c, s_c]), np.array([1.0, r_max])),
    }


def critical_density(optimal_bias: bool = True) -> float:
    """The density s_c where q(s) = 2g(s): antipodal pairs pay off only for s < s_c (for n = 2 at r = 1, and
    for the n = 3 pair of regular features at every r > 1). Found by bisection; q − 2g changes sign once."""
    low, high = 1e-6, 1.0
    for _ in range(60):
        mid = (low + high) / 2
        gap = theory.ignored_feature_loss(mid) - 2 * theory.antipodal_feature_loss(mid, optimal_bias)
        low, high = (mid, high) if gap > 0 else (low, mid)
    return (low + high) / 2


@dataclass(frozen=True)
class TheoryPhaseDiagram:
    """The theoretical diagram for an empirical one: ``on_grid`` (R, S) at its grid points, and ``phase`` over
    a fine grid ``relative_importance`` × ``density`` spanning the same cells, with the closed-form boundaries."""

    on_grid: np.ndarray
    relative_importance: np.ndarray
    density: np.ndarray
    phase: np.ndarray
    boundaries: dict


def _span(values: np.ndarray, points: int) -> np.ndarray:
    """``points`` geometric steps across the cells centred on the geometric grid ``values``, in its order."""
    if len(values) < 2:
        return np.asarray(values, dtype=float)
    half = np.sqrt(values[1] / values[0])
    return np.geomspace(values[0] / half, values[-1] * half, points)


def theory_phase_diagram(
    empirical: EmpiricalPhaseDiagram, points: int = 200, optimal_bias: bool = True
) -> TheoryPhaseDiagram:
    """The theory's diagram (:func:`toymodels.theory.phase_diagram`) on ``empirical``'s grid and on a fine one."""
    n, r, s = empirical.n_features, empirical.relative_importance, empirical.density
    fine_r, fine_s = _span(r, points), _span(s, points)
    on_grid, _ = theory.phase_diagram(n, r, s, optimal_bias)
    # The cells of density 1 reach past it, where a density means nothing: they show the phase at 1.
    phase, _ = theory.phase_diagram(n, fine_r, np.minimum(fine_s, 1.0), optimal_bias)
    inside = fine_s <= 1.0
    boundaries = theory_boundaries(n, fine_s[inside], r_max=fine_r.max(), optimal_bias=optimal_bias)
    return TheoryPhaseDiagram(on_grid, fine_r, fine_s, phase, boundaries)


@dataclass(frozen=True)
class LossSlice:
    """One column of a phase diagram (a fixed density): the theory's loss of each candidate over a fine range
    of r, and every trained fit's loss, all as the expected loss of one sample summed over features (the
    trainer's mean over features times n)."""

    density: float
    names: tuple[str, ...]  # the theory's candidates
    fit_names: tuple[str, ...]  # the phases that ``fit_phase`` indexes (the candidates, and "confused" for n = 2)
    relative_importance: np.ndarray  # (R',) fine grid
    candidate_losses: np.ndarray  # (n_candidates, R')
    fit_relative_importance: np.ndarray  # (R,)
    fit_loss: np.ndarray  # (R, K)
    fit_phase: np.ndarray  # (R, K)
    fit_extra_norm: np.ndarray  # (R, K)
    kept: np.ndarray  # (R, K)


def nearest_column(densities: np.ndarray, density: float) -> int:
    """Index of the grid density nearest to ``density`` on a log scale."""
    if (
        isinstance(density, bool)
        or not isinstance(density, (int, float, np.integer, np.floating))
        or not 0 < density <= 1
    ):
        raise ConfigError(f"density must be a number in (0, 1], got {density!r}")
    return int(np.abs(np.log(densities) - np.log(density)).argmin())


def loss_slice(
    empirical: EmpiricalPhaseDiagram, density: float, points: int = 200, optimal_bias: bool = True
) -> LossSlice:
    """The losses along the grid column whose density is nearest to ``density`` (see :class:`LossSlice`)."""
    density_index = nearest_column(empirical.density, density)
    s = float(empirical.density[density_index])
    fine_r = _span(empirical.relative_importance, points)
    names, losses = theory.candidate_losses(empirical.n_features, fine_r, s, optimal_bias)
    column = (slice(None), density_index)
    return LossSlice(
        density=s,
        names=names,
        fit_names=empirical.names,
        relative_importance=fine_r,
        candidate_losses=losses,
        fit_relative_importance=empirical.relative_importance,
        fit_loss=empirical.fit_loss[column] * empirical.n_features,
        fit_phase=empirical.fit_phase[column],
        fit_extra_norm=empirical.fit_extra_norm[column],
        kept=empirical.kept[column],
    )
