"""§8: precise expected losses of privileged-basis fits, h = ReLU(W x), x' = ReLU(Wᵀh + b), for ranking fits.

The trainer ranks fits on 4 fresh batches (4,096 samples). At density 0.03 only a quarter of the samples have a
feature active, and the noise of that estimate is larger than the loss gaps between the regimes the fits end in.
:func:`expected_loss` enumerates which features are active (2ⁿ patterns, each with its exact probability; patterns
rarer than ``min_probability`` are left out) and averages over the active values with scrambled Sobol points, the
same points for every fit, so that differences between fits are precise. The same recipe as chapter 4's
``tm.geometry.expected_loss``, for the model with the ReLU on the hidden layer.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch

from ..config import ConfigError, as_float64
from ..train import TrainResult

MAX_FEATURES = 14  # 2^14 patterns at most
_CHUNK_ELEMENTS = 1 << 23  # float64 activations held at once: instances × rows × (m + n)


def _broadcast(name: str, value, shape: tuple[int, int]) -> np.ndarray:
    try:
        return np.broadcast_to(as_float64(name, value), shape).copy()
    except ValueError:
        raise ConfigError(f"{name} must broadcast to (n_instances, n_features) = {shape}") from None


def patterns(n_features: int) -> np.ndarray:
    """Every pattern of active features, (2ⁿ, n) bool, ordered by how many are active."""
    masks = np.array(list(itertools.product((False, True), repeat=n_features)), dtype=bool)
    return masks[np.argsort(masks.sum(1), kind="stable")]


def expected_loss(
    W, b, probability, importance=1.0, n_points: int = 1024, seed: int = 0, min_probability: float = 1e-9
) -> np.ndarray:
    """E_x Σ_i I_i (x_i − x'_i)² for each instance (one sample, summed over features: n times the trainer's loss).

    W: (n_instances, m, n); b: (n_instances, n); probability and importance: scalars, (n,) or (n_instances, n).
    Features are independent, active with their probability, with values U[0, 1]. Each pattern of active features
    whose probability reaches ``min_probability`` for some instance is enumerated exactly; the loss given the
    pattern is averaged over ``n_points`` scrambled Sobol points (seeded by ``seed``), the same for every instance.
    """
    W = as_float64("W", W)
    if W.ndim != 3:
        raise ConfigError(f"W must have shape (n_instances, n_hidden, n_features), got {W.shape}")
    count, _, n = W.shape
    if n > MAX_FEATURES:
        raise ConfigError(f"expected_loss enumerates 2^n patterns: n_features must be <= {MAX_FEATURES}, got {n}")
    if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)) or n_points < 2:
        raise ConfigError(f"n_points must be an integer >= 2, got {n_points!r}")
    if not 0 <= min_probability < 1:
        raise ConfigError(f"min_probability must lie in [0, 1), got {min_probability!r}")
    b = _broadcast("b", b, (count, n))
    p = _broadcast("probability", probability, (count, n))
    importance = _broadcast("importance", importance, (count, n))
    if not np.all((p > 0) & (p <= 1)):
        raise ConfigError("probability must lie in (0, 1]")
    masks = patterns(n)
    pattern_p = np.where(masks[None], p[:, None], 1 - p[:, None]).prod(-1)  # (I, P)
    kept = pattern_p.max(0) >= min_probability
    masks, pattern_p = masks[kept], pattern_p[:, kept]
    points = torch.quasirandom.SobolEngine(n, scramble=True, seed=seed).draw(n_points, dtype=torch.float64)
    m = W.shape[1]
    # h for every instance in one matrix product: x (rows, n) @ W stacked as (n, I·m).
    encoder = torch.from_numpy(np.ascontiguousarray(W.transpose(2, 0, 1).reshape(n, count * m)))
    decoder = torch.from_numpy(np.ascontiguousarray(W))  # (I, m, n)
    bias, weight = torch.from_numpy(b)[:, None, :], torch.from_numpy(importance)[:, None, :]
    per_chunk = max(1, _CHUNK_ELEMENTS // (count * n_points * (m + n)))
    mean_loss = []  # (I, patterns of the chunk) for each chunk of patterns
    with torch.no_grad():
        for start in range(0, len(masks), per_chunk):
            mask = torch.from_numpy(masks[start : start + per_chunk])
            x = (mask[:, None, :] * points[None]).reshape(-1, n)  # (rows, n), the same for every instance
            h = (x @ encoder).relu_().view(-1, count, m).transpose(0, 1)  # (I, rows, m)
            out = torch.baddbmm(bias, h, decoder).relu_()  # (I, rows, n)
            error = out.sub_(x).square_().mul_(weight).sum(-1)  # (I, rows)
            mean_loss.append(error.view(count, len(mask), n_points).mean(-1))
    return (torch.cat(mean_loss, dim=1).numpy() * pattern_p).sum(-1)


def fit_losses(result: TrainResult, n_points: int = 1024, seed: int = 0) -> np.ndarray:
    """:func:`expected_loss` of every fit of a trained result, (n_settings, fits per setting)."""
    experiment, k = result.experiment, result.fits_per_setting
    shape = (experiment.n_settings, experiment.model.n_features)
    probability = np.repeat(np.broadcast_to(np.array(experiment.feature_probability, dtype=np.float64), shape), k, 0)
    importance = np.repeat(np.broadcast_to(np.array(experiment.importance, dtype=np.float64), shape), k, 0)
    losses = expected_loss(result.model.W, result.model.b, probability, importance, n_points, seed)
    return losses.reshape(experiment.n_settings, k)
