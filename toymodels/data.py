"""Synthetic sparse features (paper §2, §4.4 correlated sets, §10 signed inputs).

A feature x_i is 0 with probability 1 - p_i, else uniform on [0, 1] (or [-1, 1] when signed). Batches have
shape ``(n_instances, batch, n_features)`` so every instance multiplies its own W in one ``bmm``.

Fewer random draws than the obvious "one draw for the mask, one for the value": with u ~ U[0, 1),
``u < p`` is the event "active" (probability p) and, given it, ``u / p`` is again U[0, 1). One draw per
feature therefore gives the same distribution. The values are quantised to steps of 2⁻²⁴/p (float32
``torch.rand`` has 24 random bits), about 6e-5 at p = 0.001 — far below anything the models resolve.
Anticorrelated sets use the same idea one level up: a single draw per set decides whether the set is active,
which of its k features fires, and that feature's value.
"""

from __future__ import annotations

import torch

from .config import ConfigError, DataConfig


def sample_features(
    probability: torch.Tensor,
    batch_size: int,
    data: DataConfig = DataConfig(),
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw a batch of features, ``(n_instances, batch_size, n_features)``.

    ``probability`` is the per-instance, per-feature density p, shape ``(n_instances, n_features)``; for
    correlated and anticorrelated data the density of a set is read from its first feature.
    """
    if probability.ndim != 2:
        raise ConfigError(f"probability must have shape (n_instances, n_features), got {tuple(probability.shape)}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size must be a positive integer (>= 1), got {batch_size!r}")
    n_instances, n_features = probability.shape
    k = data.set_size
    if n_features % k:
        raise ConfigError(f"n_features={n_features} must be a multiple of set_size={k}")
    p = probability.unsqueeze(1)  # (instance, 1, feature), broadcast over the batch
    rand = lambda *shape: torch.rand(shape, generator=generator, device=probability.device)  # noqa: E731

    if data.correlation == "none":
        scaled = rand(n_instances, batch_size, n_features).div_(p)  # < 1 exactly when active
        x = scaled.masked_fill_(scaled >= 1, 0.0)
    elif data.correlation == "correlated":
        # One shared draw decides whether a whole set is active; values are independent.
        set_p = p[..., ::k]
        set_active = rand(n_instances, batch_size, n_features // k) < set_p
        x = rand(n_instances, batch_size, n_features) * set_active.repeat_interleave(k, dim=-1)
    else:
        # Anticorrelated: a set is active w.p. q (paper: q = p; ARENA: q = k·p); one of its k features,
        # chosen uniformly, fires. With u ~ U[0,1) and active = u < q, k·u/q ∈ [0, k) has a uniform integer
        # part (which feature) and an independent uniform fractional part (its value).
        set_q = p[..., ::k] * (k if data.anticorrelated_convention == "arena" else 1)
        position = rand(n_instances, batch_size, n_features // k).div_(set_q).mul_(k)  # active iff < k
        which = position.floor()  # >= k for an inactive set, so it matches no slot below
        value = position - which
        slot = torch.arange(k, device=probability.device, dtype=position.dtype)
        x = ((which.unsqueeze(-1) == slot) * value.unsqueeze(-1)).reshape(n_instances, batch_size, n_features)
    if data.signed:
        # Map the active values from U[0,1) to U[-1,1); inactive features stay at exactly 0.
        x = torch.where(x != 0, 2 * x - 1, x)
    return x


def target_of(x: torch.Tensor, data: DataConfig = DataConfig()) -> torch.Tensor:
    """What the model must output: x itself, or |x| for the absolute-value task (§10)."""
    return x.abs() if data.target == "abs" else x
