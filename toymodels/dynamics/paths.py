"""Chapter 5's energy-level runs in the results store: each learned feature's dimensionality path and the loss of
every snapshot, without the weights.

A run with snapshots of W every 50 steps is heavy (at the paper's n = 400, m = 30: 48 kB a snapshot, 9.6 MB a fit
over 10,000 steps), and the jump detector reads only two things from it: the D_i path of every learned feature and
the loss of every snapshot on common samples. The store's ``energy-levels`` kind keeps exactly those, keyed by the
experiment (:func:`energy_level_run`): the steps, the loss (n_snapshots, n_fits), the learned features
(n_fits, n) and per fit ``D<f>``, the paths of its learned features (n_snapshots, k_f) in float32, which is far
finer than the ±0.03 bands the detector reads. Its reproduce-check sample re-trains the run to its first snapshot
after the start and compares the paths and the loss there (a long run's checkpoint, as for experiments).
"""

from __future__ import annotations

import numpy as np

from .. import store
from ..errors import ConfigError
from ..experiment import Experiment
from ..presets import preset
from ..train import train
from .analysis import LEVEL_NORM, EnergyLevels, dimensionality_paths, levels_from_paths
from .tables import _history, snapshot_losses

KIND = "energy-levels"
KIND_VERSION = 1


def _paths(experiment: Experiment) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Train ``experiment``; its snapshot steps, D of every feature (T, n_fits, n), the snapshot losses on common
    samples (T, n_fits) and the final feature norms (n_fits, n)."""
    result = train(experiment)
    steps, W, _ = _history(result)
    D, norms = dimensionality_paths(W)
    return steps, D, snapshot_losses(result), norms


def _arrays(spec: dict) -> dict[str, np.ndarray]:
    steps, D, loss, norms = _paths(Experiment.from_dict(spec))
    learned = norms >= LEVEL_NORM
    arrays = {"steps": steps.astype(np.int64), "loss": loss, "learned": learned}
    for f in range(D.shape[1]):
        arrays[f"D{f}"] = D[:, f, learned[f]].astype(np.float32)
    return arrays


def _sample(spec: dict, stored: dict) -> tuple[str, dict, dict]:
    """Re-train to the first snapshot after the start; compare D of the stored learned features and the loss."""
    experiment = Experiment.from_dict(spec)
    every = experiment.train.snapshot_every
    _, D, loss, _ = _paths(experiment.replace(steps=every))
    learned = stored["learned"]
    fresh = {"loss": loss[:2]} | {f"D{f}": D[:2, f, learned[f]].astype(np.float32) for f in range(D.shape[1])}
    part = {name: stored[name][:2] for name in fresh}
    return f"its first {every:,} of {experiment.train.steps:,} steps (to the first snapshot)", fresh, part


store.register_kind(KIND, __name__, KIND_VERSION, _arrays, _sample)


def energy_level_run(experiment: Experiment, **options) -> EnergyLevels:
    """The jumps of ``experiment`` (a run with snapshots) through the results store's ``energy-levels`` kind:
    trained once, its D paths and snapshot losses kept; ``options`` go to :func:`levels_from_paths`."""
    if experiment.train.snapshot_every <= 0:
        raise ConfigError(f"{experiment.name!r} keeps no snapshots: give it snapshot_every > 0")
    arrays = store.cached_arrays(KIND, experiment.name, store.key_fields(experiment))
    learned = np.asarray(arrays["learned"], dtype=bool)
    fits, n = learned.shape
    D = np.zeros((arrays["steps"].size, fits, n))
    for f in range(fits):
        D[:, f, learned[f]] = arrays[f"D{f}"]
    return levels_from_paths(arrays["steps"], D, arrays["loss"], learned, **options)


# 1/(1−S) across chapter 4's plateau of digons for n = 400, m = 30 (D* within 0.03 of 1/2 from 2.29 to 3.46)
DIGON_PLATEAU = (2.29, 3.0, 3.46)


def energy_level_grid(fast: bool = False) -> tuple[Experiment, ...]:
    """The paper's setting (the ``energy_levels`` preset, 1/(1−S) = 3) and a small grid around it: the density
    across the digons' plateau; batches of 64 instead of 1024 and the small initialisation (Xavier × 0.1), alone and
    together; and the smaller model the public replications that see jumps use (n = 100, m = 20, 1−S = 0.3,
    small initialisation, batches of 64). Fast: the paper's setting and the smaller model."""
    paper = preset("energy_levels", fast=fast)

    def cell(**changes) -> Experiment:
        e = paper.replace(**changes)
        size = f"n={e.model.n_features}, m={e.model.n_hidden}"
        label = f"{size}, 1−S = {e.density_per_setting()[0]:.3g}, {e.model.init} init, batch {e.train.batch_size}"
        return e.replace(name=f"Energy levels: {label}")

    smaller = dict(n_features=100, n_hidden=20, feature_probability=0.3, importance=1.0, init="small", batch_size=64)
    if fast:
        return paper, cell(**smaller)
    others = (cell(feature_probability=round(1 / r, 4)) for r in DIGON_PLATEAU if r != 3.0)
    return (
        paper,
        *others,
        cell(batch_size=64),
        cell(init="small"),
        cell(init="small", batch_size=64),
        cell(**smaller),
    )
