"""§4 (chapter 4): the live sliders that retrain the non-uniform model and three correlated pairs."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..experiment import Experiment
from ..kit.live import live_figure, log_slider
from ..kit.pictures import features_2d_groups
from ..train import train
from .correlated import ARRANGEMENTS, classify_sets
from .losses import fit_losses
from .non_uniform import NON_UNIFORM_CLASSES, classify_non_uniform, digon_loss_theory


def _best_fit(experiment: Experiment):
    """Train ``experiment`` (one setting) and return its trained result and the lowest expected-loss fit's index."""

    result = train(experiment)
    losses = fit_losses(result, n_points=512)
    return result, losses, int(losses[0].argmin())


def live_non_uniform(experiment: Experiment, varied_density: float = 0.02):
    """The non-uniform model retrained for the density of feature 0 chosen on a slider (``experiment``:
    ``tm.preset("non_uniform")``, whose other densities are kept): the lowest-loss fit's features (by
    :func:`toymodels.geometry.fit_losses`), its class and loss, and the closed-form loss of two digons.
    The full protocol (10 fits of 10k steps) takes about 3 s per redraw on two cores;
    ``.replace(steps=1500, lr=1e-2, n_seeds=8)`` about 0.6 s, and gave the same lowest-loss class at all 20
    densities of the preset's grid (tests/test_geometry.py checks 0.005 and 0.05)."""

    base = experiment.probability_tensor(per="setting")[0].double().numpy()
    names = ["feature 0 (density varied)", f"the others (density {base[1]:g})"]

    def draw(varied_density: float) -> go.Figure:
        probability = base.copy()
        probability[0] = varied_density
        result, losses, k = _best_fit(experiment.replace(feature_probability=[probability.tolist()], progress=False))
        W = result.model.W.detach().numpy()[k]
        found = NON_UNIFORM_CLASSES[int(classify_non_uniform(W))]
        closed = float(digon_loss_theory(varied_density, float(base[1])))
        title = (
            f"feature 0 at density {varied_density:.3g} ({base[1] / varied_density:.2f}× sparser): {found}<br>"
            f"loss {losses[0, k]:.5f}; two digons would cost {closed:.5f}"
        )
        return features_2d_groups(W, [0, 1, 1, 1, 1], names, title=title)

    return live_figure(
        draw,
        varied_density=log_slider(varied_density, 0.005, 0.2, "density of feature 0", step=0.02, readout_format=".4f"),
    )


def live_correlated(experiment: Experiment, density: float = 0.05):
    """A correlated or anticorrelated m = 2 model retrained for the density (each set's 1 − S) chosen on a slider
    (``experiment``: e.g. ``tm.preset("correlated_3_pairs")``): the lowest-loss fit's features coloured by set,
    and each set's arrangement. As for :func:`live_non_uniform`, ``.replace(steps=1500, lr=1e-2, n_seeds=8)``
    redraws in under a second instead of about 3 s; on the ``pca_sweep`` grid it gave the full protocol's number
    of collapsed pairs at 15 of 16 densities (one collapsed instead of none at 0.058)."""

    n, k = experiment.model.n_features, experiment.data.set_size
    groups = np.arange(n) // k
    names = [f"set {s + 1}" for s in range(n // k)]

    def draw(density: float) -> go.Figure:
        result, losses, best = _best_fit(experiment.replace(feature_probability=density, progress=False))
        W = result.model.W.detach().numpy()[best]
        sets = ", ".join(ARRANGEMENTS[a] for a in classify_sets(W, k))
        title = f"{experiment.name}, 1−S = {density:.3g}<br>sets: {sets}; loss {losses[0, best]:.5f}"
        return features_2d_groups(W, groups, names, title=title)

    return live_figure(draw, density=log_slider(density, 0.01, 0.8, "density 1−S of each set"))
