"""Training: one ``train`` entry point for every experiment (paper §2; protocol of the authors' notebook).

Each step draws a fresh batch (infinite data), computes the per-instance importance-weighted MSE and its
gradients in closed form (:func:`toymodels.models.loss_and_grads`), and takes an AdamW step. Instances are
independent: the summed loss gives each instance the gradient of its own loss. Best-of-K keeps, for each
setting, the seed with the lowest loss on fresh evaluation batches.

The instances train in blocks (:mod:`toymodels.block`), each a run of its own with random streams keyed by the
seed and its index, so a block trains to the same weights, bit for bit, wherever it trains: ``train`` can split a
sweep across workers (a local process pool, or any ``concurrent.futures``-style executor such as Dask's) and get
what one process gets.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import nullcontext

import torch
from tqdm.auto import tqdm

from .block import (
    EVAL_STREAM,
    Block,
    available_cores,
    blocks,
    check_device,
    evaluate_block,
    is_large,
    torch_threads,
)
from .config import ModelConfig, TrainConfig
from .data import Uniforms
from .errors import ConfigError
from .experiment import Experiment
from .models import ToyModel
from .results import TrainResult, _joined, result_from_arrays
from .workers import _shares, _worker_lost, default_workers, discard_pool, local_pool

Callback = Callable[[int, ToyModel, torch.Tensor], None]

# Bump whenever a change to the trainer, the sampler or the models changes what a seed trains to (the results
# store keys its entries by it).
# 2: the Gram-matrix path only where 2n <= 5m, and equal batch chunks.
# 3: large models train their instances in groups side by side, one random stream per group.
# 4: fixed-size blocks of instances, each with its own random streams (initial weights, training and
#    evaluation batches) keyed by the seed and the block's index: the same weights however a sweep is split.
TRAINER_VERSION = 4


def _progress_enabled(train: TrainConfig) -> bool:
    return train.progress and os.environ.get("TOYMODELS_PROGRESS", "1") != "0"


def evaluate(
    model: ToyModel,
    experiment: Experiment,
    n_batches: int | None = None,
    seed: int | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Per-instance loss averaged over fresh, seeded batches (``train.eval_batches`` of them by default). A model
    with the experiment's instances is evaluated block by block on the trainer's own evaluation batches, so
    ``evaluate(result.model, experiment)`` is ``result.losses``; another model (a best-of-K one, say) as one
    block. Repeated calls agree to the last bit (each block is copied to memory of its own, aligned as in training).

    ``dtype=torch.float64`` computes the loss of the same samples in double precision: what analysis shown in the
    book uses, since float32 sums round differently on another CPU and a printed digit could change with it,
    while float64 ones differ only far below the digits shown."""
    if dtype not in (torch.float32, torch.float64):
        raise ConfigError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}")
    if model.n_instances == experiment.n_instances:
        ranges, per = blocks(experiment), "instance"
    elif model.n_instances == experiment.n_settings:
        ranges, per = [(0, model.n_instances)], "setting"
    else:
        raise ConfigError(
            f"model must have n_instances = {experiment.n_instances} (every fit) or n_settings = "
            f"{experiment.n_settings} (one per setting), got {model.n_instances}"
        )
    device = model.W.device
    probability = experiment.probability_tensor(per, device)
    importance = experiment.importance_tensor(per, device)
    seed = experiment.train.seed if seed is None else seed
    with torch_threads(experiment.train.threads or 1):
        return torch.cat(
            [
                evaluate_block(
                    model.select(range(start, stop)).to(dtype),
                    experiment,
                    probability[start:stop],
                    importance[start:stop],
                    Uniforms(seed, device, stream=(index, EVAL_STREAM)),
                    n_batches,
                )
                for index, (start, stop) in enumerate(ranges)
            ]
        )


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
        check_device(self.device)
        self.threads = experiment.train.threads or 1
        self.cores = cores or available_cores()
        ranges = blocks(experiment)
        first, stop = block_range or (0, len(ranges))
        if not 0 <= first < stop <= len(ranges):
            raise ConfigError(f"block_range must lie within the experiment's {len(ranges)} blocks, got {block_range}")
        with torch_threads(self.threads):
            self.blocks = [Block(experiment, k, *ranges[k], self.device) for k in range(first, stop)]
        self.step = 0
        self._called_back = -1  # the step of the last snapshot passed to the callback

    @property
    def model(self) -> ToyModel:
        """The trained instances of every block (a copy, unless there is one block)."""
        if len(self.blocks) == 1:
            return self.blocks[0].model
        return self._joined_model([b.model.weights() for b in self.blocks])

    def _joined_model(self, pieces: list[dict]) -> ToyModel:
        """One model from the blocks' named weights (:meth:`ToyModel.weights`), in block order."""
        joined = {name: torch.cat([piece[name] for piece in pieces]) for name in pieces[0]}
        return ToyModel.from_arrays(self.experiment.model, **joined, device=self.device)

    def _side_by_side(self) -> int:
        """Threads the blocks train on at once: one per core for large models (their operations release the GIL
        long enough), else one (tiny operations hand the GIL over too often; processes share those instead)."""
        if self.threads > 1 or self.device.type != "cpu" or not is_large(self.experiment):
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
        with torch_threads(self.threads), pool as helpers, bar:
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
        snapshots = [block.snapshots[-1] for block in self.blocks]  # (step, weights by name, loss)
        step = snapshots[0][0]
        model = self._joined_model([weights for _, weights, _ in snapshots])
        self._called_back = step
        self.callback(step, model, torch.cat([loss for _, _, loss in snapshots]))

    def evaluate(self) -> torch.Tensor:
        """Loss of each current instance on fresh evaluation batches (the same batches at every call)."""
        with torch_threads(self.threads):
            return torch.cat([block.evaluate() for block in self.blocks])

    def keep_best(self, k: int) -> None:
        """Continue with only the k lowest-loss fits of each setting (needs ``halving_steps`` set, so that
        every block holds whole settings)."""
        if not self.experiment.train.halving_steps:
            raise ConfigError("keep_best needs successive halving (halving_steps > 0): blocks then hold whole settings")
        with torch_threads(self.threads):
            for block in self.blocks:
                block.keep_best(k)

    def arrays(self) -> list[dict]:
        """Each block's final arrays (:meth:`Block.finish`)."""
        with torch_threads(self.threads):
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
        return result_from_arrays(self.experiment, _joined(self.arrays()))


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
    if not isinstance(experiment, Experiment):
        hint = (
            f" (a preset: tm.train(tm.preset({experiment!r})))"
            if isinstance(experiment, str)
            else " (wrap it: tm.Experiment(model_config, feature_probability=…))"
            if isinstance(experiment, ModelConfig)
            else ""
        )
        raise ConfigError(f"experiment must be a tm.Experiment{hint}, got {type(experiment).__name__}")
    check_device(torch.device(experiment.train.device))
    if executor is not None and callback is not None:
        raise ConfigError("callback needs training in this process: pass no executor with a callback")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ConfigError(f"workers must be a positive integer (>= 1), got {workers!r}")
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise ConfigError(
            f"executor must be a concurrent.futures.Executor (one with submit(), such as Dask's "
            f"client.get_executor()), got {type(executor).__name__}"
        )
    if executor is not None and workers is not None:
        raise ConfigError(
            f"workers={workers} applies to the local process pool; with executor=, the executor's own workers "
            "train (pass one or the other)"
        )
    n_blocks = len(blocks(experiment))
    if executor is None:
        workers = workers or default_workers(experiment, callback)
        if workers == 1 or callback is not None:
            trainer = Trainer(experiment, callback)
            _run(trainer)
            return trainer.result()
        executor = local_pool()
        # A share per block when every core of the pool may work (finer shares: the bar moves and the work
        # balances); else ``workers`` shares, so that no more than that many processes train at once.
        parts = n_blocks if workers >= available_cores() else workers
    else:
        parts = n_blocks
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise ConfigError(
            "train was called while a spawned worker process was importing the main script: put the "
            "script's top level under `if __name__ == '__main__':`, or pass workers=1"
        )
    shares = _shares(experiment, parts)
    ranges = blocks(experiment)
    futures = {executor.submit(train_blocks, experiment, first, stop): (first, stop) for first, stop in shares}
    done: dict[tuple[int, int], list[dict]] = {}
    bar = tqdm(
        total=experiment.n_instances,
        disable=not _progress_enabled(experiment.train),
        desc=f"{experiment.name} ({len(shares)} shares)",
        unit="fit",
    )
    try:
        with bar:
            for future in as_completed(futures):
                first, stop = futures[future]
                done[first, stop] = future.result()
                bar.update(ranges[stop - 1][1] - ranges[first][0])
    except BrokenProcessPool as error:
        discard_pool(executor)
        lost = [
            share
            for future, share in futures.items()
            if future.cancelled() or not future.done() or future.exception() is not None
        ]
        raise _worker_lost(experiment, lost) from error
    parts = [part for share in shares for part in done[share]]  # in block order, as they were cut
    return result_from_arrays(experiment, _joined(parts))
