"""§1 (chapter 1): the live sliders that retrain the intro's model, in a kernel (PyTorch) and in the static
book (the reader's browser, JavaScript)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..errors import ConfigError
from ..experiment import Experiment, importance_decay
from ..kit.browser import LIVE_LABEL, NOTE, BrowserLive, Slider, colorscale, plain_figure, protocol, trace_groups
from ..kit.live import live_figure, log_slider, slider
from ..kit.pictures import features_2d
from ..kit.table import density_label
from ..train import train
from .analysis import GEOMETRIES, describe


def live_intro(experiment: Experiment, density: float = 0.1, decay: float = 0.9):
    """The intro's five features in two dimensions, retrained (``experiment``: ``tm.preset("intro_live")``,
    under half a second) for the density and importance decay I_i = decay^i chosen on two sliders."""

    n = experiment.model.n_features

    def draw(density: float, decay: float) -> go.Figure:
        importance = importance_decay(n, decay)
        best = train(experiment.replace(feature_probability=density, importance=importance, progress=False)).best()
        title = f"{experiment.name}: 1−S = {density_label(density)}, I<sub>i</sub> = {decay:.2f}<sup>i</sup>"
        return features_2d(best.W[0], importance, title=f"{title}<br>{describe(best.W)[0]}")

    return live_figure(
        draw,
        density=log_slider(density, 0.01, 1.0, "density 1−S"),
        decay=slider(decay, 0.5, 1.0, 0.01, "importance decay"),
    )


def browser_intro(experiment: Experiment, density: float = 0.1, decay: float = 0.9) -> BrowserLive:
    """The live slider of the static book: the same two sliders as :func:`live_intro`, but the reader's browser
    retrains the model in JavaScript (``experiment``: ``tm.preset("intro_browser")``, best of K) and redraws the
    2-D picture and the table of what each feature does. Its random draws are not PyTorch's: a live fit, labelled
    so; the chapter's precomputed fits stay."""
    n = experiment.model.n_features
    if experiment.model.n_hidden != 2:
        raise ConfigError(f"experiment.model.n_hidden must be 2 for the 2-D picture, got {experiment.model.n_hidden}")
    sliders = [
        Slider("density", "density 1−S", -2.0, 0.0, 0.05, density, log=True, digits=3),
        Slider("decay", "importance decay", 0.5, 1.0, 0.01, decay, digits=2),
    ]
    figure = features_2d(np.zeros((2, n)), importance_decay(n, decay), title="Live fit in your browser: training…")
    config = dict(
        model=dict(n=n, m=2),
        train=protocol(experiment),
        controls=[slider.spec() for slider in sliders],
        figure=plain_figure(figure),
        panels=trace_groups(figure, n, panels=1),
        colorscale=colorscale(),
        geometries=[[name, D, dims, size] for name, (D, dims, size) in GEOMETRIES.items() if dims <= 2],
        setting=dict(importance=[dict(slider="decay", exponents=list(range(n)))], probability=dict(slider="density")),
        title="Live fit: 1−S = {density}, I<sub>i</sub> = {decay:.2f}<sup>i</sup>",
        statusPrefix=LIVE_LABEL,
    )
    return BrowserLive("intro", config, note=NOTE)
