"""An entry of the store: its key (the experiment's fields and the trainer's version), its arrays and ``meta``
record, checksummed and written atomically; :func:`save` and :func:`load` for one result at a path of one's own."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from ..errors import ConfigError, StoreError
from ..experiment import Experiment
from ..results import TrainResult, result_from_arrays
from ..train import TRAINER_VERSION
from .checks import machine

# Fields that change nothing the trainer computes, left out of the key.
_NOT_IN_KEY = ("progress",)


# Fields added to Experiment after entries were written, left out of the key while they hold their default (which
# is how those entries were trained), so that adding a field does not make the whole store stale.
_IN_KEY_UNLESS_DEFAULT = {"attack_fraction": [0.0]}


# The same for fields of the model, data and train configurations: (group, field) -> default.
_GROUP_FIELD_IN_KEY_UNLESS_DEFAULT = {
    ("model", "activation"): "relu",
    ("model", "hidden_bias"): False,
    ("model", "decoder_init"): "random",
    ("data", "importance_when"): "always",
    ("train", "warmup_steps"): 0,
    ("train", "decay_biases"): True,
    ("train", "min_lr_fraction"): 0.0,
}


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
    tensors = {**model.weights(), "losses": result.losses, "seeds": result.seeds}
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


def _write_arrays(path: Path, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write an entry atomically (a temporary file, then a rename): readers see the old entry or the whole new one.
    Compressed: an entry's record holds its experiment, whose per-feature densities are long as JSON text (1,000
    features × 8 settings: 0.8 MB uncompressed); np.load reads compressed and uncompressed entries alike."""
    _write_atomically(
        path, lambda file: np.savez_compressed(file, meta=np.array(json.dumps(meta, sort_keys=True)), **arrays)
    )


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
