"""§4 (chapter 4): the figures of uniform superposition (D_i against sparsity, the geometry graph, training
snapshots), non-uniform superposition and correlated sets.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import torch

from ..config import ConfigError
from ..kit.panels import (
    DIVERGING,
    OUTLINE,
    as_array,
    features_2d_groups,
    instance_slider,
    log_ticks,
    side_by_side,
    single_W,
)
from ..metrics import dimensions_per_feature, feature_dimensionality, feature_norms
from .correlated import block_overlaps, paper_collapsed
from .non_uniform import NON_UNIFORM_CLASSES, PAPER_THRESHOLD_RATIO
from .uniform import POLYTOPE_FRACTIONS, components

CLASS_COLORS = {"pentagon": "#1f77b4", "two digons": "#d62728", "other": "#7f7f7f"}


def _set_groups(n: int, set_size: int) -> tuple[np.ndarray, list[str]]:
    if isinstance(set_size, bool) or not isinstance(set_size, (int, np.integer)) or set_size < 1 or n % set_size:
        raise ConfigError(f"set_size must be a positive integer dividing n_features={n}, got {set_size!r}")
    return np.arange(n) // set_size, [
        f"set {s + 1} (features {s * set_size}–{(s + 1) * set_size - 1})" for s in range(n // set_size)
    ]


def correlated_row(panels: Sequence[tuple], title: str | None = None, axis_range: float = 1.5) -> go.Figure:
    """Several m = 2 models side by side, features coloured by set: ``panels`` holds ``(W, set_size, label)``
    per model, W ``(2, n_features)`` (models may differ in n). One legend entry per set index."""
    if not panels:
        raise ConfigError("panels must hold at least one (W, set_size, label)")
    figures, labels = [], []
    for W, set_size, label in panels:
        W = single_W(W)
        groups, names = _set_groups(W.shape[1], set_size)
        figures.append(
            features_2d_groups(W, groups, [f"set {s + 1}" for s in range(len(names))], axis_range=axis_range)
        )
        labels.append(label)
    k = len(figures)
    fig = side_by_side(figures, labels)
    fig.update_layout(
        title_text=title,
        height=max(340, int(750 / k) + 190),
        margin=dict(l=60, r=20, t=100, b=40),
        legend=dict(orientation="h", y=-0.2),
    )
    return fig


def non_uniform_losses(sweep, title: str | None = None) -> go.Figure:
    """The loss of every fit of the non-uniform sweep (a :class:`toymodels.geometry.NonUniformSweep`) against
    the varied feature's density, coloured by its class. Above: the loss per sample (summed over features, log
    scale); the lowest-loss pentagon and pair of digons as lines, and the closed-form loss of two digons
    (dashed). Below: every loss divided by that closed form, so that the pentagon's curve crosses 1 where the
    two solutions cost the same. Dotted vertical lines: the measured threshold and the paper's (the varied
    feature 2.5× sparser than the others)."""
    from plotly.subplots import make_subplots

    p = sweep.varied_density
    S, K = sweep.fit_loss.shape
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.07, row_heights=[0.5, 0.5])
    x = np.repeat(p[:, None], K, axis=1)
    for row, scale in ((1, np.ones(S)), (2, np.asarray(sweep.digon_theory, dtype=float))):
        for index, name in enumerate(NON_UNIFORM_CLASSES):
            chosen = sweep.fit_class == index
            fig.add_trace(
                go.Scatter(
                    x=x[chosen],
                    y=(sweep.fit_loss / scale[:, None])[chosen],
                    mode="markers",
                    name=f"fit: {name}",
                    legendgroup=name,
                    showlegend=row == 1,
                    marker=dict(size=6, color=CLASS_COLORS[name], opacity=0.6, line=dict(width=0.5, color="grey")),
                    hovertemplate="p = %{x:.4g}<br>%{y:.5g}<extra>" + name + "</extra>",
                ),
                row=row,
                col=1,
            )
        for values, label, color, dash in (
            (sweep.pentagon_loss, "lowest-loss pentagon", CLASS_COLORS["pentagon"], "solid"),
            (sweep.digon_loss, "lowest-loss two digons", CLASS_COLORS["two digons"], "solid"),
            (sweep.digon_theory, "two digons, closed form", CLASS_COLORS["two digons"], "dash"),
        ):
            fig.add_trace(
                go.Scatter(
                    x=p,
                    y=values / scale,
                    mode="lines",
                    name=label,
                    legendgroup=label,
                    showlegend=row == 1,
                    line=dict(color=color, dash=dash, width=2),
                    hovertemplate="p = %{x:.4g}<br>%{y:.5g}<extra>" + label + "</extra>",
                ),
                row=row,
                col=1,
            )
    paper = sweep.base_density / PAPER_THRESHOLD_RATIO
    marks = (
        (sweep.threshold, f"measured: {sweep.threshold:.3g} ({sweep.ratio:.2f}× sparser)", "black", "right"),
        (paper, f"paper: {paper:.3g} ({PAPER_THRESHOLD_RATIO:g}× sparser)", "grey", "left"),
    )
    for value, text, color, side in marks:
        if np.isfinite(value):
            fig.add_vline(x=value, line=dict(color=color, dash="dot", width=1.5))
            fig.add_annotation(
                x=np.log10(value),
                y=1.0,
                xref="x",
                yref="paper",
                text=text,
                showarrow=False,
                yanchor="bottom",
                xanchor=side,
                xshift=-4 if side == "right" else 4,
            )
    axis = log_ticks(p)
    fig.update_xaxes(axis, row=1, col=1)
    fig.update_xaxes(
        axis,
        title_text=f"density of the varied feature {sweep.varied} (the others: {sweep.base_density:g})",
        row=2,
        col=1,
    )
    shown = np.concatenate([sweep.fit_loss.ravel(), np.asarray(sweep.digon_theory, dtype=float)])
    fig.update_yaxes(log_ticks(shown[np.isfinite(shown) & (shown > 0)]), title_text="loss per sample", row=1, col=1)
    fig.update_yaxes(title_text="loss ÷ two digons' (closed form)", row=2, col=1)
    return fig.update_layout(title_text=title, height=700, legend=dict(orientation="h", y=-0.15), margin=dict(t=100))


def non_uniform_slider(sweep, title: str | None = None, axis_range: float = 1.5) -> go.Figure:
    """A slider over the varied density of the non-uniform sweep: the lowest-loss fit's features in the hidden
    plane, the varied feature in its own colour, each step labelled with the density and the fit's class."""

    n = sweep.best_W.shape[-1]
    groups = np.where(np.arange(n) == sweep.varied, 0, 1)
    names = [f"feature {sweep.varied} (density varied)", f"the others (density {sweep.base_density:g})"]
    labels = [f"p = {p:.3g}: {NON_UNIFORM_CLASSES[c]}" for p, c in zip(sweep.varied_density, sweep.best_class)]
    return instance_slider(
        lambda k: features_2d_groups(sweep.best_W[k], groups, names, axis_range=axis_range),
        len(labels),
        labels,
        title=title,
    )


def set_sweep_slider(sweep, title: str | None = None, axis_range: float = 1.5) -> go.Figure:
    """A slider over the densities of a correlated or anticorrelated sweep of m = 2 models (a
    :class:`toymodels.geometry.SetSweep`): the lowest-loss fit's features coloured by set, each step labelled
    with the density and the number of collapsed sets."""
    n = sweep.best_W.shape[-1]
    groups, names = _set_groups(n, sweep.set_size)
    labels = [f"1−S = {p:.3g}: {c} collapsed" for p, c in zip(sweep.density, sweep.collapsed)]
    return instance_slider(
        lambda k: features_2d_groups(sweep.best_W[k], groups, names, axis_range=axis_range),
        len(labels),
        labels,
        title=title,
    )


def collapse_figure(sweep, title: str | None = None) -> go.Figure:
    """The superposition-vs-PCA sweep (a :class:`toymodels.geometry.SetSweep` over densities): above, the number
    of collapsed sets of the lowest-loss fit (line) and of every fit (markers sized by how many fits), with the
    paper's bands (dashed; a gap where it states none); below, the lowest-loss fit's share of ‖W‖² along the
    sets' principal components (1 = all collapsed, PCA-like)."""
    from plotly.subplots import make_subplots

    p = sweep.density
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.65, 0.35])
    counts = sweep.fit_collapsed
    levels = np.arange(counts.max() + 1) if counts.size else np.arange(1)
    tally = np.stack([(counts == c).sum(-1) for c in levels], axis=-1)  # (S, levels)
    s_index, c_index = np.nonzero(tally)
    fig.add_trace(
        go.Scatter(
            x=p[s_index],
            y=levels[c_index],
            mode="markers",
            name="every fit (size: how many)",
            marker=dict(size=4 + 2.5 * tally[s_index, c_index], color="rgba(128,128,128,0.35)", line=OUTLINE),
            customdata=tally[s_index, c_index],
            hovertemplate="1−S = %{x:.3g}<br>%{customdata} fits: %{y} collapsed<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=p,
            y=sweep.collapsed,
            mode="lines+markers",
            name="lowest-loss fit",
            line=dict(color="#d62728", width=2.5, shape="hvh"),
            marker=dict(size=8, line=OUTLINE),
            hovertemplate="1−S = %{x:.3g}<br>%{y} collapsed<extra>lowest loss</extra>",
        ),
        row=1,
        col=1,
    )
    fine = np.geomspace(p.min(), p.max(), 400)
    paper = paper_collapsed(fine).astype(float)
    fig.add_trace(
        go.Scatter(
            x=fine,
            y=np.where(paper >= 0, paper, np.nan),
            mode="lines",
            name="paper",
            line=dict(color="black", dash="dash", width=1.5),
            hovertemplate="1−S = %{x:.3g}<br>paper: %{y}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=p,
            y=sweep.pca_alignment,
            mode="lines+markers",
            name="share of ‖W‖² along the principal components",
            line=dict(color="#2ca02c", width=2),
            marker=dict(size=6, line=OUTLINE),
            hovertemplate="1−S = %{x:.3g}<br>%{y:.3f}<extra></extra>",
        ),
        row=2,
        col=1,
    )
    n_sets = sweep.arrangement.shape[-1]
    fig.update_xaxes(log_ticks(p), row=1, col=1)
    fig.update_xaxes(log_ticks(p), title_text="density 1 − S of each correlated set", row=2, col=1)
    fig.update_yaxes(title_text="collapsed sets", range=[-0.3, n_sets + 0.3], dtick=1, row=1, col=1)
    fig.update_yaxes(title_text="PCA-likeness", range=[0, 1.05], row=2, col=1)
    return fig.update_layout(title_text=title, height=600, legend=dict(orientation="h", y=-0.15))


def block_gram(W, set_size: int, title: str | None = None, zmax: float = 1.0) -> go.Figure:
    """WᵀW of one model with features in consecutive sets of ``set_size``, set boundaries outlined: local
    orthogonal bases show as near-identity blocks on the diagonal. The default title gives the mean
    |W_i·W_j| (i ≠ j) within and across sets (:func:`toymodels.geometry.block_overlaps`)."""

    W = single_W(W)
    n = W.shape[1]
    _set_groups(n, set_size)
    overlaps = block_overlaps(W, set_size)
    features = np.arange(n)
    heatmap = go.Heatmap(
        z=W.T @ W,
        x=features,
        y=features,
        coloraxis="coloraxis",
        hovertemplate="W<sub>%{y}</sub>·W<sub>%{x}</sub> = %{z:.3f}<extra></extra>",
    )
    fig = go.Figure([heatmap])
    for start in range(0, n, set_size):
        fig.add_shape(
            type="rect",
            x0=start - 0.5,
            x1=start + set_size - 0.5,
            y0=start - 0.5,
            y1=start + set_size - 0.5,
            line=dict(color="black", width=2),
        )
    default = (
        f"W<sup>T</sup>W, {n // set_size} sets of {set_size}: mean |W<sub>i</sub>·W<sub>j</sub>| "
        f"within sets {float(overlaps.within):.3f}, across {float(overlaps.across):.3f}"
    )
    return fig.update_layout(
        title_text=default if title is None else title,
        coloraxis=dict(
            colorscale=DIVERGING, cmin=-zmax, cmax=zmax, colorbar=dict(title_text="W<sub>i</sub>·W<sub>j</sub>")
        ),
        xaxis=dict(title_text="feature", scaleanchor="y", constrain="domain", showgrid=False, zeroline=False),
        yaxis=dict(title_text="feature", range=[n - 0.5, -0.5], constrain="domain", showgrid=False, zeroline=False),
    )


POLYTOPE_COLORS = {
    "dedicated": "#1f77b4",
    "tetrahedron": "#9467bd",
    "triangle": "#2ca02c",
    "digon": "#d62728",
    "pentagon": "#ff7f0e",
    "square antiprism": "#8c564b",
}
OTHER_COMPONENT_COLOR = "#7f7f7f"


def _fraction_lines(fig: go.Figure, values: dict) -> None:
    """Dotted horizontal lines at the polytopes' D = d/k, labelled on the right."""
    for name, value in values.items():
        fig.add_hline(
            y=value,
            line=dict(color=POLYTOPE_COLORS.get(name, "grey"), width=1, dash="dot"),
            annotation_text=f"{name} {value:.3g}",
            annotation_position="right",
            annotation_font=dict(size=10, color=POLYTOPE_COLORS.get(name, "grey")),
        )


def feature_dimensionality_figure(density, W, title: str | None = None, represented: float = 0.5) -> go.Figure:
    """The paper's §4 figure for a sparsity sweep of one model per density: every learned feature's D_i
    (‖W_i‖ > ``represented``; markers) and the dimensions per feature D* = m/‖W‖_F² (line), against 1/(1−S),
    with the polytope fractions d/k (1, 3/4, 2/3, 1/2, 2/5, 3/8) as dotted lines.

    ``density`` is ``(n_settings,)``; W ``(n_settings, n_hidden, n_features)``."""

    density = as_array("density", density, (None,), "(n_settings,)")
    W = as_array("W", W, (len(density), None, None), f"(n_settings={len(density)}, n_hidden, n_features)")
    x = 1 / density
    D = feature_dimensionality(torch.from_numpy(W)).numpy()
    learned = feature_norms(torch.from_numpy(W)).numpy() > represented
    columns = np.broadcast_to(x[:, None], D.shape)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=columns[learned],
            y=D[learned],
            mode="markers",
            name="D<sub>i</sub> of a learned feature",
            marker=dict(size=4, color="rgba(31,119,180,0.35)"),
            hovertemplate="1/(1−S) = %{x:.3g}<br>D_i = %{y:.3f}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=dimensions_per_feature(torch.from_numpy(W)).numpy(),
            mode="lines+markers",
            name="dimensions per feature D*",
            line=dict(color="black", width=2),
            marker=dict(size=5),
            hovertemplate="1/(1−S) = %{x:.3g}<br>D* = %{y:.3f}<extra></extra>",
        )
    )
    _fraction_lines(fig, POLYTOPE_FRACTIONS)
    return fig.update_layout(
        title_text=title,
        height=520,
        xaxis=dict(type="log", title_text="1/(1−S)  (sparser →)"),
        yaxis=dict(title_text="dimensions", range=[0, 1.1]),
        legend=dict(orientation="h", y=-0.2),
        margin=dict(r=140),
    )


def geometry_graph(
    W, title: str | None = None, represented: float = 0.5, overlap: float = 0.1, max_ring: int = 12
) -> go.Figure:
    """The feature-geometry graph of one model W (m, n): learned features as nodes, an edge where
    |W_i·W_j| > ``overlap`` (wider above 0.4 and 0.7), nodes coloured by the polytope of their component
    (:func:`toymodels.polytopes.components`; grey when it is none). Components are laid out on a grid, largest
    first, each as a ring of its features; one of more than ``max_ring`` features is a square block of nodes
    without its edges (which would be thousands)."""

    W = np.asarray(single_W(W), dtype=np.float64)
    parts = components(W, represented, overlap)
    hidden = dict(showgrid=False, zeroline=False, showticklabels=False, title_text="")
    if not parts:  # nothing learned (yet): an empty graph that says so
        fig = go.Figure(go.Scatter(x=[], y=[], mode="markers", showlegend=False))
        fig.add_annotation(
            text=f"no feature with ‖W_i‖ > {represented}", x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False
        )
        return fig.update_layout(title_text=title, height=560, xaxis=hidden, yaxis=hidden)
    columns = int(np.ceil(np.sqrt(len(parts) * 1.6)))
    position: dict[int, tuple[float, float]] = {}
    for index, part in enumerate(parts):
        cx, cy = index % columns, -(index // columns)
        k = len(part.features)
        side = int(np.ceil(np.sqrt(k)))
        for j, feature in enumerate(part.features):
            if k > max_ring:  # too many for a ring: a square block of nodes, drawn without its edges
                position[feature] = (cx - 0.4 + 0.8 * (j % side) / side, cy - 0.4 + 0.8 * (j // side) / side)
            else:
                angle, radius = np.pi / 2 + 2 * np.pi * j / k, 0 if k == 1 else 0.32
                position[feature] = (cx + radius * np.cos(angle), cy + radius * np.sin(angle))
    fig = go.Figure()
    gram = np.abs(W.T @ W)
    # Edges in three traces by |W_i·W_j| (one trace per width keeps a slider over many graphs light).
    for low, high, width in ((overlap, 0.4, 1.0), (0.4, 0.7, 2.5), (0.7, np.inf, 4.0)):
        xs, ys = [], []
        for part in (part for part in parts if len(part.features) <= max_ring):
            for a, i in enumerate(part.features):
                for j in part.features[a + 1 :]:
                    if low < gram[i, j] <= high:
                        xs += [position[i][0], position[j][0], None]
                        ys += [position[i][1], position[j][1], None]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                hoverinfo="skip",
                showlegend=False,
                name=f"|W_i·W_j| in ({low:g}, {high:g}]",
                line=dict(width=width, color="rgba(120,120,120,0.6)"),
            )
        )
    labels = list(dict.fromkeys(part.label for part in parts))
    for label in labels:
        members = [(feature, part) for part in parts if part.label == label for feature in part.features]
        color = POLYTOPE_COLORS.get(label, OTHER_COMPONENT_COLOR)
        fig.add_trace(
            go.Scatter(
                x=[position[f][0] for f, _ in members],
                y=[position[f][1] for f, _ in members],
                mode="markers",
                name=f"{label} ({len(members)} features)",
                marker=dict(size=9, color=color, line=OUTLINE),
                text=[f"feature {f}: {p.label}, ‖W‖ = {np.linalg.norm(W[:, f]):.2f}" for f, p in members],
                hovertemplate="%{text}<extra></extra>",
            )
        )
    return fig.update_layout(
        title_text=title,
        height=560,
        xaxis=hidden,
        yaxis=dict(hidden, scaleanchor="x"),
        legend=dict(orientation="h", y=-0.05),
    )


def geometry_graph_sweep(
    density, W, title: str | None = None, represented: float = 0.5, overlap: float = 0.1
) -> go.Figure:
    """:func:`geometry_graph` of every model of a sparsity sweep (one per density), under a slider labelled
    by 1/(1−S). ``density`` is ``(n_settings,)``; W ``(n_settings, n_hidden, n_features)``."""
    density = as_array("density", density, (None,), "(n_settings,)")
    W = as_array("W", W, (len(density), None, None), f"(n_settings={len(density)}, n_hidden, n_features)")
    return instance_slider(
        lambda k: geometry_graph(W[k], represented=represented, overlap=overlap),
        len(density),
        [f"1/(1−S) = {1 / p:.3g}" for p in density],
        title=title,
    )


def feature_dimensionality_over_training(density, history_W, steps, title: str | None = None) -> go.Figure:
    """:func:`feature_dimensionality_figure` at every snapshot of a sweep's training, under a slider over the
    steps: how the D_i gather onto the polytope lines as training goes on. ``history_W`` is
    ``(n_snapshots, n_settings, n_hidden, n_features)`` (``TrainResult.history.W`` of one fit per setting)."""
    history_W = as_array(
        "history_W", history_W, (None, None, None, None), "(n_snapshots, n_settings, n_hidden, n_features)"
    )
    steps = [int(step) for step in np.asarray(steps).ravel()]
    if len(steps) != len(history_W):
        raise ConfigError(f"steps must hold one step per snapshot ({len(history_W)}), got {len(steps)}")
    return instance_slider(
        lambda k: feature_dimensionality_figure(density, history_W[k]),
        len(steps),
        [f"step {step:,}" for step in steps],
        title=title,
    )
