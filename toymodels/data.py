"""Synthetic sparse features (paper §2, §4.4 correlated sets, §10 signed inputs).

A feature x_i is 0 with probability 1 - p_i, else uniform on [0, 1] (or [-1, 1] when signed). Batches have
shape ``(n_instances, batch, n_features)``; their memory is feature-major, ``(instance, feature, batch)``, which
is the layout in which the models' matrix products run fastest (see :func:`toymodels.models.loss_and_grads`).

Fewer random draws than the obvious "one draw for the mask, one for the value": with u ~ U[0, 1), ``u < p`` is
the event "active" (probability p) and, given it, ``1 - u / p`` is again uniform on (0, 1]. One draw per
feature therefore gives the same distribution: x = ReLU(1 - u / p). The values are quantised to steps of
2⁻²³/p (23 random bits per draw), about 1e-4 at p = 0.001 — far below anything the models resolve.
Anticorrelated sets use the same idea one level up: a single draw per set decides whether the set is active,
which of its k features fires, and that feature's value.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .config import DataConfig
from .errors import ConfigError

_ONE_BITS = 0x3F800000  # the float32 bit pattern of 1.0
_MANTISSA = 0x007FFFFF


def _spawn_key(stream) -> tuple[int, ...]:
    key = tuple(stream)
    if not all(isinstance(k, (int, np.integer)) and not isinstance(k, bool) and k >= 0 for k in key):
        raise ConfigError(f"stream must be a tuple of integers >= 0, got {stream!r}")
    return key


def stream_seed(seed: int, stream: tuple[int, ...] = ()) -> int:
    """A 63-bit seed for a ``torch.Generator``, derived from ``seed`` and the stream's key (NumPy's
    ``SeedSequence``: distinct keys give independent seeds)."""
    words = np.random.SeedSequence(seed, spawn_key=_spawn_key(stream)).generate_state(2, np.uint32)
    return (int(words[0]) << 31) ^ int(words[1])


class Uniforms:
    """A seeded stream of uniform float32 numbers on ``device``.

    On the CPU it takes raw 64-bit words from NumPy's SFC64 generator (about four times faster than
    ``torch.rand`` here) and turns 23 of each 32 bits into a float in [1, 2) by bit manipulation; on other
    devices it uses a ``torch.Generator`` of that device. The same seed gives the same numbers. ``stream``, a
    tuple of integers (NumPy's ``SeedSequence`` spawn key), gives an independent stream of the same seed: the
    trainer keys each block's streams by ``(block, role)``; ``()`` is the seed's own stream.
    """

    def __init__(self, seed: int = 0, device: str | torch.device = "cpu", stream: tuple[int, ...] = ()) -> None:
        self.device = torch.device(device)
        key = _spawn_key(stream)
        if self.device.type == "cpu":
            self._bits = np.random.SFC64(np.random.SeedSequence(seed, spawn_key=key) if key else seed)
        else:
            self._generator = torch.Generator(self.device).manual_seed(stream_seed(seed, key))

    def one_to_two(self, *shape: int) -> torch.Tensor:
        """Uniform on [1, 2): the cheapest form on the CPU (U[0, 1) is this minus 1)."""
        count = math.prod(shape)
        if self.device.type != "cpu":
            return torch.rand(shape, generator=self._generator, device=self.device).add_(1.0)
        words = torch.from_numpy(self._bits.random_raw((count + 1) // 2).view(np.int32)[:count])
        # Keep 23 random mantissa bits under the exponent of 1.0: the float32 value 1.m ∈ [1, 2).
        return words.bitwise_and_(_MANTISSA).bitwise_or_(_ONE_BITS).view(torch.float32).view(shape)

    def uniform(self, *shape: int) -> torch.Tensor:
        """Uniform on [0, 1)."""
        return self.one_to_two(*shape).sub_(1.0)


class FeatureSampler:
    """Draws batches of features for fixed densities, ``(n_instances, batch, n_features)`` (feature-major in
    memory); what depends only on the densities is computed once. :func:`sample_features` draws one batch.

    ``probability`` is the per-instance, per-feature density p, shape ``(n_instances, n_features)``; for
    correlated and anticorrelated data the density of a set is read from its first feature. ``uniforms`` is
    the random stream.
    """

    def __init__(
        self,
        probability: torch.Tensor,
        data: DataConfig = DataConfig(),
        uniforms: Uniforms | None = None,
    ) -> None:
        if probability.ndim != 2:
            raise ConfigError(f"probability must have shape (n_instances, n_features), got {tuple(probability.shape)}")
        self.n_instances, self.n_features = probability.shape
        k = data.set_size
        if self.n_features % k:
            raise ConfigError(f"n_features={self.n_features} must be a multiple of set_size={k}")
        self.data = data
        self.uniforms = uniforms or Uniforms(0, probability.device)
        p = probability.unsqueeze(-1)  # (instance, feature, 1), broadcast over the batch
        if data.correlation == "none":
            # x = ReLU(1 - u/p) = ReLU(v·(-1/p) + (1 + 1/p)) with v = 1 + u ∈ [1, 2), in place on v.
            self.slope = -1.0 / p
            self.offset = 1.0 - self.slope
        else:
            self.set_p = p[:, ::k]
            if data.correlation == "anticorrelated" and data.anticorrelated_convention == "arena":
                self.set_p = self.set_p * k  # a set is active w.p. k·p, so each feature keeps density p
            self.slot = torch.arange(k, device=probability.device, dtype=probability.dtype).view(1, 1, k, 1)

    def __call__(self, batch_size: int) -> torch.Tensor:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"batch_size must be a positive integer (>= 1), got {batch_size!r}")
        I, n, data, k = self.n_instances, self.n_features, self.data, self.data.set_size
        if data.correlation == "none":
            x = self.uniforms.one_to_two(I, n, batch_size).mul_(self.slope).add_(self.offset).relu_()
        elif data.correlation == "correlated":
            # One shared draw decides whether a whole set is active; values are independent.
            set_active = self.uniforms.uniform(I, n // k, batch_size) < self.set_p
            x = self.uniforms.uniform(I, n, batch_size).mul_(set_active.repeat_interleave(k, dim=1))
        else:
            # Anticorrelated: a set is active w.p. q; then one of its k features, chosen uniformly, fires.
            # With u ~ U[0,1) and active = u < q, k·u/q ∈ [0, k) has a uniform integer part (which feature)
            # and an independent uniform fractional part (its value).
            position = self.uniforms.uniform(I, n // k, batch_size).div_(self.set_p).mul_(k)  # active iff < k
            which = position.floor()  # >= k for an inactive set, so it matches no slot below
            value = position - which
            x = ((which.unsqueeze(2) == self.slot) * value.unsqueeze(2)).reshape(I, n, batch_size)
        if data.signed:
            # Map the active values from (0, 1] to (-1, 1]; inactive features stay at exactly 0.
            x = torch.where(x != 0, 2 * x - 1, x)
        return x.transpose(1, 2)


def sample_features(
    probability: torch.Tensor,
    batch_size: int,
    data: DataConfig = DataConfig(),
    uniforms: Uniforms | None = None,
) -> torch.Tensor:
    """One batch of features, ``(n_instances, batch_size, n_features)``: see :class:`FeatureSampler`."""
    return FeatureSampler(probability, data, uniforms)(batch_size)


def loss_weights(x: torch.Tensor, importance: torch.Tensor, data: DataConfig = DataConfig()) -> torch.Tensor:
    """The weight of each feature's error in the loss: ``importance`` (instance, feature) itself, or for
    ``importance_when="alone"`` (conditional importance) per sample, (instance, batch, feature): I_i on the samples
    where no other feature of i's set is active, else 0. Computed in x's feature-major memory layout."""
    if data.importance_when == "always":
        return importance
    n_instances, batch, n = x.shape
    k = data.set_size
    active = (x.transpose(1, 2) != 0).reshape(n_instances, n // k, k, batch)
    others = active.sum(2, keepdim=True, dtype=torch.int32) - active.to(torch.int32)  # active set-mates of each
    alone = (others == 0).reshape(n_instances, n, batch).to(x.dtype)
    return alone.mul_(importance.unsqueeze(-1)).transpose(1, 2)


def target_of(x: torch.Tensor, data: DataConfig = DataConfig()) -> torch.Tensor:
    """What the model must output: x itself, |x| for the absolute-value task (§10), or for "argmax" (chapter 10)
    the one-hot of the largest active feature, all zeros when none is active (a sample that asks nothing)."""
    if data.target == "argmax":
        largest, index = x.max(-1, keepdim=True)
        return torch.zeros_like(x).scatter_(-1, index, (largest > 0).to(x.dtype))
    return x.abs() if data.target == "abs" else x
