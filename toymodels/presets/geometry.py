"""Presets of §4–§5 (chapters 4–5): uniform, non-uniform and correlated superposition, and the learning dynamics."""

from __future__ import annotations

import numpy as np

from ..config import DataConfig, ModelConfig
from ..experiment import Experiment, log_densities
from .base import _train


def uniform_densities(fast: bool = False) -> np.ndarray:
    """Densities of the uniform sweep: 1/(1−S) log-spaced from 1 to 6, where D* falls from 1 through the
    tetrahedra and triangles to the digons' ½ plateau and past it (14 points), then 10, 25 and 100 for the
    sparse end, where the D_i stop sitting on polytope lines (fast: 6 points from 1 to 100)."""
    if fast:
        return log_densities(1.0, 0.01, 6)
    return 1.0 / np.concatenate([np.geomspace(1.0, 6.0, 14), [10.0, 25.0, 100.0]])


def uniform(fast: bool = False, notebook_size: bool = False) -> Experiment:
    """§4: uniform superposition, n=400, m=30, I=1 (NB: n=200, m=20), 1/(1−S) from 1 to 100."""
    n, m = (200, 20) if notebook_size else (400, 30)
    return Experiment(
        ModelConfig(n_features=n, n_hidden=m),
        feature_probability=uniform_densities(fast),
        importance=1.0,
        # Book's choice, for the book's time budget: 15k steps (the notebook's 10k and half again), one fit per
        # density, snapshots to show how the geometry sharpens with training.
        train=_train(fast, steps=15_000, fast_steps=1_000, snapshot_every=2_500 if not fast else 500),
        name=f"Uniform superposition, n={n}, m={m}",
    )


def non_uniform(fast: bool = False) -> Experiment:
    """§4: five features in 2-D at density 0.05, one feature's density varied (pentagon → two digons).
    Book's choices: the varied density from 0.005 to 0.2 (the threshold, ≈ 0.013 here, lies well inside);
    10k steps (20k gave the same classes, and losses within 0.1 %); the best of 10 fits, compared by
    ``tm.geometry.fit_losses`` (``tm.geometry.non_uniform_sweep``)."""
    varied = np.geomspace(0.005, 0.2, 8 if fast else 20)
    probability = np.full((varied.size, 5), 0.05)
    probability[:, 0] = varied
    return Experiment(
        ModelConfig(n_features=5, n_hidden=2),
        feature_probability=probability,
        importance=1.0,
        n_seeds=3 if fast else 10,  # paper: fit several times, keep the lowest loss
        train=_train(fast),
        name="Non-uniform sparsity: feature 0's density varied",
    )


def correlated(
    correlation: str = "correlated",
    n_sets: int = 2,
    set_size: int = 2,
    n_hidden: int = 2,
    density=0.05,
    fast: bool = False,
) -> Experiment:
    """§4.4: sets of correlated or anticorrelated features (the paper's sampling convention, ``toymodels.data``).
    ``density`` is a set's 1 − S: an anticorrelated set has one active feature, so each feature's own density is
    density / set_size. Best of 10 fits (paper: "several models"), compared by ``tm.geometry.set_sweep``."""
    n = n_sets * set_size
    return Experiment(
        ModelConfig(n_features=n, n_hidden=n_hidden),
        feature_probability=density,
        importance=1.0,
        n_seeds=3 if fast else 10,
        data=DataConfig(correlation=correlation, set_size=set_size),
        train=_train(fast),
        name=f"{n_sets} {correlation} sets of {set_size} in {n_hidden} dimensions",
    )


def pca_sweep(fast: bool = False) -> Experiment:
    """§4.4: three correlated pairs in 2-D, swept density: how many pairs collapse to their principal component.
    Book's range: 0.01 to 0.8. At density 1 a set is always active and its values are independent, so the
    features are not correlated at all (within-set correlation (1 − p)/(4/3 − p)) and nothing collapses."""
    return correlated(n_sets=3, set_size=2, n_hidden=2, density=log_densities(0.01, 0.8, 8 if fast else 16), fast=fast)


def energy_levels(fast: bool = False) -> Experiment:
    """§5: per-feature dimensionality jumping during training, in the paper's setting: "the problem setup we
    studied when investigating the geometry of uniform superposition" (n=400, m=30, importance 1), at a density
    where "all the features converge into digons" (book's choice 1/(1−S) = 3, the middle of chapter 4's digon
    plateau, 2.29–3.46); the notebook's training (Xavier, batches of 1024, AdamW at 10⁻³), 10k steps with
    snapshots every 50, 4 seeds. The jumps happen within the first ~3k steps. ``tm.dynamics.energy_level_grid``
    varies it."""
    return Experiment(
        ModelConfig(n_features=400, n_hidden=30),
        feature_probability=round(1 / 3, 4),
        importance=1.0,
        n_seeds=2 if fast else 4,
        train=_train(fast, steps=10_000, snapshot_every=50),
        name="Learning dynamics: n=400, m=30, 1−S = 0.333",
    )


def geometric_transformations(fast: bool = False) -> Experiment:
    """§5: two sets of three correlated features in 3-D, with snapshots (book's density choice 0.05). Book's
    choices: the small initialisation (Xavier × 0.1), from which early training is PCA-like as the paper says
    (from full Xavier the sets start already spread out), and 20 seeds for the frequencies of the paths."""
    return correlated(n_sets=2, set_size=3, n_hidden=3, density=0.05, fast=fast).replace(
        n_seeds=4 if fast else 20,
        init="small",
        snapshot_every=50,
        name="Learning dynamics: 2 correlated sets of 3 in 3-D",
    )


def geometric_transformations_live(fast: bool = False) -> Experiment:
    """§5's live widget: one fit of the 6 → 3 model with snapshots, retrained on demand for a chosen seed."""
    return geometric_transformations(fast).replace(n_seeds=1, progress=False, name="Learning dynamics, live: 6 → 3")
