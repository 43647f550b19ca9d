"""Presets of §1–§3 (chapters 1–3): the introduction's 5 → 2 model, the basic results' sweep and the phase change."""

from __future__ import annotations

import numpy as np

from ..config import ModelConfig
from ..errors import ConfigError
from ..experiment import Experiment, importance_decay, log_densities
from ..grids import r_major
from .base import BASIC_SWEEP, _train


def intro(fast: bool = False) -> Experiment:
    """§1: five features in two dimensions, I_i = 0.9^i, at the opening figure's three sparsities."""
    return Experiment(
        ModelConfig(n_features=5, n_hidden=2),
        feature_probability=(1.0, 0.2, 0.1),  # sparsity 0 %, 80 %, 90 %
        importance=importance_decay(5, 0.9),
        n_seeds=3 if fast else 10,  # book's choice: best of 10 fits, as "several" in the paper
        train=_train(fast),
        name="5 features in 2 dimensions",
    )


def intro_sweep(fast: bool = False) -> Experiment:
    """§1: the same model over a fine sparsity sweep (NB: p = 20^−linspace(0, 1, 10), here finer)."""
    return intro(fast).replace(
        feature_probability=log_densities(1.0, 0.05, 8 if fast else 24), n_seeds=2 if fast else 5
    )


def intro_live(fast: bool = False) -> Experiment:
    """§1 for a live slider: one setting retrained on demand in a fraction of a second. Book's choice: the best
    of 8 fits of 1,500 steps of batch 256 at a 10× larger learning rate (1e-2), selected on 64 evaluation batches
    (16,384 samples), reach the geometry of the full protocol at 0, 80 and 90 % sparsity (tests/test_display.py;
    18 of 18 for seeds 0–5). Batch 256 halves the time of batch 1024 (the step's fixed cost remains); fewer steps
    (1,000, or 800 at lr 2e-2) missed 1–2 of the 18. With 3 fits and 4 evaluation batches, 80 % often gave a
    pentagon: its loss is within 8 % of the antipodal pairs' and so few samples cannot tell them apart."""
    return intro(fast).replace(
        feature_probability=0.1,
        n_seeds=8,
        batch_size=256,
        eval_batches=64,
        steps=1_500,
        lr=1e-2,
        progress=False,
        name="5 features in 2 dimensions (live)",
    )


def intro_browser(fast: bool = False) -> Experiment:
    """§1 for the static book's live slider, trained in the reader's browser by the JavaScript trainer
    (``tm.intro.browser_intro``): one update must stay under half a second on a slow machine. Book's choice: the
    best of 8 fits of 1,000 steps at the live preset's batch (256), learning rate (1e-2) and 64 evaluation batches
    gave the full protocol's geometry at 0, 80 and 90 % sparsity for 59 of 60 seeds (0–19; one pentagon at 80 %,
    whose loss is close to the antipodal pairs'); the best of 6 gave 57, of 8 fits of 1,500 steps 18 of 18 but
    in 0.28 s instead of 0.2 s (Node, this machine). tests/js/outcomes.test.js checks the dense and 90 % ends.
    ``fast`` changes nothing: the browser trains it, not the notebook."""
    return intro_live(fast).replace(steps=1_000, name="5 features in 2 dimensions (live, in the browser)")


def basic(kind: str = "relu_output", n_features: int = 20, n_hidden: int = 5, decay: float = 0.7, fast: bool = False):
    return Experiment(
        ModelConfig(n_features=n_features, n_hidden=n_hidden, kind=kind),
        feature_probability=BASIC_SWEEP,
        importance=importance_decay(n_features, decay),
        n_seeds=1 if fast else 3,  # book's choice: the paper shows one fit; best of 3 removes unlucky ones
        train=_train(fast),
        name=f"{'Linear' if kind == 'linear' else 'ReLU output'} model, n={n_features}, m={n_hidden}",
    )


def phase_change(n_features: int = 2, fast: bool = False) -> Experiment:
    """§3: relative importance r of the last ("extra") feature against density, 10 fits per cell.
    n=2, m=1 or n=3, m=2; the others have importance 1."""
    if n_features not in (2, 3):
        raise ConfigError(f"n_features must be 2 or 3 for the phase-change presets, got {n_features!r}")
    size = 8 if fast else 16  # book's choice: 16×16 at paper fidelity (2,560 fits of 10k steps, ~2–4 minutes)
    r, p = r_major(np.geomspace(0.1, 10, size), np.geomspace(1.0, 0.01, size))
    importance = np.ones((r.size, n_features))
    importance[:, -1] = r
    return Experiment(
        ModelConfig(n_features=n_features, n_hidden=n_features - 1),
        feature_probability=p,
        importance=importance,
        n_seeds=3 if fast else 10,  # paper: 10 models per point, the worst discarded
        train=_train(fast, steps=10_000, fast_steps=1_500),
        name=f"Phase change, n={n_features}, m={n_features - 1}",
        setting_labels=tuple(f"r = {ri:.3g}, 1−S = {pi:.3g}" for ri, pi in zip(r, p)),
    )


def phase_change_live(fast: bool = False) -> Experiment:
    """One point of the n=3, m=2 phase diagram for the chapter's live widgets, which set the density and the
    importances [1, 1, r]: the grid's setup trained by the intro's browser protocol (best of 8 fits of 1,000 steps,
    batch 256, lr 1e-2). Book's choice, measured on 30 random slider positions: its fit's phase agrees with the
    theory at 27 where the grid's own protocol (10 fits of 10,000 steps at lr 1e-3) does at 24, in 0.07 s a point
    in PyTorch instead of 1.05 s (2 cores, 209 GFLOP/s)."""
    browser = intro_browser(fast)
    return phase_change(3, fast=fast).replace(
        feature_probability=0.3,
        importance=[1.0, 1.0, 1.0],
        setting_labels=(),
        n_seeds=browser.n_seeds,
        batch_size=browser.train.batch_size,
        eval_batches=browser.train.eval_batches,
        steps=browser.train.steps,
        lr=browser.train.lr,
        progress=False,
        name="Phase change, one point, n=3, m=2",
    )


def phase_change_browser(fast: bool = False) -> Experiment:
    """``phase_change_live`` for the static book's live slider, trained in the reader's browser
    (``tm.phase.browser_phase_point``)."""
    return phase_change_live(fast).replace(name="Phase change, one point, n=3, m=2 (live, in the browser)")
