"""§3 (chapter 3): the live slider that trains one point of the three-feature diagram."""

from __future__ import annotations

import plotly.graph_objects as go

from .. import theory
from ..config import Experiment
from ..kit.live import live_figure
from ..kit.panels import features_2d
from ..train import train
from .analysis import PHASE_DESCRIPTIONS, classify


def live_phase_point(experiment: Experiment, relative_importance: float = 1.0, density: float = 0.3):
    """Train one point of the n = 3, m = 2 diagram on demand (``experiment``: ``tm.preset("phase_change_live")``):
    sliders for r and the density; the lowest-loss fit's features, its phase and the theory's."""
    import ipywidgets

    def draw(relative_importance: float, density: float) -> go.Figure:
        importance = [1.0, 1.0, relative_importance]
        best = train(experiment.replace(feature_probability=density, importance=importance, progress=False)).best()
        found = PHASE_DESCRIPTIONS[theory.PHASE_CANDIDATES[3][int(classify(best.W[0])[0])]]
        predicted = PHASE_DESCRIPTIONS[
            theory.PHASE_CANDIDATES[3][int(theory.phase_diagram(3, relative_importance, density)[0])]
        ]
        title = f"r = {relative_importance:.3g}, 1−S = {density:.3g}<br>trained: {found}<br>theory: {predicted}"
        return features_2d(best.W[0], importance, title=title)

    style = dict(continuous_update=False, style={"description_width": "initial"})
    return live_figure(
        draw,
        relative_importance=ipywidgets.FloatLogSlider(
            relative_importance,
            base=10,
            min=-1,
            max=1,
            step=0.05,
            description="relative importance r",
            readout_format=".3g",
            **style,
        ),
        density=ipywidgets.FloatLogSlider(
            density, base=10, min=-2, max=0, step=0.05, description="density 1−S", readout_format=".3f", **style
        ),
    )
