"""The geometry of superposition (paper §4, book chapter "The geometry of superposition"): non-uniform
superposition, and correlated and anticorrelated features.

**Setups** (presets in :mod:`toymodels.presets`; importance 1 everywhere, ReLU-output model):

* ``non_uniform``: n = 5 features in m = 2 dimensions at density 0.05, except feature 0 ("the varied
  feature"), whose density is swept over a log range. At a uniform 0.05 the five features form a pentagon. The
  paper: a denser varied feature pushes the others away, a sparser one takes less room, and when it is about
  2.5× sparser than the rest the pentagon breaks into two digons (antipodal pairs) with the varied feature
  dropped, a first-order change where the pentagon's and the digons' loss curves cross.
* ``correlated`` / ``anticorrelated`` / ``correlated_3_pairs`` / ``local_orthogonal_bases`` / ``pca_sweep``:
  features in sets of ``set_size`` (``DataConfig.set_size``), with the paper's sampling. *Correlated*: one
  shared draw per set decides whether the whole set is zero (probability S); the non-zero values are
  independent U[0, 1]. *Anticorrelated*: the set is zero with probability S, else exactly one of its features,
  chosen uniformly, is active (so each feature's own density is (1 − S)/k; ``feature_probability`` holds the
  set's 1 − S). The paper: correlated features prefer to be orthogonal ("local orthogonal bases"), else side
  by side, else collapse onto their principal component (PCA); anticorrelated features prefer to be antipodal.

**Losses.** The trainer selects the best of K fits on 4 fresh batches, whose noise (15–20 % of the loss at
density 0.05) is larger than the gap between a pentagon and two digons near the threshold. Here every fit's
loss is re-estimated by :func:`expected_loss`: exact enumeration of which features (sets) are active, and for
each such pattern a scrambled Sobol (quasi-random) average over the active values, the same points for every
fit. On the non-uniform sweep, 2048 points (the default) agree with 16384 to 4e-4 of the loss at worst (median
3e-5), and differences between fits to 1.3e-6. Losses are the expected loss of ONE sample SUMMED over features
(as in :mod:`toymodels.theory`), n times the trainer's mean over features.

**Classification rules** (thresholds are module constants; ideal weights classify exactly, see the tests):

* Non-uniform fits (:func:`classify_non_uniform`, W of shape (…, 2, 5)):
  *pentagon*: all five ‖W_i‖ > ``REPRESENTED_NORM`` (0.5) and, going round the circle, every angle between
  neighbouring features within a factor 2 of the regular 72° (36°–144°, so no two features merge and none
  leaves a half-plane empty); *two digons*: the varied feature dropped (‖W_v‖ < ``DROPPED_NORM`` = 0.1) and
  the other four represented as two antipodal pairs (each has a partner with cos ≤ ``ANTIPODAL_COS`` = −0.9);
  *other*: anything else (e.g. a feature half-learned on top of a digon, seen at high varied density).
* A correlated or anticorrelated set (:func:`classify_sets`), from the cosines of its members' directions
  (every pair within the set must agree, else *mixed*): *collapsed* (cos ≥ ``COLLAPSED_COS`` = 0.9, the set's
  principal component), *antipodal* (cos ≤ −0.9), *orthogonal* (|cos| ≤ ``ORTHOGONAL_COS`` = 0.25: a local
  orthogonal basis), *side by side* (0.25 < cos < 0.9: an acute angle, neighbours on the circle), *obtuse*
  (−0.9 < cos < −0.25), *not learned* (some member with ‖W_i‖ < ``LEARNED_NORM`` = 0.25; collapsed members
  have ‖W_i‖ ≈ 1/√2 and shrink further when dense, hence the low bar).

**Numbers the chapter reports.** The pentagon → digon threshold (:class:`NonUniformSweep`): the varied
density where the lowest-loss pentagon and the lowest-loss pair of digons cost the same (log-linear
interpolation between grid points), with the grid interval where the lowest-loss fit switches and the ratio
base/threshold (paper ≈ 2.5). The collapse bands of the PCA sweep (:func:`collapse_bands`): runs of
densities with the same number of collapsed pairs in the lowest-loss fit (paper: ``PAPER_COLLAPSE_BANDS``), and
how PCA-like the fit is (:func:`pca_alignment`: the share of ‖W‖² along the sets' principal components, 1 when
every set is collapsed).
The block structure of WᵀW for two sets of ten in m = 10 (:func:`block_overlaps`): mean |W_i·W_j| within
sets against across sets.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from . import theory
from .config import ConfigError, DataConfig, as_float64
from .metrics import runs
from .train import TrainResult

# ----------------------------------------------------------------------------------------------------
# Thresholds of the classification rules (module docstring)

REPRESENTED_NORM = 0.5  # a feature is represented above this norm (as metrics.count_represented)
DROPPED_NORM = 0.1  # the varied feature counts as dropped below this norm (trained digons leave it at ≈ 0.01)
LEARNED_NORM = 0.25  # a member of a correlated set is learned above this norm (collapsed members: ≈ 0.4–0.71)
COLLAPSED_COS = 0.9  # cos(W_i, W_j) at or above: the two point the same way (≈ 26°)
ANTIPODAL_COS = -0.9  # at or below: opposite
ORTHOGONAL_COS = 0.25  # |cos| at or below: orthogonal (76°–104°)
PENTAGON_GAP = (36.0, 144.0)  # degrees between neighbours on the circle: within 2× of the regular 72°

NON_UNIFORM_CLASSES = ("pentagon", "two digons", "other")
ARRANGEMENTS = ("orthogonal", "side by side", "collapsed", "antipodal", "obtuse", "not learned", "mixed")

# The paper's values, for comparison in tables and figures.
PAPER_BASE_DENSITY = 0.05
PAPER_THRESHOLD_RATIO = 2.5  # the pentagon breaks when the varied feature is ≈ 2.5× sparser than the others
# Collapsed pairs of the 3-correlated-pairs model in m = 2 against density, as the paper states them.
PAPER_COLLAPSE_BANDS = (("none", "p ≤ 0.05"), ("one", "0.05 – 0.15"), ("two", "0.15 – 0.2"), ("all three", "0.25 – 0.5"),
                        ("most PCA-like", "p ≥ 0.5"))

MAX_PATTERNS = 4096  # expected_loss enumerates the active patterns: at most this many


# ----------------------------------------------------------------------------------------------------
# Expected losses, resolved finely enough to compare fits


def _numpy(name: str, value, ndim: int | None = None) -> np.ndarray:
    array = as_float64(name, value)
    if ndim is not None and array.ndim != ndim:
        raise ConfigError(f"{name} must have {ndim} dimensions, got shape {array.shape}")
    return array


def _patterns(n: int, data: DataConfig) -> tuple[np.ndarray, np.ndarray]:
    """Every pattern of active features as (masks (P, n) bool, states (P, n_units) int): a unit is a feature
    (independent data) or a set; its state is 0 (inactive), 1 (active: the whole set for correlated data) or,
    for anticorrelated data, 1 + which of the set's features fires."""
    k = 1 if data.correlation == "none" else data.set_size
    units = n // k
    per_unit = k + 1 if data.correlation == "anticorrelated" else 2
    if per_unit**units > MAX_PATTERNS:
        raise ConfigError(
            f"expected_loss enumerates {per_unit}^{units} activity patterns, more than MAX_PATTERNS={MAX_PATTERNS}; "
            "use toymodels.evaluate for a model this large"
        )
    states = np.array(list(itertools.product(range(per_unit), repeat=units)), dtype=int).reshape(-1, units)
    masks = np.zeros((len(states), n), dtype=bool)
    for unit in range(units):
        block = slice(unit * k, (unit + 1) * k)
        if data.correlation == "anticorrelated":
            masks[:, block] = states[:, unit, None] == 1 + np.arange(k)
        else:
            masks[:, block] = states[:, unit, None] == 1
    return masks, states


def expected_loss(W, b, probability, importance=1.0, data: DataConfig = DataConfig(), kind: str = "relu_output",
                  n_points: int = 2048, seed: int = 0) -> np.ndarray:
    """E_x Σ_i I_i (x_i − x'_i)² for each instance of a tied model (``kind`` "relu_output" or "linear"), one
    sample, summed over features: n times the trainer's loss.

    W: (n_instances, m, n); b, probability (per-feature density p; for correlated and anticorrelated data the
    set's 1 − S, read from its first feature) and importance: scalars, (n,) or (n_instances, n). Each pattern
    of active features (or sets) is enumerated with its exact probability; the loss given the pattern is
    averaged over ``n_points`` scrambled Sobol points (seeded by ``seed``), the same points for every instance,
    so that differences between instances are precise."""
    if kind not in theory.MODEL_KINDS:
        raise ConfigError(f"kind must be one of {theory.MODEL_KINDS} (tied models), got {kind!r}")
    if data.signed or data.target != "identity":
        raise ConfigError("data must be unsigned features reconstructed as themselves (signed=False, target='identity')")
    if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)) or n_points < 2:
        raise ConfigError(f"n_points must be an integer >= 2, got {n_points!r}")
    W = _numpy("W", W, 3)
    I, _, n = W.shape
    per_feature = lambda name, value: np.broadcast_to(_numpy(name, value), (I, n))  # noqa: E731
    try:
        b, p, importance = per_feature("b", b), per_feature("probability", probability), per_feature("importance", importance)
    except ValueError as error:
        raise ConfigError(f"b, probability and importance must broadcast to (n_instances, n) = ({I}, {n}): {error}") from None
    if not np.all((p > 0) & (p <= 1)):
        raise ConfigError("probability must lie in (0, 1]")
    k = 1 if data.correlation == "none" else data.set_size
    if n % k:
        raise ConfigError(f"n_features={n} must be a multiple of set_size={k}")
    masks, states = _patterns(n, data)
    unit_p = p[:, ::k]  # (I, units): a unit's (set's) activation probability
    if data.correlation == "anticorrelated" and data.anticorrelated_convention == "arena":
        unit_p = unit_p * k
    active_p = unit_p / k if data.correlation == "anticorrelated" else unit_p  # one given feature of the set fires
    pattern_p = np.where(states[None] == 0, 1 - unit_p[:, None], active_p[:, None]).prod(-1)  # (I, P)
    points = torch.quasirandom.SobolEngine(n, scramble=True, seed=seed).draw(n_points, dtype=torch.float64).numpy()
    gram = np.einsum("imk,imj->ikj", W, W)
    total = np.zeros(I)
    for mask, probability_of in zip(masks, pattern_p.T):
        x = points * mask  # (N, n), the same for every instance
        x_hat = np.einsum("sk,ikj->isj", x, gram) + b[:, None, :]
        if kind == "relu_output":
            x_hat = np.maximum(x_hat, 0.0)
        total += probability_of * (importance[:, None, :] * (x - x_hat) ** 2).sum(-1).mean(-1)
    return total


def fit_losses(result: TrainResult, n_points: int = 2048, seed: int = 0) -> np.ndarray:
    """:func:`expected_loss` of every fit of a trained result, shaped (n_settings, fits per setting)."""
    experiment, k = result.experiment, result.fits_per_setting
    shape = (experiment.n_settings, experiment.model.n_features)
    probability = np.repeat(_probability(experiment), k, axis=0)
    importance = np.repeat(np.broadcast_to(np.array(experiment.importance, dtype=np.float64), shape), k, axis=0)
    losses = expected_loss(result.model.W, result.model.b, probability, importance, experiment.data,
                           experiment.model.kind, n_points, seed)
    return losses.reshape(experiment.n_settings, k)


def _weights(result: TrainResult) -> np.ndarray:
    """(n_settings, K, m, n) weights of every fit."""
    W = _numpy("W", result.model.W, 3)
    return W.reshape(result.experiment.n_settings, result.fits_per_setting, *W.shape[1:])


def _biases(result: TrainResult) -> np.ndarray:
    """(n_settings, K, n) biases of every fit."""
    b = _numpy("b", result.model.b, 2)
    return b.reshape(result.experiment.n_settings, result.fits_per_setting, b.shape[-1])


def _pick(values: np.ndarray, best: np.ndarray) -> np.ndarray:
    """values (S, K, …) at fit best[s] of each setting: (S, …)."""
    return np.take_along_axis(values, best.reshape(-1, *([1] * (values.ndim - 1))), axis=1)[:, 0]


def _probability(experiment) -> np.ndarray:
    """(n_settings, n_features) densities in float64, as the experiment stores them."""
    return np.broadcast_to(np.array(experiment.feature_probability, dtype=np.float64),
                           (experiment.n_settings, experiment.model.n_features))


def _densities(result: TrainResult, column: int = 0) -> np.ndarray:
    return _probability(result.experiment)[:, column].copy()


# ----------------------------------------------------------------------------------------------------
# Non-uniform superposition: pentagon or two digons


def _unit(W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    norms = np.linalg.norm(W, axis=-2)
    return W / np.maximum(norms, 1e-12)[..., None, :], norms


def angular_gaps(W) -> np.ndarray:
    """For W (…, 2, n): the angles in degrees between neighbouring features going round the circle (…, n),
    starting after the feature with the smallest angle; they sum to 360."""
    W = _numpy("W", W)
    if W.ndim < 2 or W.shape[-2] != 2:
        raise ConfigError(f"W must have shape (..., 2, n_features) (m = 2), got {W.shape}")
    angles = np.sort(np.degrees(np.arctan2(W[..., 1, :], W[..., 0, :])), axis=-1)
    return np.diff(np.concatenate([angles, angles[..., :1] + 360.0], axis=-1), axis=-1)


def room(W, feature: int) -> np.ndarray:
    """For W (…, 2, n): the mean of the two angles (degrees) between ``feature`` and its neighbours on the
    circle: 72° in a regular pentagon, more for a feature that pushes the others away, less for one that takes
    less room."""
    W = _numpy("W", W)
    n = W.shape[-1] if W.ndim >= 2 else 0
    if isinstance(feature, bool) or not isinstance(feature, (int, np.integer)) or not 0 <= feature < n:
        raise ConfigError(f"feature must be an index in [0, {n - 1}], got {feature!r}")
    gaps = angular_gaps(W)  # gaps[j]: from the j-th smallest angle to the next
    angles = np.degrees(np.arctan2(W[..., 1, :], W[..., 0, :]))
    position = (angles < angles[..., feature : feature + 1]).sum(-1)  # rank of the feature among the angles
    after = np.take_along_axis(gaps, position[..., None], axis=-1)[..., 0]
    before = np.take_along_axis(gaps, ((position - 1) % n)[..., None], axis=-1)[..., 0]
    return (before + after) / 2


def _antipodal_pairs(cos: np.ndarray) -> np.ndarray:
    """Whether the features of (…, k, k) cosine matrices (k even) form k/2 antipodal pairs: each one's most
    opposite partner is mutual and at cos ≤ ANTIPODAL_COS."""
    k = cos.shape[-1]
    partner = cos.argmin(-1)  # the diagonal (1) is never the minimum of an opposed set
    mutual = np.take_along_axis(partner, partner, axis=-1) == np.arange(k)
    opposite = np.take_along_axis(cos, partner[..., None], axis=-1)[..., 0] <= ANTIPODAL_COS
    return (mutual & opposite).all(-1)


def classify_non_uniform(W, varied: int = 0) -> np.ndarray:
    """Class index into ``NON_UNIFORM_CLASSES`` of every fit in W (…, 2, 5): pentagon, two digons (the varied
    feature dropped) or other; rules in the module docstring."""
    W = _numpy("W", W)
    if W.ndim < 2 or W.shape[-2:] != (2, 5):
        raise ConfigError(f"W must have shape (..., 2, 5): five features in two dimensions, got {W.shape}")
    if isinstance(varied, bool) or not isinstance(varied, (int, np.integer)) or not 0 <= varied < 5:
        raise ConfigError(f"varied must be a feature index in [0, 4], got {varied!r}")
    unit, norms = _unit(W)
    gaps = angular_gaps(W)
    pentagon = (norms > REPRESENTED_NORM).all(-1) & (gaps >= PENTAGON_GAP[0]).all(-1) & (gaps <= PENTAGON_GAP[1]).all(-1)
    others = [i for i in range(5) if i != varied]
    rest = unit[..., others]
    cos = np.einsum("...ki,...kj->...ij", rest, rest)
    digons = (norms[..., varied] < DROPPED_NORM) & (norms[..., others] > REPRESENTED_NORM).all(-1) & _antipodal_pairs(cos)
    return np.where(pentagon, 0, np.where(digons, 1, 2))


def digon_loss_theory(varied_density, base_density: float = PAPER_BASE_DENSITY, n_features: int = 5) -> np.ndarray:
    """Closed-form loss (per sample, summed over features, importance 1) of the two-digon solution: the
    n − 1 others as antipodal pairs at their optimal bias, ``(n − 1)·g(base)``, plus the dropped varied feature
    with its bias at its mean, ``q(varied)`` (:func:`toymodels.theory.antipodal_feature_loss`,
    :func:`~toymodels.theory.ignored_feature_loss`). The dropped feature interacts with nothing, so this is
    exact for unit-norm pairs. Trained digons sit up to about 1 % above it: the dropped feature's bias often
    ends below 0, where its ReLU passes no gradient, so it outputs 0 and costs p/3 instead of p/3 − p²/4."""
    if isinstance(n_features, bool) or not isinstance(n_features, (int, np.integer)) or n_features < 3 or n_features % 2 == 0:
        raise ConfigError(f"n_features must be an odd integer >= 3 (the others pair up), got {n_features!r}")
    return (n_features - 1) * theory.antipodal_feature_loss(base_density) + theory.ignored_feature_loss(varied_density)


def crossings(x, difference) -> np.ndarray:
    """The x where ``difference`` changes sign between neighbouring points (NaN entries skipped), by linear
    interpolation in log x. x must be positive and increasing."""
    x, difference = _numpy("x", x, 1), _numpy("difference", difference, 1)
    if x.shape != difference.shape or np.any(x <= 0) or np.any(np.diff(x) <= 0):
        raise ConfigError("x must be positive and increasing, with one difference per x")
    valid = ~np.isnan(difference)
    log_x, d = np.log(x[valid]), difference[valid]
    found = []
    for i in range(len(d) - 1):
        if d[i] == 0:
            found.append(log_x[i])
        elif d[i] * d[i + 1] < 0:
            found.append(log_x[i] + (log_x[i + 1] - log_x[i]) * d[i] / (d[i] - d[i + 1]))
    if len(d) and d[-1] == 0:
        found.append(log_x[-1])
    return np.exp(np.array(found))


@dataclass(frozen=True)
class NonUniformSweep:
    """Every fit of the non-uniform sweep, classified, with precise losses (per sample, summed over features).
    Arrays are (S,) over the varied densities, increasing, or (S, K) over fits."""

    varied_density: np.ndarray  # (S,) the varied feature's density
    base_density: float  # the other features' density
    varied: int  # index of the varied feature
    fit_class: np.ndarray  # (S, K) index into NON_UNIFORM_CLASSES
    fit_loss: np.ndarray  # (S, K) expected_loss
    fit_varied_norm: np.ndarray  # (S, K) ‖W_v‖ of the varied feature
    best: np.ndarray  # (S,) fit index of the lowest-loss fit
    best_class: np.ndarray  # (S,) its class
    pentagon_loss: np.ndarray  # (S,) lowest loss among pentagon fits (NaN if none)
    digon_loss: np.ndarray  # (S,) lowest loss among two-digon fits (NaN if none)
    digon_theory: np.ndarray  # (S,) digon_loss_theory
    threshold: float  # varied density where pentagon_loss = digon_loss (NaN if they never cross)
    threshold_theory: float  # the same against the closed-form digon loss
    switch: tuple[float, float]  # neighbouring grid densities between which the lowest-loss fit turns pentagon
    best_W: np.ndarray  # (S, 2, 5) the lowest-loss fit's weights
    best_b: np.ndarray  # (S, 5) and biases
    pentagon_room: np.ndarray  # (S,) room (degrees) of the varied feature in the lowest-loss pentagon (NaN if none)

    @property
    def ratio(self) -> float:
        """How many times sparser than the others the varied feature is at the threshold (paper ≈ 2.5)."""
        return self.base_density / self.threshold

    def counts(self) -> np.ndarray:
        """(S, 3) number of fits in each class at each density."""
        return np.stack([(self.fit_class == c).sum(-1) for c in range(len(NON_UNIFORM_CLASSES))], axis=-1)


def _lowest(loss: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    return np.where(chosen.any(-1), np.where(chosen, loss, np.inf).min(-1), np.nan)


def _switch(density: np.ndarray, best_class: np.ndarray) -> tuple[float, float]:
    """The neighbouring densities where the lowest-loss fit changes from two digons (sparser side) to a
    pentagon (denser side), if it does so exactly once among the points that are either; else (NaN, NaN)."""
    either = np.flatnonzero(best_class <= 1)
    changes = [(either[i], either[i + 1]) for i in range(len(either) - 1)
               if best_class[either[i]] != best_class[either[i + 1]]]
    if len(changes) == 1 and best_class[changes[0][0]] == 1:
        return float(density[changes[0][0]]), float(density[changes[0][1]])
    return float("nan"), float("nan")


def non_uniform_sweep(result: TrainResult, varied: int = 0, losses: np.ndarray | None = None,
                      n_points: int = 2048) -> NonUniformSweep:
    """Analyse a trained ``tm.preset("non_uniform")``: classify every fit, estimate its loss precisely
    (:func:`fit_losses`, or the (S, K) ``losses`` given), and find the pentagon → two digons threshold."""
    experiment = result.experiment
    if isinstance(varied, bool) or not isinstance(varied, (int, np.integer)) or not 0 <= varied < 5:
        raise ConfigError(f"varied must be a feature index in [0, 4], got {varied!r}")
    density = _probability(experiment)
    others = np.delete(density, varied, axis=1)
    if experiment.model.n_hidden != 2 or experiment.model.n_features != 5 or not np.allclose(others, others[0, 0]):
        raise ConfigError("result must be a non-uniform sweep: n=5, m=2, every feature but `varied` at one density "
                          "(tm.preset('non_uniform'))")
    varied_density = density[:, varied]
    if np.any(np.diff(varied_density) <= 0):
        raise ConfigError("the varied density must increase along the settings")
    W = _weights(result)
    loss = fit_losses(result, n_points) if losses is None else _numpy("losses", losses, 2)
    if loss.shape != W.shape[:2]:
        raise ConfigError(f"losses must have shape (n_settings, fits) = {W.shape[:2]}, got {loss.shape}")
    fit_class = classify_non_uniform(W, varied)
    best = loss.argmin(-1)
    best_class = _pick(fit_class, best)
    pentagon, digons = _lowest(loss, fit_class == 0), _lowest(loss, fit_class == 1)
    base = float(others[0, 0])
    theory_digons = digon_loss_theory(varied_density, base)
    first = lambda values: float(values[0]) if len(values) else float("nan")  # noqa: E731
    return NonUniformSweep(
        varied_density=varied_density, base_density=base, varied=varied, fit_class=fit_class, fit_loss=loss,
        fit_varied_norm=np.linalg.norm(W[..., varied], axis=-1), best=best,
        best_class=best_class,
        pentagon_loss=pentagon, digon_loss=digons, digon_theory=theory_digons,
        threshold=first(crossings(varied_density, pentagon - digons)),
        threshold_theory=first(crossings(varied_density, pentagon - theory_digons)),
        switch=_switch(varied_density, best_class),
        best_W=_pick(W, best), best_b=_pick(_biases(result), best),
        pentagon_room=_pick(room(W, varied), np.where(fit_class == 0, loss, np.inf).argmin(-1)) * np.where(
            (fit_class == 0).any(-1), 1.0, np.nan),
    )


# ----------------------------------------------------------------------------------------------------
# Correlated and anticorrelated sets


def _set_size(n: int, set_size: int) -> int:
    if isinstance(set_size, bool) or not isinstance(set_size, (int, np.integer)) or set_size < 2 or n % set_size:
        raise ConfigError(f"set_size must be an integer >= 2 dividing n_features={n}, got {set_size!r}")
    return int(set_size)


def set_cosines(W, set_size: int) -> np.ndarray:
    """cos(W_i, W_j) within each set of W (…, m, n): (…, n_sets, set_size, set_size); 0 for an unlearned
    feature's row and column (its direction is undefined)."""
    W = _numpy("W", W)
    if W.ndim < 2:
        raise ConfigError(f"W must have shape (..., n_hidden, n_features), got {W.shape}")
    n = W.shape[-1]
    k = _set_size(n, set_size)
    unit, _ = _unit(W)
    sets = unit.reshape(*unit.shape[:-1], n // k, k)  # (…, m, n_sets, k)
    return np.einsum("...msi,...msj->...sij", sets, sets)


def across_cosines(W, set_size: int) -> np.ndarray:
    """For W (…, m, n): each feature's most negative cosine with a feature of another set, (…, n). −1 when
    every feature has an antipodal partner in another set (two correlated sets sharing a plane)."""
    W = _numpy("W", W)
    n = W.shape[-1]
    k = _set_size(n, set_size)
    if n == k:
        raise ConfigError(f"set_size={k} leaves a single set: there is no other set")
    unit, _ = _unit(W)
    cos = np.einsum("...ki,...kj->...ij", unit, unit)
    group = np.arange(n) // k
    return np.where(group[:, None] == group[None, :], np.inf, cos).min(-1)


def classify_sets(W, set_size: int) -> np.ndarray:
    """Arrangement index (into ``ARRANGEMENTS``) of every set of W (…, m, n): (…, n_sets); rules in the
    module docstring."""
    W = _numpy("W", W)
    cos = set_cosines(W, set_size)
    k = cos.shape[-1]
    norms = np.linalg.norm(W, axis=-2).reshape(*W.shape[:-2], -1, k)
    i, j = np.triu_indices(k, 1)
    pairs = cos[..., i, j]  # (…, n_sets, k(k−1)/2)
    kinds = np.select(
        [pairs >= COLLAPSED_COS, pairs <= ANTIPODAL_COS, np.abs(pairs) <= ORTHOGONAL_COS, pairs > 0],
        [ARRANGEMENTS.index("collapsed"), ARRANGEMENTS.index("antipodal"), ARRANGEMENTS.index("orthogonal"),
         ARRANGEMENTS.index("side by side")],
        ARRANGEMENTS.index("obtuse"),
    )
    same = (kinds == kinds[..., :1]).all(-1)
    arrangement = np.where(same, kinds[..., 0], ARRANGEMENTS.index("mixed"))
    return np.where((norms < LEARNED_NORM).any(-1), ARRANGEMENTS.index("not learned"), arrangement)


def pca_alignment(W, set_size: int) -> np.ndarray:
    """Share of ‖W‖_F² in the span of the sets' mean directions (each set's leading principal component, the
    direction (1, …, 1)/√k on its features): 1 when every set is collapsed onto one direction, (…,)."""
    W = _numpy("W", W)
    n = W.shape[-1]
    k = _set_size(n, set_size)
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
    loss = fit_losses(result, n_points) if losses is None else _numpy("losses", losses, 2)
    if loss.shape != W.shape[:2]:
        raise ConfigError(f"losses must have shape (n_settings, fits) = {W.shape[:2]}, got {loss.shape}")
    cos = set_cosines(W, k)
    i, j = np.triu_indices(k, 1)
    mean_cos = cos[..., i, j].mean(-1)
    arrangement = classify_sets(W, k)
    best = loss.argmin(-1)
    best_W = _pick(W, best)
    return SetSweep(
        density=_densities(result), set_size=k, correlation=experiment.data.correlation,
        fit_arrangement=arrangement, fit_cosine=mean_cos, fit_loss=loss, best=best,
        arrangement=_pick(arrangement, best), cosine=_pick(mean_cos, best), pca_alignment=pca_alignment(best_W, k),
        across_cosine=across_cosines(best_W, k), best_W=best_W, best_b=_pick(_biases(result), best),
    )


class Band(NamedTuple):
    """A run of neighbouring densities with the same count (e.g. of collapsed pairs)."""

    count: int
    low: float  # first density of the run
    high: float  # last density of the run


def collapse_bands(density, counts) -> tuple[Band, ...]:
    """Runs of neighbouring densities (in the given order) whose counts are equal: ``((count, first density,
    last density), …)``. With a SetSweep: ``collapse_bands(sweep.density, sweep.collapsed)``."""
    density, counts = _numpy("density", density, 1), np.asarray(counts)
    if counts.shape != density.shape:
        raise ConfigError(f"counts must have one entry per density ({density.shape}), got {counts.shape}")
    return tuple(Band(int(count), float(density[first]), float(density[last]))
                 for first, last, count in runs(counts.tolist()))


def paper_collapsed(density) -> np.ndarray:
    """The number of collapsed pairs the paper reports at each density: 0 for p ≤ 0.05, 1 for 0.05 < p < 0.15,
    2 for 0.15 ≤ p ≤ 0.2, 3 for p ≥ 0.25 (all collapsed, "most PCA-like" from 0.5), and −1 where the paper
    states nothing (0.2 < p < 0.25)."""
    p = _numpy("density", density)
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
    W = _numpy("W", W)
    if W.ndim < 2:
        raise ConfigError(f"W must have shape (..., n_hidden, n_features), got {W.shape}")
    n = W.shape[-1]
    k = _set_size(n, set_size)
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
