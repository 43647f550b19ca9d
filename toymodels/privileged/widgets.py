"""§8 (chapter 7): the live slider that retrains the privileged-basis model at a chosen density."""

from __future__ import annotations

import plotly.graph_objects as go

from ..experiment import Experiment
from ..kit.live import live_figure, log_slider
from ..train import train
from .analysis import neurons
from .figures import neuron_figure
from .losses import fit_losses


def best_fit(experiment: Experiment, density: float, n_points: int = 256):
    """Train ``experiment`` at one density and return the lowest precise-loss fit's (W, b, loss)."""
    result = train(experiment.replace(feature_probability=float(density), progress=False), workers=1)
    losses = fit_losses(result, n_points=n_points)[0]
    k = int(losses.argmin())
    return result.model.W.detach().numpy()[k], result.model.b.detach().numpy()[k], float(losses[k])


def live_privileged(experiment: Experiment, density: float = 0.1):
    """The privileged-basis model retrained at the density chosen on a slider (``experiment``:
    ``tm.preset("privileged_basis_live")``, a smaller best-of-K): the lowest-loss fit's W and per-neuron bars,
    its regime, monosemantic neurons and features represented."""

    importance = experiment.importance_tensor(per="setting")[0].double().numpy()

    def draw(density: float) -> go.Figure:
        W, _, loss = best_fit(experiment, density)
        reading = neurons(W)
        title = (
            f"1−S = {density:.3g}, best of {experiment.n_seeds}: {reading.regime}; {reading.monosemantic} "
            f"monosemantic neurons, {reading.n_represented} features represented (loss {loss:.5f})"
        )
        return neuron_figure(W, importance, title=title)

    return live_figure(draw, density=log_slider(density, 0.01, 1.0, "density 1−S", step=0.02))
