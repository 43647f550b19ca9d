"""§4 (chapter 4): the figures of non-uniform superposition and of correlated and anticorrelated sets (those of
uniform superposition are in :mod:`.uniform_figures`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ..errors import ConfigError
from ..kit.panels import DIVERGING, OUTLINE, log_ticks, side_by_side, single_W
from ..kit.pictures import features_2d_groups
from ..kit.sliders import instance_slider
from .correlated import block_overlaps, paper_collapsed
from .non_uniform import NON_UNIFORM_CLASSES, PAPER_THRESHOLD_RATIO

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
                    hovertemplate="1−S = %{x:.4g}<br>%{y:.5g}<extra>" + name + "</extra>",
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
                    hovertemplate="1−S = %{x:.4g}<br>%{y:.5g}<extra>" + label + "</extra>",
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
    labels = [f"1−S = {p:.3g}" for p in sweep.varied_density]
    headings = [
        f"feature {sweep.varied} at 1−S = {p:.3g}: {NON_UNIFORM_CLASSES[c]}"
        for p, c in zip(sweep.varied_density, sweep.best_class)
    ]
    return instance_slider(
        lambda k: features_2d_groups(sweep.best_W[k], groups, names, axis_range=axis_range),
        len(labels),
        labels,
        title=title or "",
        headings=headings,
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
    fig.update_xaxes(log_ticks(p), title_text="density 1−S of each correlated set", row=2, col=1)
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
