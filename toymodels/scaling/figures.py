"""Chapter 13's figures: the represented fraction against weight decay, the loss against width and over training
in both regimes with their fitted power laws, the squared overlaps against 1/m, and a slider over the decay sweep's
feature norms."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from ..kit.panels import log_ticks
from ..kit.sliders import menu_slider
from ..theory import welch_bound
from ..vocabulary import REPRESENTED_NORM
from .analysis import DecaySweep, TrainingCurves, WidthScaling

LEGEND_BELOW = dict(orientation="h", y=-0.22, x=0)


ALPHA_COLORS = qualitative.D3  # one colour per data exponent α


def _color(a: int) -> str:
    return ALPHA_COLORS[a % len(ALPHA_COLORS)]


def represented_figure(sweep: DecaySweep) -> go.Figure:
    """φ_{1/2}, the share of features with ‖W_i‖ > 1/2, against the weight decay γ: one line per α."""
    fig = go.Figure()
    for a, alpha in enumerate(sweep.alphas):
        fig.add_trace(
            go.Scatter(
                x=sweep.decays,
                y=sweep.fraction[:, a],
                name=f"α = {alpha:g}",
                mode="lines+markers",
                line=dict(color=_color(a)),
                hovertemplate=f"α = {alpha:g}, γ = %{{x:g}}: φ = %{{y:.3f}}<extra></extra>",
            )
        )
    fig.add_vline(x=0, line=dict(color="grey", width=1, dash="dot"))
    return fig.update_layout(
        title_text=f"Represented fraction against weight decay (n = {sweep.n_features}, m = {sweep.width})",
        xaxis=dict(title_text="weight decay γ (negative: norms pulled to 1)", zeroline=False),
        yaxis=dict(title_text=f"φ: share of ‖Wᵢ‖ > {REPRESENTED_NORM}", range=[-0.03, 1.03]),
        legend=LEGEND_BELOW,
        height=440,
    )


def _fit_line(x: np.ndarray, fit) -> np.ndarray:
    return fit.prefactor * x ** (-fit.exponent)


def width_figure(scaling: WidthScaling) -> go.Figure:
    """Loss against width m on log axes, one panel per regime: each α's losses (markers) and its fitted power law
    (line), with the exponent in the legend; the grey dotted line is 1/m through the first α's loss at the
    smallest width."""
    titles = [f"{name} superposition (γ = {decay:g})" for name, decay in zip(scaling.regimes, scaling.decays)]
    fig = make_subplots(rows=1, cols=len(titles), subplot_titles=titles, horizontal_spacing=0.1)
    m = scaling.widths.astype(np.float64)
    for r in range(len(scaling.regimes)):
        for a, alpha in enumerate(scaling.alphas):
            fit = scaling.fits[r][a]
            name = f"α = {alpha:g}"
            fig.add_trace(
                go.Scatter(
                    x=m,
                    y=scaling.loss[r, a],
                    mode="markers",
                    marker=dict(color=_color(a), size=8),
                    name=name,
                    legendgroup=name,
                    showlegend=r == 0,
                    hovertemplate=f"{scaling.regimes[r]}, α = {alpha:g}, m = %{{x}}: loss %{{y:.3g}}<extra></extra>",
                ),
                1,
                r + 1,
            )
            fig.add_trace(
                go.Scatter(
                    x=m,
                    y=_fit_line(m, fit),
                    mode="lines",
                    line=dict(color=_color(a), width=1.5),
                    name=name,
                    legendgroup=name,
                    showlegend=False,
                    hovertemplate=(
                        f"{scaling.regimes[r]}, α = {alpha:g}: fitted exponent {fit.exponent:.2f} ± {fit.stderr:.2f}"
                        "<extra></extra>"
                    ),
                ),
                1,
                r + 1,
            )
        one_over_m = scaling.loss[r, 0, 0] * m[0] / m
        fig.add_trace(
            go.Scatter(
                x=m,
                y=one_over_m,
                mode="lines",
                line=dict(color="grey", width=1, dash="dot"),
                name="1/m",
                legendgroup="1/m",
                showlegend=r == 0,
                hoverinfo="skip",
            ),
            1,
            r + 1,
        )
    values = np.concatenate([scaling.loss.ravel(), (scaling.loss[:, 0, :1] * m[0] / m).ravel()])
    y_axis = dict(log_ticks(values), title_text="loss ⟨‖x′ − x‖²⟩")
    for r in range(len(scaling.regimes)):
        fig.update_xaxes(log_ticks(m), title_text="width m", row=1, col=r + 1)
        fig.update_yaxes(y_axis if r == 0 else dict(log_ticks(values)), row=1, col=r + 1)
    return fig.update_layout(
        title_text=f"Loss against width, n = {scaling.n_features} features with pᵢ ∝ i<sup>−α</sup>",
        legend=LEGEND_BELOW,
        height=480,
    )


def overlap_figure(scaling: WidthScaling, regime: str = "strong") -> go.Figure:
    """The mean squared overlap cos²(W_i, W_j) of the represented features against m in ``regime``, one line per α,
    with random directions' 1/m and the least possible mean for all n features (the Welch bound)."""
    r = scaling.regimes.index(regime)
    m = scaling.widths.astype(np.float64)
    fig = go.Figure()
    for a, alpha in enumerate(scaling.alphas):
        fig.add_trace(
            go.Scatter(
                x=m,
                y=scaling.overlap[r, a],
                name=f"α = {alpha:g}",
                mode="lines+markers",
                line=dict(color=_color(a)),
                hovertemplate=f"α = {alpha:g}, m = %{{x}}: mean cos² = %{{y:.4f}}<extra></extra>",
            )
        )
    welch = np.array([welch_bound(scaling.n_features, int(w)) for w in scaling.widths])
    fig.add_trace(go.Scatter(x=m, y=1 / m, name="random directions: 1/m", line=dict(color="grey", dash="dot")))
    fig.add_trace(
        go.Scatter(
            x=m, y=welch, name=f"least possible (n = {scaling.n_features})", line=dict(color="black", dash="dash")
        )
    )
    values = np.concatenate([scaling.overlap[r].ravel(), 1 / m, welch])
    return fig.update_layout(
        title_text=f"Squared overlaps of the represented features, {regime} superposition",
        xaxis=dict(log_ticks(m), title_text="width m"),
        yaxis=dict(log_ticks(values[values > 0]), title_text="mean cos²(Wᵢ, Wⱼ)"),
        legend=LEGEND_BELOW,
        height=460,
    )


def training_figure(curves: TrainingCurves) -> go.Figure:
    """Loss against training step on log axes, one panel per regime: each α's loss at the checkpoints and the power
    law fitted from the window's start (dotted grey line) to the end."""
    titles = [f"{name} superposition (γ = {decay:g})" for name, decay in zip(curves.regimes, curves.decays)]
    fig = make_subplots(rows=1, cols=len(titles), subplot_titles=titles, horizontal_spacing=0.1)
    t = curves.steps.astype(np.float64)
    window = t >= curves.start
    for r in range(len(curves.regimes)):
        for a, alpha in enumerate(curves.alphas):
            fit = curves.fits[r][a]
            name = f"α = {alpha:g}"
            fig.add_trace(
                go.Scatter(
                    x=t,
                    y=curves.loss[r, a],
                    mode="markers",
                    marker=dict(color=_color(a), size=6),
                    name=name,
                    legendgroup=name,
                    showlegend=r == 0,
                    hovertemplate=f"{curves.regimes[r]}, α = {alpha:g}, step %{{x}}: loss %{{y:.3g}}<extra></extra>",
                ),
                1,
                r + 1,
            )
            fig.add_trace(
                go.Scatter(
                    x=t[window],
                    y=_fit_line(t[window], fit),
                    mode="lines",
                    line=dict(color=_color(a), width=1.5),
                    legendgroup=name,
                    showlegend=False,
                    hovertemplate=(
                        f"{curves.regimes[r]}, α = {alpha:g}: fitted t^(−{fit.exponent:.2f} ± {fit.stderr:.2f})"
                        "<extra></extra>"
                    ),
                ),
                1,
                r + 1,
            )
        fig.add_vline(x=curves.start, line=dict(color="grey", width=1, dash="dot"), row=1, col=r + 1)
    values = curves.loss.ravel()
    decades = 10.0 ** np.arange(np.ceil(np.log10(t[0])), np.floor(np.log10(t[-1])) + 1)  # steps span decades
    steps_axis = dict(type="log", tickvals=decades, ticktext=[f"{d:,.0f}" for d in decades], tickangle=0)
    for r in range(len(curves.regimes)):
        fig.update_xaxes(steps_axis, title_text="step t", row=1, col=r + 1)
        fig.update_yaxes(dict(log_ticks(values), title_text="loss" if r == 0 else None), row=1, col=r + 1)
    return fig.update_layout(
        title_text=f"Loss over training at m = {curves.width}, lr {curves.lr:g} (fits from step {curves.start:,})",
        legend=dict(LEGEND_BELOW, y=-0.28),
        height=480,
    )


SHOWN_RANKS = 250  # the norms slider draws about this many features, log-spaced in rank (32 frames stay light)


def norms_slider(sweep: DecaySweep) -> go.Figure:
    """Each feature's final ‖W_i‖ against its rank i (most frequent first, log axis) for the decay sweep, for about
    ``SHOWN_RANKS`` features log-spaced in rank: buttons choose α, the slider γ; the dotted line is the represented
    threshold 1/2."""
    rank = np.unique(np.round(np.geomspace(1, sweep.n_features, SHOWN_RANKS)).astype(int))
    top = max(1.5, float(sweep.norms.max()) * 1.05)

    def build(a: int, g: int) -> go.Figure:
        norms = sweep.norms[g, a, rank - 1]
        fig = go.Figure(
            go.Scatter(
                x=rank,
                y=norms,
                mode="markers",
                marker=dict(color=_color(a), size=4),
                name="‖Wᵢ‖",
                hovertemplate="feature %{x}: ‖Wᵢ‖ = %{y:.3f}<extra></extra>",
            )
        )
        fig.add_hline(y=REPRESENTED_NORM, line=dict(color="grey", width=1, dash="dot"))
        return fig.update_layout(
            xaxis=dict(log_ticks(rank), title_text=f"feature i by frequency, pᵢ ∝ i<sup>−α</sup> ({rank.size} shown)"),
            yaxis=dict(range=[0, top], title_text="‖Wᵢ‖"),
            showlegend=False,
            height=480,
        )

    choices = [f"α = {alpha:g}" for alpha in sweep.alphas]
    labels = [f"γ = {g:g}" for g in sweep.decays]
    return menu_slider(build, choices, labels, title=f"Feature norms at m = {sweep.width}")
