"""A disk cache for heavy training runs, keyed by the experiment and the trainer's version.

``cached_train(experiment, directory)`` returns what ``train(experiment)`` would, loading it from
``directory`` when an entry for exactly this experiment and this ``TRAINER_VERSION`` exists. Entries are
written atomically (a temporary file renamed into place), and an entry that cannot be read or does not
match its key is recomputed, never trusted.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import torch

from .config import Experiment
from .models import ToyModel
from .train import History, TrainResult, train

# Bump whenever a change to the trainer, the sampler or the models changes what a seed trains to.
# 2: the Gram-matrix path only where 2n <= 5m, and equal batch chunks.
# 3: large models train their instances in groups side by side, one random stream per group.
TRAINER_VERSION = 3


def cache_key(experiment: Experiment) -> str:
    """A stable hash of everything that determines the result: the experiment (its repr lists every field,
    nested configs included) and the trainer's version."""
    text = f"toymodels trainer v{TRAINER_VERSION}\n{experiment!r}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _save(result: TrainResult, key: str, path: Path) -> None:
    payload = {
        "key": key,
        "state": {name: tensor.detach().cpu() for name, tensor in result.model.state_dict().items()},
        "losses": result.losses.cpu(),
        "seeds": None if result.seeds is None else result.seeds.cpu(),
        "history": None if result.history is None else vars(result.history),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(payload, file)
        os.replace(temporary, path)  # atomic: readers see the old entry or the whole new one
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _load(experiment: Experiment, key: str, path: Path) -> TrainResult | None:
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if payload["key"] != key:
            return None
        device = torch.device(experiment.train.device)
        state = payload["state"]
        model = ToyModel(experiment.model, state["W"].shape[0], device=device)
        model.load_state_dict(state)
        history = None if payload["history"] is None else History(**payload["history"])
        seeds = None if payload["seeds"] is None else payload["seeds"].to(device)
        return TrainResult(experiment, model, payload["losses"].to(device), history, seeds)
    except Exception:  # unreadable, truncated or of another layout: recompute
        return None


def default_directory() -> Path:
    """Where cached runs go by default: ``$TOYMODELS_CACHE``, else ``~/.cache/toymodels``."""
    return Path(os.environ.get("TOYMODELS_CACHE") or Path.home() / ".cache" / "toymodels")


def cached_train(experiment: Experiment, directory: str | os.PathLike | None = None) -> TrainResult:
    """``train(experiment)``, through a cache in ``directory`` (default: :func:`default_directory`; no
    callbacks: a cached run has none)."""
    key = cache_key(experiment)
    path = Path(directory or default_directory()) / f"{key}.pt"
    if path.exists():
        result = _load(experiment, key, path)
        if result is not None:
            return result
    result = train(experiment)
    _save(result, key, path)
    return result
