"""The results store: trained experiments kept as plain arrays, so that reading a chapter never re-trains it.

An entry is one ``.npz`` file (NumPy arrays only, loaded with ``allow_pickle=False``) named after the
experiment and its key: a hash of every field that decides the result and of the trainer's version
(:data:`toymodels.train.TRAINER_VERSION`). It holds the trained weights, the final losses, which fit each
instance is, the training history if one was kept, and a ``meta`` record: the key, the experiment's fields
(so that the entry can be re-trained from the store alone), the CPU kernels it was trained with and a SHA-256
checksum of the arrays. Entries are written atomically (a temporary file renamed into place); one whose
checksum, key or layout does not hold is corrupt and never trusted.

:meth:`ResultsStore.train` is ``train`` through the store. Its ``mode`` says what it may do:

* ``"use"``: load, never train; a missing, stale (another trainer version) or corrupt entry raises
  :class:`StoreError`, which names the experiment and the command that regenerates it. The book's tests run so.
* ``"update"``: load valid entries, train and write the others (the default; ``make execute``).
* ``"retrain"``: train and write every entry afresh (``make execute RETRAIN=1``).
* ``"off"``: train, neither read nor write (fast mode in CI).

The chapters call :func:`train`, which uses the book's store (``book/results`` in the repository, or
``$TOYMODELS_STORE_DIR``) in the mode ``$TOYMODELS_STORE`` (default ``"update"``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from .config import ConfigError, Experiment
from .train import TRAINER_VERSION, Trainer, TrainResult, blocks, local_pool, result_from_arrays, train_blocks
from .train import train as _train

MODES = ("use", "update", "retrain", "off")
REGENERATE = "make execute"  # the command that trains missing or stale entries and re-executes the chapters
# Fields that change nothing the trainer computes, left out of the key.
_NOT_IN_KEY = ("progress",)
# Fields added to Experiment after entries were written, left out of the key while they hold their default (which
# is how those entries were trained), so that adding a field does not make the whole store stale.
_IN_KEY_UNLESS_DEFAULT = {"attack_fraction": [0.0]}
# The same for fields of the model, data and train configurations: (group, field) -> default.
_GROUP_FIELD_IN_KEY_UNLESS_DEFAULT = {("model", "activation"): "relu"}


class StoreError(RuntimeError):
    """A store entry is missing, stale or corrupt where it must be used as it is."""


def key_fields(experiment: Experiment) -> dict:
    """The fields that decide an experiment's result, as plain JSON (``Experiment.from_dict`` reads them back):
    its ``to_dict`` without what does not change the weights (``progress``) and without fields added later while
    they hold their default. A stable description of an experiment for other keys (chapter 9's SAE sweeps)."""
    fields = experiment.to_dict()
    for name in _NOT_IN_KEY:
        fields["train"].pop(name)
    for name, default in _IN_KEY_UNLESS_DEFAULT.items():
        if fields[name] == default:
            fields.pop(name)
    for (group, name), default in _GROUP_FIELD_IN_KEY_UNLESS_DEFAULT.items():
        if fields[group].get(name) == default:
            fields[group].pop(name)
    return fields


def store_key(experiment: Experiment) -> str:
    """A stable hash of everything that decides the result: the experiment's fields and the trainer's version."""
    text = json.dumps({"trainer_version": TRAINER_VERSION, "experiment": key_fields(experiment)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:48] or "experiment"


def checksum(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over the arrays' names, dtypes, shapes and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def result_arrays(result: TrainResult) -> dict[str, np.ndarray]:
    """A result as named NumPy arrays (what an entry stores besides its ``meta``)."""
    model = result.model
    tensors = {"W": model.W, "b": model.b, "W_out": model.W_out, "losses": result.losses, "seeds": result.seeds}
    if result.history is not None:
        tensors.update({f"history_{name}": value for name, value in vars(result.history).items()})
    return {name: tensor.detach().cpu().numpy() for name, tensor in tensors.items() if tensor is not None}


def read_entry(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """An entry's ``meta`` and arrays, after checking its checksum; :class:`StoreError` if it cannot be read
    or the checksum does not hold."""
    try:
        with np.load(path, allow_pickle=False) as entry:
            arrays = {name: entry[name] for name in entry.files}
        meta = json.loads(str(arrays.pop("meta")))
    except Exception as error:  # truncated, not a zip, no meta, a pickled array ...
        raise StoreError(f"results store: {path} is unreadable ({type(error).__name__}: {error})") from error
    if meta.get("checksum") != checksum(arrays):
        raise StoreError(f"results store: {path} is corrupt (its arrays do not match their checksum)")
    return meta, arrays


def default_directory() -> Path:
    """The book's store: ``$TOYMODELS_STORE_DIR``, else ``book/results`` beside the package in a checkout of
    the repository, else ``~/.cache/toymodels``."""
    if os.environ.get("TOYMODELS_STORE_DIR"):
        return Path(os.environ["TOYMODELS_STORE_DIR"])
    book = Path(__file__).resolve().parents[1] / "book"
    return book / "results" if book.is_dir() else Path.home() / ".cache" / "toymodels"


def default_mode() -> str:
    mode = os.environ.get("TOYMODELS_STORE", "update")
    if mode not in MODES:
        raise ConfigError(f"TOYMODELS_STORE must be one of {', '.join(map(repr, MODES))}; got {mode!r}")
    return mode


class ResultsStore:
    """Trained experiments in ``directory`` (see the module's text for the ``mode``)."""

    def __init__(self, directory: str | os.PathLike | None = None, mode: str | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_directory()
        self.mode = mode or default_mode()
        if self.mode not in MODES:
            raise ConfigError(f"mode must be one of {', '.join(map(repr, MODES))}; got {self.mode!r}")

    def path(self, experiment: Experiment) -> Path:
        return self.directory / f"{_slug(experiment.name)}-{store_key(experiment)}.npz"

    def entries(self) -> list[Path]:
        return sorted(self.directory.glob("*.npz"))

    def load(self, experiment: Experiment) -> TrainResult:
        """The stored result of ``experiment``; :class:`StoreError` (naming the experiment and how to regenerate
        it) if the entry is missing, stale or corrupt."""
        path = self.path(experiment)
        if not path.exists():
            others = [p.name for p in self.directory.glob(f"{_slug(experiment.name)}-*.npz")]
            stale = f"; entries of another trainer version or setting are there: {', '.join(others)}" if others else ""
            raise StoreError(
                f"results store: no entry for {experiment.name!r} (trainer v{TRAINER_VERSION}, key "
                f"{store_key(experiment)}) in {self.directory}{stale}. Regenerate it with `{REGENERATE}`."
            )
        try:
            meta, arrays = read_entry(path)
            if meta.get("key") != store_key(experiment):
                raise StoreError(f"results store: {path} holds another experiment (key {meta.get('key')})")
            return result_from_arrays(experiment, arrays)
        except (StoreError, ConfigError, KeyError) as error:
            raise StoreError(f"{error}. Regenerate {experiment.name!r} with `{REGENERATE}`.") from error

    def save(self, experiment: Experiment, result: TrainResult) -> Path:
        """Write the entry of ``experiment`` atomically: readers see the old entry or the whole new one. A result
        with non-finite weights or losses (a diverged fit) is refused with a :class:`StoreError`, never stored."""
        arrays = result_arrays(result)
        finite = np.ones(len(arrays["losses"]), dtype=bool)  # per fit: weights, bias and loss all finite
        for name in ("W", "b", "losses"):
            finite &= np.isfinite(arrays[name].reshape(len(finite), -1)).all(axis=1)
        diverged = np.flatnonzero(~finite).tolist()
        if diverged:
            raise StoreError(
                f"results store: {experiment.name!r} has non-finite weights or losses in {len(diverged)} of "
                f"{len(arrays['losses'])} fits (instances {diverged[:8]}{' …' if len(diverged) > 8 else ''}): "
                "training diverged (lower lr?); nothing was written"
            )
        meta = {
            "key": store_key(experiment),
            "trainer_version": TRAINER_VERSION,
            "experiment": experiment.to_dict(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "torch": torch.__version__,
            "checksum": checksum(arrays),
        }
        path = self.path(experiment)
        _write_arrays(path, meta, arrays)
        return path

    def train(self, experiment: Experiment, **options) -> TrainResult:
        """``toymodels.train(experiment, **options)`` through the store, as its mode allows."""
        self._log(experiment)
        if self.mode == "off":
            return _train(experiment, **options)
        if self.mode == "use":
            return self.load(experiment)
        if self.mode == "update" and self.path(experiment).exists():
            try:
                return self.load(experiment)
            except StoreError:
                pass  # corrupt or unreadable: recomputed below, never trusted
        result = _train(experiment, **options)
        self.save(experiment, result)
        return result

    def _log(self, experiment: Experiment) -> None:
        """Note the entry in ``$TOYMODELS_STORE_LOG``, if set: ``make execute`` prunes the entries no chapter used."""
        log = os.environ.get("TOYMODELS_STORE_LOG")
        if log:
            with open(log, "a") as file:
                file.write(self.path(experiment).name + "\n")

    def prune(self, keep: set[str]) -> list[Path]:
        """Delete the entries whose file names are not in ``keep``; returns them. Cached entries of other kinds
        (:func:`cached_arrays`) are named in ``keep`` as ``kind/file name``."""
        removed = [path for path in self.entries() if path.name not in keep]
        removed += [path for path in self.cached_entries() if f"{path.parent.name}/{path.name}" not in keep]
        for path in removed:
            path.unlink()
        return removed

    def cached_entries(self) -> list[Path]:
        """Entries of other kinds (:func:`cached_arrays`), in the sub-folders named after their kinds."""
        return sorted(self.directory.glob("*/*.npz"))


def train(experiment: Experiment, **options) -> TrainResult:
    """Train ``experiment`` through the book's store (:func:`default_directory`, mode ``$TOYMODELS_STORE``):
    what the chapters call for their heavy runs."""
    return ResultsStore().train(experiment, **options)


def retrain_entry(path: str | os.PathLike, sample: bool = False) -> tuple[str, list[str]]:
    """Re-train an entry from its own ``meta`` and compare it with the stored arrays, bit for bit: in full, or
    (``sample``) only its block with the fewest instances against that block's slice of the entry, since a block
    trains to the same bits alone as within its sweep; a sampled entry with snapshots is re-trained up to its
    first snapshot after the start and compared with it (the checkpoint of a long run). Returns what was
    re-trained and the names of the arrays that differ (empty: equal)."""
    meta, stored = read_entry(Path(path))
    experiment = Experiment.from_dict(meta["experiment"]).replace(progress=False)
    if sample:
        ranges = blocks(experiment)
        k = min(range(len(ranges)), key=lambda i: (ranges[i][1] - ranges[i][0], -i))
        kept = len(stored["losses"]) / experiment.n_instances  # fits kept per fit trained: 1 without halving
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
            fresh = {
                name: getattr(model, name).detach().numpy()
                for name in ("W", "b", "W_out")
                if getattr(model, name) is not None
            }
            stored = {name: stored[f"history_{name}"][1] for name in fresh}
            what += f", its first {step:,} of {experiment.train.steps:,} steps (to the first snapshot)"
        else:
            (part,) = train_blocks(experiment, k, k + 1)
            fresh = {name: tensor.numpy() for name, tensor in part.items()}
    else:
        fresh = result_arrays(_train(experiment))
        what = f"all {experiment.n_instances} instances"
    differ = [
        name
        for name in sorted(set(stored) | set(fresh))
        if name not in stored or name not in fresh or not np.array_equal(stored[name], fresh[name])
    ]
    return what, differ


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


def _timed_retrain(path: Path, sample: bool) -> tuple[str, list[str], float]:
    start = time.perf_counter()
    return (*retrain_entry(path, sample), time.perf_counter() - start)


def verify(directory: str | os.PathLike | None = None, sample: bool = False, echo=print) -> int:
    """:func:`retrain_entry` for every entry of the store in ``directory`` (default: the book's), a line each
    passed to ``echo``; returns the number of entries that are unreadable or differ. Sampled blocks train side by
    side in the local process pool; a full entry spreads its own blocks over it."""
    entries = ResultsStore(directory, "use").entries()
    start, failures = time.perf_counter(), 0
    if sample:
        # The costliest first, so that the pool's processes finish together.
        futures = {
            path: local_pool().submit(_timed_retrain, path, True)
            for path in sorted(entries, key=_sample_cost, reverse=True)
        }
        outcomes = [futures[path].result for path in entries]
    else:
        outcomes = [lambda path=path: _timed_retrain(path, False) for path in entries]
    for path in ResultsStore(directory, "use").cached_entries():
        entries.append(path)
        outcomes.append(lambda path=path: _timed_recompute(path, sample))
    for path, outcome in zip(entries, outcomes):
        try:
            what, differ, seconds = outcome()
            verdict = f"DIFFERS in {', '.join(differ)}" if differ else "equal"
        except Exception as error:  # unreadable, corrupt, or not an experiment's entry
            what, differ, seconds, verdict = "", ["?"], 0.0, f"FAILED: {type(error).__name__}: {error}"
        failures += bool(differ)
        echo(f"{path.name}: {what}: {verdict} ({seconds:.0f} s)")
    echo(
        f"{len(entries) - failures} of {len(entries)} entries equal, bit for bit, "
        f"in {time.perf_counter() - start:.0f} s "
        f"({'one block each' if sample else 'in full'}; trainer v{TRAINER_VERSION})"
    )
    return failures + (not entries)


# --- Cached arrays of other kinds ------------------------------------------------------------------------------
# Some chapters keep runs that are not toy-model experiments (chapter 9's SAE sweeps). They live in a sub-folder of
# the store named after their kind, as checksummed ``.npz`` files written atomically, keyed by a hash of their
# ``spec`` (a JSON-able dict that decides the arrays, e.g. the toy model's experiment and every protocol field)
# and the kind's version. A kind is registered by the module that computes it (:func:`register_kind`); the entry's
# meta names that module, so :func:`verify` can import it and recompute the entry from its spec alone (``sample``:
# a cheap part of it, as the store re-trains one block). ``make execute`` prunes them like experiments.


class Kind:
    """A registered kind: ``compute(spec)`` gives the arrays; ``sample(spec, stored)`` (optional) recomputes a
    cheap part and returns ``(what, fresh arrays, the stored arrays they must equal)``."""

    def __init__(self, module: str, version: int, compute, sample=None) -> None:
        self.module, self.version, self.compute, self.sample = module, version, compute, sample


KINDS: dict[str, Kind] = {}


def register_kind(kind: str, module: str, version: int, compute, sample=None) -> None:
    """Register ``kind`` (a folder name: lowercase letters, digits and hyphens), computed by ``module``."""
    if not re.fullmatch(r"[a-z0-9-]+", kind):
        raise ConfigError(f"kind must be lowercase letters, digits and hyphens, got {kind!r}")
    KINDS[kind] = Kind(module, version, compute, sample)


def cached_key(kind: str, spec: dict) -> str:
    text = json.dumps({"kind": kind, "version": KINDS[kind].version, "spec": spec}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def cached_path(kind: str, name: str, spec: dict, directory: str | os.PathLike | None = None) -> Path:
    directory = Path(directory) if directory is not None else default_directory()
    return directory / kind / f"{_slug(name)}-{cached_key(kind, spec)}.npz"


def _write_arrays(path: Path, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write an entry atomically (a temporary file, then a rename): readers see the old entry or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, meta=np.array(json.dumps(meta, sort_keys=True)), **arrays)
        os.chmod(temporary, 0o644)  # mkstemp's file is private; an entry is for everyone to read
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def cached_arrays(kind: str, name: str, spec: dict, compute=None, mode: str | None = None) -> dict[str, np.ndarray]:
    """The arrays of ``kind`` for ``spec`` through the book's store, as ``mode`` (default ``$TOYMODELS_STORE``)
    allows: ``use`` loads (a missing, stale or corrupt entry raises :class:`StoreError`), ``update`` loads or
    computes and writes, ``retrain`` computes and writes, ``off`` computes. ``compute()`` (default: the kind's
    ``compute(spec)``) must give what the kind's own function gives for ``spec``, bit for bit."""
    if kind not in KINDS:
        raise ConfigError(f"unknown kind {kind!r}; registered: {', '.join(sorted(KINDS)) or 'none'}")
    mode = mode or default_mode()
    compute = compute or (lambda: KINDS[kind].compute(spec))
    if mode == "off":
        return compute()
    path = cached_path(kind, name, spec)
    log = os.environ.get("TOYMODELS_STORE_LOG")
    if log:
        with open(log, "a") as file:
            file.write(f"{kind}/{path.name}\n")
    if mode in ("use", "update") and path.exists():
        try:
            meta, arrays = read_entry(path)
            if meta.get("key") == cached_key(kind, spec):
                return arrays
            raise StoreError(f"results store: {path} holds another {kind} entry (key {meta.get('key')})")
        except StoreError as error:
            if mode == "use":
                raise StoreError(f"{error}. Regenerate {name!r} with `{REGENERATE}`.") from error
    if mode == "use":
        raise StoreError(
            f"results store: no {kind} entry for {name!r} (v{KINDS[kind].version}, key {cached_key(kind, spec)}) "
            f"at {path}. Regenerate it with `{REGENERATE}`."
        )
    arrays = compute()
    meta = {
        "key": cached_key(kind, spec),
        "kind": kind,
        "module": KINDS[kind].module,
        "version": KINDS[kind].version,
        "spec": spec,
        "torch": torch.__version__,
        "checksum": checksum(arrays),
    }
    _write_arrays(path, meta, arrays)
    return arrays


def recompute_cached(path: str | os.PathLike, sample: bool = False) -> tuple[str, list[str]]:
    """Recompute a cached entry from its own spec (importing the module that registers its kind) and compare it
    with the stored arrays, bit for bit: in full, or (``sample``) the cheap part its kind names."""
    import importlib

    meta, stored = read_entry(Path(path))
    importlib.import_module(meta["module"])
    kind = KINDS[meta["kind"]]
    if meta.get("version") != kind.version:
        raise StoreError(f"results store: {path} is stale (version {meta.get('version')}, now {kind.version})")
    # What the kind loads from the store (a toy model, say) comes from the store that holds this entry.
    previous = os.environ.get("TOYMODELS_STORE_DIR")
    os.environ["TOYMODELS_STORE_DIR"] = str(Path(path).resolve().parent.parent)
    try:
        if sample and kind.sample is not None:
            what, fresh, stored = kind.sample(meta["spec"], stored)
        else:
            what, fresh = "in full", kind.compute(meta["spec"])
    finally:
        if previous is None:
            os.environ.pop("TOYMODELS_STORE_DIR")
        else:
            os.environ["TOYMODELS_STORE_DIR"] = previous
    differ = [
        name
        for name in sorted(set(stored) | set(fresh))
        if name not in stored or name not in fresh or not np.array_equal(stored[name], fresh[name])
    ]
    return what, differ


def _timed_recompute(path: Path, sample: bool) -> tuple[str, list[str], float]:
    start = time.perf_counter()
    return (*recompute_cached(path, sample), time.perf_counter() - start)
