"""Grids of settings over (relative importance r, density s): how the presets lay them out and how an experiment
is read back as one, and the protocol check that discards a grid point's worst fits. Chapters 3 and 10 both
train such grids (the phase diagrams).

A grid is *r-major*: setting ``i_r * len(s) + i_s`` has importance [1, …, 1, r[i_r]] and density s[i_s] for every
feature, the densest first.
"""

from __future__ import annotations

import numpy as np

from .errors import ConfigError
from .experiment import Experiment


def r_major(relative_importance, density) -> tuple[np.ndarray, np.ndarray]:
    """Flatten an (r, s) grid into settings, r-major: setting = i_r * len(s) + i_s."""
    r, s = np.meshgrid(relative_importance, density, indexing="ij")
    return r.ravel(), s.ravel()


def grid_axes(experiment: Experiment) -> tuple[np.ndarray, np.ndarray]:
    """(relative importances r, densities s) of an experiment whose settings are the r-major grid of the two, with
    importance [1, …, 1, r] and one density for all features (as the presets build it), else a ConfigError."""
    importance = experiment.importance_tensor(per="setting").numpy().astype(np.float64)
    density = experiment.probability_tensor(per="setting").numpy().astype(np.float64)
    r = np.unique(importance[:, -1])
    s = np.unique(density[:, 0])[::-1]  # dense first, as the presets order them
    r_grid, s_grid = np.meshgrid(r, s, indexing="ij")
    if (
        len(r) * len(s) != experiment.n_settings
        or not np.allclose(importance[:, :-1], 1.0)
        or not np.allclose(density, density[:, :1])
        or not np.allclose(importance[:, -1], r_grid.ravel(), rtol=1e-6)
        or not np.allclose(density[:, 0], s_grid.ravel(), rtol=1e-6)
    ):
        raise ConfigError(
            "experiment must be a phase-change grid: settings ordered r-major over (relative importance r, "
            "density s), importance [1, ..., 1, r] and one density per setting (see tm.preset('phase_change_2'))"
        )
    return r, s


def check_discard_worst(discard_worst, fits_per_point: int) -> None:
    """The protocol's number of highest-loss fits to discard at each point: an integer in [0, fits − 1]."""
    k = fits_per_point
    integer = isinstance(discard_worst, (int, np.integer)) and not isinstance(discard_worst, bool)
    if not integer or not 0 <= discard_worst < k:
        raise ConfigError(
            f"discard_worst must be an integer in [0, {k - 1}] (fits per point: {k}), got {discard_worst!r}"
        )
