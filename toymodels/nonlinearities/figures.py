"""Chapter 10: the nonlinearities' counts against sparsity, their W pictures under one slider, their n = 2, m = 1
phase diagrams side by side, and the softmax task's features in the plane."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..errors import ConfigError
from ..kit.palettes import PHASE_COLORS  # chapter 3's colours for the same phases
from ..kit.panels import OUTLINE, norm_axis_end, summary_figure
from ..kit.pictures import features_2d
from ..kit.sliders import instance_slider, menu_slider
from ..results import TrainResult
from .analysis import PHASE_DESCRIPTIONS, PHASES, PhaseGrid, SweepCounts

COLORS = {
    "relu": "#000000",
    "gelu": "#1f77b4",
    "silu": "#17becf",
    "softplus": "#2ca02c",
    "sigmoid": "#ff7f0e",
    "tanh": "#d62728",
    "none": "#7f7f7f",
    "softmax": "#9467bd",
}


def _color(name: str, index: int) -> str:
    return COLORS.get(name, ("#8c564b", "#e377c2", "#bcbd22")[index % 3])


def counts_figure(counts: dict[str, SweepCounts], title: str | None = None) -> go.Figure:
    """Two panels over 1/(1−S) (log): the features each nonlinearity represents, and how many of those are in
    superposition, one line per nonlinearity (:func:`toymodels.nonlinearities.sweep_counts`)."""
    if not counts:
        raise ConfigError("counts must hold at least one nonlinearity's SweepCounts")
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=("features represented", "of those, in superposition"), horizontal_spacing=0.1
    )
    for index, (name, c) in enumerate(counts.items()):
        for col, values in ((1, c.represented), (2, c.superposed)):
            fig.add_trace(
                go.Scatter(
                    x=1 / c.density,
                    y=values,
                    name=name,
                    legendgroup=name,
                    showlegend=col == 1,
                    mode="lines+markers",
                    line=dict(color=_color(name, index), width=2, dash="dot" if name == "none" else "solid"),
                    marker=dict(size=7, line=OUTLINE),
                    hovertemplate=f"{name}<br>1/(1−S) = %{{x:.3g}}<br>%{{y}} features<extra></extra>",
                ),
                row=1,
                col=col,
            )
    fig.update_xaxes(type="log", title_text="1/(1−S)  (sparser →)")
    fig.update_yaxes(title_text="features", rangemode="tozero")
    return fig.update_layout(title_text=title, height=440, legend=dict(orientation="h", y=-0.3))


def weights_slider(results: dict[str, TrainResult], title: str | None = None) -> go.Figure:
    """Each named sweep's best fits as the paper draws them (WᵀW, b and the ‖Wᵢ‖ bars coloured by
    superposition): buttons pick the nonlinearity, a slider the sparsity (the sweeps must share them)."""
    if not results:
        raise ConfigError("results must hold at least one TrainResult")
    first = next(iter(results.values())).experiment
    for name, result in results.items():
        if (result.experiment.feature_probability, result.experiment.importance) != (
            first.feature_probability,
            first.importance,
        ):
            raise ConfigError(f"every sweep must share the settings of the first; {name!r} differs")
    best = {name: (r.best().W.detach().numpy(), r.best().b.detach().numpy()) for name, r in results.items()}
    importance = first.importance_tensor(per="setting").numpy()

    weights = list(best.values())
    end = norm_axis_end(np.stack([W for W, _ in weights]))  # one norm axis for every choice and step

    def build(i: int, k: int) -> go.Figure:
        W, b = weights[i]
        return summary_figure(W[k], b[k], importance[k], norm_end=end)

    fig = menu_slider(build, list(best), first.setting_labels, title=title)
    return fig.update_layout(height=520, showlegend=False, margin=dict(t=150))


def phase_grids_figure(grids: Sequence[PhaseGrid], title: str | None = None, columns: int = 4) -> go.Figure:
    """The n = 2, m = 1 diagrams side by side, one panel per nonlinearity: the kept fits' most common phase
    at each (density, r) point (density on x, dense on the left; r on y; both log), with a cross where no phase
    holds more than half of the kept fits."""
    if not grids:
        raise ConfigError("grids must hold at least one PhaseGrid")
    rows = -(-len(grids) // columns)
    fig = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=[g.name for g in grids],
        horizontal_spacing=0.05,
        vertical_spacing=0.16,
        shared_yaxes=True,
    )
    k = len(PHASES)
    scale = [[edge, PHASE_COLORS[name]] for i, name in enumerate(PHASES) for edge in (i / k, (i + 1) / k)]
    for index, grid in enumerate(grids):
        text = np.array(
            [
                [
                    f"{grid.name}<br>r = {r:.3g}, 1−S = {s:.3g}<br>{PHASE_DESCRIPTIONS[PHASES[grid.phase[i, j]]]}"
                    f" ({grid.purity[i, j]:.0%} of kept fits)"
                    for j, s in enumerate(grid.density)
                ]
                for i, r in enumerate(grid.relative_importance)
            ]
        )
        fig.add_trace(
            go.Heatmap(
                z=grid.phase,
                x=np.log10(grid.density),
                y=np.log10(grid.relative_importance),
                zmin=-0.5,
                zmax=k - 0.5,
                colorscale=scale,
                showscale=False,
                text=text,
                hovertemplate="%{text}<extra></extra>",
            ),
            row=index // columns + 1,
            col=index % columns + 1,
        )
        split = np.argwhere(grid.purity <= 0.5)
        fig.add_trace(
            go.Scatter(
                x=np.log10(grid.density[split[:, 1]]),
                y=np.log10(grid.relative_importance[split[:, 0]]),
                mode="markers",
                name="no majority among the kept fits",
                legendgroup="split",
                showlegend=index == 0,
                hoverinfo="skip",
                marker=dict(symbol="x-thin", size=8, line=dict(width=2, color="black")),
            ),
            row=index // columns + 1,
            col=index % columns + 1,
        )
    for name in PHASES:  # the legend: one marker per phase
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=PHASE_DESCRIPTIONS[name],
                marker=dict(symbol="square", size=12, color=PHASE_COLORS[name]),
            )
        )
    ticks_s = [t for t in (0.01, 0.03, 0.1, 0.3, 1) if grids[0].density.min() * 0.99 <= t <= 1]
    fig.update_xaxes(
        autorange="reversed", tickvals=np.log10(ticks_s).tolist(), ticktext=[f"{t:g}" for t in ticks_s], showgrid=False
    )
    fig.update_xaxes(title_text="1−S", row=rows)
    fig.update_yaxes(tickvals=[-1, 0, 1], ticktext=["0.1", "1", "10"], showgrid=False)
    fig.update_yaxes(title_text="r (extra feature)", col=1)
    return fig.update_layout(
        title_text=title, height=330 * rows + 120, legend=dict(orientation="h", y=-0.12), plot_bgcolor="white"
    )


def softmax_plane(result: TrainResult, title: str | None = None) -> go.Figure:
    """The best fit of each setting of an m = 2 softmax experiment in the plane (the columns W_i as arrows),
    with a slider over the settings; the axes span the largest ‖W_i‖ of all settings."""
    if not isinstance(result, TrainResult) or result.experiment.model.n_hidden != 2:
        raise ConfigError("result must be a TrainResult of a model with n_hidden = 2 (tm.preset('softmax_geometry'))")
    experiment, best = result.experiment, result.best()
    W = best.W.detach().numpy()
    importance = experiment.importance_tensor(per="setting").numpy()
    reach = float(np.linalg.norm(W, axis=1).max()) * 1.15
    return instance_slider(
        lambda k: features_2d(W[k], importance[k], axis_range=reach),
        experiment.n_settings,
        experiment.setting_labels,
        title=title or experiment.name,
    )
