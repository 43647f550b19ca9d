"""§3 (chapter 3): the live sliders that train one point of the three-feature diagram, in a kernel (PyTorch)
and in the static book (the reader's browser, JavaScript)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .. import theory
from ..errors import ConfigError
from ..experiment import Experiment
from ..kit.browser import LIVE_LABEL, NOTE, BrowserLive, Slider, colorscale, plain_figure, protocol, trace_groups
from ..kit.live import live_figure, log_slider
from ..kit.pictures import features_2d, features_2d_row
from ..train import train
from .analysis import PHASE_DESCRIPTIONS, PHASES, _candidate_grams, classify


def live_phase_point(experiment: Experiment, relative_importance: float = 1.0, density: float = 0.3):
    """Train one point of the n = 3, m = 2 diagram on demand (``experiment``: ``tm.preset("phase_change_live")``):
    sliders for r and the density; the lowest-loss fit's features, its phase and the theory's."""

    def draw(relative_importance: float, density: float) -> go.Figure:
        importance = [1.0, 1.0, relative_importance]
        best = train(experiment.replace(feature_probability=density, importance=importance, progress=False)).best()
        found = PHASE_DESCRIPTIONS[theory.PHASE_CANDIDATES[3][int(classify(best.W[0])[0])]]
        predicted = PHASE_DESCRIPTIONS[
            theory.PHASE_CANDIDATES[3][int(theory.phase_diagram(3, relative_importance, density)[0])]
        ]
        title = f"r = {relative_importance:.3g}, 1−S = {density:.3g}<br>trained: {found}<br>theory: {predicted}"
        return features_2d(best.W[0], importance, title=title)

    return live_figure(
        draw,
        relative_importance=log_slider(relative_importance, 0.1, 10.0, "relative importance r", readout_format=".3g"),
        density=log_slider(density, 0.01, 1.0, "density 1−S"),
    )


def browser_phase_point(experiment: Experiment, relative_importance: float = 1.0, density: float = 0.3) -> BrowserLive:
    """The live slider of the static book: sliders for r and the density, and the reader's browser trains that
    point of the n = 3, m = 2 diagram in JavaScript (``experiment``: ``tm.preset("phase_change_browser")``, best
    of K) and draws the fit beside the theory's solution, naming both (the fit classified as :func:`classify`
    does; the theory's solution for every slider position computed here, by ``tm.theory.phase_diagram``)."""
    n, m = experiment.model.n_features, experiment.model.n_hidden
    if (n, m) != (3, 2):
        raise ConfigError(f"experiment.model must have n_features=3, n_hidden=2 (the 2-D picture), got n={n}, m={m}")
    r_slider = Slider("relative_importance", "relative importance r", -1.0, 1.0, 0.05, relative_importance, log=True)
    s_slider = Slider("density", "density 1−S", -2.0, 0.0, 0.05, density, log=True)
    predicted, names = theory.phase_diagram(n, r_slider.values(), s_slider.values())  # (r, s) → candidate index
    if tuple(names) != PHASES[n][: len(names)]:
        raise ConfigError("the theory's candidates must come first among the phases, in the theory's order")
    importance = [1.0, 1.0, relative_importance]
    figure = features_2d_row(
        np.zeros((2, m, n)),
        importance,
        labels=("live fit (the lowest loss of K)", "the theory's solution"),
        title="Live fit in your browser: training…",
    )
    config = dict(
        model=dict(n=n, m=m),
        train=protocol(experiment),
        controls=[r_slider.spec(), s_slider.spec()],
        figure=plain_figure(figure),
        panels=trace_groups(figure, n, panels=2),
        colorscale=colorscale(),
        phases=dict(
            grams=_candidate_grams(n).round(12).tolist(),
            weights=[theory.CANDIDATE_WEIGHTS[name].tolist() for name in names],
            descriptions=[PHASE_DESCRIPTIONS[name] for name in PHASES[n]],
            theory=predicted.tolist(),
            sliders=[r_slider.name, s_slider.name],  # theory[r index][density index]
        ),
        setting=dict(
            importance=[dict(slider=r_slider.name, exponents=[0] * (n - 1) + [1])],
            probability=dict(slider=s_slider.name),
        ),
        title="Live fit: r = {relative_importance:.3g}, 1−S = {density:.3g}",
        statusPrefix=LIVE_LABEL,
    )
    return BrowserLive("phase", config, note=NOTE)
