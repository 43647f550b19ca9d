"""Chapter 10's live widget: the §2 model retrained with the output nonlinearity and density chosen by the reader."""

from __future__ import annotations

import math

import plotly.graph_objects as go

from ..errors import ConfigError
from ..experiment import Experiment
from ..kit.browser import BrowserLive
from ..kit.live import dropdown, live_figure, log_slider
from ..kit.panels import summary_figure
from ..kit.playground import playground_widget, state_of
from ..kit.table import density_label
from ..train import train
from .analysis import decodable, in_superposition, represented
from .experiments import NONLINEARITIES

CHOICES = (*NONLINEARITIES, "softmax")


def fit(experiment: Experiment, activation: str, density: float):
    """``experiment`` (one setting) trained with the output nonlinearity ``activation`` at ``density``; a softmax
    trains by cross-entropy against the largest active feature, as in the chapter. Returns the best fit's (W, b)."""
    if activation not in CHOICES:
        raise ConfigError(f"activation must be one of {', '.join(CHOICES)}, got {activation!r}")
    result = train(
        experiment.replace(
            activation=activation,
            target="argmax" if activation == "softmax" else "identity",
            feature_probability=float(density),
            progress=False,
        ),
        workers=1,
    )
    best = result.best()
    return best.W[0].detach(), best.b[0].detach()


def live_nonlinearity(experiment: Experiment, activation: str = "gelu", density: float = 0.03):
    """A dropdown of output nonlinearities and a density slider over the §2 model (``experiment``:
    ``tm.preset("nonlinearity_live")``, a shorter best-of-K): the best fit drawn as in chapter 2, with its counts
    (represented / in superposition, the chapter's scale-free measures) in the title."""
    importance = experiment.importance_tensor(per="setting")[0].double().numpy()

    def draw(activation: str, density: float) -> go.Figure:
        W, b = fit(experiment, activation, density)
        W1, b1 = W[None], b[None]  # the chapter's measures take an instance axis
        counts = f"{int(represented(W1).sum())} represented, {int(in_superposition(W1).sum())} in superposition"
        if activation == "softmax":
            counts += f", {int(decodable(W1, b1).sum())} named when alone"
        gram = (W.T @ W).abs().max().item()
        title = f"{activation} output, 1−S = {density_label(density)}, best of {experiment.n_seeds}: {counts}"
        return summary_figure(W.numpy(), b.numpy(), importance, title=title, zmax=max(1.0, math.ceil(gram)))

    return live_figure(
        draw,
        activation=dropdown(activation, CHOICES, "output nonlinearity"),
        density=log_slider(density, 0.001, 1.0, "density 1−S", step=0.1),
    )


def browser_nonlinearity(experiment: Experiment, activation: str = "gelu", density: float = 0.03) -> BrowserLive:
    """The live fit of the static book: the output nonlinearity and the density chosen by the reader, the model
    trained in the reader's browser (``experiment``: ``tm.preset("nonlinearity_browser")``, best of K) and drawn
    as the playground draws it (W, WᵀW, D_i, the loss) with the chapter's counts. Every nonlinearity of the
    chapter but the softmax, which the browser's trainer does not have."""
    state = state_of(experiment.replace(activation=activation, feature_probability=float(density)))
    fold = "Train it in your browser: choose the nonlinearity and the density"
    return playground_widget(state, controls=("activation", "density"), url=False, fold=fold)
