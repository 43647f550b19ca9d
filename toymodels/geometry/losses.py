"""§4: the precise expected losses chapter 4 ranks its fits by, and the helpers that read a trained result's
weights and densities.

The losses are the core's (:mod:`toymodels.losses`: exact over which features or sets are active, quasi-random
over their values) for this chapter's tied models, ``"relu_output"`` and ``"linear"``, with 2048 points.
"""

from __future__ import annotations

import numpy as np

from .. import losses as core
from .. import theory
from ..config import DataConfig
from ..errors import ConfigError
from ..results import TrainResult
from ..validation import check_array

MAX_PATTERNS = core.MAX_PATTERNS  # expected_loss enumerates the active patterns: at most this many


def _tied(kind: str) -> None:
    if kind not in theory.MODEL_KINDS:
        raise ConfigError(f"kind must be one of {theory.MODEL_KINDS} (tied models), got {kind!r}")


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
    of active features (or sets) is enumerated with its exact probability (at most ``MAX_PATTERNS`` patterns);
    the loss given the pattern is averaged over ``n_points`` scrambled Sobol points (seeded by ``seed``), the
    same points for every instance, so that differences between instances are precise
    (:func:`toymodels.losses.expected_loss`)."""
    _tied(kind)
    return core.expected_loss(W, b, probability, importance, data, kind, n_points, seed)


def fit_losses(result: TrainResult, n_points: int = 2048, seed: int = 0) -> np.ndarray:
    """:func:`expected_loss` of every fit of a trained result of a tied model, shaped (n_settings, fits per
    setting) (:func:`toymodels.losses.fit_losses`)."""
    _tied(result.experiment.model.kind)
    return core.fit_losses(result, n_points, seed)


def _weights(result: TrainResult) -> np.ndarray:
    """(n_settings, K, m, n) weights of every fit."""
    W = check_array("W", result.model.W, ndim=3)
    return W.reshape(result.experiment.n_settings, result.fits_per_setting, *W.shape[1:])


def _biases(result: TrainResult) -> np.ndarray:
    """(n_settings, K, n) biases of every fit."""
    b = check_array("b", result.model.b, ndim=2)
    return b.reshape(result.experiment.n_settings, result.fits_per_setting, b.shape[-1])


def _pick(values: np.ndarray, best: np.ndarray) -> np.ndarray:
    """values (S, K, …) at fit best[s] of each setting: (S, …)."""
    return np.take_along_axis(values, best.reshape(-1, *([1] * (values.ndim - 1))), axis=1)[:, 0]


def _densities(result: TrainResult, column: int = 0) -> np.ndarray:
    return result.experiment.densities()[:, column].copy()
