"""Training: one ``train`` entry point for every experiment (paper §2; protocol of the authors' notebook).

Each step draws a fresh batch (infinite data), computes the per-instance importance-weighted MSE and its
gradients in closed form (:func:`toymodels.models.loss_and_grads`), and takes an AdamW step. Instances are
independent: the summed loss gives each instance the gradient of its own loss. Best-of-K keeps, for each
setting, the seed with the lowest loss on fresh evaluation batches.

**Blocks.** The instance axis is cut into blocks of a fixed size (:func:`blocks`: cache-sized, set by the model's
size, the batch size and, with successive halving, the number of seeds; never by the number of settings, of
workers or of cores). Each block is a run of its own: its initial weights, training batches and evaluation
batches come from random streams keyed by the seed and the block's index alone, and it has its own optimiser
state and buffers. So a block trains to the same weights, bit for bit, whether it trains alone, beside other
blocks in this process, or in another process or machine: ``train`` can split a sweep across workers
(a local process pool, or any ``concurrent.futures``-style executor such as Dask's) and get what one process gets.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

import numpy as np
import torch
from tqdm import tqdm

from .config import ConfigError, Experiment, TrainConfig
from .data import FeatureSampler, Uniforms, stream_seed, target_of
from .models import ToyModel, loss_and_grads
from .workspace import Workspace

Callback = Callable[[int, ToyModel, torch.Tensor], None]

# Bump whenever a change to the trainer, the sampler or the models changes what a seed trains to (the results
# store keys its entries by it).
# 2: the Gram-matrix path only where 2n <= 5m, and equal batch chunks.
# 3: large models train their instances in groups side by side, one random stream per group.
# 4: fixed-size blocks of instances, each with its own random streams (initial weights, training and
#    evaluation batches) keyed by the seed and the block's index: the same weights however a sweep is split.
TRAINER_VERSION = 4

# The random streams of a block: (block index, role).
_INIT, _TRAIN, _EVAL = 0, 1, 2
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
# ``train`` splits a sweep across a local process pool only when it has at least this many activation
# elements to process in all (instances · features · batch · steps; about 10 s on one core): below it, the
# pool's start (a few seconds, once per process) and hand-over cost more than they save.
_POOL_MIN_ELEMENTS = 3 * 10**9


def _large(experiment: Experiment) -> bool:
    """Whether the model's matrices are large (n·m ≥ _LARGE_WEIGHTS): its blocks are larger and their batches
    are split into chunks."""
    return experiment.model.n_features * experiment.model.n_hidden >= _LARGE_WEIGHTS


def block_size(experiment: Experiment) -> int:
    """Instances per block (the last block may hold fewer). With successive halving a block holds whole
    settings, since the fits of a setting are compared with each other mid-run."""
    target = _LARGE_BLOCK_ELEMENTS if _large(experiment) else _BLOCK_ELEMENTS
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
    if largest >= batch or not _large(experiment):
        return [batch]
    sizes = [batch // k for k in range(2, batch // 32 + 1) if batch % k == 0 and batch // k <= largest]
    return [sizes[0]] * (batch // sizes[0]) if sizes else [batch]


def lr_at(step: int, train: TrainConfig) -> float:
    """Learning rate at ``step`` (0-based) for the configured schedule (the notebook's three schedules)."""
    if train.lr_schedule == "linear":
        return train.lr * (1 - step / train.steps)
    if train.lr_schedule == "cosine":
        return train.lr * math.cos(0.5 * math.pi * step / max(train.steps - 1, 1))
    return train.lr


@dataclass
class History:
    """Snapshots taken every ``snapshot_every`` steps (and after the last step)."""

    steps: torch.Tensor  # (n_snapshots,)
    W: torch.Tensor  # (n_snapshots, n_instances, n_hidden, n_features)
    b: torch.Tensor  # (n_snapshots, n_instances, n_features)
    losses: torch.Tensor  # (n_snapshots, n_instances): training-batch loss (the last: the evaluation loss)
    W_out: torch.Tensor | None = None  # untied models only


@dataclass
class TrainResult:
    experiment: Experiment
    # Laid out as setting * k + j with k fits per setting: all n_seeds, or the survivors of successive halving.
    model: ToyModel
    losses: torch.Tensor  # (n_instances,) final loss on fresh evaluation batches
    history: History | None = None
    seeds: torch.Tensor | None = None  # (n_instances,) which of the n_seeds fits each instance is

    @property
    def fits_per_setting(self) -> int:
        return self.model.n_instances // self.experiment.n_settings

    @property
    def best_index(self) -> torch.Tensor:
        """Instance index of the best fit of each setting, (n_settings,)."""
        k = self.fits_per_setting
        best = self.losses.view(self.experiment.n_settings, k).argmin(dim=1)
        return torch.arange(len(best), device=best.device) * k + best

    @property
    def best_seed(self) -> torch.Tensor:
        """Which of the n_seeds fits won in each setting, (n_settings,)."""
        index = self.best_index
        return index % self.fits_per_setting if self.seeds is None else self.seeds[index]

    def best(self) -> ToyModel:
        """The best-of-K model: one instance per setting."""
        return self.model.select(self.best_index)

    @property
    def best_losses(self) -> torch.Tensor:
        return self.losses[self.best_index]


def _progress_enabled(train: TrainConfig) -> bool:
    return train.progress and os.environ.get("TOYMODELS_PROGRESS", "1") != "0"


def evaluate(
    model: ToyModel, experiment: Experiment, n_batches: int | None = None, seed: int | None = None
) -> torch.Tensor:
    """Per-instance loss averaged over fresh, seeded batches (``train.eval_batches`` of them by default). A model
    with the experiment's instances is evaluated block by block on the trainer's own evaluation batches, so
    ``evaluate(result.model, experiment)`` is ``result.losses``; another model (a best-of-K one, say) as one
    block. Repeated calls agree to the last bit (each block is copied to memory of its own, aligned as in training)."""
    if model.n_instances == experiment.n_instances:
        ranges = blocks(experiment)
    else:
        ranges = [(0, model.n_instances)]
    device = model.W.device
    probability = experiment.probability_tensor(device=device)
    importance = experiment.importance_tensor(device=device)
    if model.n_instances != experiment.n_instances:
        if model.n_instances != experiment.n_settings:
            raise ConfigError(
                f"model must have n_instances = {experiment.n_instances} (every fit) or n_settings = "
                f"{experiment.n_settings} (one per setting), got {model.n_instances}"
            )
        probability = experiment.probability_tensor("setting", device)
        importance = experiment.importance_tensor("setting", device)
    seed = experiment.train.seed if seed is None else seed
    with _torch_threads(experiment.train.threads or 1):
        return torch.cat(
            [
                _evaluate(
                    model.select(range(start, stop)),
                    experiment,
                    probability[start:stop],
                    importance[start:stop],
                    Uniforms(seed, device, stream=(index, _EVAL)),
                    n_batches,
                )
                for index, (start, stop) in enumerate(ranges)
            ]
        )


@torch.no_grad()
def _evaluate(model, experiment, probability, importance, uniforms: Uniforms, n_batches=None) -> torch.Tensor:
    train = experiment.train
    sampler = FeatureSampler(probability, experiment.data, uniforms)
    total = torch.zeros(model.n_instances, device=model.W.device)
    n_batches = n_batches or train.eval_batches
    for _ in range(n_batches):
        x = sampler(train.batch_size)
        total += model.loss(x, target_of(x, experiment.data), importance)
    return total / n_batches


@contextmanager
def _torch_threads(threads: int):
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _cores() -> int:
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
    The tests check it against torch's optimiser."""

    def __init__(
        self,
        parameters: list[torch.Tensor],
        lr: float,
        weight_decay: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ):
        self.parameters = parameters
        self.lr, self.weight_decay, self.betas, self.eps = lr, weight_decay, betas, eps
        self.exp_avg = [torch.zeros_like(p) for p in parameters]
        self.exp_avg_sq = [torch.zeros_like(p) for p in parameters]
        self.step_counts = [torch.zeros((), device=p.device) for p in parameters]

    @torch.inference_mode()
    def step(self, grads: list[torch.Tensor]) -> None:
        torch._foreach_add_(self.step_counts, 1.0)
        torch._fused_adamw_(
            self.parameters,
            grads,
            self.exp_avg,
            self.exp_avg_sq,
            [],
            self.step_counts,
            lr=self.lr,
            beta1=self.betas[0],
            beta2=self.betas[1],
            weight_decay=self.weight_decay,
            eps=self.eps,
            amsgrad=False,
            maximize=False,
        )

    def keep(self, index: torch.Tensor, parameters: list[torch.Tensor]) -> None:
        """Keep the state of the chosen instances (dimension 0), now attached to ``parameters``."""
        self.parameters = parameters
        self.exp_avg = [m[index] for m in self.exp_avg]
        self.exp_avg_sq = [v[index] for v in self.exp_avg_sq]


class _Block:
    """Instances ``start:stop`` of an experiment (block ``index``), trained as a run of their own: initial
    weights, training and evaluation batches from the streams ``(index, role)`` of the seed, and an optimiser
    state and buffers of its own. Nothing it computes depends on the other blocks."""

    def __init__(self, experiment: Experiment, index: int, start: int, stop: int, device: torch.device) -> None:
        config = experiment.train
        self.experiment, self.index, self.device = experiment, index, device
        generator = torch.Generator(device).manual_seed(stream_seed(config.seed, (index, _INIT)))
        # The notebook's initialisation scales with the whole experiment's instance count, not the block's.
        self.model = ToyModel(
            experiment.model, stop - start, generator=generator, device=device, init_instances=experiment.n_instances
        )
        self.seeds = torch.arange(start, stop, device=device) % experiment.n_seeds
        self.fits = experiment.n_seeds  # fits of each setting in the block (fewer after a halving cut)
        self.probability = experiment.probability_tensor(device=device)[start:stop]
        self.importance = experiment.importance_tensor(device=device)[start:stop]
        self.stream = Uniforms(config.seed, device, stream=(index, _TRAIN))
        self.optimizer = AdamW(self._parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.workspace = Workspace()
        self.step = 0
        self.snapshots: list[tuple] = []
        self._resize()

    def _resize(self) -> None:
        self.sampler = FeatureSampler(self.probability, self.experiment.data, self.stream)
        self.chunks = batch_chunks(self.experiment, self.model.n_instances)

    def _parameters(self) -> list[torch.Tensor]:
        return [p.data for p in (self.model.W, self.model.W_out, self.model.b) if p is not None]

    def _snapshot(self, loss: torch.Tensor) -> None:
        model = self.model
        W_out = None if model.W_out is None else model.W_out.detach().cpu().clone()
        # Ordinary tensors: the step's loss comes out of inference mode.
        self.snapshots.append(
            (self.step, model.W.detach().cpu().clone(), model.b.detach().cpu().clone(), loss.clone().cpu(), W_out)
        )

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
                if bar is not None:
                    bar.update()

    @torch.inference_mode()
    def _loss_and_grads(self, need_loss: bool, draw=None) -> tuple[torch.Tensor | None, list[torch.Tensor]]:
        """Loss and gradients of one fresh batch (``draw(size)``, by default the sampler), summed over the batch
        chunks. In inference mode, like the optimiser's step: torch then skips its autograd bookkeeping on every
        operation (5–15 % of a small model's step)."""
        names = ["W", "b"] if self.model.W_out is None else ["W", "W_out", "b"]
        config, data = self.experiment.train, self.experiment.data
        draw = draw or self.sampler
        total_loss, total_grads = None, None
        for chunk in self.chunks:
            x = draw(chunk)
            loss, grads = loss_and_grads(
                self.model, x, target_of(x, data), self.importance, self.workspace, need_loss, config.batch_size
            )
            if total_grads is None:
                total_loss, total_grads = loss, [grads[name] for name in names]
            else:
                torch._foreach_add_(total_grads, [grads[name] for name in names])
                total_loss = None if loss is None else total_loss + loss
        return total_loss, total_grads

    def evaluate(self) -> torch.Tensor:
        """Loss of each current instance on the block's evaluation batches (the same at every call)."""
        uniforms = Uniforms(self.experiment.train.seed, self.device, stream=(self.index, _EVAL))
        return _evaluate(self.model, self.experiment, self.probability, self.importance, uniforms)

    def keep_best(self, k: int) -> None:
        """Continue with only the k lowest-loss fits of each of the block's settings (whole settings: with
        successive halving, :func:`block_size` makes every block hold whole settings)."""
        losses = self.evaluate().view(-1, self.fits)
        chosen = losses.topk(min(k, self.fits), dim=1, largest=False).indices.sort(dim=1).values
        index = (chosen + self.fits * torch.arange(len(losses), device=self.device).unsqueeze(1)).flatten()
        self.fits = chosen.shape[1]
        self.model = self.model.select(index)
        self.seeds, self.probability, self.importance = (
            self.seeds[index],
            self.probability[index],
            self.importance[index],
        )
        self.optimizer.keep(index, self._parameters())
        self._resize()

    def finish(self) -> dict:
        """Evaluate and package this block's arrays (CPU tensors), taking the last snapshot."""
        losses = self.evaluate()
        config = self.experiment.train
        if config.snapshot_every and self.snapshots[-1][0] != self.step:
            self._snapshot(losses)
        model = self.model
        arrays = {
            "W": model.W.detach().cpu(),
            "b": model.b.detach().cpu(),
            "losses": losses.cpu(),
            "seeds": self.seeds.cpu(),
        }
        if model.W_out is not None:
            arrays["W_out"] = model.W_out.detach().cpu()
        if self.snapshots:
            steps, Ws, bs, step_losses, W_outs = zip(*self.snapshots)
            arrays.update(
                history_steps=torch.tensor(steps),
                history_W=torch.stack(Ws),
                history_b=torch.stack(bs),
                history_losses=torch.stack(step_losses),
            )
            if W_outs[0] is not None:
                arrays["history_W_out"] = torch.stack(W_outs)
        return arrays


def _assemble(experiment: Experiment, parts: list[dict], device: torch.device) -> TrainResult:
    """One :class:`TrainResult` from the blocks' arrays (:meth:`_Block.finish`), concatenated in block order."""
    joined = {
        name: torch.cat([part[name] for part in parts], dim=1 if name.startswith("history_") else 0)
        for name in parts[0]
        if name != "history_steps"
    }
    model = ToyModel.from_arrays(experiment.model, joined["W"], joined["b"], joined.get("W_out"), device=device)
    history = None
    if "history_W" in joined:
        history = History(
            steps=parts[0]["history_steps"],
            W=joined["history_W"],
            b=joined["history_b"],
            losses=joined["history_losses"],
            W_out=joined.get("history_W_out"),
        )
    return TrainResult(experiment, model, joined["losses"].to(device), history, joined["seeds"].to(device))


class Trainer:
    """Step-by-step training of an :class:`Experiment`'s blocks in this process; :func:`train` runs one from
    start to finish (and can split the blocks across workers).

    ``run(n)`` takes n more steps; ``keep_best(k)`` keeps the k lowest-loss fits of each setting (successive
    halving); ``result()`` evaluates and packages the model. ``block_range`` trains only those blocks (a
    worker's share of a sweep). ``cores`` is how many cores the trainer may keep busy (default: this process's):
    with two or more, the blocks of large models train side by side on threads, and a block of a small model
    has its batches drawn ahead on a second core. How blocks are run never changes what they compute.
    """

    def __init__(
        self,
        experiment: Experiment,
        callback: Callback | None = None,
        *,
        block_range: tuple[int, int] | None = None,
        cores: int | None = None,
    ) -> None:
        self.experiment, self.callback = experiment, callback
        self.device = torch.device(experiment.train.device)
        self.threads = experiment.train.threads or 1
        self.cores = cores or _cores()
        ranges = blocks(experiment)
        first, stop = block_range or (0, len(ranges))
        if not 0 <= first < stop <= len(ranges):
            raise ConfigError(f"block_range must lie within the experiment's {len(ranges)} blocks, got {block_range}")
        with _torch_threads(self.threads):
            self.blocks = [_Block(experiment, k, *ranges[k], self.device) for k in range(first, stop)]
        self.step = 0
        self._called_back = -1  # the step of the last snapshot passed to the callback

    @property
    def model(self) -> ToyModel:
        """The trained instances of every block (a copy, unless there is one block)."""
        if len(self.blocks) == 1:
            return self.blocks[0].model
        models = [block.model for block in self.blocks]
        W_out = None if models[0].W_out is None else torch.cat([m.W_out.detach() for m in models])
        return ToyModel.from_arrays(
            self.experiment.model,
            torch.cat([m.W.detach() for m in models]),
            torch.cat([m.b.detach() for m in models]),
            W_out,
            device=self.device,
        )

    def _side_by_side(self) -> int:
        """Threads the blocks train on at once: one per core for large models (their operations release the GIL
        long enough), else one (tiny operations hand the GIL over too often; processes share those instead)."""
        if self.threads > 1 or self.device.type != "cpu" or not _large(self.experiment):
            return 1
        return max(1, min(self.cores, len(self.blocks)))

    def run(self, n_steps: int | None = None) -> None:
        """Take ``n_steps`` more steps (default: all that remain of ``experiment.train.steps``). With a callback,
        the blocks meet at every snapshot, and the callback sees the step, the model and the loss of that
        snapshot."""
        config = self.experiment.train
        n_steps = config.steps - self.step if n_steps is None else n_steps
        stops = [self.step + n_steps]
        if self.callback is not None and config.snapshot_every:
            every = config.snapshot_every
            first = -(-self.step // every) * every  # the first snapshot step at or after this one
            stops = sorted({*range(first + 1, self.step + n_steps + 1, every), self.step + n_steps})
        bar = tqdm(
            total=n_steps * len(self.blocks),
            disable=not _progress_enabled(config),
            desc=self.experiment.name,
            mininterval=1.0,
            unit="block-step",
        )
        side_by_side = self._side_by_side()
        pool = (
            ThreadPoolExecutor(side_by_side - 1, initializer=torch.set_num_threads, initargs=(1,))
            if side_by_side > 1
            else nullcontext()
        )
        with _torch_threads(self.threads), pool as helpers, bar:
            for stop in stops:
                self._run_blocks(stop - self.step, helpers, side_by_side, bar)
                self.step = stop
                if (
                    self.callback is not None
                    and self.blocks[0].snapshots
                    and self.blocks[0].snapshots[-1][0] == stop - 1
                ):
                    self._call_back()

    def _run_blocks(self, n_steps: int, helpers, side_by_side: int, bar) -> None:
        """Every block takes ``n_steps`` steps: one after the other on this thread, or, side by side, block k on
        thread k mod ``side_by_side`` (this thread is thread 0)."""
        if side_by_side == 1:
            draw_ahead = self.threads == 1 and self.cores >= 2
            for block in self.blocks:
                block.run(n_steps, draw_ahead, bar)
            return

        def run_share(share: int) -> None:
            with torch.inference_mode():
                for block in self.blocks[share::side_by_side]:
                    block.run(n_steps, False, bar)

        later = [helpers.submit(run_share, share) for share in range(1, side_by_side)]
        run_share(0)
        for future in later:
            future.result()

    def _call_back(self) -> None:
        """The callback on the blocks' latest snapshot, joined."""
        snapshots = [block.snapshots[-1] for block in self.blocks]
        step = snapshots[0][0]
        W_out = None if snapshots[0][4] is None else torch.cat([s[4] for s in snapshots])
        model = ToyModel.from_arrays(
            self.experiment.model,
            torch.cat([s[1] for s in snapshots]),
            torch.cat([s[2] for s in snapshots]),
            W_out,
            device=self.device,
        )
        self._called_back = step
        self.callback(step, model, torch.cat([s[3] for s in snapshots]))

    def evaluate(self) -> torch.Tensor:
        """Loss of each current instance on fresh evaluation batches (the same batches at every call)."""
        with _torch_threads(self.threads):
            return torch.cat([block.evaluate() for block in self.blocks])

    def keep_best(self, k: int) -> None:
        """Continue with only the k lowest-loss fits of each setting (needs ``halving_steps`` set, so that
        every block holds whole settings)."""
        if not self.experiment.train.halving_steps:
            raise ConfigError("keep_best needs successive halving (halving_steps > 0): blocks then hold whole settings")
        with _torch_threads(self.threads):
            for block in self.blocks:
                block.keep_best(k)

    def arrays(self) -> list[dict]:
        """Each block's final arrays (:meth:`_Block.finish`)."""
        with _torch_threads(self.threads):
            arrays = [block.finish() for block in self.blocks]
        if (
            self.callback is not None
            and self.experiment.train.snapshot_every
            and self.blocks[0].snapshots[-1][0] == self.step
            and self._called_back != self.step
        ):
            self._call_back()  # the final snapshot, with the evaluation loss
        return arrays

    def result(self) -> TrainResult:
        """Evaluate the current model on fresh batches and package it (with its history)."""
        return _assemble(self.experiment, self.arrays(), self.device)


def halving_schedule(train: TrainConfig, n_seeds: int) -> list[tuple[int, int]]:
    """Successive halving as (step, fits kept per setting) cuts: every fit trains ``halving_steps`` steps,
    then the best 1/η continue for η times as many, and so on, until ``halving_finalists`` remain (they
    train to the end, and the best of them is kept) or the run ends. Empty when halving is off."""
    cuts: list[tuple[int, int]] = []
    step, fits = train.halving_steps, n_seeds
    while train.halving_steps and fits > train.halving_finalists and step < train.steps:
        fits = max(math.ceil(fits / train.halving_eta), train.halving_finalists)
        cuts.append((step, fits))
        step *= train.halving_eta
    return cuts


def _run(trainer: Trainer) -> None:
    """Train from start to finish, with successive halving's cuts."""
    for step, fits in halving_schedule(trainer.experiment.train, trainer.experiment.n_seeds):
        trainer.run(step - trainer.step)
        trainer.keep_best(fits)
    trainer.run()


def train_blocks(experiment: Experiment, first: int, stop: int, cores: int = 1) -> list[dict]:
    """Train blocks ``first:stop`` of ``experiment`` from start to finish and return their arrays: a worker's
    share of :func:`train` (a module-level function, so that process pools and Dask can send it)."""
    trainer = Trainer(experiment.replace(progress=False), block_range=(first, stop), cores=cores)
    _run(trainer)
    return trainer.arrays()


_POOL: ProcessPoolExecutor | None = None


def local_pool() -> ProcessPoolExecutor:
    """This process's pool of worker processes, one per core, started once and reused (spawned, not forked:
    a forked copy of a process that has run torch's thread pools can deadlock). The workers ignore Ctrl-C, which
    a terminal or a Jupyter kernel's shutdown sends to the whole process group: this process stops them."""
    global _POOL
    if _POOL is None:
        _POOL = ProcessPoolExecutor(
            _cores(),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=signal.signal,
            initargs=(signal.SIGINT, signal.SIG_IGN),
        )
    return _POOL


def default_workers(experiment: Experiment, callback: Callback | None = None) -> int:
    """How many local worker processes :func:`train` uses when not told: ``$TOYMODELS_WORKERS`` if set, else
    one per core for a CPU sweep of a small model with several blocks and enough work to repay the pool, else 1
    (this process: a large model's blocks train side by side on threads there, 1.1× faster than in processes
    at n=400, m=30)."""
    if os.environ.get("TOYMODELS_WORKERS"):
        return max(1, int(os.environ["TOYMODELS_WORKERS"]))
    config = experiment.train
    work = experiment.n_instances * experiment.model.n_features * config.batch_size * config.steps
    if (
        callback is not None
        or torch.device(config.device).type != "cpu"
        or work < _POOL_MIN_ELEMENTS
        or _large(experiment)
    ):  # a large model's blocks already train side by side on threads
        return 1
    return max(1, min(_cores(), len(blocks(experiment))))


def _shares(experiment: Experiment, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous block ranges holding near-equal numbers of instances."""
    ranges = blocks(experiment)
    ends = np.cumsum([stop - start for start, stop in ranges])
    # Cut after the block whose end is nearest to each k/parts of the instances.
    cuts = [0] + [int(np.abs(ends - ends[-1] * k / parts).argmin()) + 1 for k in range(1, parts)] + [len(ranges)]
    cuts = sorted(set(cuts))
    return [(a, b) for a, b in zip(cuts[:-1], cuts[1:]) if a < b]


def train(
    experiment: Experiment,
    *,
    callback: Callback | None = None,
    workers: int | None = None,
    executor: Executor | None = None,
) -> TrainResult:
    """Train every instance of ``experiment`` and return the model, the final losses and the history.

    ``callback(step, model, loss)`` runs at every snapshot (needs ``snapshot_every`` > 0; training then stays in
    this process); ``loss`` is the per-instance training loss at that step. With ``halving_steps`` set, best-of-K
    runs as successive halving (:func:`halving_schedule`): the result then holds only the surviving fits, and
    ``result.seeds`` says which they are.

    The blocks (:func:`blocks`) can train in several workers: ``workers`` local processes (default:
    :func:`default_workers`), or the workers of ``executor``, any ``concurrent.futures.Executor`` (a Dask
    cluster's ``client.get_executor()``, say). The same seed gives the same weights, bit for bit, either way.
    """
    if executor is not None and callback is not None:
        raise ConfigError("callback needs training in this process: pass no executor with a callback")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ConfigError(f"workers must be a positive integer (>= 1), got {workers!r}")
    if executor is None:
        workers = workers or default_workers(experiment, callback)
        if workers == 1 or callback is not None:
            trainer = Trainer(experiment, callback)
            _run(trainer)
            return trainer.result()
        executor = local_pool()
    else:
        workers = workers or len(blocks(experiment))
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise ConfigError(
            "train was called while a spawned worker process was importing the main script: put the "
            "script's top level under `if __name__ == '__main__':`, or pass workers=1"
        )
    shares = _shares(experiment, workers)
    futures = [executor.submit(train_blocks, experiment, first, stop) for first, stop in shares]
    parts = []
    try:
        for future in tqdm(
            futures, disable=not _progress_enabled(experiment.train), desc=experiment.name, unit="share"
        ):
            parts += future.result()
    except BrokenProcessPool as error:
        global _POOL
        _POOL = None  # a broken pool takes no more work: the next call starts a new one
        raise RuntimeError(
            "a worker process training a share of the sweep died (out of memory, killed, or a script without "
            "`if __name__ == '__main__':` that spawned workers re-ran): pass workers=1 to train in this process"
        ) from error
    return _assemble(experiment, parts, torch.device(experiment.train.device))
