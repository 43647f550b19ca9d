"""§4: non-uniform superposition, five features in two dimensions with one feature's density varied:
classification of fits (pentagon, two digons, other) and the sweep's threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import theory
from ..errors import ConfigError
from ..metrics import angular_gaps
from ..results import TrainResult
from ..validation import as_float64, check_array
from ..vocabulary import ANTIPODAL_COS, REPRESENTED_NORM, unit_columns
from .losses import _biases, _pick, _weights, fit_losses

DROPPED_NORM = 0.1  # the varied feature counts as dropped below this norm (trained digons leave it at ≈ 0.01)
PENTAGON_GAP = (36.0, 144.0)  # degrees between neighbours on the circle: within 2× of the regular 72°
NON_UNIFORM_CLASSES = ("pentagon", "two digons", "other")
# The paper's values, for comparison in tables and figures.
PAPER_BASE_DENSITY = 0.05
PAPER_THRESHOLD_RATIO = 2.5  # the pentagon breaks when the varied feature is ≈ 2.5× sparser than the others


def room(W, feature: int) -> np.ndarray:
    """For W (…, 2, n): the mean of the two angles (degrees) between ``feature`` and its neighbours on the
    circle: 72° in a regular pentagon, more for a feature that pushes the others away, less for one that takes
    less room."""
    W = as_float64("W", W)
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
    W = as_float64("W", W)
    if W.ndim < 2 or W.shape[-2:] != (2, 5):
        raise ConfigError(f"W must have shape (..., 2, 5): five features in two dimensions, got {W.shape}")
    if isinstance(varied, bool) or not isinstance(varied, (int, np.integer)) or not 0 <= varied < 5:
        raise ConfigError(f"varied must be a feature index in [0, 4], got {varied!r}")
    unit, norms = unit_columns(W)
    gaps = angular_gaps(W)
    pentagon = (
        (norms > REPRESENTED_NORM).all(-1) & (gaps >= PENTAGON_GAP[0]).all(-1) & (gaps <= PENTAGON_GAP[1]).all(-1)
    )
    others = [i for i in range(5) if i != varied]
    rest = unit[..., others]
    cos = np.einsum("...ki,...kj->...ij", rest, rest)
    digons = (
        (norms[..., varied] < DROPPED_NORM) & (norms[..., others] > REPRESENTED_NORM).all(-1) & _antipodal_pairs(cos)
    )
    return np.where(pentagon, 0, np.where(digons, 1, 2))


def digon_loss_theory(varied_density, base_density: float = PAPER_BASE_DENSITY, n_features: int = 5) -> np.ndarray:
    """Closed-form loss (per sample, summed over features, importance 1) of the two-digon solution: the
    n − 1 others as antipodal pairs at their optimal bias, ``(n − 1)·g(base)``, plus the dropped varied feature
    with its bias at its mean, ``q(varied)`` (:func:`toymodels.theory.antipodal_feature_loss`,
    :func:`~toymodels.theory.ignored_feature_loss`). The dropped feature interacts with nothing, so this is
    exact for unit-norm pairs. Trained digons sit up to about 1 % above it: the dropped feature's bias often
    ends below 0, where its ReLU passes no gradient, so it outputs 0 and costs p/3 instead of p/3 − p²/4."""
    if (
        isinstance(n_features, bool)
        or not isinstance(n_features, (int, np.integer))
        or n_features < 3
        or n_features % 2 == 0
    ):
        raise ConfigError(f"n_features must be an odd integer >= 3 (the others pair up), got {n_features!r}")
    return (n_features - 1) * theory.antipodal_feature_loss(base_density) + theory.ignored_feature_loss(varied_density)


def crossings(x, difference) -> np.ndarray:
    """The x where ``difference`` changes sign between neighbouring points (NaN entries skipped), by linear
    interpolation in log x. x must be positive and increasing."""
    x, difference = check_array("x", x, ndim=1), check_array("difference", difference, ndim=1)
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
    changes = [
        (either[i], either[i + 1]) for i in range(len(either) - 1) if best_class[either[i]] != best_class[either[i + 1]]
    ]
    if len(changes) == 1 and best_class[changes[0][0]] == 1:
        return float(density[changes[0][0]]), float(density[changes[0][1]])
    return float("nan"), float("nan")


def non_uniform_sweep(
    result: TrainResult, varied: int = 0, losses: np.ndarray | None = None, n_points: int = 2048
) -> NonUniformSweep:
    """Analyse a trained ``tm.preset("non_uniform")``: classify every fit, estimate its loss precisely
    (:func:`fit_losses`, or the (S, K) ``losses`` given), and find the pentagon → two digons threshold."""
    experiment = result.experiment
    if isinstance(varied, bool) or not isinstance(varied, (int, np.integer)) or not 0 <= varied < 5:
        raise ConfigError(f"varied must be a feature index in [0, 4], got {varied!r}")
    density = experiment.densities()
    others = np.delete(density, varied, axis=1)
    if experiment.model.n_hidden != 2 or experiment.model.n_features != 5 or not np.allclose(others, others[0, 0]):
        raise ConfigError(
            "result must be a non-uniform sweep: n=5, m=2, every feature but `varied` at one density "
            "(tm.preset('non_uniform'))"
        )
    varied_density = density[:, varied]
    if np.any(np.diff(varied_density) <= 0):
        raise ConfigError("the varied density must increase along the settings")
    W = _weights(result)
    loss = fit_losses(result, n_points) if losses is None else check_array("losses", losses, ndim=2)
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
        varied_density=varied_density,
        base_density=base,
        varied=varied,
        fit_class=fit_class,
        fit_loss=loss,
        fit_varied_norm=np.linalg.norm(W[..., varied], axis=-1),
        best=best,
        best_class=best_class,
        pentagon_loss=pentagon,
        digon_loss=digons,
        digon_theory=theory_digons,
        threshold=first(crossings(varied_density, pentagon - digons)),
        threshold_theory=first(crossings(varied_density, pentagon - theory_digons)),
        switch=_switch(varied_density, best_class),
        best_W=_pick(W, best),
        best_b=_pick(_biases(result), best),
        pentagon_room=_pick(room(W, varied), np.where(fit_class == 0, loss, np.inf).argmin(-1))
        * np.where((fit_class == 0).any(-1), 1.0, np.nan),
    )
