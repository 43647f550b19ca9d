"""Training on a finite dataset (Henighan et al., 2023, *Superposition, Memorization, and Double Descent*).

The paper's experiments draw fresh samples at every step; its sequel trains the same ReLU-output model,
x' = ReLU(WᵀWx + b), on a fixed dataset of T examples, every step on all of them (full batch), and measures the
loss on fresh test samples. A :class:`FiniteExperiment` is one (T, m) point: ``n_datasets`` datasets of T
examples, each fitted ``fits_per_dataset`` times from different initialisations, all trained side by side on the
instance axis (dataset-major: instance ``d * fits_per_dataset + k`` is fit k of dataset d).

Data: each feature is 0 with probability S and otherwise U[0, 1] (:class:`~toymodels.data.FeatureSampler`), and
every example is then rescaled to unit norm (an example with no active feature stays 0). Dataset d comes from the
seed's stream ``(DATASET_STREAM, d)``, the initialisation of fit k of dataset d from ``(INIT_STREAM, d, k)``, the
test set from ``(TEST_STREAM,)``: what an instance trains on never depends on which other instances train beside
it. The examples are stored sparsely (the indices and values of their active features, ~n·(1 − S) of n), so that
the hidden vectors h_t = W x_t and the input side of the gradient cost T·n·(1 − S)·m, not T·n·m.

Training: AdamW (:class:`~toymodels.block.AdamW`) on the full batch, its learning rate from
:func:`~toymodels.block.lr_at` (the paper: a linear warm-up to 1e-3 over 2,500 steps, then a half-cosine decay to
0 at 50,000 steps, weight decay 1e-2). Each step's gradient is hand-derived (the tests check it against autograd)
and computed in chunks of examples small enough that the (feature × example) pre-activations stay in the CPU's
cache: the dense output side is the whole cost, T·n per step and instance. The loss is the package's: squared
error averaged over examples and features. Training and test losses are measured at the end in float64.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import as_completed
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch

from . import store
from .block import AdamW, available_cores, check_device, lr_at, torch_threads
from .config import DataConfig, TrainConfig
from .data import FeatureSampler, Uniforms, stream_seed
from .errors import TrainingDiverged
from .validation import positive_int, require
from .workers import local_pool

DATASET_STREAM, INIT_STREAM, TEST_STREAM = 10, 11, 12
# Examples per chunk of the dense output side: about this many (feature × example) floats per instance, which
# keeps a chunk's pre-activations in a core's L2 cache (0.5 MiB). A GPU wants few, large kernels instead: there a
# chunk holds up to _DEVICE_CHUNK_ELEMENTS (256 MiB per instance; the paper's n = 10,000 takes 6,710 examples).
_CHUNK_ELEMENTS = 1 << 17
_DEVICE_CHUNK_ELEMENTS = 1 << 26
_FINITE_CHECK_EVERY = 500


def paper_train(steps: int = 50_000, weight_decay: float = 1e-2, seed: int = 0, device: str = "cpu") -> TrainConfig:
    """Henighan et al.'s optimisation: AdamW, lr 1e-3 reached by a linear warm-up over the first 5 % of the steps
    (2,500 of 50,000), then a half-cosine decay to 0; weight decay 1e-2 (their ablation: 1.0)."""
    return TrainConfig(
        steps=steps,
        lr=1e-3,
        weight_decay=weight_decay,
        lr_schedule="half_cosine",
        warmup_steps=steps // 20,
        seed=seed,
        device=device,
        progress=False,
    )


@dataclass(frozen=True)
class FiniteExperiment:
    """One (T, m) point of the memorization experiments.

    Fields:
        n_features: n (an integer >= 2).
        n_hidden: m (an integer >= 1).
        density: 1 − S, the probability that a feature is active (in (0, 1]).
        n_examples: T, the examples of each dataset (an integer >= 1).
        n_datasets: datasets drawn (each its own T examples).
        fits_per_dataset: initialisations fitted to each dataset (the paper keeps the lowest training loss).
        train: the optimisation (:func:`paper_train`); its ``batch_size`` and ``eval_batches`` are unused: every
            step takes the whole dataset.
        test_examples: fresh examples on which the test loss is measured (one test set for every instance).
        name: a label for tables and the results store.
    """

    n_features: int = 1000
    n_hidden: int = 2
    density: float = 0.01
    n_examples: int = 100
    n_datasets: int = 4
    fits_per_dataset: int = 1
    train: TrainConfig = field(default_factory=paper_train)
    test_examples: int = 10_000
    name: str = ""

    def __post_init__(self) -> None:
        positive_int("n_features", self.n_features)
        require(self.n_features >= 2, f"n_features must be an integer >= 2, got {self.n_features!r}")
        positive_int("n_hidden", self.n_hidden)
        require(
            isinstance(self.density, (int, float)) and 0 < self.density <= 1,
            f"density (1 − S) must be a number in (0, 1], got {self.density!r}",
        )
        positive_int("n_examples", self.n_examples)
        positive_int("n_datasets", self.n_datasets)
        positive_int("fits_per_dataset", self.fits_per_dataset)
        positive_int("test_examples", self.test_examples)
        require(isinstance(self.train, TrainConfig), f"train must be a TrainConfig, got {self.train!r}")
        require(
            isinstance(self.train.weight_decay, float)
            and self.train.weight_decay >= 0
            and self.train.decay_biases
            and self.train.min_lr_fraction == 0,
            f"a finite-data run takes AdamW's decay of W and b (one weight_decay >= 0, decay_biases=True) "
            f"and a schedule to 0 (min_lr_fraction=0); got weight_decay={self.train.weight_decay!r}, decay_biases="
            f"{self.train.decay_biases!r}, min_lr_fraction={self.train.min_lr_fraction!r}",
        )

    @property
    def n_instances(self) -> int:
        return self.n_datasets * self.fits_per_dataset

    def replace(self, **changes) -> FiniteExperiment:
        return replace(self, **changes)

    def to_dict(self) -> dict:
        """Plain JSON of every field that decides the result (the results store's spec)."""
        fields = asdict(self)
        fields["train"] = {
            k: fields["train"][k] for k in ("steps", "lr", "weight_decay", "lr_schedule", "warmup_steps", "seed")
        }
        return fields

    @classmethod
    def from_dict(cls, fields: dict) -> FiniteExperiment:
        fields = dict(fields)
        fields["train"] = TrainConfig(**fields["train"], progress=False)
        return cls(**fields)


@dataclass(frozen=True)
class SparseExamples:
    """Examples stored by their active features: ``index`` and ``value`` ``(…, T, K)``, K the most active
    features of any example, padded with value 0 (at index 0)."""

    index: torch.Tensor
    value: torch.Tensor
    n_features: int

    def dense(self) -> torch.Tensor:
        """The examples as a dense ``(…, T, n)`` tensor."""
        out = torch.zeros(*self.index.shape[:-1], self.n_features, dtype=self.value.dtype, device=self.value.device)
        return out.scatter_add_(-1, self.index, self.value)

    def to(self, device) -> SparseExamples:
        return SparseExamples(self.index.to(device), self.value.to(device), self.n_features)


def draw_examples(n_features: int, density: float, count: int, seed: int, stream: tuple[int, ...]) -> SparseExamples:
    """``count`` unit-norm examples (features active with probability ``density``, U[0, 1] values, then each
    example divided by its norm in float64), from the seed's ``stream``, on the CPU."""
    probability = torch.full((1, n_features), float(density))
    x = FeatureSampler(probability, DataConfig(), Uniforms(seed, "cpu", stream=stream))(count)[0].double()
    norms = x.norm(dim=-1, keepdim=True)
    x = torch.where(norms > 0, x / norms.clamp_min(1e-300), 0.0).float()
    active = x > 0
    K = max(int(active.sum(-1).max()), 1)
    value, index = x.topk(K, dim=-1, sorted=True)  # the K largest per example: every active one, then zeros
    index = torch.where(value > 0, index, 0)
    return SparseExamples(index, value, n_features)


def datasets(experiment: FiniteExperiment) -> SparseExamples:
    """The training examples of every instance, ``(n_instances, T, K)`` (fits of one dataset share it)."""
    drawn = [
        draw_examples(
            experiment.n_features, experiment.density, experiment.n_examples, experiment.train.seed, (DATASET_STREAM, d)
        )
        for d in range(experiment.n_datasets)
    ]
    K = max(x.index.shape[-1] for x in drawn)
    pad = lambda t: torch.nn.functional.pad(t, (0, K - t.shape[-1]))  # noqa: E731
    index = torch.stack([pad(x.index) for x in drawn]).repeat_interleave(experiment.fits_per_dataset, dim=0)
    value = torch.stack([pad(x.value) for x in drawn]).repeat_interleave(experiment.fits_per_dataset, dim=0)
    return SparseExamples(index, value, experiment.n_features)


def test_set(experiment: FiniteExperiment) -> SparseExamples:
    """The fresh test examples, ``(test_examples, K)``, the same for every instance and T."""
    return draw_examples(
        experiment.n_features, experiment.density, experiment.test_examples, experiment.train.seed, (TEST_STREAM,)
    )


def initial_weights(experiment: FiniteExperiment) -> tuple[torch.Tensor, torch.Tensor]:
    """Xavier-normal W ``(n_instances, m, n)`` (std sqrt(2 / (n + m))), fit k of dataset d from its own stream,
    and b = 0."""
    n, m = experiment.n_features, experiment.n_hidden
    std = math.sqrt(2.0 / (n + m))
    W = torch.stack(
        [
            torch.randn(
                m, n, generator=torch.Generator().manual_seed(stream_seed(experiment.train.seed, (INIT_STREAM, d, k)))
            )
            * std
            for d in range(experiment.n_datasets)
            for k in range(experiment.fits_per_dataset)
        ]
    )
    return W, torch.zeros(experiment.n_instances, n)


def hidden_vectors(W: torch.Tensor, examples: SparseExamples) -> torch.Tensor:
    """h_t = W x_t for every example: W ``(I, m, n)``, examples ``(I, T, K)`` or ``(T, K)``; ``(I, T, m)``."""
    I, T, K = W.shape[0], examples.index.shape[-2], examples.index.shape[-1]
    index = examples.index.expand(I, T, K).reshape(I, T * K, 1).expand(-1, -1, W.shape[1])
    columns = W.transpose(1, 2).gather(1, index).view(I, T, K, -1)  # W_j for every active feature j
    return (columns * examples.value.expand(I, T, K).unsqueeze(-1).to(W.dtype)).sum(2)


def _chunks(T: int, n: int, device: torch.device) -> list[tuple[int, int]]:
    size = max(16, (_CHUNK_ELEMENTS if device.type == "cpu" else _DEVICE_CHUNK_ELEMENTS) // n)
    return [(start, min(start + size, T)) for start in range(0, T, size)]


@torch.inference_mode()
def loss_and_grads(
    W: torch.Tensor, b: torch.Tensor, examples: SparseExamples, need_loss: bool = False
) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor]:
    """Loss (if ``need_loss``; per instance) and its gradients with respect to W and b on all the examples.

    With z = WᵀW x + b, x' = ReLU(z) and L = (1 / (T n)) Σ_t Σ_i (x'_ti − x_ti)²: g = ∂L/∂z = (2 / (T n))
    (x' − x) ⊙ [z > 0]; ∂L/∂b = Σ_t g_t; ∂L/∂W = Σ_t h_t g_tᵀ (the decoder's side) + (W g_t) x_tᵀ (the
    encoder's side), with h_t = W x_t."""
    I, m, n = W.shape
    T = examples.index.shape[-2]
    scale = 2.0 / (T * n)
    hidden = hidden_vectors(W, examples)  # (I, T, m)
    grad_W = torch.zeros_like(W)
    grad_b = torch.zeros_like(b)
    grad_hidden = torch.empty_like(hidden)
    loss = torch.zeros(I, dtype=W.dtype, device=W.device) if need_loss else None
    W_t, bias = W.transpose(1, 2), b.unsqueeze(-1)
    for start, stop in _chunks(T, n, W.device):
        h = hidden[:, start:stop].transpose(1, 2)  # (I, m, c)
        c = stop - start
        z = torch.baddbmm(bias, W_t, h).relu_()  # x' (I, n, c), feature-major
        index = examples.index[..., start:stop, :].expand(I, c, -1)
        value = examples.value[..., start:stop, :].expand(I, c, -1)
        flat = (index * c + torch.arange(c, device=W.device).view(1, c, 1)).reshape(I, -1)  # positions in (n, c)
        out = z.view(I, -1).gather(1, flat)
        if need_loss:  # Σ (x' − x)² = Σ x'² − 2 Σ x' x + Σ x²
            loss += z.square().sum((1, 2)) - 2 * (out * value.reshape(I, -1)).sum(1) + value.square().sum((1, 2))
        # x' − x where z > 0, else 0: x' is already 0 there, so subtract x only where the output is positive.
        z.view(I, -1).scatter_add_(1, flat, -(value.reshape(I, -1) * (out > 0)))
        grad_W += torch.bmm(h, z.transpose(1, 2))
        grad_b += z.sum(-1)
        grad_hidden[:, start:stop] = torch.bmm(W, z).transpose(1, 2)
    # Encoder's side: ∂L/∂W_j += Σ_t (W g_t) x_tj, scattered to the active features j of every example.
    K = examples.index.shape[-1]
    contributions = grad_hidden.unsqueeze(2) * examples.value.expand(I, T, K).unsqueeze(-1)  # (I, T, K, m)
    grad_W.transpose(1, 2).scatter_add_(
        1, examples.index.expand(I, T, K).reshape(I, T * K, 1).expand(-1, -1, m), contributions.view(I, T * K, m)
    )
    grad_W *= scale
    grad_b *= scale
    return (None if loss is None else loss / (T * n)), grad_W, grad_b


@torch.inference_mode()
def losses(W, b, examples: SparseExamples) -> torch.Tensor:
    """Loss of each instance on ``examples`` in float64, ``(I,)``."""
    W, b = torch.as_tensor(W, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    x = SparseExamples(examples.index, examples.value.double(), examples.n_features)
    return loss_and_grads(W, b, x, need_loss=True)[0]


def train_finite(experiment: FiniteExperiment, checkpoint: int = 0, until: int | None = None) -> dict[str, np.ndarray]:
    """Train every instance of ``experiment`` for all its steps; the arrays a store entry holds: ``W`` (I, m, n),
    ``b`` (I, n), ``train_loss`` and ``test_loss`` (I,, float64) and, if ``checkpoint`` > 0, the weights after
    that many steps (``checkpoint_W``, ``checkpoint_b``), which another CPU can still reproduce. ``until``: stop
    after the checkpoint and return it alone (what the store's check re-trains)."""
    config = experiment.train
    device = torch.device(config.device)
    check_device(device)
    examples = datasets(experiment).to(device)
    W, b = (t.to(device) for t in initial_weights(experiment))
    optimizer = AdamW([W, b], lr=config.lr, weight_decay=config.weight_decay)
    arrays = {}
    with torch_threads(1) if device.type == "cpu" else nullcontext():
        for step in range(config.steps):
            if step == checkpoint and checkpoint:
                arrays |= {"checkpoint_W": W.cpu().numpy().copy(), "checkpoint_b": b.cpu().numpy().copy()}
                if until is not None:
                    return arrays
            optimizer.lr = lr_at(step, config)
            _, grad_W, grad_b = loss_and_grads(W, b, examples)
            optimizer.step([grad_W, grad_b])
            if (step + 1) % _FINITE_CHECK_EVERY == 0 or step + 1 == config.steps:
                if not (W.isfinite().all() and b.isfinite().all()):
                    raise TrainingDiverged(
                        f"training diverged in {experiment.name or 'a finite-data experiment'!r} by step {step + 1}"
                        f" (T = {experiment.n_examples}, m = {experiment.n_hidden}); lower lr (now {config.lr:g})"
                    )
        W, b = W.cpu(), b.cpu()
        arrays |= {
            "W": W.numpy(),
            "b": b.numpy(),
            "train_loss": losses(W, b, examples.to("cpu")).numpy(),
            "test_loss": losses(W, b, test_set(experiment)).numpy(),
        }
    return arrays


# ----------------------------------------------------------------------------------------------------
# Through the results store: one entry of the ``finite-data`` kind per experiment.

KIND = "finite-data"
KIND_VERSION = 1
# The weights after this many steps are stored beside the final ones: long full-batch runs near the test-loss peak
# may part on another CPU (its rounding), so the reproduce check re-trains and compares this checkpoint.
CHECKPOINT = 100


def _compute(spec: dict) -> dict[str, np.ndarray]:
    return train_finite(FiniteExperiment.from_dict(spec), checkpoint=CHECKPOINT)


def _sample(spec: dict, stored: dict) -> tuple[str, dict, dict]:
    experiment = FiniteExperiment.from_dict(spec)
    fresh = train_finite(experiment, checkpoint=CHECKPOINT, until=CHECKPOINT)
    what = f"its first {CHECKPOINT:,} of {experiment.train.steps:,} steps (the checkpoint)"
    return what, fresh, {name: stored[name] for name in fresh}


store.register_kind(KIND, __name__, KIND_VERSION, _compute, _sample)


def _entry_name(experiment: FiniteExperiment) -> str:
    return experiment.name or f"finite n={experiment.n_features} m={experiment.n_hidden} T={experiment.n_examples}"


def train_stored(experiments: Sequence[FiniteExperiment], workers: int | None = None) -> list[dict[str, np.ndarray]]:
    """The arrays of every experiment through the results store in use (as its mode allows; see
    :func:`toymodels.store.cached_arrays`): the entries that must be trained train here (``workers`` = 1) or on the
    local process pool, one process per core (``workers`` > 1; default: ``$TOYMODELS_WORKERS``, else the cores),
    each experiment in one process, so that its weights never depend on how the list is split; the finished ones
    are stored as they come, so an interruption loses only the experiments still training."""
    experiments = list(experiments)
    for experiment in experiments:
        require(
            isinstance(experiment, FiniteExperiment),
            f"experiments must be FiniteExperiments, got {type(experiment).__name__}",
        )
    specs = [experiment.to_dict() for experiment in experiments]
    mode = store.default_mode()
    missing = [
        k
        for k, (experiment, spec) in enumerate(zip(experiments, specs))
        if mode in ("retrain", "off") or not store.cached_path(KIND, _entry_name(experiment), spec).exists()
    ]
    if mode == "use" or not missing:
        return [store.cached_arrays(KIND, _entry_name(e), spec) for e, spec in zip(experiments, specs)]
    workers = workers or int(os.environ.get("TOYMODELS_WORKERS") or 0) or available_cores()
    futures = {}
    pool = local_pool() if workers > 1 and len(missing) > 1 else None
    for k in sorted(missing, key=lambda k: -experiments[k].n_examples * experiments[k].n_instances):  # longest first
        if pool is not None:
            futures[k] = pool.submit(_compute, specs[k])
    if futures:  # stored as they finish, so that an interruption loses only the experiments still training
        for future in as_completed(futures.values()):
            k = next(k for k, f in futures.items() if f is future)
            store.cached_arrays(KIND, _entry_name(experiments[k]), specs[k], compute=future.result)
    out = []
    for k, (experiment, spec) in enumerate(zip(experiments, specs)):
        compute = futures[k].result if k in futures else (lambda s=spec: _compute(s))
        out.append(store.cached_arrays(KIND, _entry_name(experiment), spec, compute=compute))
    return out


__all__ = [
    "DATASET_STREAM",
    "INIT_STREAM",
    "TEST_STREAM",
    "FiniteExperiment",
    "SparseExamples",
    "paper_train",
    "draw_examples",
    "datasets",
    "test_set",
    "initial_weights",
    "hidden_vectors",
    "loss_and_grads",
    "losses",
    "train_finite",
    "KIND",
    "CHECKPOINT",
    "train_stored",
]
