"""§8: precise expected losses of privileged-basis fits, h = ReLU(W x), x' = ReLU(Wᵀh + b), for ranking fits.

The trainer ranks fits on 4 fresh batches (4,096 samples). At density 0.03 only a quarter of the samples have a
feature active, and the noise of that estimate is larger than the loss gaps between the regimes the fits end in.
:func:`expected_loss` enumerates which features are active (2ⁿ patterns, each with its exact probability; patterns
rarer than ``min_probability`` are left out) and averages over the active values with scrambled Sobol points, the
same points for every fit, so that differences between fits are precise: the core's recipe
(:mod:`toymodels.losses`, as chapter 4's ``tm.geometry.expected_loss``) for the model with the ReLU on the hidden
layer, with 1024 points.
"""

from __future__ import annotations

import numpy as np

from .. import losses as core
from ..errors import ConfigError
from ..losses import patterns
from ..results import TrainResult

__all__ = ["MAX_FEATURES", "expected_loss", "fit_losses", "patterns"]

MAX_FEATURES = 14  # 2^14 patterns at most
MIN_PROBABILITY = 1e-9  # patterns rarer than this for every instance are left out


def expected_loss(
    W, b, probability, importance=1.0, n_points: int = 1024, seed: int = 0, min_probability: float = MIN_PROBABILITY
) -> np.ndarray:
    """E_x Σ_i I_i (x_i − x'_i)² for each instance (one sample, summed over features: n times the trainer's loss).

    W: (n_instances, m, n); b: (n_instances, n); probability and importance: scalars, (n,) or (n_instances, n).
    Features are independent, active with their probability, with values U[0, 1]. Each pattern of active features
    whose probability reaches ``min_probability`` for some instance is enumerated exactly; the loss given the
    pattern is averaged over ``n_points`` scrambled Sobol points (seeded by ``seed``), the same for every instance
    (:func:`toymodels.losses.expected_loss` with kind ``"relu_hidden"``)."""
    return core.expected_loss(
        W,
        b,
        probability,
        importance,
        kind="relu_hidden",
        n_points=n_points,
        seed=seed,
        min_probability=min_probability,
        max_patterns=2**MAX_FEATURES,
    )


def fit_losses(result: TrainResult, n_points: int = 1024, seed: int = 0) -> np.ndarray:
    """:func:`expected_loss` of every fit of a trained relu_hidden result, (n_settings, fits per setting)
    (:func:`toymodels.losses.fit_losses`)."""
    if result.experiment.model.kind != "relu_hidden":
        raise ConfigError(f"result must be of a relu_hidden model, got kind {result.experiment.model.kind!r}")
    return core.fit_losses(result, n_points, seed, MIN_PROBABILITY, 2**MAX_FEATURES)
