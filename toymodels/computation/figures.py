"""§10 (chapter 8): the figures of computation in superposition — per-neuron stacked weights (one model, or a
slider over a sparsity sweep), the learned |x| against the true one, W₁ and W₂ as heatmaps, and each
asymmetric superposition motif as a small graph. Each function returns a plotly figure and changes nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..errors import ConfigError
from ..kit.panels import DIVERGING, IMPORTANCE_COLORS, OUTLINE
from ..kit.pictures import GROUP_COLORS
from ..kit.sliders import instance_slider
from ..kit.table import density_label
from .analysis import (
    GRID,
    Motif,
    MotifSearch,
    _weights,
    classify_neurons,
    neuron_order,
    one_sparse_answers,
    rescaled,
    weights_of,
)

SHOWN = 0.05  # rescaled |W₁| below which a bar segment is left out of the stacked figure (< 5 % of a bar)
MAX_MOTIFS_DRAWN = 12  # a motif slider shows at most this many instances
POSITIVE, NEGATIVE = "#d62728", "#1f77b4"  # edge colours: red excitatory, blue inhibitory (as DIVERGING)


def neuron_weights(W1, title: str | None = None, shown: float = SHOWN) -> go.Figure:
    """The paper's per-neuron picture of W₁ (m, n) for one model: one bar per neuron, its input weights stacked
    (rescaled so its largest |W₁| is 1; positive up, negative down), each segment coloured by its feature
    (0, the most important, to n − 1), neurons sorted by their main feature. Segments below ``shown`` are left out.
    One trace per stacking rank (a neuron's largest weight, its second, …), each segment coloured on one axis."""
    (W1,) = _weights(W1)
    if W1.ndim != 2:
        raise ConfigError(f"W1 must be one instance's (n_hidden, n_features), got {W1.shape}")
    m, n = W1.shape
    order = neuron_order(W1)
    scaled = rescaled(W1)[order]
    entries = []  # per neuron: (feature, weight) by decreasing |weight|
    for row in scaled:
        features = [i for i in np.argsort(-np.abs(row), kind="stable") if abs(row[i]) >= shown]
        entries.append([(int(i), round(float(row[i]), 3)) for i in features])
    depth = max((len(e) for e in entries), default=0)
    fig = go.Figure()
    for rank in range(max(depth, 1)):
        chosen = [p for p in range(m) if len(entries[p]) > rank]
        fig.add_trace(
            go.Bar(
                x=chosen,
                y=[entries[p][rank][1] for p in chosen],
                marker=dict(color=[entries[p][rank][0] for p in chosen], coloraxis="coloraxis", line=dict(width=0)),
                customdata=[entries[p][rank][0] for p in chosen],
                hovertemplate="feature %{customdata}: %{y:.2f}<extra></extra>",
                showlegend=False,
            )
        )
    fig.update_layout(
        title_text=title,
        barmode="relative",
        bargap=0.15,
        coloraxis=dict(
            colorscale=IMPORTANCE_COLORS,
            reversescale=True,
            cmin=0,
            cmax=n - 1,
            colorbar=dict(title=dict(text="feature (0: most important)", side="right")),
        ),
        xaxis=dict(title_text="neuron, sorted by its main feature", showticklabels=False, range=[-0.6, m - 0.4]),
        yaxis=dict(title_text="W₁ (each neuron rescaled to max |W₁| = 1)", zeroline=True, zerolinecolor="grey"),
        margin=dict(t=90),
    )
    return fig


def neuron_weights_slider(result, title: str | None = None, shown: float = SHOWN) -> go.Figure:
    """:func:`neuron_weights` of the best fit at each density of a sweep, with a slider over the densities
    (works without a kernel). The step labels say the sparsity and the neuron counts."""
    W1, _, _ = weights_of(result)
    density = result.experiment.density_per_setting().tolist()
    counts = classify_neurons(W1).counts()
    labels = [
        f"1−S = {density_label(p)}: {counts['monosemantic'][s]} mono, {counts['polysemantic'][s]} poly"
        for s, p in enumerate(density)
    ]
    short = [f"1−S = {p:g}" for p in density]
    fig = instance_slider(lambda s: neuron_weights(W1[s], shown=shown), len(density), short, title=title)
    if title is not None:  # the longer label in the title, the short one under the slider
        for step, label in zip(fig.layout.sliders[0].steps, labels):
            step.args[1]["title.text"] = f"{title} — {label}"
        fig.update_layout(title_text=f"{title} — {labels[0]}")
    return fig


def learned_function(W1, W2, b, title: str | None = None, t: Sequence[float] = GRID) -> go.Figure:
    """The model's answer y'ᵢ(t) for each feature alone (x = t eᵢ, one line per feature) against |t| (dashed):
    one model, W1 (m, n), W2 (n, m), b (n,). Always n + 1 traces (a live figure redraws it in place)."""
    W1, W2, b = _weights(W1, W2, b)
    if W1.ndim != 2:
        raise ConfigError(f"W1 must be one instance's (n_hidden, n_features), got {W1.shape}")
    t = np.asarray(t, dtype=float)
    answers = one_sparse_answers(W1, W2, b, t)
    fig = go.Figure(
        [go.Scatter(x=t, y=np.abs(t), mode="lines", name="|x|", line=dict(color="black", dash="dash", width=2))]
        + [
            go.Scatter(
                x=t,
                y=np.round(answers[i], 4),
                mode="lines",
                name=f"y′<sub>{i}</sub> (x<sub>{i}</sub> alone)",
                line=dict(color=GROUP_COLORS[i % len(GROUP_COLORS)], width=2),
            )
            for i in range(W1.shape[1])
        ]
    )
    fig.update_layout(
        title_text=title,
        xaxis=dict(title_text="xᵢ (the other features 0)", range=[-1, 1]),
        yaxis=dict(title_text="output", range=[-0.05, 1.1]),
    )
    return fig


def weight_matrices(W1, W2, title: str | None = None) -> go.Figure:
    """W₁ (m × n: neurons × features) and W₂ (n × m: outputs × neurons) of one model as heatmaps, blue
    negative, red positive, on one colour scale."""
    W1, W2 = _weights(W1, W2)
    if W1.ndim != 2:
        raise ConfigError(f"W1 must be one instance's (n_hidden, n_features), got {W1.shape}")
    m, n = W1.shape
    zmax = float(max(np.abs(W1).max(), np.abs(W2).max(), 1e-9))
    fig = make_subplots(rows=1, cols=2, column_widths=[n, m], horizontal_spacing=0.12)
    for col, (matrix, rows, cols, row_name, col_name) in enumerate(
        ((W1, m, n, "neuron", "feature"), (W2, n, m, "output", "neuron")), start=1
    ):
        fig.add_trace(
            go.Heatmap(
                z=np.round(matrix, 3),
                x=list(range(cols)),
                y=list(range(rows)),
                coloraxis="coloraxis",
                hovertemplate=f"{row_name} %{{y}}, {col_name} %{{x}}: %{{z:.2f}}<extra></extra>",
            ),
            row=1,
            col=col,
        )
        fig.update_xaxes(
            title_text=col_name, dtick=1, row=1, col=col, constrain="domain", scaleanchor=f"y{col if col > 1 else ''}"
        )
        fig.update_yaxes(title_text=row_name, dtick=1, autorange="reversed", row=1, col=col, constrain="domain")
    fig.update_layout(
        title_text=title,
        coloraxis=dict(
            colorscale=DIVERGING, cmin=-zmax, cmax=zmax, colorbar=dict(title=dict(text="weight", side="right"))
        ),
        annotations=[
            dict(
                text="W₁ (input weights)",
                x=0.0,
                y=1.02,
                xref="paper",
                yref="paper",
                showarrow=False,
                xanchor="left",
                yanchor="bottom",
            ),
            dict(
                text="W₂ (output weights)",
                x=0.56,
                y=1.02,
                xref="paper",
                yref="paper",
                showarrow=False,
                xanchor="left",
                yanchor="bottom",
            ),
        ],
        margin=dict(t=90),
    )
    return fig


_NODE_X = {"in": 0.0, "hidden": 1.0, "out": 2.0}


def motif_graph(motif: Motif, title: str | None = None) -> go.Figure:
    """One asymmetric superposition motif as a small graph: inputs x_a, x_b → neurons k, l → outputs y_a, y_b;
    each edge's width follows |weight|, red positive, blue negative, labelled with its weight. Always 8 traces."""
    a, b, k, l = motif.strong, motif.weak, motif.neuron, motif.inhibitor
    nodes = {
        f"x{a}": ("in", 0.0),
        f"x{b}": ("in", 1.0),
        f"neuron {k}": ("hidden", 0.0),
        f"neuron {l}": ("hidden", 1.0),
        f"y{a}": ("out", 0.0),
        f"y{b}": ("out", 1.0),
    }
    edges = [
        (f"x{a}", f"neuron {k}", motif.W1[0]),
        (f"x{b}", f"neuron {k}", motif.W1[1]),
        (f"x{a}", f"neuron {l}", motif.inhibitor_W1),
        (f"neuron {k}", f"y{a}", motif.W2[0]),
        (f"neuron {k}", f"y{b}", motif.W2[1]),
        (f"neuron {l}", f"y{b}", motif.inhibitor_W2),
    ]
    scale = max(abs(w) for _, _, w in edges) or 1.0

    def at(name):
        column, row = nodes[name]
        return _NODE_X[column], -row

    traces = []
    label_x, label_y, label_text = [], [], []
    for start, stop, weight in edges:
        (x0, y0), (x1, y1) = at(start), at(stop)
        traces.append(
            go.Scatter(
                x=[x0, x1],
                y=[y0, y1],
                mode="lines",
                line=dict(color=POSITIVE if weight > 0 else NEGATIVE, width=1 + 9 * abs(weight) / scale),
                hoverinfo="skip",
                showlegend=False,
            )
        )
        label_x.append(x0 + 0.3 * (x1 - x0))  # nearer the start, where edges into one node are apart
        label_y.append(y0 + 0.3 * (y1 - y0) + 0.06)
        label_text.append(f"{weight:.2f}")
    traces.append(
        go.Scatter(
            x=[at(name)[0] for name in nodes],
            y=[at(name)[1] for name in nodes],
            mode="markers+text",
            text=[re.sub(r"^([xy])(\d+)$", r"\1<sub>\2</sub>", name) for name in nodes],
            textposition=["middle left"] * 2 + ["top center"] * 2 + ["middle right"] * 2,
            marker=dict(size=18, color="white", line=OUTLINE),
            hoverinfo="skip",
            showlegend=False,
        )
    )
    traces.append(go.Scatter(x=label_x, y=label_y, mode="text", text=label_text, hoverinfo="skip", showlegend=False))
    fig = go.Figure(traces)
    hidden = dict(showgrid=False, zeroline=False, showticklabels=False)
    fig.update_layout(
        title_text=title,
        xaxis=dict(hidden, range=[-0.6, 2.6]),
        yaxis=dict(hidden, range=[-1.35, 0.35]),
        height=460,
        margin=dict(t=110),
        annotations=[
            dict(
                text=(
                    f"leak of x<sub>{a}</sub> into y<sub>{b}</sub>: {motif.interference:.2f} through neuron {k}, "
                    f"{motif.net:.2f} with every neuron that fires"
                ),
                x=0.5,
                y=-0.02,
                xref="paper",
                yref="paper",
                showarrow=False,
                yanchor="top",
            )
        ],
    )
    return fig


def motif_graphs(
    search: MotifSearch, title: str = "Asymmetric superposition", limit: int = MAX_MOTIFS_DRAWN
) -> go.Figure:
    """Every motif of a :class:`MotifSearch` (the first ``limit``) as a small graph, with a slider over them;
    with none found, an empty figure that says so."""
    found = search.instances()
    if not found:
        fig = go.Figure()
        fig.update_layout(
            title_text=f"{title}: no instance found",
            xaxis=dict(visible=False),
            yaxis=dict(visible=False),
            height=200,
        )
        return fig
    shown = found[:limit]
    labels = [f"1−S = {search.densities[s]:g}, fit {j}, neuron {m.neuron}" for s, j, m in shown]
    heading = f"{title}: {len(found)} found" + (f", the first {limit} drawn" if len(found) > limit else "")
    return instance_slider(lambda q: motif_graph(shown[q][2]), len(shown), labels, title=heading)


def motif_counts_figure(search: MotifSearch, title: str | None = None) -> go.Figure:
    """Motifs per fit at each density: one marker per fit (seed), the mean as a line."""
    counts = search.counts
    labels = [f"{p:g}" for p in search.densities]
    fig = go.Figure()
    for j in range(counts.shape[1]):
        fig.add_trace(
            go.Scatter(
                x=labels,
                y=counts[:, j],
                mode="markers",
                name=f"fit {j}",
                marker=dict(size=8, color="grey", opacity=0.6),
                showlegend=j == 0,
                legendgroup="fits",
                hovertemplate="1−S = %{x}: %{y} motifs<extra></extra>",
            )
        )
    fig.data[0].name = "one fit (seed)"
    fig.add_trace(go.Scatter(x=labels, y=counts.mean(1), mode="lines+markers", name="mean", line=dict(color="black")))
    fig.update_layout(
        title_text=title,
        xaxis=dict(title_text="density 1−S", type="category"),
        yaxis=dict(title_text="motifs per model", rangemode="tozero"),
    )
    return fig


def function_and_weights(W1, W2, b, title: str | None = None) -> go.Figure:
    """One small model in one figure: :func:`learned_function` on the left, W₁ and W₂ as heatmaps on the right.
    Always n + 3 traces (a live figure redraws it in place)."""
    W1, W2, b = _weights(W1, W2, b)
    m, n = W1.shape
    zmax = float(max(np.abs(W1).max(), np.abs(W2).max(), 1e-9))
    fig = make_subplots(
        rows=1,
        cols=3,
        column_widths=[0.5, 0.25, 0.25],
        horizontal_spacing=0.08,
        subplot_titles=("y′ for one feature alone", "W₁ (neuron × feature)", "W₂ (output × neuron)"),
    )
    for trace in learned_function(W1, W2, b).data:
        fig.add_trace(trace, row=1, col=1)
    for col, matrix in ((2, W1), (3, W2)):
        fig.add_trace(go.Heatmap(z=np.round(matrix, 3), coloraxis="coloraxis"), row=1, col=col)
        fig.update_xaxes(dtick=1, row=1, col=col)
        fig.update_yaxes(dtick=1, autorange="reversed", row=1, col=col)
    fig.update_xaxes(title_text="x_i", range=[-1, 1], row=1, col=1)
    fig.update_yaxes(range=[-0.05, 1.1], row=1, col=1)
    fig.update_layout(
        title_text=title,
        coloraxis=dict(
            colorscale=DIVERGING, cmin=-zmax, cmax=zmax, colorbar=dict(title=dict(text="weight", side="right"))
        ),
        legend=dict(orientation="h", y=-0.2),
        margin=dict(t=110),
    )
    return fig
