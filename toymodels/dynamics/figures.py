"""Chapter 5's figures: per-feature dimensionalities against training step with the detected jumps and the loss
on the same axis, and the 6 → 3 model's feature vectors in 3-D with a slider over training time (no kernel)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from ..errors import ConfigError
from ..kit.sliders import instance_slider
from ..validation import as_float64
from ..vocabulary import polytope_lines
from .analysis import Jump, Regime

SET_COLORS = ("#1f77b4", "#d62728")  # set A, set B of the correlated model
REGIME_COLORS = ("#f2f2f2", "#dbe9f6", "#fde0c5", "#dff0d8", "#ead8f0", "#fff3bf")


def dimensionality_traces(steps, D, loss, jumps: list[Jump], changes=None, shown=None) -> list[go.BaseTraceType]:
    """Traces of :func:`dimensionality_figure` (row 1: D_i lines of the ``shown`` features, default all, and
    jump markers; row 2: the loss)."""
    steps, D, loss = as_float64("steps", steps), as_float64("D", D), as_float64("loss", loss)
    if D.ndim != 2 or D.shape[0] != steps.size or loss.shape != steps.shape:
        raise ConfigError(f"D must be (n_snapshots, n_features) and loss (n_snapshots,), got {D.shape}, {loss.shape}")
    colors = sample_colorscale("Viridis", np.clip(D[-1], 0, 1).tolist())
    shown = np.arange(D.shape[1]) if shown is None else np.asarray(shown, dtype=int)
    order = shown[np.argsort(D[-1, shown])]
    x = steps.astype(int) if np.array_equal(steps, np.round(steps)) else steps
    traces: list[go.BaseTraceType] = []
    for i in order:
        traces.append(
            go.Scatter(
                x=x,
                y=np.round(D[:, i], 3),
                mode="lines",
                line=dict(width=1, color=colors[i]),
                name=f"feature {i}",
                showlegend=False,
                xaxis="x",
                yaxis="y",
                hovertemplate=f"feature {i}<br>step %{{x}}<br>D = %{{y:.3f}}<extra></extra>",
            )
        )
    changes = [None] * len(jumps) if changes is None else list(changes)
    traces.append(
        go.Scatter(
            x=[steps[j.stop] for j in jumps],
            y=[j.after for j in jumps],
            mode="markers",
            marker=dict(symbol="diamond", size=8, color="#d62728", line=dict(width=1, color="black")),
            name="jump",
            xaxis="x",
            yaxis="y",
            text=[
                f"feature {j.feature}: {j.before:.2f} → {j.after:.2f}"
                + ("" if c is None else f"<br>loss {100 * c:+.1f} %")
                for j, c in zip(jumps, changes)
            ],
            hovertemplate="step %{x}<br>%{text}<extra></extra>",
        )
    )
    traces.append(
        go.Scatter(
            x=x,
            y=loss,
            mode="lines",
            line=dict(color="black", width=1.5),
            name="loss",
            xaxis="x2",
            yaxis="y2",
            hovertemplate="step %{x}<br>loss %{y:.4g}<extra></extra>",
        )
    )
    return traces


def dimensionality_figure(
    steps, D, loss, jumps: list[Jump], changes=None, title: str | None = None, shown=None
) -> go.Figure:
    """D_i of every feature against training step (colour: final D), the detected jumps as diamonds (hover: the
    levels and the loss change), dotted lines at the polytopes' fractions, and the loss below on the same axis."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.65, 0.35], vertical_spacing=0.06)
    for trace in dimensionality_traces(steps, D, loss, jumps, changes, shown):
        fig.add_trace(trace, row=2 if trace.yaxis == "y2" else 1, col=1)
    for value in polytope_lines().values():  # a dimension of one's own, then the polytopes
        fig.add_hline(y=value, line=dict(dash="dot", width=1, color="grey"), row=1, col=1)
    fig.update_yaxes(title_text="Dᵢ", range=[-0.02, 1.05], row=1, col=1)
    fig.update_yaxes(title_text="loss", type="log", row=2, col=1)
    fig.update_xaxes(title_text="training step", row=2, col=1)
    fig.update_layout(height=560, title=title, legend=dict(orientation="h", y=1.02, x=1, xanchor="right"))
    return fig


def _rounded(values: list) -> list:
    return [None if v is None else round(float(v), 4) for v in values]


def _vectors(W: np.ndarray, set_size: int) -> list[go.BaseTraceType]:
    n = W.shape[1]
    traces = []
    for s in range(n // set_size):
        xs, ys, zs, labels = [], [], [], []
        for i in range(s * set_size, (s + 1) * set_size):
            xs += [0.0, W[0, i], None]
            ys += [0.0, W[1, i], None]
            zs += [0.0, W[2, i], None]
            labels += ["", f"feature {i}", ""]
        traces.append(
            go.Scatter3d(
                x=_rounded(xs),
                y=_rounded(ys),
                z=_rounded(zs),
                mode="lines+markers",
                line=dict(width=6, color=SET_COLORS[s % 2]),
                marker=dict(size=[0, 4, 0] * set_size, color=SET_COLORS[s % 2]),
                text=labels,
                name=f"set {'AB'[s % 2]} (features {s * set_size}–{(s + 1) * set_size - 1})",
                hovertemplate="%{text}<extra></extra>",
            )
        )
    return traces


def features_3d(W, set_size: int = 3, title: str | None = None, axis_range: float = 1.3) -> go.Figure:
    """The feature vectors W_i of one 3-D model (3, n) as arrows from the origin, coloured by correlated set."""
    W = as_float64("W", W)
    if W.ndim != 2 or W.shape[0] != 3:
        raise ConfigError(f"W must have shape (3, n_features) for a 3-D picture, got {W.shape}")
    fig = go.Figure(_vectors(W, set_size))
    axis = dict(range=[-axis_range, axis_range], zeroline=True, showticklabels=False, title="")
    fig.update_layout(
        scene=dict(xaxis=axis, yaxis=axis, zaxis=axis, aspectmode="cube"),
        height=520,
        margin=dict(l=20, r=20, b=10),
        title=title,
        legend=dict(orientation="h", x=1, xanchor="right", y=1.0, yanchor="bottom"),
        uirevision="keep",
    )
    return fig


def training_slider(
    steps, W_path, regimes: list[Regime], set_size: int = 3, frames: int = 40, title: str | None = None
):
    """:func:`features_3d` at ``frames`` snapshots spread over training (log-spaced steps: the early
    transformations are fast), with a plotly slider (no kernel needed); each label names the step and regime."""
    steps, W_path = as_float64("steps", steps), as_float64("W_path", W_path)
    if W_path.ndim != 3 or W_path.shape[0] != steps.size:
        raise ConfigError(f"W_path must be (n_snapshots, 3, n_features) matching steps, got {W_path.shape}")
    picks = np.unique(np.round(np.geomspace(1, steps.size, frames)).astype(int) - 1)
    name_at = np.empty(steps.size, dtype=object)
    name_at[:] = "transient"
    for regime in regimes:
        name_at[regime.start : regime.stop + 1] = regime.name
    labels = [f"step {int(steps[k])}" for k in picks]
    headings = [f"step {int(steps[k])}: {name_at[k]}" for k in picks]
    return instance_slider(
        lambda q: features_3d(W_path[picks[q]], set_size), len(picks), labels, title=title or "", headings=headings
    )


def regime_loss_figure(steps, loss, regimes: list[Regime], title: str | None = None) -> go.Figure:
    """The loss against training step (log axes) with each named regime shaded, its name in the legend (in the
    order the run passes through them; a band's colour is its regime's)."""
    steps, loss = as_float64("steps", steps), as_float64("loss", loss)
    x = np.maximum(steps, 1)
    fig = go.Figure(go.Scatter(x=x, y=loss, mode="lines", line=dict(color="black"), name="loss"))
    names = list(dict.fromkeys(r.name for r in regimes))
    colors = {name: REGIME_COLORS[k % len(REGIME_COLORS)] for k, name in enumerate(names)}
    for regime in regimes:  # a shape's x is in data units on a log axis (an annotation's would be log10 units)
        fig.add_vrect(
            x0=x[regime.start], x1=x[regime.stop], fillcolor=colors[regime.name], opacity=1, layer="below", line_width=0
        )
    for name in names:  # the legend names the bands
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                marker=dict(symbol="square", size=14, color=colors[name], line=dict(color="#888", width=1)),
                name=name,
            )
        )
    fig.update_xaxes(type="log", title="training step", range=np.log10([x.min(), x.max()]).tolist())
    fig.update_yaxes(type="log", title="loss", exponentformat="power")
    fig.update_layout(
        height=460,
        title=dict(text=title, font_size=15),
        showlegend=True,
        legend=dict(orientation="h", x=0, y=-0.25, yanchor="top", title_text="regime"),
        margin=dict(t=70, b=40),
    )
    return fig
