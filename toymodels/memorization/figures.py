"""The memorization chapter's figures: the hidden plane over T (a slider), the two dimensionalities against T, the
train and test losses with the peak, the (T, m) map of test loss, and the weight-decay ablation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ..errors import ConfigError
from ..kit.panels import OUTLINE, log_ticks
from ..kit.sliders import instance_slider
from ..vocabulary import REPRESENTED_NORM, polytope_lines
from .analysis import MemorizationSweep, peak, tgon_dimensionality

DATA_COLOR, FEATURE_COLOR = "#d62728", "#1f77b4"  # training examples' hidden vectors, features' columns
TRAIN_COLOR, TEST_COLOR = "#7f7f7f", "#000000"
M_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b")
SHOWN_FEATURES = 40  # the hidden plane draws at most this many features, the longest
# Log axes start here: a training loss of 1e-15 (an exact fit) or a D_t of 1e-10 (an example whose features the
# model dropped) is drawn at this floor, its true value in the hover text, so that the axes show the range that
# matters.
FLOOR = 1e-6


FLOOR_TEXT = f"10<sup>−{round(-np.log10(FLOOR))}</sup>"
FLOORED_TRAIN = f"training losses below {FLOOR_TEXT} drawn at it"


def _floored(values) -> np.ndarray:
    return np.maximum(np.asarray(values, dtype=float), FLOOR)


def _log_axis(values, title: str, top: float | None = None) -> dict:
    """A log y axis from the floored values' smallest (half of it) to ``top`` (else 3× their largest), ticks as
    powers of ten."""
    values = _floored(np.ravel(values))
    high = top if top is not None else float(values.max()) * 3
    return dict(
        type="log", range=[np.log10(values.min() / 2), np.log10(high)], title_text=title, exponentformat="power"
    )


RAYS_UP_TO = 200  # more vectors than this are drawn as points only (their lines would fill the plane)


def _rays(vectors: np.ndarray, color: str, name: str, width: float) -> list[go.Scatter]:
    """Lines from the origin to each column of ``vectors`` (2, k), in one trace (none for more than RAYS_UP_TO),
    and markers at their tips."""
    lines = vectors if vectors.shape[1] <= RAYS_UP_TO else vectors[:, :0]
    k = lines.shape[1]
    x = np.stack([np.zeros(k), lines[0], np.full(k, np.nan)], axis=1).ravel()
    y = np.stack([np.zeros(k), lines[1], np.full(k, np.nan)], axis=1).ravel()
    return [
        go.Scatter(x=x, y=y, mode="lines", line=dict(color=color, width=width), hoverinfo="skip", showlegend=False),
        go.Scatter(
            x=vectors[0],
            y=vectors[1],
            mode="markers",
            marker=dict(color=color, size=7, line=OUTLINE),
            name=name,
            hovertemplate=f"{name}: (%{{x:.3f}}, %{{y:.3f}})<extra></extra>",
        ),
    ]


def plane_figure(W: np.ndarray, H: np.ndarray, title: str) -> go.Figure:
    """For m = 2: the examples' hidden vectors H (2, T) in red and the longest features of W (2, n) in blue, each
    kind scaled so that its longest vector reaches the circle."""
    W = W[:, np.argsort(-np.linalg.norm(W, axis=0))[:SHOWN_FEATURES]]
    scale = lambda V: V / max(float(np.linalg.norm(V, axis=0).max()), 1e-12)  # noqa: E731
    fig = go.Figure(
        _rays(scale(W), FEATURE_COLOR, "feature W<sub>i</sub>", 1.5)
        + _rays(scale(H), DATA_COLOR, "example h<sub>t</sub>", 2.5)
    )
    axis = dict(range=[-1.15, 1.15], constrain="domain", zeroline=True, showticklabels=False)
    fig.update_layout(
        title_text=title,
        xaxis=dict(axis, title_text="hidden dimension 0"),
        yaxis=dict(axis, title_text="hidden dimension 1", scaleanchor="x"),
        legend=dict(orientation="h", y=-0.1, x=0),
        height=680,
        margin=dict(l=50, r=20, t=90, b=40),
    )
    return fig


def hidden_plane(sweep: MemorizationSweep, size_index: int, instance: int = 0) -> go.Figure:
    """For m = 2: the training examples' hidden vectors h_t (red) and the longest features W_i (blue) of one
    instance at T = sizes[size_index] (:func:`plane_figure`)."""
    if sweep.n_hidden != 2:
        raise ConfigError(f"the hidden plane needs m = 2, got m = {sweep.n_hidden}")
    T = int(sweep.sizes[size_index])
    shown = min(SHOWN_FEATURES, sweep.n_features)
    title = f"T = {T}: {T} examples (red) and the {shown} longest features (blue), each kind scaled to 1"
    return plane_figure(sweep.W[size_index, instance], sweep.hidden(size_index, instance), title)


def hidden_plane_slider(sweep: MemorizationSweep, instance: int = 0) -> go.Figure:
    """:func:`hidden_plane` at every T of the sweep, one at a time on a slider (no kernel)."""
    sizes = [int(T) for T in sweep.sizes]
    fig = instance_slider(
        lambda k: hidden_plane(sweep, k, instance),
        len(sizes),
        [str(T) for T in sizes],
        title="The hidden plane (m = 2)",
        headings=[f"T = {T}: examples (red), features (blue)" for T in sizes],
    )
    fig.layout.sliders[0].currentvalue = dict(prefix="examples T = ")
    return fig


def dimensionality_figure(sweep: MemorizationSweep, instance: int = 0) -> go.Figure:
    """Every training example's D_t (red) and every represented feature's D_i (blue, ‖W_i‖ > REPRESENTED_NORM)
    against T, on log axes, with the T-gon's min(1, m/T) and the polytope lines of chapter 4."""
    xs_data, ys_data, xs_feat, ys_feat = [], [], [], []
    for k, T in enumerate(sweep.sizes):
        data = sweep.data_dimensionality(k, instance)
        norms = np.linalg.norm(sweep.W[k, instance], axis=0)
        features = sweep.feature_dimensionality(k, instance)[norms > REPRESENTED_NORM]
        spread = np.exp(np.linspace(-0.12, 0.12, max(len(data), 1)))  # a little jitter along T
        xs_data.append(T * spread[: len(data)])
        ys_data.append(data)
        xs_feat.append(np.full(len(features), T * 1.0))
        ys_feat.append(features)
    sizes = sweep.sizes.astype(float)
    line_T = np.geomspace(sizes.min() / 1.3, sizes.max() * 1.3, 60)
    fig = go.Figure(
        [
            go.Scatter(
                x=np.concatenate(xs_data),
                y=_floored(np.concatenate(ys_data)),
                customdata=np.concatenate(ys_data),
                mode="markers",
                marker=dict(color=DATA_COLOR, size=4, opacity=0.5),
                name=f"examples' D<sub>t</sub> (below {FLOOR_TEXT} drawn at it)",
                hovertemplate="T ≈ %{x:.0f}: D_t = %{customdata:.3g}<extra></extra>",
            ),
            go.Scatter(
                x=np.concatenate(xs_feat),
                y=np.concatenate(ys_feat),
                mode="markers",
                marker=dict(color=FEATURE_COLOR, size=8, symbol="diamond", line=OUTLINE),
                name=f"features' D<sub>i</sub> (‖W<sub>i</sub>‖ > {REPRESENTED_NORM})",
                hovertemplate="T = %{x:.0f}: D_i = %{y:.3g}<extra></extra>",
            ),
            go.Scatter(
                x=line_T,
                y=[tgon_dimensionality(sweep.n_hidden, T) for T in line_T],
                mode="lines",
                line=dict(color=DATA_COLOR, dash="dash", width=1.5),
                name="T-gon: min(1, m/T)",
                hoverinfo="skip",
            ),
        ]
    )
    for name, value in polytope_lines().items():
        if value in (0.4, 0.5) or name == "dedicated":
            fig.add_hline(y=value, line=dict(color="grey", width=1, dash="dot"))
            fig.add_annotation(
                x=1.01,
                xref="paper",
                xanchor="left",  # outside the plot, right of its end: the features' diamonds sit under the lines
                y=np.log10(value),
                text=name,
                showarrow=False,
                yshift=8 if value > 0.45 else -8,  # the digon's label above its line, the pentagon's below
                font=dict(size=10, color="grey"),
            )
    fig.update_layout(
        title_text=f"Dimensionality of the training examples and of the features, m = {sweep.n_hidden}",
        xaxis=dict(log_ticks(sizes), title_text="examples T"),
        yaxis=_log_axis(np.concatenate([*ys_data, [1.0 / sizes.max()]]), "dimensionality", top=1.6),
        margin=dict(r=80),
        legend=dict(orientation="h", y=-0.18, x=0),
        height=520,
    )
    return fig


def _loss_traces(x, test, train, color: str, names: tuple[str, str]) -> list[go.Scatter]:
    """A test loss (solid, with markers) and a training loss (dashed, floored for the log axis) against T."""
    return [
        go.Scatter(
            x=x,
            y=test,
            mode="lines+markers",
            line=dict(color=color, width=2.5),
            name=names[0],
            hovertemplate="T = %{x}: test %{y:.3g}<extra></extra>",
        ),
        go.Scatter(
            x=x,
            y=_floored(train),
            customdata=train,
            mode="lines",
            line=dict(color=color, width=1.5, dash="dash"),
            name=names[1],
            hovertemplate="T = %{x}: train %{customdata:.3g}<extra></extra>",
        ),
    ]


def loss_figure(sweeps: Sequence[MemorizationSweep]) -> go.Figure:
    """Training (dashed) and test (solid) loss per example against T for each m, with every dataset's test loss
    as a dot and each m's peak T* marked; 1 is the loss of outputting 0."""
    fig = go.Figure()
    for color, sweep in zip(M_COLORS, sweeps):
        m, sizes = sweep.n_hidden, sweep.sizes
        names = (f"m = {m}, test", f"m = {m}, train")
        fig.add_traces(_loss_traces(sizes, sweep.mean_test_loss(), sweep.mean_train_loss(), color, names))
        each = sweep.test_loss
        fig.add_trace(
            go.Scatter(
                x=np.repeat(sizes, each.shape[1]),
                y=each.ravel(),
                mode="markers",
                marker=dict(color=color, size=5, opacity=0.5),
                showlegend=False,
                hovertemplate="T = %{x}: one dataset's test %{y:.3g}<extra></extra>",
            )
        )
        found = peak(sweep)
        if found is None:
            continue
        T_star, loss = found.size, found.loss
        fig.add_trace(
            go.Scatter(
                x=[T_star],
                y=[loss],
                mode="markers",
                marker=dict(color=color, size=14, symbol="star", line=OUTLINE),
                name=f"m = {m}, peak: T* ≈ {found.interpolated:.0f}",
                hovertemplate=f"m = {m}: peak at T = {T_star}, test %{{y:.3g}}<extra></extra>",
            )
        )
    fig.add_hline(y=1.0, line=dict(color="grey", width=1, dash="dot"))
    values = np.concatenate([np.concatenate([s.test_loss.ravel(), s.mean_train_loss()]) for s in sweeps])
    fig.update_layout(
        title_text=f"Training and test loss against the dataset size (1 = outputting 0; {FLOORED_TRAIN})",
        xaxis=dict(log_ticks(np.concatenate([s.sizes for s in sweeps])), title_text="examples T"),
        yaxis=_log_axis(values, "loss per example"),
        legend=dict(orientation="h", y=-0.18, x=0),
        height=560,
    )
    return fig


def loss_map(sweeps: Sequence[MemorizationSweep]) -> go.Figure:
    """The mean test loss per example over (T, m), log colour scale, with each m's peak T* outlined."""
    sizes = sweeps[0].sizes
    for sweep in sweeps:
        if not np.array_equal(sweep.sizes, sizes):
            raise ConfigError("sweeps must share their dataset sizes T for the (T, m) map")
    z = np.log10(np.stack([s.mean_test_loss() for s in sweeps]))
    ms = [str(s.n_hidden) for s in sweeps]
    columns = [str(int(T)) for T in sizes]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=columns,
            y=ms,
            colorscale="Viridis",
            zmid=None,
            colorbar=dict(title_text="log₁₀ test", thickness=12),
            customdata=10**z,
            hovertemplate="T = %{x}, m = %{y}: test loss %{customdata:.3g}<extra></extra>",
        )
    )
    found = [(peak(s), m) for s, m in zip(sweeps, ms)]
    fig.add_trace(
        go.Scatter(
            x=[str(p.size) for p, m in found if p],
            y=[m for p, m in found if p],
            mode="markers",
            marker=dict(symbol="star", size=16, color="white", line=dict(width=1.5, color="black")),
            name="peak T*",
            hovertemplate="T* = %{x}, m = %{y}<extra></extra>",
        )
    )
    fig.update_layout(
        title_text="Test loss over the dataset size T and the hidden dimensions m",
        xaxis=dict(title_text="examples T", type="category"),
        yaxis=dict(title_text="hidden dimensions m", type="category"),
        legend=dict(orientation="h", y=-0.25, x=0),
        height=380,
    )
    return fig


ABLATION_COLORS = ("#1f77b4", "#d62728", "#9467bd", "#8c564b")


def _protocol(sweep: MemorizationSweep) -> str:
    train = sweep.experiments[0].train
    return f"weight decay {train.weight_decay:g}, {train.steps:,} steps"


def ablation_figure(main: MemorizationSweep, variants: Sequence[MemorizationSweep]) -> go.Figure:
    """Test (solid) and training (dashed) loss against T for the main sweep and variants of its protocol (weight
    decay, steps), on the Ts they all trained."""
    sweeps = [main, *variants]
    common = sweeps[0].sizes
    for sweep in sweeps[1:]:
        common = common[np.isin(common, sweep.sizes)]
    fig = go.Figure()
    values = []
    for color, sweep in zip(ABLATION_COLORS, sweeps):
        keep = np.isin(sweep.sizes, common)
        test, train = sweep.mean_test_loss()[keep], sweep.mean_train_loss()[keep]
        values += [test, train]
        names = (f"{_protocol(sweep)}: test", f"{_protocol(sweep)}: train")
        fig.add_traces(_loss_traces(common, test, train, color, names))
    fig.add_hline(y=1.0, line=dict(color="grey", width=1, dash="dot"))
    fig.update_layout(
        title_text=f"Weight decay and training time against the bump (m = {main.n_hidden}; {FLOORED_TRAIN})",
        xaxis=dict(log_ticks(common), title_text="examples T"),
        yaxis=_log_axis(np.concatenate(values), "loss per example"),
        legend=dict(orientation="h", y=-0.18, x=0),
        height=540,
    )
    return fig


__all__ = [
    "hidden_plane",
    "hidden_plane_slider",
    "dimensionality_figure",
    "loss_figure",
    "loss_map",
    "ablation_figure",
]
