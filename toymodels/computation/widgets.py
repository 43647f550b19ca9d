"""§10 (chapter 8): the live slider that retrains the small absolute-value model."""

from __future__ import annotations

import plotly.graph_objects as go

from ..experiment import Experiment
from ..kit.live import live_figure, log_slider
from ..kit.table import density_label
from ..train import train
from .analysis import classify_features, classify_neurons, weights_of
from .figures import function_and_weights


def live_absolute_value(experiment: Experiment, density: float = 1.0):
    """The absolute-value model (``experiment``: e.g. ``tm.preset("absolute_value")``, n = 3, m = 6) retrained
    for the density chosen on a slider: its answer for each feature alone against |x|, W₁ and W₂ of the
    lowest-loss fit, and its neuron and feature counts in the title."""

    def draw(density: float) -> go.Figure:
        result = train(experiment.replace(feature_probability=density, progress=False))
        W1, W2, b = (w[0] for w in weights_of(result))
        counts = classify_neurons(W1).counts()
        computed = int((classify_features(W1, W2, b) == 0).sum())
        title = (
            f"{experiment.name}, 1−S = {density_label(density)}: loss {result.best_losses[0].item():.2e}<br>"
            f"{counts['monosemantic']} monosemantic, {counts['polysemantic']} polysemantic, {counts['dead']} dead "
            f"neurons; {computed} of {W1.shape[1]} features computed"
        )
        return function_and_weights(W1, W2, b, title=title)

    return live_figure(draw, density=log_slider(density, 0.001, 1.0, "density 1−S", step=0.1))
