"""§4 (chapter 4): the figures of uniform superposition: D_i against sparsity with the polytope lines, the
feature-geometry graph, and D_i over training.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import torch

from ..errors import ConfigError
from ..kit.panels import OUTLINE, single_W
from ..kit.sliders import instance_slider
from ..metrics import dimensions_per_feature, feature_dimensionality, feature_norms
from ..validation import check_array
from ..vocabulary import polytope_lines
from .uniform import components

POLYTOPE_COLORS = {
    "dedicated": "#1f77b4",
    "tetrahedron": "#9467bd",
    "triangle": "#2ca02c",
    "digon": "#d62728",
    "pentagon": "#ff7f0e",
    "square antiprism": "#8c564b",
}
OTHER_COMPONENT_COLOR = "#7f7f7f"
LABEL_GAP = 0.06  # polytope lines closer than this (in D) get their labels above and below the lines


def _fraction_lines(fig: go.Figure, values: dict) -> None:
    """Dotted horizontal lines at the polytopes' D = d/k, labelled on the right; of two lines closer than
    ``LABEL_GAP``, the upper label sits above its line and the lower one below (pentagon 0.4, antiprism 0.375)."""
    ordered = sorted(values.items(), key=lambda item: -item[1])
    positions = ["right"] * len(ordered)
    for index in range(1, len(ordered)):
        if ordered[index - 1][1] - ordered[index][1] < LABEL_GAP:
            positions[index - 1], positions[index] = "top right", "bottom right"
    for (name, value), position in zip(ordered, positions):
        fig.add_hline(
            y=value,
            line=dict(color=POLYTOPE_COLORS.get(name, "grey"), width=1, dash="dot"),
            annotation_text=f"{name} {value:.3g}",
            annotation_position=position,
            annotation_font=dict(size=10, color=POLYTOPE_COLORS.get(name, "grey")),
        )


def feature_dimensionality_figure(density, W, title: str | None = None, represented: float = 0.5) -> go.Figure:
    """The paper's §4 figure for a sparsity sweep of one model per density: every learned feature's D_i
    (‖W_i‖ > ``represented``; markers) and the dimensions per feature D* = m/‖W‖_F² (line), against 1/(1−S),
    with the polytope fractions d/k (1, 3/4, 2/3, 1/2, 2/5, 3/8) as dotted lines.

    ``density`` is ``(n_settings,)``; W ``(n_settings, n_hidden, n_features)``."""

    density = check_array("density", density, shape=(None,), expected="(n_settings,)")
    W = check_array(
        "W", W, shape=(len(density), None, None), expected=f"(n_settings={len(density)}, n_hidden, n_features)"
    )
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
            hovertemplate="1/(1−S) = %{x:.3g}<br>Dᵢ = %{y:.3f}<extra></extra>",
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
    _fraction_lines(fig, polytope_lines())
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
    (:func:`toymodels.geometry.components`; grey when it is none). Components are laid out on a grid, largest
    first, each as a ring of its features; one of more than ``max_ring`` features is a square block of nodes
    without its edges (which would be thousands)."""

    W = np.asarray(single_W(W), dtype=np.float64)
    parts = components(W, represented, overlap)
    hidden = dict(showgrid=False, zeroline=False, showticklabels=False, title_text="")
    if not parts:  # nothing learned (yet): an empty graph that says so
        fig = go.Figure(go.Scatter(x=[], y=[], mode="markers", showlegend=False))
        fig.add_annotation(
            text=f"no feature with ‖Wᵢ‖ > {represented}", x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False
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
                name=f"|Wᵢ·Wⱼ| in ({low:g}, {high:g}]",
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
    density = check_array("density", density, shape=(None,), expected="(n_settings,)")
    W = check_array(
        "W", W, shape=(len(density), None, None), expected=f"(n_settings={len(density)}, n_hidden, n_features)"
    )
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
    history_W = check_array(
        "history_W",
        history_W,
        shape=(None, None, None, None),
        expected="(n_snapshots, n_settings, n_hidden, n_features)",
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
