"""§8 (chapter 7): the privileged-basis figures: W as a matrix beside the paper's per-neuron stacked bars, a
slider over densities, the loss distribution of K fits coloured by regime, and the regime map of a fine sweep.

Every builder takes arrays (or the chapter's analysed sweeps) and returns a new ``go.Figure``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from ..errors import ConfigError
from ..kit.panels import DIVERGING, OUTLINE, log_ticks, single_W
from ..kit.sliders import instance_slider
from ..validation import check_array
from .analysis import PAPER_REGIMES, neurons

FEATURE_COLORS = "Viridis"  # feature i coloured by its place in the importance order (0: most important)
REGIME_COLORS = {
    "dedicated neurons": "#1f77b4",
    "binary code": "#ff7f0e",
    "5 in 3": "#2ca02c",
    "6 in 4": "#d62728",
    "7 in 5": "#9467bd",
    "8 in 5": "#8c564b",
    "9 in 5": "#e377c2",
    "10 in 5": "#bcbd22",
    "neuron pairs": "#17becf",
}
OTHER_COLOR = "#7f7f7f"


def feature_colors(n: int) -> list[str]:
    """One colour per feature, from the most important (dark) to the least (yellow)."""
    return sample_colorscale(FEATURE_COLORS, list(np.linspace(0, 1, n)))


def regime_color(regime: str) -> str:
    return REGIME_COLORS.get(regime, OTHER_COLOR)


def stack_range(W) -> float:
    """The half-height that holds every neuron's stacks in :func:`neuron_figure`: the largest sum of one sign of
    a neuron's weights, over every fit in ``W`` ((m, n) or (fits, m, n)), with 5 % of room."""
    W = np.asarray(W, dtype=np.float64)
    return 1.05 * float(max(np.clip(W, 0, None).sum(-1).max(), -np.clip(W, None, 0).sum(-1).min(), 1e-9))


def _neuron_label(j: int, k: int) -> str:
    return f"{j}<br>{'dead' if k == 0 else 'mono' if k == 1 else f'{k} feats'}"


def neuron_figure(
    W, importance=None, title: str | None = None, zmax: float = 1.5, bar_range: float | None = None
) -> go.Figure:
    """One fit (W of shape (m, n)): W as a matrix (neurons × features, diverging colours on ±zmax) beside the
    paper's per-neuron stacked bars: one bar per neuron, a segment per feature of height |W_ji| coloured by the
    feature, positive weights stacked above the axis and negative ones below, on ±``bar_range`` (default
    :func:`stack_range` of W, so no stack is cut). Each neuron is labelled with the features it carries ("mono",
    "dead", "k feats"). Always n + 1 traces (the heatmap, then one bar trace per feature), so sliders and live
    figures can swap them."""
    W = single_W(W)
    m, n = W.shape
    if importance is not None:
        importance = check_array("importance", importance, shape=(n,), expected=f"(n_features,) = ({n},)")
    bar_range = stack_range(W) if bar_range is None else bar_range
    reading = neurons(W)
    split = 0.34
    heatmap = go.Heatmap(
        z=W,
        x=np.arange(n),
        y=np.arange(m),
        zmin=-zmax,
        zmax=zmax,
        colorscale=DIVERGING,
        # above the matrix, clear of the bars' axis and of a slider below
        colorbar=dict(
            title=dict(text="W<sub>ji</sub>", side="right"),
            orientation="h",
            x=(split - 0.06) / 2,
            xanchor="center",
            y=1.02,
            yanchor="bottom",
            len=split - 0.06,
            thickness=10,
        ),
        hovertemplate="neuron %{y}, feature %{x}: W = %{z:.3f}<extra></extra>",
        xaxis="x",
        yaxis="y",
    )
    colors = feature_colors(n)
    bars = []
    for i in range(n):
        label = f"{i}" + ("" if importance is None else f" (I = {importance[i]:.2g})")
        bars.append(
            go.Bar(
                x=np.arange(m),
                y=W[:, i],
                name=label,
                marker=dict(color=colors[i], line=dict(OUTLINE, width=0.5)),
                customdata=np.abs(W[:, i]),
                hovertemplate=f"feature {i} on neuron %{{x}}: W = %{{y:.3f}}<extra></extra>",
                xaxis="x2",
                yaxis="y2",
            )
        )
    layout = dict(
        title_text=title,
        barmode="relative",
        xaxis=dict(
            domain=[0, split - 0.06],
            title_text="feature",
            dtick=1,
            constrain="domain",
            scaleanchor="y",
            tickfont_size=10,
        ),
        yaxis=dict(
            domain=[0, 1], title_text="neuron", dtick=1, autorange="reversed", constrain="domain", tickfont_size=10
        ),
        xaxis2=dict(
            domain=[split + 0.12, 1],  # room for the bars' y-axis title beside the matrix
            title_text="neuron: the features it carries",
            tickvals=list(range(m)),
            ticktext=[_neuron_label(j, k) for j, k in enumerate(reading.on.sum(-1))],
            tickfont=dict(size=11),
            anchor="y2",
        ),
        yaxis2=dict(domain=[0, 1], title_text="weight (negative below 0)", range=[-bar_range, bar_range], anchor="x2"),
        legend=dict(title_text="feature", traceorder="normal", font=dict(size=10)),
        bargap=0.35,
        height=500,
        margin=dict(t=130),
    )
    return go.Figure([heatmap, *bars], layout=layout)


def density_slider(W, densities, importance=None, title: str | None = None, labels: Sequence[str] = ()) -> go.Figure:
    """:func:`neuron_figure` for each density with a plotly slider over them (no kernel needed), on one bar range
    that holds every fit's stacks. W is (n_densities, m, n), one fit per density; ``labels`` (one per density)
    name the steps and are appended to the title. By default the steps read "1−S = p" and the title
    "title — 1−S = p: regime"."""
    W = check_array("W", W, shape=(None, None, None), expected="(n_densities, n_hidden, n_features)")
    densities = check_array("densities", densities, shape=(len(W),), expected=f"(n_densities,) = ({len(W)},)")
    if labels and len(labels) != len(W):
        raise ConfigError(f"labels must have one label per density ({len(W)}), got {len(labels)}")
    bar_range = stack_range(W)
    short = [f"1−S = {p:.3g}" for p in densities]
    headings = () if labels else [f"{label}: {neurons(w).regime}" for label, w in zip(short, W)]
    return instance_slider(
        lambda k: neuron_figure(W[k], importance, bar_range=bar_range),
        len(W),
        list(labels) or short,
        title=title or "",
        headings=headings,
    )


def loss_distribution(
    losses, regimes, density: float, marks: dict | None = None, title: str | None = None
) -> go.Figure:
    """Every fit of one density as a point: its loss (x, log scale) and its regime (rows, coloured), so the
    spread of K fits shows, and the best of each regime. ``marks`` maps a label (say "best of 10") to a loss,
    drawn as a vertical line."""
    losses = check_array("losses", losses, shape=(None,), expected="(K,)")
    regimes = list(regimes)
    if len(regimes) != len(losses):
        raise ConfigError(f"regimes must have one regime per fit ({len(losses)}), got {len(regimes)}")
    names = sorted(set(regimes), key=lambda name: losses[[r == name for r in regimes]].min())
    traces = []
    for row, name in enumerate(names):
        chosen = np.array([r == name for r in regimes])
        jitter = np.linspace(-0.25, 0.25, int(chosen.sum())) if chosen.sum() > 1 else np.zeros(1)
        traces.append(
            go.Scatter(
                x=losses[chosen],
                y=row + np.random.default_rng(row).permutation(jitter),
                mode="markers",
                name=f"{name} ({int(chosen.sum())})",
                marker=dict(size=5, color=regime_color(name), line=dict(width=0.3, color="grey"), opacity=0.7),
                customdata=np.flatnonzero(chosen),
                hovertemplate=f"{name}<br>fit %{{customdata}}: loss %{{x:.4g}}<extra></extra>",
            )
        )
    shapes, annotations = [], []
    # labels in three rows, by loss, so that neighbouring marks' labels do not overlap
    for k, (label, value) in enumerate(sorted((marks or {}).items(), key=lambda item: item[1])):
        shapes.append(dict(type="line", x0=value, x1=value, y0=0, y1=1, yref="paper", line=dict(dash="dot", width=1)))
        annotations.append(
            dict(
                x=np.log10(value),
                y=1.0,
                yshift=16 * (k % 3),
                yref="paper",
                yanchor="bottom",
                text=label,
                showarrow=False,
                font=dict(size=10),
            )
        )
    return go.Figure(
        traces,
        layout=dict(
            title_text=title or f"1−S = {density:.3g}: every fit",
            xaxis=dict(type="log", title_text="loss (precise, per sample, summed over features)"),
            yaxis=dict(tickvals=list(range(len(names))), ticktext=names, title_text="regime", autorange="reversed"),
            shapes=shapes,
            annotations=annotations,
            height=140 + 45 * len(names),
            margin=dict(t=110),
        ),
    )


def regime_map(densities, monosemantic, represented, regimes, title: str | None = None) -> go.Figure:
    """The fine sweep at a glance: features represented and monosemantic neurons of the best fit at each density
    (lines), the regime as the markers' colour, and the paper's bands and counts (shaded, dashed)."""
    densities = check_array("densities", densities, shape=(None,), expected="(n_densities,)")
    count = len(densities)
    monosemantic = check_array("monosemantic", monosemantic, shape=(count,), expected=f"({count},)")
    represented = check_array("represented", represented, shape=(count,), expected=f"({count},)")
    regimes = list(regimes)
    if len(regimes) != count:
        raise ConfigError(f"regimes must have one regime per density ({count}), got {len(regimes)}")
    colors = [regime_color(r) for r in regimes]
    traces = [
        go.Scatter(
            x=densities,
            y=represented,
            mode="lines+markers",
            name="features represented",
            line=dict(color="black", width=1),
            marker=dict(size=10, color=colors, line=OUTLINE, symbol="circle"),
            text=regimes,
            hovertemplate="1−S = %{x:.3g}: %{y} features represented (%{text})<extra></extra>",
        ),
        go.Scatter(
            x=densities,
            y=monosemantic,
            mode="lines+markers",
            name="monosemantic neurons",
            line=dict(color="grey", width=1, dash="dot"),
            marker=dict(size=9, color=colors, line=OUTLINE, symbol="diamond"),
            text=regimes,
            hovertemplate="1−S = %{x:.3g}: %{y} monosemantic neurons (%{text})<extra></extra>",
        ),
    ]
    for regime in dict.fromkeys(regimes):  # one legend entry per regime found, in order of density
        traces.append(
            go.Scatter(
                x=[None], y=[None], mode="markers", name=regime, marker=dict(size=10, color=regime_color(regime))
            )
        )
    shapes, low, high = [], densities.min(), densities.max()
    for band in PAPER_REGIMES:
        a, b = max(band.low, low / 1.1), min(band.high, high * 1.1)
        if a > b:
            continue
        a, b = (a / 1.04, b * 1.04) if a == b else (a, b)
        shapes.append(
            dict(
                type="rect",
                x0=a,
                x1=b,
                y0=0,
                y1=1,
                yref="paper",
                fillcolor=regime_color(band.regime),
                opacity=0.15,
                line_width=0,
                layer="below",
            )
        )
        for value, dash in ((band.represented, "dash"), (band.monosemantic, "dot")):
            shapes.append(
                dict(type="line", x0=a, x1=b, y0=value, y1=value, line=dict(color="black", dash=dash, width=1))
            )
    return go.Figure(
        traces,
        layout=dict(
            title_text=title,
            xaxis=dict(log_ticks(densities), title_text="density 1−S (shaded: the paper's bands, dashed: its counts)"),
            yaxis=dict(title_text="count", range=[-0.5, 10.5], dtick=1),
            shapes=shapes,
            height=420,
        ),
    )


def fits_figure(sweep, density: float, ks=(1, 10, 100), halved=None, title: str | None = None) -> go.Figure:
    """:func:`loss_distribution` of every fit of ``sweep`` (a :class:`PrivilegedSweep` that trained every fit) at
    the density nearest ``density``, with the best-of-K losses for each K in ``ks`` marked, and the halving
    winner's loss if ``halved`` (a run by successive halving) is given."""
    s = sweep.index(density)
    marks = {f"best of {k}": float(sweep.loss[s, sweep.best_of(k)[s]]) for k in ks if k <= sweep.n_seeds}
    if halved is not None:
        h = halved.index(density)
        marks[f"{'halving, ' if halved.halving else ''}best of {halved.n_seeds}"] = float(halved.best_loss[h])
    p = float(sweep.density[s])
    return loss_distribution(
        sweep.loss[s], sweep.regime[s], p, marks, title=title or f"1−S = {p:.3g}: all {sweep.loss.shape[1]} fits"
    )


def sweep_map(sweep, title: str | None = None) -> go.Figure:
    """:func:`regime_map` of the lowest-loss fit of each density of a :class:`PrivilegedSweep`."""
    index = np.arange(len(sweep.best))
    return regime_map(
        sweep.density,
        sweep.monosemantic[index, sweep.best],
        sweep.represented[index, sweep.best],
        sweep.regime[index, sweep.best],
        title=title,
    )
