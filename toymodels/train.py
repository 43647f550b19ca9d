"""Training: one ``train`` entry point for every experiment (paper §2; protocol of the authors' notebook).

Each step draws a fresh batch (infinite data), computes the per-instance importance-weighted MSE and its
gradients in closed form (:func:`toymodels.models.loss_and_grads`), and takes an AdamW step. Instances are
independent: the summed loss gives each instance the gradient of its own loss. Best-of-K keeps, for each
setting, the seed with the lowest loss on fresh evaluation batches.
"""

from __future__ import annotations

import math
import os
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Callable, Optional

import torch
from tqdm import tqdm

from .config import Experiment, TrainConfig
from .data import FeatureSampler, Uniforms, target_of
from .models import ToyModel, loss_and_grads
from .workspace import Workspace

Callback = Callable[[int, ToyModel, torch.Tensor], None]

# Seeds the evaluation batches apart from the training batches of the same seed.
_EVAL_SEED_OFFSET = 1_000_003
# A step processes its activations, (instance, feature, batch) floats, in chunks of about _CHUNK_ELEMENTS, so
# that the sampled features, pre-activations and output gradients of a chunk stay in the CPU's cache between
# the operations that read them. Models with at least _CHUNK_MIN_WEIGHTS weights split the batch (1.6× faster
# at n=400, m=30); smaller ones split the instance axis instead (gradients 1.9× faster for 2,560 instances of
# n=3, m=2, the whole step about 10 %), because splitting the batch multiplies the per-matrix overhead of
# their many tiny matrix products. Instances are independent, so both splits give the same gradients.
_CHUNK_ELEMENTS = 1 << 20
_INSTANCE_CHUNK_ELEMENTS = 1 << 19
_CHUNK_MIN_WEIGHTS = 1024
# Automatic thread count: one thread below this many activation elements per step (tiny tensors: more
# threads spin on barriers), two above it (large matrix products). Fixed by size, never by the machine, so
# that a seed gives the same weights everywhere.
_TWO_THREADS_ELEMENTS = 1 << 21
# A step on one thread has the next batch drawn on the idle second core when a batch has at least this many
# elements: n=20, m=5 with 7 and 14 instances (143k, 287k elements) 1.24× and 1.31× faster, 100 instances
# 1.47×; below it, the two threads' handing over of the GIL costs more than the overlap saves (n=5, m=2: 10
# instances 0.72×, 1 instance 0.58×; 61k–102k elements even). Results are the same either way.
_DRAW_AHEAD_ELEMENTS = 1 << 17


def _large(model) -> bool:
    """Whether a model's matrices are large enough (n·m ≥ _CHUNK_MIN_WEIGHTS) to split the batch into chunks and
    to train in instance groups, rather than to split the instance axis."""
    return model.n_features * model.n_hidden >= _CHUNK_MIN_WEIGHTS


def instance_groups(experiment: Experiment, n_instances: int | None = None) -> list[tuple[int, int]]:
    """``(start, stop)`` ranges of the instance axis that train side by side, one per thread, each
    single-threaded with its own random stream: for large models on the CPU with several threads and
    instances. One thread then draws its batch (NumPy's generator runs on one core) while the other
    multiplies matrices, instead of torch's threads sharing every operation and idling through the draws
    (n=400, m=30, 10 instances: 1.4× faster). Otherwise one range. Fixed by size, never by the machine."""
    n_instances = n_instances or experiment.n_instances
    groups = min(threads_for(experiment, n_instances), n_instances)
    if groups == 1 or torch.device(experiment.train.device).type != "cpu" or not _large(experiment.model):
        return [(0, n_instances)]
    return _near_equal_parts(n_instances, groups)


def _near_equal_parts(n: int, parts: int) -> list[tuple[int, int]]:
    bounds = [round(k * n / parts) for k in range(parts + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


def threads_for(experiment: Experiment, n_instances: int | None = None) -> int:
    """The torch thread count for training ``experiment`` (``TrainConfig.threads``, or chosen by size) with
    ``n_instances`` instances (default: all of them)."""
    if experiment.train.threads:
        return experiment.train.threads
    elements = (n_instances or experiment.n_instances) * experiment.model.n_features * experiment.train.batch_size
    return 1 if elements < _TWO_THREADS_ELEMENTS else 2


def batch_chunks(experiment: Experiment, n_instances: int | None = None, side_by_side: int = 1) -> list[int]:
    """Sizes of the equal chunks one training batch of ``n_instances`` instances is processed in, when
    ``side_by_side`` such groups of instances train at once (they share the cache)."""
    batch = experiment.train.batch_size
    per_sample = (n_instances or experiment.n_instances) * experiment.model.n_features
    largest = max(32, _CHUNK_ELEMENTS // side_by_side // per_sample)
    if largest >= batch or not _large(experiment.model):
        return [batch]
    sizes = [batch // k for k in range(2, batch // 32 + 1) if batch % k == 0 and batch // k <= largest]
    return [sizes[0]] * (batch // sizes[0]) if sizes else [batch]


def instance_chunks(experiment: Experiment, n_instances: int | None = None) -> list[tuple[int, int]]:
    """``(start, stop)`` ranges of the instance axis that a training step processes one after the other."""
    n_instances = n_instances or experiment.n_instances
    model = experiment.model
    if _large(model):
        return [(0, n_instances)]  # large matrices: batch_chunks splits the batch instead
    size = max(1, _INSTANCE_CHUNK_ELEMENTS // (model.n_features * experiment.train.batch_size))
    return _near_equal_parts(n_instances, math.ceil(n_instances / size))


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
    W_out: Optional[torch.Tensor] = None  # untied models only


@dataclass
class TrainResult:
    experiment: Experiment
    # Laid out as setting * k + j with k fits per setting: all n_seeds, or the survivors of successive halving.
    model: ToyModel
    losses: torch.Tensor  # (n_instances,) final loss on fresh evaluation batches
    history: Optional[History] = None
    seeds: Optional[torch.Tensor] = None  # (n_instances,) which of the n_seeds fits each instance is

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
    """Per-instance loss averaged over fresh batches (seeded, and at the trainer's thread count for this size,
    so repeated calls agree to the last bit)."""
    device = model.W.device
    with _torch_threads(threads_for(experiment, model.n_instances)):
        return _evaluate(
            model, experiment, experiment.probability_tensor(device=device),
            experiment.importance_tensor(device=device), n_batches, seed,
        )


@torch.no_grad()
def _evaluate(model, experiment, probability, importance, n_batches=None, seed=None) -> torch.Tensor:
    train = experiment.train
    uniforms = Uniforms((train.seed if seed is None else seed) + _EVAL_SEED_OFFSET, model.W.device)
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


def _in_inference_mode(function, *args):
    """``function(*args)`` in inference mode, which is per thread: for the helper threads."""
    with torch.inference_mode():
        return function(*args)


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

    def __enter__(self) -> "_DrawAhead":
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

    def __init__(self, parameters: list[torch.Tensor], lr: float, weight_decay: float,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.parameters = parameters
        self.lr, self.weight_decay, self.betas, self.eps = lr, weight_decay, betas, eps
        self.exp_avg = [torch.zeros_like(p) for p in parameters]
        self.exp_avg_sq = [torch.zeros_like(p) for p in parameters]
        self.step_counts = [torch.zeros((), device=p.device) for p in parameters]

    @torch.inference_mode()
    def step(self, grads: list[torch.Tensor]) -> None:
        torch._foreach_add_(self.step_counts, 1.0)
        torch._fused_adamw_(
            self.parameters, grads, self.exp_avg, self.exp_avg_sq, [], self.step_counts,
            lr=self.lr, beta1=self.betas[0], beta2=self.betas[1], weight_decay=self.weight_decay, eps=self.eps,
            amsgrad=False, maximize=False,
        )

    def keep(self, index: torch.Tensor, parameters: list[torch.Tensor]) -> None:
        """Keep the state of the chosen instances (dimension 0), now attached to ``parameters``."""
        self.parameters = parameters
        self.exp_avg = [m[index] for m in self.exp_avg]
        self.exp_avg_sq = [v[index] for v in self.exp_avg_sq]


@dataclass
class _Group:
    """Instances ``start:stop``, trained on one thread: a view of the model, their importance and sampler, the
    batch chunks of a step and their buffers."""

    start: int
    stop: int
    model: ToyModel
    importance: torch.Tensor
    sampler: FeatureSampler
    chunks: list[int]
    workspace: Workspace


class Trainer:
    """Step-by-step training of an :class:`Experiment`; :func:`train` runs one from start to finish.

    ``run(n)`` takes n more steps; ``keep_best(k)`` keeps the k lowest-loss fits of each setting (successive
    halving); ``result()`` evaluates and packages the model. Every step draws a fresh batch.
    """

    def __init__(self, experiment: Experiment, callback: Callback | None = None) -> None:
        config = experiment.train
        self.experiment, self.callback = experiment, callback
        self.device = torch.device(config.device)
        # Initial weights and batches come from two streams of the same seed.
        self.threads = threads_for(experiment)
        # One random stream per instance group (stream 0 is the seed's own, so one group draws as before).
        self.streams = [Uniforms(config.seed, self.device, stream=k) for k in range(len(instance_groups(experiment)))]
        self.workspace = Workspace()
        with _torch_threads(self.threads):
            generator = torch.Generator(self.device).manual_seed(config.seed)
            self.model = ToyModel(experiment.model, experiment.n_instances, generator=generator, device=self.device)
        self.seeds = torch.arange(experiment.n_seeds, device=self.device).repeat(experiment.n_settings)
        self.probability = experiment.probability_tensor(device=self.device)
        self.importance = experiment.importance_tensor(device=self.device)
        self.optimizer = AdamW(self._parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self._split_instances()
        self.step = 0
        self.snapshots: list[tuple] = []

    def _parameters(self) -> list[torch.Tensor]:
        return [p.data for p in (self.model.W, self.model.W_out, self.model.b) if p is not None]

    def _snapshot(self, loss: torch.Tensor) -> None:
        model = self.model
        W, b = model.W.detach().cpu().clone(), model.b.detach().cpu().clone()
        W_out = None if model.W_out is None else model.W_out.detach().cpu().clone()
        loss = loss.clone()  # an ordinary tensor: the step's comes out of inference mode
        self.snapshots.append((self.step, W, b, loss.cpu(), W_out))
        if self.callback is not None:
            self.callback(self.step, model, loss)

    def run(self, n_steps: int | None = None) -> None:
        """Take ``n_steps`` more steps (default: all that remain of ``experiment.train.steps``)."""
        config = self.experiment.train
        n_steps = config.steps - self.step if n_steps is None else n_steps
        bar = tqdm(total=n_steps, disable=not _progress_enabled(config), desc=self.experiment.name, mininterval=1.0)
        groups = len(self.groups)
        # Several groups each compute on one thread: the main thread takes the first, helpers the others. One
        # group on one thread leaves a core idle: a helper draws the next batch while this thread computes.
        pool = ThreadPoolExecutor(groups - 1, initializer=torch.set_num_threads, initargs=(1,)) if groups > 1 \
            else nullcontext()
        draw = self._draw_ahead(n_steps)
        with _torch_threads(1 if groups > 1 else self.threads), pool as helpers, draw or nullcontext():
            for _ in range(n_steps):
                snapshot = config.snapshot_every and self.step % config.snapshot_every == 0
                report = not bar.disable and self.step % 100 == 0
                self.optimizer.lr = lr_at(self.step, config)
                loss, grads = self._loss_and_grads(need_loss=snapshot or report, helpers=helpers, draw=draw)
                if snapshot:
                    self._snapshot(loss)
                if report:
                    bar.set_postfix(loss=f"{loss.sum().item():.3g}", refresh=False)
                self.optimizer.step(grads)
                self.step += 1
                bar.update()
        bar.close()

    def _draw_ahead(self, n_steps: int) -> "_DrawAhead | None":
        """Batches for ``n_steps`` steps drawn ahead on a second core, when one group trains on one thread and
        its batches are large enough for the overlap to outweigh the handing over (:class:`_DrawAhead`). It
        depends on the machine's cores, which is safe: the batches are the same either way."""
        sizes = [self.experiment.train.batch_size] if len(self.parts) > 1 else self.groups[0].chunks
        elements = self.model.n_instances * self.experiment.model.n_features * sizes[0]
        if len(self.groups) > 1 or self.threads > 1 or self.device.type != "cpu" or _cores() < 2 \
                or elements < _DRAW_AHEAD_ELEMENTS or not n_steps:
            return None
        return _DrawAhead(self.groups[0].sampler, sizes[0], n_steps * len(sizes))

    @torch.inference_mode()
    def _loss_and_grads(
        self, need_loss: bool, helpers: ThreadPoolExecutor | None = None, draw: "_DrawAhead | None" = None
    ) -> tuple[torch.Tensor | None, list[torch.Tensor]]:
        """Loss and gradients of one fresh batch: the first instance group's on this thread, the others' on
        ``helpers`` (without them, one after the other here). With one group, ``draw`` may give its batches
        instead of its sampler. In inference mode, like the optimiser's step: torch then skips its autograd
        bookkeeping on every operation (5–15 % of a small model's step)."""
        names = ["W", "b"] if self.model.W_out is None else ["W", "W_out", "b"]
        if len(self.parts) > 1:
            return self._loss_and_grads_by_instances(need_loss, names, draw)
        if len(self.groups) == 1:
            return self._group_loss_and_grads(self.groups[0], need_loss, names, draw)
        if helpers is None:
            results = [self._group_loss_and_grads(group, need_loss, names) for group in self.groups]
        else:
            later = [helpers.submit(_in_inference_mode, self._group_loss_and_grads, group, need_loss, names)
                     for group in self.groups[1:]]
            results = [self._group_loss_and_grads(self.groups[0], need_loss, names)] + [part.result() for part in later]
        grads = [self.workspace.get(f"grad_{name}", getattr(self.model, name).shape, self.model.W) for name in names]
        for group, (_, group_grads) in zip(self.groups, results):
            for grad, part in zip(grads, group_grads):
                grad[group.start:group.stop] = part
        return (torch.cat([loss for loss, _ in results]) if need_loss else None), grads

    def _group_loss_and_grads(self, group: _Group, need_loss: bool, names: list[str], draw=None):
        """The group's loss and gradients of one fresh batch (``draw(size)``, by default its sampler), summed
        over its cache-sized batch chunks."""
        config, data = self.experiment.train, self.experiment.data
        draw = draw or group.sampler
        total_loss, total_grads = None, None
        for chunk in group.chunks:
            x = draw(chunk)
            loss, grads = loss_and_grads(
                group.model, x, target_of(x, data), group.importance, group.workspace, need_loss, config.batch_size
            )
            if total_grads is None:
                total_loss, total_grads = loss, [grads[name] for name in names]
            else:
                torch._foreach_add_(total_grads, [grads[name] for name in names])
                total_loss = None if loss is None else total_loss + loss
        return total_loss, total_grads

    def _loss_and_grads_by_instances(self, need_loss: bool, names: list[str], draw=None):
        """As :meth:`_loss_and_grads`, one instance chunk after the other (one batch for all of them)."""
        x = (draw or self.groups[0].sampler)(self.experiment.train.batch_size)
        target = target_of(x, self.experiment.data)
        grads = [self.workspace.get(f"grad_{name}", getattr(self.model, name).shape, x) for name in names]
        losses = []
        for start, stop, part, workspace in self.parts:
            loss, part_grads = loss_and_grads(
                part, x[start:stop], target[start:stop], self.importance[start:stop], workspace, need_loss
            )
            for grad, name in zip(grads, names):
                grad[start:stop] = part_grads[name]
            losses.append(loss)
        return (torch.cat(losses) if need_loss else None), grads

    def evaluate(self) -> torch.Tensor:
        """Loss of each current instance on fresh evaluation batches (the same batches at every call)."""
        with _torch_threads(self.threads):
            return _evaluate(self.model, self.experiment, self.probability, self.importance)

    def keep_best(self, k: int) -> None:
        """Continue with only the k lowest-loss fits of each setting."""
        n_settings = self.experiment.n_settings
        losses = self.evaluate().view(n_settings, -1)
        fits = losses.shape[1]
        chosen = losses.topk(min(k, fits), dim=1, largest=False).indices.sort(dim=1).values
        index = (chosen + fits * torch.arange(n_settings, device=self.device).unsqueeze(1)).flatten()
        self.model = self.model.select(index)
        self.seeds = self.seeds[index]
        self.probability, self.importance = self.probability[index], self.importance[index]
        self.optimizer.keep(index, self._parameters())
        self.threads = threads_for(self.experiment, len(index))
        self._split_instances()

    def _split_instances(self) -> None:
        """The instance groups that train side by side (:func:`instance_groups`) and, within one group of a
        small model, the instance chunks processed one after the other (:func:`instance_chunks`), each with
        views of the model and buffers of their own. Fewer instances never make more groups, so group k
        keeps drawing from stream k."""
        n_instances, data = self.model.n_instances, self.experiment.data
        ranges = instance_groups(self.experiment, n_instances)
        self.groups = [
            _Group(start, stop, self.model.view(start, stop), self.importance[start:stop],
                   FeatureSampler(self.probability[start:stop], data, self.streams[k]),
                   batch_chunks(self.experiment, stop - start, len(ranges)), Workspace())
            for k, (start, stop) in enumerate(ranges)
        ]
        ranges = instance_chunks(self.experiment, n_instances)
        self.parts = [(start, stop, self.model.view(start, stop), Workspace()) for start, stop in ranges]

    def result(self) -> TrainResult:
        """Evaluate the current model on fresh batches and package it (with its history)."""
        losses = self.evaluate()
        if self.experiment.train.snapshot_every and self.snapshots[-1][0] != self.step:
            self._snapshot(losses)
        history = None
        if self.snapshots:
            steps, Ws, bs, step_losses, W_outs = zip(*self.snapshots)
            history = History(
                steps=torch.tensor(steps),
                W=torch.stack(Ws),
                b=torch.stack(bs),
                losses=torch.stack(step_losses),
                W_out=None if W_outs[0] is None else torch.stack(W_outs),
            )
        return TrainResult(self.experiment, self.model, losses, history, self.seeds)


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


def train(experiment: Experiment, *, callback: Callback | None = None) -> TrainResult:
    """Train every instance of ``experiment`` and return the model, the final losses and the history.

    ``callback(step, model, loss)`` runs at every snapshot (needs ``snapshot_every`` > 0); ``loss`` is the
    per-instance training loss at that step. The same seed gives the same weights. With
    ``halving_steps`` set, best-of-K runs as successive halving (:func:`halving_schedule`): the result then
    holds only the surviving fits, and ``result.seeds`` says which they are.
    """
    trainer = Trainer(experiment, callback)
    for step, fits in halving_schedule(experiment.train, experiment.n_seeds):
        trainer.run(step - trainer.step)
        trainer.keep_best(fits)
    trainer.run()
    return trainer.result()
