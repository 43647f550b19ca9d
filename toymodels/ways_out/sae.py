"""Sparse autoencoders (SAEs) on the instance axis: many (L1 coefficient, dictionary size) settings trained as
batched runs, like the toy models (chapter 9; the paper's §9 names dictionary learning as the second way out).

The SAE (the standard ReLU SAE of Bricken et al. 2023, with the decoder-norm-weighted L1 of Conerly et al. 2024,
so that no unit-norm constraint on the decoder is needed)::

    f = ReLU(W_enc (x − b_dec) + b_enc)          latents, (n_latents,)
    x̂ = W_dec f + b_dec                          W_dec is (d, n_latents): column j is latent j's direction
    L = E ‖x − x̂‖² + λ E Σ_j f_j ‖W_dec,j‖

These are sae-lens's conventions (its standard SAE, measured and compared on one configuration in the project's
notes): the same encoder, decoder, penalty and a start with decoder columns of norm 0.1 and the encoder their
transpose. Differences: our initial directions are Gaussian (sae-lens: Kaiming-uniform rows, rescaled), and we
clip no gradients (sae-lens: norm 1).

``W_dec`` is laid out as the toy model's W, (hidden, feature): a decoder compares column for column with the true
feature directions W_i. Gradients come from autograd (an SAE step is cheap next to the toy models' sweeps).

**Dictionary sizes** are handled by grouping: the settings of one size train as one batched run (one instance
per L1 coefficient), the sizes one after another, so no compute goes into masked latents. Results are padded to
the largest size with zero columns (``n_latents`` says how many are real). Every instance of one size starts from
the same initial weights (drawn from the stream ``(seed, size)``), and every instance sees the same batches
(stream ``(seed, 0)``): the L1 coefficient is the only difference between them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..block import torch_threads
from ..data import FeatureSampler, Uniforms, stream_seed
from ..errors import ConfigError
from ..validation import as_float64

SAE_VERSION = 1  # bump when what a seed trains to changes: stored SAE entries are then stale


@dataclass(frozen=True)
class SaeSetting:
    """One SAE of a grid: its L1 coefficient λ and its number of latents."""

    l1: float
    n_latents: int

    def __post_init__(self) -> None:
        if not (isinstance(self.l1, (int, float)) and math.isfinite(self.l1) and self.l1 >= 0):
            raise ConfigError(f"l1 must be a finite number >= 0, got {self.l1!r}")
        if isinstance(self.n_latents, bool) or not isinstance(self.n_latents, (int, np.integer)) or self.n_latents < 1:
            raise ConfigError(f"n_latents must be a positive integer, got {self.n_latents!r}")

    @property
    def label(self) -> str:
        return f"λ = {self.l1:g}, {self.n_latents} latents"


def sae_grid(l1s: Iterable[float], sizes: Iterable[int]) -> tuple[SaeSetting, ...]:
    """Every (λ, size) pair, size-major: ``grid[i * len(l1s) + j]`` has size ``sizes[i]`` and λ ``l1s[j]``."""
    l1s, sizes = list(l1s), list(sizes)
    if not l1s or not sizes:
        raise ConfigError("l1s and sizes must not be empty")
    return tuple(SaeSetting(float(l1), int(size)) for size in sizes for l1 in l1s)


@dataclass
class SaeResult:
    """Trained SAEs, one per setting, padded to the largest dictionary (padding columns are zero).

    Shapes: ``W_enc`` (setting, latent, d), ``b_enc`` (setting, latent), ``W_dec`` (setting, d, latent),
    ``b_dec`` (setting, d); ``losses`` (setting,), the training loss averaged over the last 1 % of steps."""

    settings: tuple[SaeSetting, ...]
    W_enc: np.ndarray
    b_enc: np.ndarray
    W_dec: np.ndarray
    b_dec: np.ndarray
    losses: np.ndarray

    @property
    def n_latents(self) -> np.ndarray:
        return np.array([s.n_latents for s in self.settings])

    def decoder(self, k: int) -> np.ndarray:
        """Setting k's decoder without padding, (d, n_latents)."""
        return self.W_dec[k, :, : self.settings[k].n_latents]

    def encode(self, x, k: int) -> np.ndarray:
        """Setting k's latents f for activations x (n_samples, d): (n_samples, n_latents)."""
        x = as_float64("x", x)
        L = self.settings[k].n_latents
        pre = (x - self.b_dec[k]) @ self.W_enc[k, :L].T + self.b_enc[k, :L]
        return np.maximum(pre, 0.0)

    def reconstruct(self, x, k: int) -> np.ndarray:
        """Setting k's reconstruction x̂ of activations x (n_samples, d)."""
        return self.encode(x, k) @ self.decoder(k).T + self.b_dec[k]

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "W_enc": self.W_enc,
            "b_enc": self.b_enc,
            "W_dec": self.W_dec,
            "b_dec": self.b_dec,
            "losses": self.losses,
            "l1": np.array([s.l1 for s in self.settings]),
            "n_latents": self.n_latents,
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> SaeResult:
        settings = tuple(SaeSetting(float(l1), int(L)) for l1, L in zip(arrays["l1"], arrays["n_latents"]))
        return cls(settings, *(np.asarray(arrays[k]) for k in ("W_enc", "b_enc", "W_dec", "b_dec", "losses")))


def sae_loss(x, W_enc, b_enc, W_dec, b_dec, l1) -> torch.Tensor:
    """Per-instance SAE loss (autograd): ``x`` (batch, d) shared by the instances, weights batched over the
    instance axis as in :class:`SaeResult` (decoder (instance, d, latent)), ``l1`` (instance,)."""
    f = torch.relu(torch.matmul(x.unsqueeze(0) - b_dec.unsqueeze(1), W_enc.transpose(1, 2)) + b_enc.unsqueeze(1))
    x_hat = torch.matmul(f, W_dec.transpose(1, 2)) + b_dec.unsqueeze(1)
    error = (x_hat - x).square().sum(-1).mean(-1)
    sparsity = (f * W_dec.norm(dim=1).unsqueeze(1)).sum(-1).mean(-1)
    return error + l1 * sparsity


def _check_activations(activations) -> torch.Tensor:
    x = torch.as_tensor(as_float64("activations", activations), dtype=torch.float32)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 1:
        raise ConfigError(f"activations must have shape (n_samples >= 2, d >= 1), got {tuple(x.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise ConfigError("activations must be finite")
    return x


def train_saes(
    activations,
    settings: Sequence[SaeSetting],
    seed: int = 0,
    steps: int = 10_000,
    batch_size: int = 1024,
    lr: float = 1e-3,
) -> SaeResult:
    """Train one SAE per setting on ``activations`` (n_samples, d), minibatches drawn with replacement, Adam at
    ``lr`` (no weight decay), the settings of one dictionary size as one batched run. Deterministic: the same
    inputs and seed give the same weights (one torch thread)."""
    x_all = _check_activations(activations)
    settings = tuple(settings)
    if not settings or not all(isinstance(s, SaeSetting) for s in settings):
        raise ConfigError("settings must be a non-empty sequence of SaeSetting (see sae_grid)")
    for name, value in (("steps", steps), ("batch_size", batch_size), ("seed", seed + 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    if not (math.isfinite(lr) and lr > 0):
        raise ConfigError(f"lr must be a finite number > 0, got {lr!r}")
    n_samples, d = x_all.shape
    L_max = max(s.n_latents for s in settings)
    S = len(settings)
    out = {
        "W_enc": np.zeros((S, L_max, d), np.float32),
        "b_enc": np.zeros((S, L_max), np.float32),
        "W_dec": np.zeros((S, d, L_max), np.float32),
        "b_dec": np.zeros((S, d), np.float32),
        "losses": np.zeros(S, np.float64),
    }
    tail = max(1, steps // 100)
    with torch_threads(1):  # the same bits on every machine, whatever its core count
        for size in sorted({s.n_latents for s in settings}):
            members = [k for k, s in enumerate(settings) if s.n_latents == size]
            I = len(members)
            l1 = torch.tensor([settings[k].l1 for k in members])
            init = torch.Generator().manual_seed(stream_seed(seed, (size,)))
            directions = torch.randn(d, size, generator=init)
            directions /= directions.norm(dim=0, keepdim=True)
            # Decoder columns of norm 0.1 and the encoder their transpose (Conerly et al. 2024's start).
            W_dec = (0.1 * directions).expand(I, d, size).clone().requires_grad_()
            W_enc = (0.1 * directions.T).expand(I, size, d).clone().requires_grad_()
            b_enc = torch.zeros(I, size, requires_grad=True)
            b_dec = torch.zeros(I, d, requires_grad=True)
            parameters = [W_enc, b_enc, W_dec, b_dec]
            optimizer = torch.optim.Adam(parameters, lr=lr)
            batches = torch.Generator().manual_seed(stream_seed(seed, (0,)))
            recent = torch.zeros(I, dtype=torch.float64)
            for step in range(steps):
                x = x_all[torch.randint(n_samples, (batch_size,), generator=batches)]
                loss = sae_loss(x, W_enc, b_enc, W_dec, b_dec, l1)
                optimizer.zero_grad(set_to_none=True)
                loss.sum().backward()
                optimizer.step()
                if step >= steps - tail:
                    recent += loss.detach().double()
            if not all(bool(torch.isfinite(p).all()) for p in parameters):
                raise ConfigError(f"SAE training diverged (dictionary size {size}); lower lr (now {lr:g})")
            for i, k in enumerate(members):
                out["W_enc"][k, :size] = W_enc[i].detach().numpy()
                out["b_enc"][k, :size] = b_enc[i].detach().numpy()
                out["W_dec"][k, :, :size] = W_dec[i].detach().numpy()
                out["b_dec"][k] = b_dec[i].detach().numpy()
                out["losses"][k] = float(recent[i]) / tail
    return SaeResult(settings, **out)


def toy_activations(W, probability, n_samples: int, seed: int = 0) -> np.ndarray:
    """Hidden activations h = W x of one toy model (W: (m, n)) on ``n_samples`` fresh inputs of density
    ``probability`` (a number or one per feature), drawn as the trainer draws them; (n_samples, m). Also
    returns the inputs x (n_samples, n), which the scores of absorption and recovery need."""
    W = torch.as_tensor(as_float64("W", W), dtype=torch.float32)
    if W.ndim != 2:
        raise ConfigError(f"W must have shape (n_hidden, n_features) for one model, got {tuple(W.shape)}")
    n = W.shape[1]
    p = torch.as_tensor(np.broadcast_to(as_float64("probability", probability), (n,)).copy(), dtype=torch.float32)
    if not bool(((p > 0) & (p <= 1)).all()):
        raise ConfigError("probability must lie in (0, 1]")
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 2:
        raise ConfigError(f"n_samples must be an integer >= 2, got {n_samples!r}")
    sampler = FeatureSampler(p.unsqueeze(0), uniforms=Uniforms(seed, stream=(7,)))
    x = sampler(int(n_samples))[0].contiguous()
    return (x @ W.T).numpy(), x.numpy()
