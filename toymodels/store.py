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
import platform
import re
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import torch

from .config import Experiment
from .errors import ConfigError, StoreError, StoreWarning
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


@cache
def machine() -> dict[str, str]:
    """This machine, as far as it decides the bits a seed trains to: the CPU (vendor, model name, family, model
    and stepping), torch's CPU kernels (the ATen capability, which ``$ATEN_CPU_CAPABILITY`` can lower) and torch's
    version. Recorded in every entry; :func:`verify` compares bit for bit only where it is the same."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                name, _, value = line.partition(":")
                fields.setdefault(name.strip(), value.strip())
                if not line.strip():
                    break  # the first processor's record is enough
    except OSError:
        pass
    cpu = " ".join(fields.get(name, "") for name in ("vendor_id", "model name")).strip() or platform.processor()
    numbers = ", ".join(f"{name} {fields[name]}" for name in ("cpu family", "model", "stepping") if name in fields)
    return {
        "cpu": f"{cpu} ({numbers})" if numbers else cpu or platform.machine(),
        "aten": torch.backends.cpu.get_cpu_capability(),
        "torch": torch.__version__,
    }


# How a re-training on another machine is judged (:func:`compare`). Another CPU's kernels change float32 results in
# their last bit (~6e-8); training carries the difference along, and where a fit's dynamics are unstable (between
# two geometries, under an L1 penalty, over a long run) it can end in another local minimum. So each fit (instance)
# is compared on its own: its weights relative to max(1, its largest stored weight) — 1 being the norm of a
# represented feature, so that a fit whose weights all decayed to ~0 is not judged on noise — and its loss relative
# to the compared fits' largest loss. A fit within TOLERANCE agrees; one beyond it took another path. An entry
# holds if at most MAX_OTHER_PATHS of its fits took another path and the conclusions the chapters draw hold: each
# setting's best-of-K loss within TOLERANCE["best loss"] (relative to the compared fits' largest loss), and the
# same features represented in every fit that agrees. A changed seed, sampler or schedule moves every fit
# (differences 0.1 to 1), so it still fails. Measured with tools/verify_store.py --sample on an AMD EPYC (its
# AVX-512 kernels, and ATEN_CPU_CAPABILITY=default) against the 60 entries written on an Intel Xeon (AVX2): at most
# 1.7e-2 in a fit's weights, 9.6e-4 in a fit's loss, 5.3e-3 in a best-of-K loss, and 14 of 25 fits on another
# path (the asymmetric motif search, the least stable); each tolerance is about three times that (README).
TOLERANCE = {"weights": 5e-2, "losses": 3e-3, "best loss": 2e-2}
MAX_OTHER_PATHS = 0.9  # measured at most 14 of 25 (56 %); a changed trainer moves every fit
_EXACT_KINDS = "biu"  # integer and boolean arrays (seeds, counts): no kernel rounds them, compared exactly


def _is_loss(name: str) -> bool:
    return "loss" in name


def relative_difference(stored: np.ndarray, fresh: np.ndarray) -> float:
    """max |fresh − stored| / max |stored| in float64 (0: equal; inf: another shape, or NaN where the other has
    none): the size of a difference, as :func:`verify` prints it."""
    stored, fresh = np.asarray(stored), np.asarray(fresh)
    if stored.shape != fresh.shape:
        return float("inf")
    if np.array_equal(stored, fresh, equal_nan=stored.dtype.kind == "f"):
        return 0.0
    stored, fresh = stored.astype(np.float64), fresh.astype(np.float64)
    if not np.array_equal(np.isnan(stored), np.isnan(fresh)):
        return float("inf")
    finite = ~np.isnan(stored)
    scale = np.abs(stored[finite]).max(initial=0.0)
    difference = np.abs(fresh[finite] - stored[finite]).max(initial=0.0)
    return difference / scale if scale > 0 else float("inf")


@dataclass
class Check:
    """What re-computing an entry found: ``what`` was recomputed; ``mode`` is ``"bit for bit"`` (on the machine
    that wrote the entry) or ``"to tolerance"`` (elsewhere); ``differences``: each array's
    :func:`relative_difference`; ``other_paths``: the fits that took another path (to tolerance); ``failed``: what
    does not hold (empty: the entry holds)."""

    what: str
    mode: str
    differences: dict[str, float] = field(default_factory=dict)
    other_paths: tuple[int, int] = (0, 0)  # (fits beyond the weight tolerance, fits compared)
    failed: list[str] = field(default_factory=list)
    written_on: str = ""  # the CPU that wrote the entry, as its record names it
    # To tolerance: the largest difference, in the units of TOLERANCE, of a fit's weights and loss among the fits
    # that took the same path, and of a setting's best-of-K loss.
    measured: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: the verdict, in which mode, and the largest differences."""
        if self.failed:
            return f"DIFFERS ({self.mode}) in {'; '.join(self.failed)}"
        if self.mode == "bit for bit":
            return "equal, bit for bit"
        other, fits = self.other_paths
        paths = f"; {other} of {fits} fits took another path" if other else ""
        measured = ", ".join(f"{name} {value:.1e}" for name, value in self.measured.items())
        return f"within tolerance of {self.written_on}'s ({measured}{paths}; same conclusions)"


def _per_fit(name: str, array: np.ndarray) -> np.ndarray:
    """An array with the fits on its first axis, as float64: snapshots (``history_*``) carry them on the second."""
    array = np.asarray(array, dtype=np.float64)
    return np.moveaxis(array, 1, 0) if name.startswith("history_") else array


def compare(
    meta: dict, stored: dict[str, np.ndarray], fresh: dict[str, np.ndarray], first: int = 0, fits: int = 0
) -> Check:
    """Compare recomputed arrays with stored ones (every array with one row per fit on its first axis, or its
    second for snapshots): bit for bit if this machine is the one that wrote the entry (``meta["machine"]``), else
    to tolerance (:data:`TOLERANCE`, the comment above it). ``first``: the entry's index of the arrays' first fit;
    ``fits``: fits per setting (0: the arrays hold no settings, no best-of-K to check). Returns a :class:`Check`
    without ``what``."""
    same_machine = meta.get("machine") == machine()
    written_on = meta.get("machine", {}).get("cpu", "an unrecorded machine")
    check = Check("", "bit for bit" if same_machine else "to tolerance", written_on=written_on)
    names = sorted(set(stored) | set(fresh))
    for name in names:
        if name not in stored or name not in fresh:
            check.failed.append(f"{name} (only in the {'store' if name in stored else 'recomputation'})")
        else:
            check.differences[name] = relative_difference(stored[name], fresh[name])
            if same_machine and not _bit_equal(stored[name], fresh[name]):
                check.failed.append(f"{name} (relative difference {check.differences[name]:.1e})")
    if same_machine:
        return check
    check.failed += [
        f"{name} (shape {np.shape(stored[name])} in the store, {np.shape(fresh[name])} recomputed)"
        for name in check.differences
        if np.shape(stored[name]) != np.shape(fresh[name])
    ]
    if check.failed:
        return check
    exact = [name for name in names if np.asarray(stored[name]).dtype.kind in _EXACT_KINDS or name == "history_steps"]
    check.failed += [f"{name} (not equal)" for name in exact if not np.array_equal(stored[name], fresh[name])]
    weights = [name for name in names if name not in exact and not _is_loss(name)]
    if not weights:
        return check
    # Each fit's weights relative to max(1, its largest stored weight).
    stored_w = {name: _per_fit(name, stored[name]) for name in weights}
    stored_w = {name: array.reshape(len(array), -1) for name, array in stored_w.items()}
    fresh_w = {name: _per_fit(name, fresh[name]).reshape(len(stored_w[name]), -1) for name in weights}
    scale = np.maximum(1.0, np.max([np.abs(w).max(1) for w in stored_w.values()], axis=0))
    apart = np.max([np.abs(fresh_w[name] - stored_w[name]).max(1) for name in weights], axis=0) / scale
    other = apart > TOLERANCE["weights"]
    if np.isnan(apart).any():
        check.failed.append("weights (NaN where the store has none, or the reverse)")
    for name in [name for name in names if _is_loss(name) and name not in exact]:
        other |= _fit_loss_differences(stored[name], fresh[name], name) > TOLERANCE["losses"]
    check.other_paths = (int(other.sum()), len(other))
    check.measured["weights"] = float(apart[~other].max(initial=0.0))
    if loss_names := [name for name in names if _is_loss(name) and name not in exact]:
        check.measured["losses"] = max(
            float(_fit_loss_differences(stored[name], fresh[name], name)[~other].max(initial=0.0))
            for name in loss_names
        )
    if other.mean() > MAX_OTHER_PATHS:
        check.failed.append(
            f"{other.sum()} of {len(other)} fits beyond the tolerance (weights {apart.max():.1e} > "
            f"{TOLERANCE['weights']:.0e}): more than {MAX_OTHER_PATHS:.0%} of them, not another CPU's rounding"
        )
    check.failed += _changed_conclusions(stored, fresh, other, first, fits, check.measured)
    return check


def _fit_loss_differences(stored: np.ndarray, fresh: np.ndarray, name: str) -> np.ndarray:
    """Each fit's largest loss difference, relative to the largest stored loss of the compared fits."""
    old, new = _per_fit(name, stored), _per_fit(name, fresh)
    old, new = old.reshape(len(old), -1), new.reshape(len(new), -1)
    return np.abs(new - old).max(1) / max(np.abs(old).max(), 1e-30)


def _changed_conclusions(
    stored: dict, fresh: dict, other: np.ndarray, first: int, fits: int, measured: dict | None = None
) -> list[str]:
    """What a chapter concludes from an experiment's arrays that differs between two machines' runs: the best-of-K
    loss of a setting (beyond ``TOLERANCE["best loss"]`` of the compared fits' largest loss) and which features
    are represented, ‖W_i‖ > 0.5, in a fit that took the same path (``other`` False; unless a norm is within the
    weight tolerance of 0.5). ``first``: the entry's index of the arrays' first fit; ``fits``: fits per setting
    (0: no settings). ``measured["best loss"]`` gets the largest change of a best-of-K loss."""
    changed = []
    if fits and "losses" in stored:
        losses, new = stored["losses"].astype(np.float64), fresh["losses"].astype(np.float64)
        scale = max(np.abs(losses).max(), 1e-30)  # as the fits' losses: a loss of ~0 is not judged on its own
        for start in range(-first % fits, len(losses) - fits + 1, fits):  # the settings wholly in the arrays
            best, new_best = losses[start : start + fits].min(), new[start : start + fits].min()
            if measured is not None:
                measured["best loss"] = max(measured.get("best loss", 0.0), abs(new_best - best) / scale)
            if abs(new_best - best) > TOLERANCE["best loss"] * scale:
                setting = (first + start) // fits
                changed.append(f"best-of-{fits} loss of setting {setting}: {best:.4g} → {new_best:.4g}")
    if "W" in stored and np.asarray(stored["W"]).ndim == 3:
        norms = [np.linalg.norm(arrays["W"].astype(np.float64), axis=-2) for arrays in (stored, fresh)]
        flipped = ((norms[0] > 0.5) != (norms[1] > 0.5)) & (np.abs(norms[0] - 0.5) > TOLERANCE["weights"])
        for fit in np.flatnonzero(flipped.any(-1) & ~other)[:4]:
            before, after = int((norms[0][fit] > 0.5).sum()), int((norms[1][fit] > 0.5).sum())
            changed.append(f"features represented in fit {first + fit}: {before} → {after}")
    return changed


def _bit_equal(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def result_arrays(result: TrainResult) -> dict[str, np.ndarray]:
    """A result as named NumPy arrays (what an entry stores besides its ``meta``)."""
    model = result.model
    tensors = {"W": model.W, "b": model.b, "W_out": model.W_out, "losses": result.losses, "seeds": result.seeds}
    if result.history is not None:
        tensors.update({f"history_{name}": value for name, value in vars(result.history).items()})
    return {name: tensor.detach().cpu().numpy() for name, tensor in tensors.items() if tensor is not None}


def _entry(experiment: Experiment, result: TrainResult) -> tuple[dict, dict[str, np.ndarray]]:
    """A result's ``meta`` and arrays as an entry holds them; a :class:`StoreError` if a fit diverged."""
    if not isinstance(result, TrainResult):
        raise ConfigError(f"result must be a TrainResult (tm.train), got {type(result).__name__}")
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
        "machine": machine(),
        "checksum": checksum(arrays),
    }
    return meta, arrays


def save(result: TrainResult, path: str | os.PathLike) -> Path:
    """Write one result to ``path`` (``.npz`` is appended if it is missing), in the store's format: plain arrays
    and a JSON record of the experiment, checksummed, written atomically; :func:`load` reads it back on any
    machine. Returns the path written."""
    if not isinstance(path, (str, os.PathLike)):
        raise ConfigError(f"path must be a file path (str or pathlib.Path), got {type(path).__name__}")
    path = Path(path).expanduser()
    path = path if path.suffix == ".npz" else path.with_name(path.name + ".npz")
    _write_arrays(path, *_entry(getattr(result, "experiment", None), result))
    return path


def load(path: str | os.PathLike) -> TrainResult:
    """The result :func:`save` wrote to ``path`` (or any store entry), after checking its checksum; a
    :class:`StoreError` naming the path if it cannot be read or holds no result."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise StoreError(f"results store: no file at {path}")
    meta, arrays = read_entry(path)
    try:
        return result_from_arrays(Experiment.from_dict(meta["experiment"]), arrays)
    except (ConfigError, KeyError) as error:
        raise StoreError(f"results store: {path} does not hold a result ({error})") from error


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


# Where results go. A user's experiments go to a user location, never into a checkout of the repository unless
# asked; the book's chapters use the book's committed store (``use_book_store``, in each chapter's set-up cell).
_DIRECTORY: Path | None = None  # set by set_directory / use_book_store; None: user_directory()
_REMOTE: str | None = None  # where missing entries of the current store may be fetched from (the book's, online)


def user_directory() -> Path:
    """Where results go unless told otherwise: ``$TOYMODELS_STORE_DIR``, else ``$XDG_CACHE_HOME/toymodels``,
    else ``~/.cache/toymodels``."""
    if os.environ.get("TOYMODELS_STORE_DIR"):
        return Path(os.environ["TOYMODELS_STORE_DIR"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "toymodels"


def set_directory(directory: str | os.PathLike | None) -> Path:
    """Use ``directory`` as this process's store (what :func:`train` and ``ResultsStore()`` use); ``None`` goes
    back to :func:`user_directory`. Returns the directory now in use."""
    global _DIRECTORY, _REMOTE
    _DIRECTORY = Path(directory).expanduser() if directory is not None else None
    _REMOTE = None
    return default_directory()


def default_directory() -> Path:
    """The store in use: the one :func:`set_directory` or :func:`use_book_store` chose, else
    :func:`user_directory`."""
    return _DIRECTORY if _DIRECTORY is not None else user_directory()


def book_directory() -> Path | None:
    """The book's committed store, ``book/results`` of a checkout of the repository: the one the package was
    installed from (editable), else one that the working directory is in (its root or its ``book/``); ``None``
    elsewhere (a wheel in a scratch directory, Colab)."""
    here = Path.cwd()
    for root in (Path(__file__).resolve().parents[1], here, here.parent):
        if (root / "_toc.yml").is_file() and (root / "book" / "results").is_dir():
            return root / "book" / "results"
    return None


def repository_url() -> str | None:
    """The public repository, from the package's metadata (``[project.urls] Repository`` in ``pyproject.toml``,
    the one setting, which the book's extension reads too; a test checks that they agree): ``None`` while it is
    unset."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        urls = metadata("toymodels").get_all("Project-URL") or []
    except PackageNotFoundError:
        return None
    found = [url.split(",", 1)[1].strip() for url in urls if url.split(",", 1)[0].strip().lower() == "repository"]
    return found[0] if found else None


def remote_url() -> str | None:
    """Where the book's entries can be fetched one by one: ``$TOYMODELS_STORE_URL``, else the raw files of
    ``book/results`` on the main branch of :func:`repository_url` (on GitHub); ``None`` when neither is set."""
    if os.environ.get("TOYMODELS_STORE_URL"):
        return os.environ["TOYMODELS_STORE_URL"].rstrip("/")
    match = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?", repository_url() or "")
    return f"https://raw.githubusercontent.com/{match[1]}/{match[2]}/main/book/results" if match else None


def use_book_store() -> Path:
    """Make the book's stored results this process's store (each chapter's set-up cell calls it): the committed
    ``book/results`` in a checkout (:func:`book_directory`); elsewhere (Colab, a wheel) a cache folder,
    ``user_directory() / "book"``, into which each entry a chapter needs is fetched from :func:`remote_url` and
    checked (checksum and key) before use. Without a checkout or a remote, a :class:`StoreWarning` says that the
    chapters will train. Returns the directory in use."""
    global _REMOTE
    found = book_directory()
    if found is not None:
        return set_directory(found)
    directory = set_directory(user_directory() / "book")
    _REMOTE = remote_url()
    if _REMOTE is None:
        warnings.warn(
            "the book's stored results are not here (no checkout of the repository) and no repository URL is set "
            f"($TOYMODELS_STORE_URL): the chapters will train their runs at paper fidelity into {directory}, "
            "which can take hours on a laptop (a chapter's parameter fast = True takes minutes)",
            StoreWarning,
            stacklevel=2,
        )
    return directory


def _fetches_into(directory: Path) -> bool:
    """Whether missing entries of the store in ``directory`` may be fetched: it is the one :func:`use_book_store`
    chose, and that found a remote."""
    return _REMOTE is not None and directory == _DIRECTORY


def _fetch(relative: str, path: Path) -> bool:
    """Fetch the entry ``relative`` (``name.npz`` or ``kind/name.npz``) of the remote store into ``path``; True if
    it arrived (it is checked when read). A failure (offline, not there) is a :class:`StoreWarning`, not an
    error: the entry is then missing as before."""
    import urllib.error
    import urllib.request

    url = f"{_REMOTE}/{relative}"
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            data = response.read()
        _write_bytes(path, data)
        return True
    except (urllib.error.URLError, OSError, ValueError) as error:
        warnings.warn(f"results store: could not fetch {url} ({error})", StoreWarning, stacklevel=3)
        return False


def default_mode() -> str:
    mode = os.environ.get("TOYMODELS_STORE", "update")
    if mode not in MODES:
        raise ConfigError(f"TOYMODELS_STORE must be one of {', '.join(map(repr, MODES))}; got {mode!r}")
    return mode


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

    directory = directory if directory is not None else book_directory()
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
    _write_atomically(path, lambda file: np.savez(file, meta=np.array(json.dumps(meta, sort_keys=True)), **arrays))


def _write_bytes(path: Path, data: bytes) -> None:
    _write_atomically(path, lambda file: file.write(data))


def _write_atomically(path: Path, write) -> None:
    """``write(file)`` into a temporary file beside ``path``, then a rename: readers see the old file or the whole
    new one; nothing is left behind if it fails. A folder that cannot be written is a :class:`StoreError` naming
    it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    except OSError as error:
        raise StoreError(f"results store: cannot write into {path.parent} ({error.strerror or error})") from error
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
        os.chmod(temporary, 0o644)  # mkstemp's file is private; an entry is for everyone to read
        os.replace(temporary, path)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):  # a full disk, say
            raise StoreError(f"results store: could not write {path} ({error.strerror or error})") from error
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
    global _DIRECTORY, _REMOTE
    previous = _DIRECTORY, _REMOTE
    _DIRECTORY, _REMOTE = Path(path).resolve().parent.parent, None
    try:
        if sample and kind.sample is not None:
            what, fresh, stored = kind.sample(meta["spec"], stored)
        else:
            what, fresh = "in full", kind.compute(meta["spec"])
    finally:
        _DIRECTORY, _REMOTE = previous
    check = compare(meta, stored, fresh)
    check.what = what
    return check


def _timed_recompute(path: Path, sample: bool) -> tuple[Check, float]:
    start = time.perf_counter()
    return recompute_cached(path, sample), time.perf_counter() - start
