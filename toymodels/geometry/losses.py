"""§4: precise expected losses of every fit (exact over which features are active, quasi-random over their
values) and the helpers that read a trained result's weights and densities.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch

from .. import theory
from ..config import ConfigError, DataConfig, as_float64
from ..train import TrainResult

MAX_PATTERNS = 4096  # expected_loss enumerates the active patterns: at most this many


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


def expected_loss(
    W,
    b,
    probability,
    importance=1.0,
    data: DataConfig = DataConfig(),
    kind: str = "relu_output",
    n_points: int = 2048,
    seed: int = 0,
) -> np.ndarray:
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
        raise ConfigError(
            "data must be unsigned features reconstructed as themselves (signed=False, target='identity')"
        )
    if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)) or n_points < 2:
        raise ConfigError(f"n_points must be an integer >= 2, got {n_points!r}")
    W = _numpy("W", W, 3)
    I, _, n = W.shape
    per_feature = lambda name, value: np.broadcast_to(_numpy(name, value), (I, n))  # noqa: E731
    try:
        b, p, importance = (
            per_feature("b", b),
            per_feature("probability", probability),
            per_feature("importance", importance),
        )
    except ValueError as error:
        raise ConfigError(
            f"b, probability and importance must broadcast to (n_instances, n) = ({I}, {n}): {error}"
        ) from None
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
    losses = expected_loss(
        result.model.W, result.model.b, probability, importance, experiment.data, experiment.model.kind, n_points, seed
    )
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
    return np.broadcast_to(
        np.array(experiment.feature_probability, dtype=np.float64), (experiment.n_settings, experiment.model.n_features)
    )


def _densities(result: TrainResult, column: int = 0) -> np.ndarray:
    return _probability(result.experiment)[:, column].copy()
