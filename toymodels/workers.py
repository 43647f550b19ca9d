"""The workers a sweep trains on: this process's pool of worker processes (:func:`local_pool`), how many a sweep
gets by default (:func:`default_workers`), how its blocks are cut into shares (:func:`_shares`), and the error that
names what a lost worker took with it."""

from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import Executor, ProcessPoolExecutor

import numpy as np
import torch

from .block import available_cores, blocks, is_large
from .errors import ConfigError, WorkerLost
from .experiment import Experiment

# ``train`` splits a sweep across a local process pool only when it has at least this many activation
# elements to process in all (instances · features · batch · steps; about 10 s on one core): below it, the
# pool's start (a few seconds, once per process) and hand-over cost more than they save.
_POOL_MIN_ELEMENTS = 3 * 10**9


_POOL: ProcessPoolExecutor | None = None


def local_pool() -> ProcessPoolExecutor:
    """This process's pool of worker processes, one per core, started once and reused (spawned, not forked:
    a forked copy of a process that has run torch's thread pools can deadlock). The workers ignore Ctrl-C, which
    a terminal or a Jupyter kernel's shutdown sends to the whole process group: this process stops them."""
    global _POOL
    if _POOL is None:
        _POOL = ProcessPoolExecutor(
            available_cores(),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=signal.signal,
            initargs=(signal.SIGINT, signal.SIG_IGN),
        )
    return _POOL


def default_workers(experiment: Experiment, callback=None) -> int:
    """How many local worker processes :func:`train` uses when not told: ``$TOYMODELS_WORKERS`` if set, else
    one per core for a CPU sweep of a small model with several blocks and enough work to repay the pool, else 1
    (this process: a large model's blocks train side by side on threads there, 1.1× faster than in processes
    at n=400, m=30)."""
    if os.environ.get("TOYMODELS_WORKERS"):
        value = os.environ["TOYMODELS_WORKERS"]
        if not value.strip().isdigit() or int(value) < 1:
            raise ConfigError(
                f"$TOYMODELS_WORKERS must be a positive integer (>= 1, or unset: automatic), got {value!r}"
            )
        return int(value)
    config = experiment.train
    work = experiment.n_instances * experiment.model.n_features * config.batch_size * config.steps
    if (
        callback is not None
        or torch.device(config.device).type != "cpu"
        or work < _POOL_MIN_ELEMENTS
        or is_large(experiment)
    ):  # a large model's blocks already train side by side on threads
        return 1
    return max(1, min(available_cores(), len(blocks(experiment))))


def _shares(experiment: Experiment, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous block ranges holding near-equal numbers of instances."""
    ranges = blocks(experiment)
    ends = np.cumsum([stop - start for start, stop in ranges])
    # Cut after the block whose end is nearest to each k/parts of the instances.
    cuts = [0] + [int(np.abs(ends - ends[-1] * k / parts).argmin()) + 1 for k in range(1, parts)] + [len(ranges)]
    cuts = sorted(set(cuts))
    return [(a, b) for a, b in zip(cuts[:-1], cuts[1:]) if a < b]


def _worker_lost(experiment: Experiment, lost: list[tuple[int, int]]) -> WorkerLost:
    """The :class:`~toymodels.errors.WorkerLost` for the shares ``lost`` (ranges of block indices): the message
    names the settings and instances whose results were lost."""
    ranges = blocks(experiment)
    instances: list[tuple[int, int]] = []
    for first, stop in sorted(lost):  # adjacent shares as one range of instances
        start, end = ranges[first][0], ranges[stop - 1][1]
        if instances and instances[-1][1] == start:
            instances[-1] = (instances[-1][0], end)
        else:
            instances.append((start, end))
    settings = sorted({i // experiment.n_seeds for start, stop in instances for i in range(start, stop)})
    labels = [experiment.setting_labels[s] or f"setting {s}" for s in settings]
    return WorkerLost(
        f"a worker process died while training {experiment.name!r}: lost {len(settings)} of "
        f"{experiment.n_settings} settings ({', '.join(labels[:4])}{' …' if len(labels) > 4 else ''}; "
        f"instances {', '.join(f'{a}–{b - 1}' for a, b in instances)}). Out of memory, killed, or a script "
        "without `if __name__ == '__main__':` whose spawned workers re-ran it? Pass workers=1 to train here"
    )


def discard_pool(executor: Executor) -> None:
    """Forget :func:`local_pool`'s pool if it is ``executor`` (a broken pool takes no more work: the next call
    starts a new one)."""
    global _POOL
    if executor is _POOL:
        _POOL = None
