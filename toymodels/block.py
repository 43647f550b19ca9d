"""Blocks: the unit of training and of reproducibility.

The instance axis is cut into blocks of a fixed size (:func:`blocks`: cache-sized, set by the model's size, the
batch size and, with successive halving, the number of seeds; never by the number of settings, of workers or of
cores). Each block is a run of its own (:class:`Block`): its initial weights, training batches and evaluation
batches come from random streams keyed by the seed and the block's index alone, and it has its own optimiser
state (:class:`AdamW`) and buffers. So a block trains to the same weights, bit for bit, whether it trains alone,
beside other blocks in this process, or in another process or machine. This module also holds what a block's
step runs on: the thread that draws batches ahead (:class:`_DrawAhead`) and the pinned torch thread count.
"""

from __future__ import annotations

import math
import os
import queue
import threading
from contextlib import contextmanager, nullcontext

import torch

from .config import TrainConfig
from .data import FeatureSampler, Uniforms, loss_weights, stream_seed, target_of
from .errors import ConfigError, TrainingDiverged
from .experiment import Experiment
from .models import ToyModel, attacked_inputs, loss_and_grads
from .workspace import Workspace

# The random streams of a block: (block index, role).
INIT_STREAM, TRAIN_STREAM, EVAL_STREAM, ATTACK_STREAM = 0, 1, 2, 3
# A block holds about this many activation elements, (instance, feature, batch) floats, per step: small
# enough that the sampled features, pre-activations and output gradients stay in the CPU's cache between the
# operations that read them, large enough that the ~30 operations of a step are not dominated by their fixed
# cost. Models with at least _LARGE_WEIGHTS weights have blocks of _LARGE_BLOCK_ELEMENTS, whose batch is in turn
# processed in chunks of at most _CHUNK_ELEMENTS // 2 (1.6× faster at n=400, m=30 than the whole batch).
_BLOCK_ELEMENTS = 1 << 18
_LARGE_BLOCK_ELEMENTS = 1 << 20
_CHUNK_ELEMENTS = 1 << 20
_LARGE_WEIGHTS = 1024
# A block's step on one thread has its next batch drawn on an idle core when the batch has at least this many
# elements: below it, the two threads' handing over of the GIL costs more than the overlap saves (n=5, m=2:
# 10 instances 0.72×; n=20, m=5 with 7 instances 1.24×). Results are the same either way.
_DRAW_AHEAD_ELEMENTS = 1 << 17
# A block checks that its weights are finite every this many steps and at the end: a diverging run stops within
# this many steps, naming its settings (TrainingDiverged), and is never returned or stored.
_FINITE_CHECK_EVERY = 100


def is_large(experiment: Experiment) -> bool:
    """Whether the model's matrices are large (n·m ≥ _LARGE_WEIGHTS): its blocks are larger and their batches
    are split into chunks."""
    return experiment.model.n_features * experiment.model.n_hidden >= _LARGE_WEIGHTS


def block_size(experiment: Experiment) -> int:
    """Instances per block (the last block may hold fewer). With successive halving a block holds whole
    settings, since the fits of a setting are compared with each other mid-run."""
    target = _LARGE_BLOCK_ELEMENTS if is_large(experiment) else _BLOCK_ELEMENTS
    size = max(1, target // (experiment.model.n_features * experiment.train.batch_size))
    if experiment.train.halving_steps:
        size = math.ceil(size / experiment.n_seeds) * experiment.n_seeds
    return size


def blocks(experiment: Experiment) -> list[tuple[int, int]]:
    """``(start, stop)`` instance ranges of the blocks, in order: block k is ``blocks(experiment)[k]``."""
    size, total = block_size(experiment), experiment.n_instances
    return [(start, min(start + size, total)) for start in range(0, total, size)]


def batch_chunks(experiment: Experiment, n_instances: int) -> list[int]:
    """Sizes of the equal chunks one training batch of a block of ``n_instances`` instances is processed in
    (large models only; small ones take the whole batch at once). Set by size alone, like the blocks."""
    batch = experiment.train.batch_size
    largest = max(32, _CHUNK_ELEMENTS // 2 // (n_instances * experiment.model.n_features))
    if largest >= batch or not is_large(experiment):
        return [batch]
    sizes = [batch // k for k in range(2, batch // 32 + 1) if batch % k == 0 and batch // k <= largest]
    return [sizes[0]] * (batch // sizes[0]) if sizes else [batch]


def decayed_weights(model: ToyModel, train: TrainConfig) -> tuple[list[bool], list[bool]]:
    """Which of ``model.weights()`` a weight decay acts on: a positive one shrinks every parameter, or with
    ``decay_biases=False`` the weight matrices W and W_out only; a negative one (the pull of each feature's norm
    towards 1) pulls the encoder W alone. Returns (shrunk, pulled), one flag per parameter."""
    names = list(model.weights())
    return [train.decay_biases or name in ("W", "W_out") for name in names], [name == "W" for name in names]


def lr_at(step: int, train: TrainConfig) -> float:
    """Learning rate at ``step`` (0-based): a linear warm-up over ``warmup_steps`` (lr·(step + 1)/warmup), then
    the configured schedule over the remaining steps (the notebook's three, and the usual half cosine), which
    decays to ``min_lr_fraction``·lr."""
    warmup = train.warmup_steps
    if step < warmup:
        return train.lr * (step + 1) / warmup
    step, steps = step - warmup, train.steps - warmup
    if train.lr_schedule == "linear":
        shape = 1 - step / steps
    elif train.lr_schedule == "cosine":
        shape = math.cos(0.5 * math.pi * step / max(steps - 1, 1))
    elif train.lr_schedule == "half_cosine":
        shape = 0.5 * (1 + math.cos(math.pi * step / steps))
    else:
        return train.lr
    floor = train.min_lr_fraction
    return train.lr * shape if floor == 0 else train.lr * (floor + (1 - floor) * shape)


@torch.no_grad()
def evaluate_block(model, experiment, probability, importance, uniforms: Uniforms, n_batches=None) -> torch.Tensor:
    train = experiment.train
    sampler = FeatureSampler(probability, experiment.data, uniforms)
    dtype = model.W.dtype  # the samples are drawn in float32 either way; a float64 model evaluates them in float64
    total = torch.zeros(model.n_instances, device=model.W.device, dtype=dtype)
    n_batches = n_batches or train.eval_batches
    for _ in range(n_batches):
        x = sampler(train.batch_size)
        weights = loss_weights(x, importance, experiment.data)
        total += model.loss(x.to(dtype), target_of(x, experiment.data).to(dtype), weights.to(dtype))
    return total / n_batches


@contextmanager
def torch_threads(threads: int):
    """Run the block with torch on ``threads`` CPU threads, restoring the previous count afterwards."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def check_device(device: torch.device) -> None:
    """A clear ConfigError, naming ``device``, when this machine cannot run on it (rather than torch's error from
    deep inside its generator or allocator)."""
    if device.type == "cpu":
        return
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"device={str(device)!r}: no CUDA device is available here (torch {torch.__version__}, "
            "torch.cuda.is_available() is False); use device='cpu'"
        )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(
            f"device={str(device)!r}: no Apple-silicon (MPS) device is available here "
            "(torch.backends.mps.is_available() is False); use device='cpu'"
        )
    try:
        torch.empty(1, device=device)
    except (RuntimeError, AssertionError) as error:
        reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
        raise ConfigError(
            f"device={str(device)!r} cannot be used here ({reason}); use device='cpu'"
        ) from None  # torch's message lists every backend of its dispatcher: its first line says enough


def available_cores() -> int:
    """CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class _DrawAhead:
    """In a ``with`` block, ``draw(size)`` returns the batches of ``sampler`` drawn ahead on a thread of its own:
    while the caller computes with one batch, that thread draws the next (NumPy's generator releases the GIL, and
    so do torch's operations). It draws exactly ``draws`` batches of ``size``, one at a time and in order, so the
    random stream is consumed as by calling the sampler directly: the same batches, bit for bit. Leaving the
    ``with`` block ends the thread. A plain thread and C-implemented queues, not a thread pool: the pool's Python
    bookkeeping holds the GIL long enough to cost more than the overlap saves."""

    def __init__(self, sampler: FeatureSampler, size: int, draws: int) -> None:
        self.size, self.left = size, draws
        self._taken, self._batches = queue.SimpleQueue(), queue.SimpleQueue()
        self._thread = threading.Thread(target=self._draw, args=(sampler, draws), daemon=True)

    def _draw(self, sampler: FeatureSampler, draws: int) -> None:
        torch.set_num_threads(1)
        try:
            with torch.inference_mode():
                for k in range(draws):
                    if k and self._taken.get() is None:  # one batch ahead at most; None: closed early
                        return
                    self._batches.put(sampler(self.size))
        except BaseException as error:  # noqa: B036 - handed to the caller, who raises it
            self._batches.put(error)

    def __call__(self, size: int) -> torch.Tensor:
        if size != self.size or not self.left:
            raise RuntimeError(f"draw ahead: asked for a batch of {size}, but it draws {self.left} more of {self.size}")
        x = self._batches.get()
        if isinstance(x, BaseException):
            raise x
        self.left -= 1
        self._taken.put(True)
        return x

    def __enter__(self) -> _DrawAhead:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._taken.put(None)
        self._thread.join()


class AdamW:
    """torch.optim.AdamW's update (decoupled weight decay) on plain tensors with explicit state, so that
    instances can be dropped mid-run (:meth:`Trainer.keep_best`). It calls the same fused kernel as
    ``torch.optim.AdamW(fused=True)``: one call per step instead of a dozen (3× faster on these small tensors).
    The tests check it against torch's optimiser.

    ``weight_decay`` is one γ, or a tensor of one γ per instance (dimension 0 of every parameter). A positive γ
    shrinks the ``shrunk`` parameters (default: all) by 1 − lr·γ before the Adam update, as AdamW does. A negative γ
    is Liu, Liu & Gore's (2025) negative weight decay instead: the columns v of each ``pulled`` parameter (dimension
    -2: the feature vectors W_i of a (instance, m, n) W) move by lr·γ·v·(1 − 1/(‖v‖ + eps)), which pulls their norms
    towards 1; their repository's optimiser does this to the rows of its (n, m) W."""

    def __init__(
        self,
        parameters: list[torch.Tensor],
        lr: float,
        weight_decay: float | torch.Tensor,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        shrunk: list[bool] | None = None,
        pulled: list[bool] | None = None,
    ):
        self.parameters = parameters
        self.lr, self.weight_decay, self.betas, self.eps = lr, weight_decay, betas, eps
        self.shrunk = [True] * len(parameters) if shrunk is None else list(shrunk)
        self.pulled = [False] * len(parameters) if pulled is None else list(pulled)
        if len(self.shrunk) != len(parameters) or len(self.pulled) != len(parameters):
            raise ConfigError(f"shrunk and pulled must have one flag per parameter ({len(parameters)})")
        self.exp_avg = [torch.zeros_like(p) for p in parameters]
        self.exp_avg_sq = [torch.zeros_like(p) for p in parameters]
        self.step_counts = [torch.zeros((), device=p.device) for p in parameters]

    @torch.inference_mode()
    def step(self, grads: list[torch.Tensor]) -> None:
        torch._foreach_add_(self.step_counts, 1.0)
        everything = range(len(self.parameters))
        decay = self.weight_decay
        if isinstance(decay, torch.Tensor):
            self._decay_each_instance(decay)
            self._fused(everything, grads, 0.0)
        elif decay < 0:
            self._pull(decay)
            self._fused(everything, grads, 0.0)
        elif all(self.shrunk) or not decay:
            self._fused(everything, grads, decay)
        else:
            for shrunk, weight_decay in ((True, decay), (False, 0.0)):
                self._fused([k for k, s in enumerate(self.shrunk) if s == shrunk], grads, weight_decay)

    def _pull(self, decay: float | torch.Tensor) -> None:
        """The negative decay's pull of each pulled column's norm towards 1 (``decay`` <= 0, per instance or one)."""
        for parameter, pulled in zip(self.parameters, self.pulled):
            if pulled:
                norms = torch.linalg.vector_norm(parameter, dim=-2, keepdim=True).add_(self.eps)
                rate = self.lr * decay if not isinstance(decay, torch.Tensor) else (self.lr * decay).view(-1, 1, 1)
                parameter.add_(parameter * (1 - 1 / norms) * rate)

    def _decay_each_instance(self, decay: torch.Tensor) -> None:
        """One γ per instance: the positive ones shrink, the negative ones pull (both before the Adam update)."""
        shrink = 1 - self.lr * decay.clamp(min=0)
        for parameter, shrunk in zip(self.parameters, self.shrunk):
            if shrunk:
                parameter.mul_(shrink.view(-1, *[1] * (parameter.ndim - 1)))
        if bool((decay < 0).any()):
            self._pull(decay.clamp(max=0))

    def _fused(self, indices, grads: list[torch.Tensor], weight_decay: float) -> None:
        """The fused AdamW update of the parameters at ``indices``, with this weight decay."""
        indices = list(indices)
        if not indices:
            return
        torch._fused_adamw_(
            [self.parameters[k] for k in indices],
            [grads[k] for k in indices],
            [self.exp_avg[k] for k in indices],
            [self.exp_avg_sq[k] for k in indices],
            [],
            [self.step_counts[k] for k in indices],
            lr=self.lr,
            beta1=self.betas[0],
            beta2=self.betas[1],
            weight_decay=weight_decay,
            eps=self.eps,
            amsgrad=False,
            maximize=False,
        )

    def keep(self, index: torch.Tensor, parameters: list[torch.Tensor]) -> None:
        """Keep the state of the chosen instances (dimension 0), now attached to ``parameters``."""
        self.parameters = parameters
        self.exp_avg = [m[index] for m in self.exp_avg]
        self.exp_avg_sq = [v[index] for v in self.exp_avg_sq]
        if isinstance(self.weight_decay, torch.Tensor):
            self.weight_decay = self.weight_decay[index]


class Block:
    """Instances ``start:stop`` of an experiment (block ``index``), trained as a run of their own: initial
    weights, training and evaluation batches from the streams ``(index, role)`` of the seed, and an optimiser
    state and buffers of its own. Nothing it computes depends on the other blocks."""

    def __init__(self, experiment: Experiment, index: int, start: int, stop: int, device: torch.device) -> None:
        config = experiment.train
        self.experiment, self.index, self.device, self.start = experiment, index, device, start
        generator = torch.Generator(device).manual_seed(stream_seed(config.seed, (index, INIT_STREAM)))
        # The notebook's initialisation scales with the whole experiment's instance count, not the block's.
        self.model = ToyModel(
            experiment.model, stop - start, generator=generator, device=device, init_instances=experiment.n_instances
        )
        self.seeds = torch.arange(start, stop, device=device) % experiment.n_seeds
        self.fits = experiment.n_seeds  # fits of each setting in the block (fewer after a halving cut)
        self.probability = experiment.probability_tensor(device=device)[start:stop]
        self.importance = experiment.importance_tensor(device=device)[start:stop]
        self.attack = experiment.attack_tensor(device=device)[start:stop]
        # Adversarial training draws the attacked feature of every training input from a stream of its own.
        self.attack_generator = None
        if any(experiment.attack_fraction):
            self.attack_generator = torch.Generator(device).manual_seed(
                stream_seed(config.seed, (index, ATTACK_STREAM))
            )
        self.stream = Uniforms(config.seed, device, stream=(index, TRAIN_STREAM))
        shrunk, pulled = decayed_weights(self.model, config)
        decay = config.weight_decay
        if isinstance(decay, tuple):  # one γ per setting
            decay = experiment.weight_decay_tensor(device=device)[start:stop]
        self.optimizer = AdamW(self._parameters(), config.lr, decay, shrunk=shrunk, pulled=pulled)
        self.workspace = Workspace()
        self.step = 0
        self.snapshots: list[tuple] = []
        self._resize()

    def _resize(self) -> None:
        self.sampler = FeatureSampler(self.probability, self.experiment.data, self.stream)
        self.chunks = batch_chunks(self.experiment, self.model.n_instances)

    def _parameters(self) -> list[torch.Tensor]:
        return list(self.model.weights().values())

    def _snapshot(self, loss: torch.Tensor) -> None:
        # Ordinary tensors: the step's loss comes out of inference mode.
        weights = {name: value.cpu().clone() for name, value in self.model.weights().items()}
        self.snapshots.append((self.step, weights, loss.clone().cpu()))

    def run(self, n_steps: int, draw_ahead: bool = False, bar=None) -> None:
        """Take ``n_steps`` steps, with the batches drawn ahead on another core if ``draw_ahead`` and the batch
        is large enough (:class:`_DrawAhead`). The caller sets the torch thread count."""
        config = self.experiment.train
        elements = self.model.n_instances * self.experiment.model.n_features * self.chunks[0]
        draw = None
        if draw_ahead and n_steps and self.device.type == "cpu" and elements >= _DRAW_AHEAD_ELEMENTS:
            draw = _DrawAhead(self.sampler, self.chunks[0], n_steps * len(self.chunks))
        with draw or nullcontext():
            for _ in range(n_steps):
                snapshot = config.snapshot_every and self.step % config.snapshot_every == 0
                self.optimizer.lr = lr_at(self.step, config)
                loss, grads = self._loss_and_grads(need_loss=snapshot, draw=draw)
                if snapshot:
                    self._snapshot(loss)
                self.optimizer.step(grads)
                self.step += 1
                if self.step % _FINITE_CHECK_EVERY == 0:
                    self.check_finite()
                if bar is not None:
                    bar.update()

    @torch.inference_mode()
    def _loss_and_grads(self, need_loss: bool, draw=None) -> tuple[torch.Tensor | None, list[torch.Tensor]]:
        """Loss and gradients of one fresh batch (``draw(size)``, by default the sampler), summed over the batch
        chunks. In inference mode, like the optimiser's step: torch then skips its autograd bookkeeping on every
        operation (5–15 % of a small model's step)."""
        names = list(self.model.weights())
        config, data = self.experiment.train, self.experiment.data
        draw = draw or self.sampler
        total_loss, total_grads = None, None
        for chunk in self.chunks:
            x = draw(chunk)
            target = target_of(x, data)
            weights = loss_weights(x, self.importance, data)  # from the clean input's active features
            if self.attack_generator is not None:
                # Adversarial training: the model sees each input under the analytic attack on a random feature
                # and is trained to output the clean target; δ is held fixed (no gradient through it).
                features = torch.randint(x.shape[-1], x.shape[:2], generator=self.attack_generator, device=self.device)
                x = attacked_inputs(self.model.W.detach(), x, features, self.attack)
            loss, grads = loss_and_grads(self.model, x, target, weights, self.workspace, need_loss, config.batch_size)
            if total_grads is None:
                total_loss, total_grads = loss, [grads[name] for name in names]
            else:
                torch._foreach_add_(total_grads, [grads[name] for name in names])
                total_loss = None if loss is None else total_loss + loss
        return total_loss, total_grads

    def check_finite(self, losses: torch.Tensor | None = None) -> None:
        """Raise :class:`TrainingDiverged` if a weight (or a given loss) of the block is not finite."""
        parameters = [p.reshape(len(p), -1) for p in self._parameters()]
        if losses is not None:
            parameters.append(losses.reshape(-1, 1))
        finite = torch.stack([p.isfinite().all(dim=1) for p in parameters]).all(dim=0)
        if bool(finite.all()):
            return
        experiment = self.experiment
        # The settings of the fits that diverged: before a halving cut, fit i of the block is instance start + i
        # (setting * n_seeds + seed); after one, the block holds `fits` fits of each of its whole settings.
        bad = [int(i) for i in torch.nonzero(~finite).flatten()]
        k, first = experiment.n_seeds, self.start
        settings = sorted({(first + i) // k if self.fits == k else first // k + i // self.fits for i in bad})
        labels = [experiment.setting_labels[s] or f"setting {s}" for s in settings]
        where = f"settings {', '.join(labels[:4])}{' …' if len(labels) > 4 else ''}"
        raise TrainingDiverged(
            f"training diverged in {experiment.name!r}: non-finite weights or losses by step {self.step} in {where} "
            f"({len(bad)} fits of block {self.index}); lower lr (now {experiment.train.lr:g})"
        )

    def evaluate(self) -> torch.Tensor:
        """Loss of each current instance on the block's evaluation batches (the same at every call)."""
        uniforms = Uniforms(self.experiment.train.seed, self.device, stream=(self.index, EVAL_STREAM))
        return evaluate_block(self.model, self.experiment, self.probability, self.importance, uniforms)

    def keep_best(self, k: int) -> None:
        """Continue with only the k lowest-loss fits of each of the block's settings (whole settings: with
        successive halving, :func:`block_size` makes every block hold whole settings)."""
        losses = self.evaluate().view(-1, self.fits)
        chosen = losses.topk(min(k, self.fits), dim=1, largest=False).indices.sort(dim=1).values
        index = (chosen + self.fits * torch.arange(len(losses), device=self.device).unsqueeze(1)).flatten()
        self.fits = chosen.shape[1]
        self.model = self.model.select(index)
        self.seeds, self.probability, self.importance, self.attack = (
            self.seeds[index],
            self.probability[index],
            self.importance[index],
            self.attack[index],
        )
        self.optimizer.keep(index, self._parameters())
        self._resize()

    def finish(self) -> dict:
        """Evaluate and package this block's arrays (CPU tensors), taking the last snapshot."""
        losses = self.evaluate()
        self.check_finite(losses)
        config = self.experiment.train
        if config.snapshot_every and self.snapshots[-1][0] != self.step:
            self._snapshot(losses)
        arrays = {name: value.cpu() for name, value in self.model.weights().items()}
        arrays.update(losses=losses.cpu(), seeds=self.seeds.cpu())
        if self.snapshots:
            steps, weights, step_losses = zip(*self.snapshots)
            arrays.update(history_steps=torch.tensor(steps), history_losses=torch.stack(step_losses))
            arrays.update({f"history_{name}": torch.stack([w[name] for w in weights]) for name in weights[0]})
        return arrays
