"""Precise expected losses of toy models, to rank fits: exact over which features are active, quasi-random over
their values.

The trainer ranks fits on a few fresh batches, whose noise at low density is larger than the loss gaps between
the solutions fits end in (a pentagon and two digons in chapter 4, the privileged-basis regimes in chapter 7).
:func:`expected_loss` enumerates every pattern of active features (:func:`patterns`; for correlated and
anticorrelated data, of active sets), each with its exact probability (:func:`pattern_probabilities`), and
averages the loss given the pattern over scrambled Sobol points (:func:`value_points`), the same points for every
instance, so that differences between fits are precise. The model's forward pass is chosen by its kind
(:data:`FORWARDS`). Losses are the expected loss of ONE sample SUMMED over features (as in :mod:`toymodels.theory`),
n times the trainer's mean over features. :func:`fit_losses` does it for every fit of a trained result; chapters 4
and 7 call it through ``tm.geometry`` and ``tm.privileged`` with their own defaults.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import torch

from .config import DataConfig
from .errors import ConfigError
from .results import TrainResult
from .validation import as_float64

MAX_PATTERNS = 4096  # expected_loss enumerates the active patterns: at most this many unless told otherwise
_CHUNK_ELEMENTS = 1 << 23  # float64 activations held at once: instances × rows × (m + n)


def _linear(x: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """x' = WᵀW x + b, through the Gram matrix: x (rows, n), W (I, m, n), b (I, n) → (I, rows, n)."""
    return torch.baddbmm(b[:, None, :], x.expand(len(W), *x.shape), W.transpose(1, 2) @ W)


def _relu_output(x: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """x' = ReLU(WᵀW x + b) (chapters 2–5)."""
    return _linear(x, W, b).relu_()


def _relu_hidden(x: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """h = ReLU(W x), x' = ReLU(Wᵀh + b) (chapter 7, the privileged basis)."""
    count, m, n = W.shape
    encoder = W.permute(2, 0, 1).reshape(n, count * m)  # h of every instance in one product: x @ (n, I·m)
    h = (x @ encoder).relu_().view(-1, count, m).transpose(0, 1)  # (I, rows, m)
    return torch.baddbmm(b[:, None, :], h, W).relu_()


# The forward pass of each model kind that expected_loss computes, as forward(x (rows, n), W (I, m, n), b (I, n))
# → x' (I, rows, n): the tied models, with the output ReLU (ModelConfig.activation "relu") where they have one.
FORWARDS: dict[str, Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "linear": _linear,
    "relu_output": _relu_output,
    "relu_hidden": _relu_hidden,
}


def _set_size(n_features: int, data: DataConfig) -> int:
    """Features per unit (a feature for independent data, else a set), checked to divide n_features."""
    k = 1 if data.correlation == "none" else data.set_size
    if n_features % k:
        raise ConfigError(f"n_features={n_features} must be a multiple of set_size={k}")
    return k


def n_patterns(n_features: int, data: DataConfig = DataConfig()) -> int:
    """How many patterns :func:`patterns` enumerates: 2 per unit (inactive, active), or k + 1 per anticorrelated
    set of k (inactive, or which one of its features fires)."""
    k = _set_size(n_features, data)
    return (k + 1 if data.correlation == "anticorrelated" else 2) ** (n_features // k)


def patterns(n_features: int, data: DataConfig = DataConfig()) -> np.ndarray:
    """Every pattern of active features, (P, n) bool, ordered by how many are active: for independent features
    each subset (2ⁿ); for correlated sets each choice of whole sets on; for anticorrelated sets at most one
    feature of each set on ((k + 1)^(n/k))."""
    k = _set_size(n_features, data)
    units, per_unit = n_features // k, k + 1 if data.correlation == "anticorrelated" else 2
    states = np.array(list(itertools.product(range(per_unit), repeat=units)), dtype=int).reshape(-1, units)
    # A unit's state: 0 inactive, 1 active (the whole set when correlated), or 1 + which of its features fires.
    on = 1 + np.arange(k) if data.correlation == "anticorrelated" else np.ones(k, dtype=int)
    masks = (states[:, :, None] == on).reshape(len(states), n_features)
    return masks[np.argsort(masks.sum(1), kind="stable")]


def pattern_probabilities(masks: np.ndarray, probability: np.ndarray, data: DataConfig = DataConfig()) -> np.ndarray:
    """The exact probability of each pattern (masks (P, n) from :func:`patterns`) for each instance, (I, P).

    probability (I, n): each feature's density 1 − S; for correlated and anticorrelated data the set's, read from
    its first feature (``feature_probability`` as the experiment holds it). An anticorrelated set is active with
    that probability (``"arena"`` convention: k times it) and then one of its k features, chosen uniformly,
    fires."""
    k = _set_size(masks.shape[1], data)
    active = masks.reshape(len(masks), -1, k).any(-1)  # (P, units)
    unit_p = probability[:, ::k]  # (I, units): a unit's (set's) activation probability
    if data.correlation == "anticorrelated" and data.anticorrelated_convention == "arena":
        unit_p = unit_p * k
    if not np.all(unit_p <= 1):
        raise ConfigError(f"each set's activation probability must be <= 1, got up to {unit_p.max():g}")
    fires = unit_p / k if data.correlation == "anticorrelated" else unit_p  # one given feature of the set fires
    return np.where(active[None], fires[:, None], 1 - unit_p[:, None]).prod(-1)


def value_points(n_features: int, n_points: int, seed: int = 0) -> torch.Tensor:
    """(n_points, n) float64 scrambled Sobol points in [0, 1)ⁿ, seeded by ``seed``: the active features' values."""
    if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)) or n_points < 2:
        raise ConfigError(f"n_points must be an integer >= 2, got {n_points!r}")
    return torch.quasirandom.SobolEngine(n_features, scramble=True, seed=seed).draw(n_points, dtype=torch.float64)


def expected_loss(
    W,
    b,
    probability,
    importance=1.0,
    data: DataConfig = DataConfig(),
    kind: str = "relu_output",
    n_points: int = 2048,
    seed: int = 0,
    min_probability: float = 0.0,
    max_patterns: int = MAX_PATTERNS,
) -> np.ndarray:
    """E_x Σ_i I_i (x_i − x'_i)² for each instance of a model of ``kind`` (a key of :data:`FORWARDS`), one
    sample, summed over features: n times the trainer's loss.

    W: (n_instances, m, n); b, probability (see :func:`pattern_probabilities`) and importance: scalars, (n,) or
    (n_instances, n). Each pattern of active features (or sets) whose probability reaches ``min_probability`` for
    some instance is enumerated with its exact probability (at most ``max_patterns`` patterns); the loss given the
    pattern is averaged over ``n_points`` scrambled Sobol points (seeded by ``seed``), the same points for every
    instance, so that differences between instances are precise."""
    if kind not in FORWARDS:
        raise ConfigError(f"kind must be one of {tuple(FORWARDS)}, got {kind!r}")
    if data.signed or data.target != "identity" or data.importance_when != "always":
        raise ConfigError(
            "data must be unsigned features reconstructed as themselves, each weighed on every sample "
            "(signed=False, target='identity', importance_when='always')"
        )
    if not 0 <= min_probability < 1:
        raise ConfigError(f"min_probability must lie in [0, 1), got {min_probability!r}")
    W = as_float64("W", W)
    if W.ndim != 3:
        raise ConfigError(f"W must have shape (n_instances, n_hidden, n_features), got {W.shape}")
    count, m, n = W.shape
    try:
        b, p, importance = (
            np.broadcast_to(as_float64(name, value), (count, n))
            for name, value in (("b", b), ("probability", probability), ("importance", importance))
        )
    except ValueError as error:
        raise ConfigError(
            f"b, probability and importance must broadcast to (n_instances, n) = ({count}, {n}): {error}"
        ) from None
    if not np.all((p > 0) & (p <= 1)):
        raise ConfigError("probability must lie in (0, 1]")
    if n_patterns(n, data) > max_patterns:
        raise ConfigError(
            f"expected_loss enumerates {n_patterns(n, data)} activity patterns, more than max_patterns="
            f"{max_patterns} (default MAX_PATTERNS={MAX_PATTERNS}); use toymodels.evaluate for a model this large"
        )
    points = value_points(n, n_points, seed)
    masks = patterns(n, data)
    pattern_p = pattern_probabilities(masks, p, data)  # (I, P)
    kept = pattern_p.max(0) >= min_probability
    masks, pattern_p = masks[kept], pattern_p[:, kept]
    forward, weights = FORWARDS[kind], torch.from_numpy(np.ascontiguousarray(W))
    bias, weight = torch.from_numpy(b.copy()), torch.from_numpy(importance.copy())[:, None, :]
    per_chunk = max(1, _CHUNK_ELEMENTS // (count * n_points * (m + n)))
    mean_loss = []  # (I, patterns of the chunk) for each chunk of patterns
    with torch.no_grad():
        for start in range(0, len(masks), per_chunk):
            mask = torch.from_numpy(masks[start : start + per_chunk])
            x = (mask[:, None, :] * points[None]).reshape(-1, n)  # (rows, n), the same for every instance
            error = forward(x, weights, bias).sub_(x).square_().mul_(weight).sum(-1)  # (I, rows)
            mean_loss.append(error.view(count, len(mask), n_points).mean(-1))
    return (torch.cat(mean_loss, dim=1).numpy() * pattern_p).sum(-1)


def fit_losses(
    result: TrainResult,
    n_points: int = 2048,
    seed: int = 0,
    min_probability: float = 0.0,
    max_patterns: int = MAX_PATTERNS,
) -> np.ndarray:
    """:func:`expected_loss` of every fit of a trained result, shaped (n_settings, fits per setting): the forward
    pass of its model kind, on its data, densities and importances (in float64, as the experiment stores them)."""
    experiment, k = result.experiment, result.fits_per_setting
    if experiment.model.kind != "linear" and experiment.model.activation != "relu":
        raise ConfigError(f"fit_losses computes ReLU outputs, got activation {experiment.model.activation!r}")
    if experiment.model.hidden_bias:
        raise ConfigError("fit_losses computes models without a hidden bias (ModelConfig(hidden_bias=False))")
    shape = (experiment.n_settings, experiment.model.n_features)
    per_fit = lambda values: np.repeat(np.broadcast_to(np.array(values, dtype=np.float64), shape), k, axis=0)  # noqa: E731
    losses = expected_loss(
        result.model.W,
        result.model.b,
        per_fit(experiment.feature_probability),
        per_fit(experiment.importance),
        experiment.data,
        experiment.model.kind,
        n_points,
        seed,
        min_probability,
        max_patterns,
    )
    return losses.reshape(experiment.n_settings, k)
