"""§1 (chapter 1): the live slider that retrains the intro's model."""

from __future__ import annotations

import plotly.graph_objects as go

from ..config import Experiment, importance_decay
from ..kit.live import live_figure
from ..kit.panels import features_2d
from ..kit.table import sparsity_label
from ..train import train
from .analysis import describe


def live_intro(experiment: Experiment, density: float = 0.1, decay: float = 0.9):
    """The intro's five features in two dimensions, retrained (``experiment``: ``tm.preset("intro_live")``,
    under half a second) for the density and importance decay I_i = decay^i chosen on two sliders."""
    import ipywidgets

    n = experiment.model.n_features

    def draw(density: float, decay: float) -> go.Figure:
        importance = importance_decay(n, decay)
        best = train(experiment.replace(feature_probability=density, importance=importance, progress=False)).best()
        title = f"{experiment.name}: sparsity {sparsity_label(density)}, I<sub>i</sub> = {decay:.2f}<sup>i</sup>"
        return features_2d(best.W[0], importance, title=f"{title}<br>{describe(best.W)[0]}")

    style = dict(continuous_update=False, style={"description_width": "initial"})
    return live_figure(
        draw,
        density=ipywidgets.FloatLogSlider(
            density, base=10, min=-2, max=0, step=0.05, description="density 1−S", readout_format=".3f", **style
        ),
        decay=ipywidgets.FloatSlider(decay, min=0.5, max=1.0, step=0.01, description="importance decay", **style),
    )
