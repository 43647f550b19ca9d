"""Re-training store entries and comparing them with what is stored (:func:`verify`, ``make verify`` and the
tests' reproduce step): experiments by :func:`retrain_entry`, cached kinds by :func:`recompute_cached`."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from ..errors import StoreError
from ..experiment import Experiment
from ..train import TRAINER_VERSION, Trainer, blocks, train_blocks
from ..train import train as _train
from ..workers import local_pool
from . import KINDS, ResultsStore, directories
from .checks import Check, compare, machine
from .entries import read_entry, result_arrays


def retrain_entry(path: str | os.PathLike, sample: bool = False) -> Check:
    """Re-train an entry from its own ``meta`` and :func:`compare` it with the stored arrays (bit for bit on the
    machine that wrote it, else to tolerance with the same winners and represented features): in full, or
    (``sample``) only its block with the fewest instances against that block's slice of the entry, since a block
    trains to the same bits alone as within its sweep; a sampled entry with snapshots is re-trained up to its
    first snapshot after the start and compared with it (the checkpoint of a long run)."""
    meta, stored = read_entry(Path(path))
    experiment = Experiment.from_dict(meta["experiment"]).replace(progress=False)
    kept = len(stored["losses"]) / experiment.n_instances  # fits kept per fit trained: 1 without halving
    lo, hi = 0, len(stored["losses"])
    if sample:
        ranges = blocks(experiment)
        k = min(range(len(ranges)), key=lambda i: (ranges[i][1] - ranges[i][0], -i))
        lo, hi = round(ranges[k][0] * kept), round(ranges[k][1] * kept)
        stored = {
            name: array if name == "history_steps" else array[:, lo:hi] if name.startswith("history_") else array[lo:hi]
            for name, array in stored.items()
        }
        what = f"block {k} (instances {ranges[k][0]}–{ranges[k][1] - 1} of {experiment.n_instances})"
        if len(stored.get("history_steps", ())) > 2:
            # A long run with snapshots: its first snapshot after the start serves as the checkpoint.
            step = int(stored["history_steps"][1])
            trainer = Trainer(experiment, block_range=(k, k + 1), cores=1)
            trainer.run(step)
            model = trainer.model
            fresh = {name: value.numpy() for name, value in model.weights().items()}
            stored = {name: stored[f"history_{name}"][1] for name in fresh}
            what += f", its first {step:,} of {experiment.train.steps:,} steps (to the first snapshot)"
        else:
            (part,) = train_blocks(experiment, k, k + 1)
            fresh = {name: tensor.numpy() for name, tensor in part.items()}
    else:
        fresh = result_arrays(_train(experiment))
        what = f"all {experiment.n_instances} instances"
    check = compare(meta, stored, fresh, lo, round(experiment.n_seeds * kept) if "losses" in fresh else 0)
    check.what = what
    return check


def _sample_cost(path: Path) -> float:
    """Roughly what re-training an entry's sampled block costs, in activation elements processed: from its
    ``meta`` and snapshot steps alone (the entry's arrays are read, and checked, when it is re-trained)."""
    try:
        with np.load(path, allow_pickle=False) as entry:
            experiment = Experiment.from_dict(json.loads(str(entry["meta"]))["experiment"])
            steps = entry["history_steps"] if "history_steps" in entry.files else ()
    except Exception:  # unreadable: retrain_entry reports it
        return 0.0
    size = min(stop - start for start, stop in blocks(experiment))
    steps = int(steps[1]) if len(steps) > 2 else experiment.train.steps
    n, m = experiment.model.n_features, experiment.model.n_hidden
    return size * (n + m) * n * experiment.train.batch_size * steps


def _timed_retrain(path: Path, sample: bool) -> tuple[Check, float]:
    start = time.perf_counter()
    return retrain_entry(path, sample), time.perf_counter() - start


def verify(
    directory: str | os.PathLike | None = None,
    sample: bool = False,
    echo=print,
    details: bool = False,
    only: tuple[str, ...] = (),
) -> int:
    """:func:`retrain_entry` for every entry of the store in ``directory`` (default: the book's), or those whose
    file names start with one of ``only``, a line each passed to ``echo`` saying in which mode it was compared (bit
    for bit on the machine that wrote it, else to tolerance); ``details``: also every array's relative
    difference. Returns the number of entries that are unreadable or differ (or 1 if none was compared). Sampled
    blocks train side by side in the local process pool; a full entry spreads its own blocks over it."""

    def chosen(paths: list[Path]) -> list[Path]:
        return [path for path in paths if not only or path.name.startswith(tuple(only))]

    directory = directory if directory is not None else directories.book_directory()
    if directory is None:
        raise StoreError("results store: no directory given and no checkout of the book here (book/results)")

    entries = chosen(ResultsStore(directory, "use").entries())
    start, failures, modes = time.perf_counter(), 0, []
    if sample:
        # The costliest first, so that the pool's processes finish together.
        futures = {
            path: local_pool().submit(_timed_retrain, path, True)
            for path in sorted(entries, key=_sample_cost, reverse=True)
        }
        outcomes = [futures[path].result for path in entries]
    else:
        outcomes = [lambda path=path: _timed_retrain(path, False) for path in entries]
    for path in chosen(ResultsStore(directory, "use").cached_entries()):
        entries.append(path)
        outcomes.append(lambda path=path: _timed_recompute(path, sample))
    for path, outcome in zip(entries, outcomes):
        try:
            check, seconds = outcome()
            verdict = check.summary()
            modes.append(check.mode)
        except Exception as error:  # unreadable, corrupt, or not an experiment's entry
            check, seconds = Check("", "", failed=["?"]), 0.0
            verdict = f"FAILED: {type(error).__name__}: {error}"
        failures += bool(check.failed)
        echo(f"{path.name}: {check.what}: {verdict} ({seconds:.0f} s)")
        if details and check.differences:
            echo("    " + ", ".join(f"{name} {value:.1e}" for name, value in check.differences.items()))
    counts = ", ".join(f"{modes.count(mode)} {mode}" for mode in ("bit for bit", "to tolerance") if mode in modes)
    echo(
        f"{len(entries) - failures} of {len(entries)} entries hold ({counts or 'none compared'}) "
        f"in {time.perf_counter() - start:.0f} s "
        f"({'one block each' if sample else 'in full'}; trainer v{TRAINER_VERSION}; this machine: "
        f"{machine()['cpu']}, ATen {machine()['aten']}, torch {machine()['torch']})"
    )
    return failures + (not entries)


def recompute_cached(path: str | os.PathLike, sample: bool = False) -> Check:
    """Recompute a cached entry from its own spec (importing the module that registers its kind) and
    :func:`compare` it with the stored arrays (bit for bit on the machine that wrote it, else to tolerance): in
    full, or (``sample``) the cheap part its kind names."""
    import importlib

    meta, stored = read_entry(Path(path))
    importlib.import_module(meta["module"])
    kind = KINDS[meta["kind"]]
    if meta.get("version") != kind.version:
        raise StoreError(f"results store: {path} is stale (version {meta.get('version')}, now {kind.version})")
    # What the kind loads from the store (a toy model, say) comes from the store that holds this entry.
    previous = directories._DIRECTORY, directories._REMOTE
    directories._DIRECTORY, directories._REMOTE = Path(path).resolve().parent.parent, None
    try:
        if sample and kind.sample is not None:
            what, fresh, stored = kind.sample(meta["spec"], stored)
        else:
            what, fresh = "in full", kind.compute(meta["spec"])
    finally:
        directories._DIRECTORY, directories._REMOTE = previous
    check = compare(meta, stored, fresh)
    check.what = what
    return check


def _timed_recompute(path: Path, sample: bool) -> tuple[Check, float]:
    start = time.perf_counter()
    return recompute_cached(path, sample), time.perf_counter() - start
