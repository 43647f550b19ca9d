"""The results store: trained experiments kept as plain arrays, so that reading a chapter never re-trains it.

An entry is one ``.npz`` file (NumPy arrays only, loaded with ``allow_pickle=False``) named after the
experiment and its key: a hash of every field that decides the result and of the trainer's version
(:data:`toymodels.train.TRAINER_VERSION`). It holds the trained weights, the final losses, which fit each
instance is, the training history if one was kept, and a ``meta`` record: the key, the experiment's fields
(so that the entry can be re-trained from the store alone), the machine it was trained on (:func:`machine`) and a
SHA-256 checksum of the arrays. Entries are written atomically (a temporary file renamed into place); one whose
checksum, key or layout does not hold is corrupt and never trusted.

:meth:`ResultsStore.train` is ``train`` through the store. Its ``mode`` says what it may do:

* ``"use"``: load, never train; a missing, stale (another trainer version) or corrupt entry raises
  :class:`StoreError`, which names the experiment and the command that regenerates it. The book's tests run so.
* ``"update"``: load valid entries, train and write the others (the default; ``make execute``).
* ``"retrain"``: train and write every entry afresh (``make execute RETRAIN=1``).
* ``"off"``: train, neither read nor write (fast mode in CI).

:func:`train` uses the store in use (:func:`default_directory`): a user's results go to
:func:`user_directory` (``$TOYMODELS_STORE_DIR``, else ``~/.cache/toymodels``) or where :func:`set_directory`
says, never into a checkout of the repository unless asked; the chapters call :func:`use_book_store` in their
set-up cell, which makes the book's committed ``book/results`` the store (in Colab, a cache into which the entries
are fetched from the repository). The mode is ``$TOYMODELS_STORE`` (default ``"update"``). :func:`save` and
:func:`load` keep one result at a path of the user's choosing, in the same format.

:func:`verify` re-trains entries and compares them with the store: **bit for bit** on a machine with the
entry's fingerprint (same CPU model, torch kernels and torch version: a seed trains to the same bits there), and
**to tolerance** elsewhere, since another CPU rounds its float32 sums in another order and training carries those
last-bit differences along: each array's relative difference must stay within :data:`TOLERANCE`, measured on
Intel and AMD machines and under ``ATEN_CPU_CAPABILITY=default``, and the conclusions a chapter draws from the
entry (which fit wins each setting, which features are represented) must be the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from pathlib import Path

import numpy as np

from ..errors import ConfigError, StoreError, StoreWarning
from ..experiment import Experiment
from ..results import TrainResult, result_from_arrays
from ..train import TRAINER_VERSION
from ..train import train as _train

MODES = ("use", "update", "retrain", "off")
REGENERATE = "make execute"  # the command that trains missing or stale entries and re-executes the chapters

from . import directories  # noqa: E402, F401  (tm.store.directories; it reads MODES, defined above)
from .checks import MAX_OTHER_PATHS, TOLERANCE, Check, compare, machine, relative_difference  # noqa: E402
from .directories import (  # noqa: E402
    _fetch,
    _fetches_into,
    book_directory,
    default_directory,
    default_mode,
    remote_url,
    repository_url,
    set_directory,
    use_book_store,
    user_directory,
)
from .entries import (  # noqa: E402
    _entry,
    _slug,
    _write_arrays,
    checksum,
    key_fields,
    load,
    read_entry,
    result_arrays,
    save,
    store_key,
)


class ResultsStore:
    """Trained experiments in ``directory`` (see the module's text for the ``mode``)."""

    def __init__(self, directory: str | os.PathLike | None = None, mode: str | None = None) -> None:
        self.directory = Path(directory).expanduser() if directory is not None else default_directory()
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
        if not path.exists() and _fetches_into(self.directory):
            _fetch(path.name, path)
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
        path = self.path(experiment)
        _write_arrays(path, *_entry(experiment, result))
        return path

    def train(self, experiment: Experiment, **options) -> TrainResult:
        """``toymodels.train(experiment, **options)`` through the store, as its mode allows."""
        self._log(experiment)
        if self.mode == "off":
            return _train(experiment, **options)
        if self.mode == "use":
            return self.load(experiment)
        if self.mode == "update" and (self.path(experiment).exists() or _fetches_into(self.directory)):
            try:
                return self.load(experiment)
            except StoreError:
                pass  # missing, corrupt or unreadable: recomputed below, never trusted
        result = _train(experiment, **options)
        try:
            self.save(experiment, result)
        except StoreError as error:  # a read-only folder, a full disk, a diverged fit: the result is kept
            warnings.warn(
                f"results store: {experiment.name!r} was trained but not stored at {self.path(experiment)} "
                f"({error}); the result is returned. Choose a writable store with tm.store.set_directory(path) "
                "or $TOYMODELS_STORE_DIR, or keep it with tm.save(result, path)",
                StoreWarning,
                stacklevel=2,
            )
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
    """Train ``experiment`` through the store in use (:func:`default_directory`: the user's store unless
    :func:`set_directory` or :func:`use_book_store` chose another; mode ``$TOYMODELS_STORE``): a second call
    loads what the first trained. What the chapters call for their heavy runs."""
    return ResultsStore().train(experiment, **options)


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
    if not path.exists() and _fetches_into(path.parent.parent):
        _fetch(f"{kind}/{path.name}", path)
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
        "machine": machine(),
        "checksum": checksum(arrays),
    }
    try:
        _write_arrays(path, meta, arrays)
    except StoreError as error:
        warnings.warn(f"{error}; the {kind} arrays of {name!r} are returned, not stored", StoreWarning, stacklevel=2)
    return arrays


from .verify import recompute_cached, retrain_entry, verify  # noqa: E402

__all__ = [
    "MODES",
    "REGENERATE",
    "ResultsStore",
    "train",
    "StoreError",
    "StoreWarning",
    "save",
    "load",
    "user_directory",
    "set_directory",
    "default_directory",
    "book_directory",
    "repository_url",
    "remote_url",
    "use_book_store",
    "default_mode",
    "key_fields",
    "store_key",
    "checksum",
    "read_entry",
    "result_arrays",
    "machine",
    "TOLERANCE",
    "MAX_OTHER_PATHS",
    "Check",
    "compare",
    "relative_difference",
    "Kind",
    "KINDS",
    "register_kind",
    "cached_key",
    "cached_path",
    "cached_arrays",
    "retrain_entry",
    "recompute_cached",
    "verify",
]
