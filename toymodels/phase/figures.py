"""§3 (chapter 3): phase diagrams (empirical, theory, the paper's colours), the loss slice, and a slider up one
column of the diagram.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ..errors import ConfigError
from ..kit.palettes import PHASE_COLORS
from ..kit.panels import OUTLINE, PANEL_GAP
from ..kit.pictures import features_2d
from ..kit.sliders import instance_slider
from ..results import TrainResult
from ..validation import as_float64, check_array
from .analysis import PHASE_DESCRIPTIONS, classify, grid_axes, nearest_column, phases

_WHITE, _BLUE, _RED = np.array([255.0, 255, 255]), np.array([33.0, 102, 172]), np.array([178.0, 24, 43])


def _log_axis(values: np.ndarray, title: str, reverse: bool = False) -> dict:
    """An axis in log10 units spanning the cells centred on ``values`` (a geometric grid), plain tick labels."""
    logs = np.log10(values)
    half = abs(logs[1] - logs[0]) / 2 if len(logs) > 1 else 0.5
    low, high = logs.min() - half, logs.max() + half
    ticks = [t for t in (0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100) if low <= np.log10(t) <= high]
    return dict(
        title_text=title,
        range=[high, low] if reverse else [low, high],
        tickvals=np.log10(ticks).tolist(),
        ticktext=[f"{t:g}" for t in ticks],
        showgrid=False,
        zeroline=False,
    )


def _discrete_colorscale(names: Sequence[str]) -> list:
    k = len(names)
    return [[edge, PHASE_COLORS[name]] for i, name in enumerate(names) for edge in (i / k, (i + 1) / k)]


def _phase_heatmap(phase: np.ndarray, r: np.ndarray, s: np.ndarray, names: Sequence[str], text=None) -> go.Heatmap:
    return go.Heatmap(
        z=phase,
        x=np.log10(s),
        y=np.log10(r),
        zmin=-0.5,
        zmax=len(names) - 0.5,
        colorscale=_discrete_colorscale(names),
        showscale=False,
        text=text,
        hovertemplate="%{text}<extra></extra>" if text is not None else None,
        hoverinfo=None if text is not None else "skip",
    )


def paper_phase_colors(extra_norm, extra_superposition) -> np.ndarray:
    """The paper's colour of a grid point from its extra feature's norm ν and superposition σ (both clipped to
    [0, 1]): white when not learned, blue when it has a dimension of its own, red in superposition —
    RGB = (1 − ν)·white + ν·((1 − σ)·blue + σ·red), as uint8 of shape (*shape, 3)."""
    nu, sigma = as_float64("extra_norm", extra_norm), as_float64("extra_superposition", extra_superposition)
    if nu.shape != sigma.shape:
        raise ConfigError(f"extra_norm and extra_superposition must have one shape, got {nu.shape} and {sigma.shape}")
    nu, sigma = np.clip(nu, 0, 1)[..., None], np.clip(sigma, 0, 1)[..., None]
    return np.round((1 - nu) * _WHITE + nu * ((1 - sigma) * _BLUE + sigma * _RED)).astype(np.uint8)


def phase_diagrams(empirical, theory, title: str | None = None) -> go.Figure:
    """The empirical phase diagram beside the theory's, as three panels on the same axes (density 1 − S on
    x, dense on the left; the extra feature's relative importance r on y; both log):

    1. the trained fits in the paper's colours (:func:`paper_phase_colors` of the mean over kept fits);
    2. the trained fits' most common phase, with a cross where it differs from the theory at that point;
    3. the theory over a fine grid, with its closed-form boundaries drawn on top.

    ``empirical`` and ``theory`` come from :func:`toymodels.phase.empirical_phase_diagram` and
    :func:`toymodels.phase.theory_phase_diagram`; hovering a grid point shows its numbers."""

    names, r, s = empirical.names, empirical.relative_importance, empirical.density
    on_grid = check_array(
        "theory.on_grid", theory.on_grid, shape=empirical.phase.shape, expected=f"{empirical.phase.shape}"
    ).astype(int)
    theory_r, theory_s, theory_phase, boundaries = (
        theory.relative_importance,
        theory.density,
        theory.phase,
        theory.boundaries,
    )
    k_kept = empirical.kept.sum(-1)
    text = np.array(
        [
            [
                f"r = {r[i]:.3g}, 1−S = {s[j]:.3g}<br>"
                f"kept fits: {PHASE_DESCRIPTIONS[names[empirical.phase[i, j]]]} "
                f"({round(empirical.purity[i, j] * k_kept[i, j])}/{k_kept[i, j]})<br>"
                f"lowest-loss fit: {PHASE_DESCRIPTIONS[names[empirical.best_phase[i, j]]]}<br>"
                f"theory: {PHASE_DESCRIPTIONS[names[on_grid[i, j]]]}<br>"
                f"extra feature: ‖W‖ = {empirical.extra_norm[i, j]:.2f}, "
                f"superposition {empirical.extra_superposition[i, j]:.2f}"
                for j in range(len(s))
            ]
            for i in range(len(r))
        ]
    )
    log_r, log_s = np.log10(r), np.log10(s)
    step_r = log_r[1] - log_r[0] if len(r) > 1 else 1.0
    step_s = log_s[1] - log_s[0] if len(s) > 1 else -1.0
    image = go.Image(
        z=paper_phase_colors(empirical.extra_norm, empirical.extra_superposition),
        x0=log_s[0],
        dx=step_s,
        y0=log_r[0],
        dy=step_r,
        hovertemplate="%{text}<extra></extra>",
        text=text,
    )
    differ = np.argwhere(empirical.phase != on_grid)
    crosses = go.Scatter(
        x=log_s[differ[:, 1]],
        y=log_r[differ[:, 0]],
        mode="markers",
        hoverinfo="skip",
        showlegend=bool(len(differ)),
        name="differs from the theory",
        marker=dict(symbol="x-thin", size=9, line=dict(width=2, color="black")),
    )
    fig = go.Figure()
    panels = [
        ("trained, paper's colours", [image]),
        ("trained: most common", [_phase_heatmap(empirical.phase, r, s, names, text), crosses]),
        ("theory", [_phase_heatmap(theory_phase, theory_r, theory_s, names)]),
    ]
    r_axis, s_axis = _log_axis(r, ""), _log_axis(s, "")
    for curve_name, (curve_s, curve_r) in boundaries.items():
        # the theory's boundaries drawn over the trained grid's range only (the panels share their axes)
        curve_x, curve_y = np.log10(curve_s), np.log10(curve_r)
        outside = (curve_y < min(r_axis["range"])) | (curve_y > max(r_axis["range"]))
        outside |= (curve_x < min(s_axis["range"])) | (curve_x > max(s_axis["range"]))
        panels[2][1].append(
            go.Scatter(
                x=np.where(outside, np.nan, curve_x),
                y=np.where(outside, np.nan, curve_y),
                mode="lines",
                line=dict(color="black", width=2, dash="dot"),
                name="closed-form boundaries",
                legendgroup="boundaries",
                showlegend=curve_name == next(iter(boundaries)),
                hoverinfo="skip",
            )
        )
    width = (1 - 2 * PANEL_GAP) / 3
    for index, (panel_title, traces) in enumerate(panels):
        suffix = "" if index == 0 else str(index + 1)
        domain = [index * (width + PANEL_GAP), index * (width + PANEL_GAP) + width]
        fig.add_traces([trace.update(xaxis="x" + suffix, yaxis="y" + suffix) for trace in traces])
        fig.update_layout(
            {
                f"xaxis{suffix}": dict(_log_axis(s, "density 1−S", reverse=True), domain=domain, anchor="y" + suffix),
                f"yaxis{suffix}": dict(
                    _log_axis(r, "relative importance r of the extra feature" if index == 0 else ""),
                    anchor="x" + suffix,
                    **({} if index == 0 else dict(matches="y")),
                ),
            }
        )
        fig.add_annotation(
            text=f"<b>{panel_title}</b>",
            font=dict(size=12),
            x=sum(domain) / 2,
            y=1.0,
            xref="paper",
            yref="paper",
            xanchor="center",
            yanchor="bottom",
            showarrow=False,
        )
    for name in names:  # legend entries for the phase colours
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=PHASE_DESCRIPTIONS[name],
                marker=dict(symbol="square", size=12, color=PHASE_COLORS[name], line=OUTLINE),
            )
        )
    fig.update_layout(yaxis=dict(scaleanchor=False))  # the image panel would otherwise keep square pixels
    return fig.update_layout(title_text=title, height=480, legend=dict(orientation="h", y=-0.2), margin=dict(t=90))


def phase_slice(loss_slice, title: str | None = None) -> go.Figure:
    """The phase change along one density (a :class:`toymodels.phase.LossSlice`): above, the closed-form loss of
    each candidate against r (lines) and every trained fit's loss (markers coloured by the fit's phase; the
    fit the protocol discards is hollow); below, the extra feature's norm ‖W_e‖ of every fit, which jumps
    where the loss curves cross. Both y axes are per sample, summed over features; x is r on a log axis."""
    from plotly.subplots import make_subplots

    names = loss_slice.fit_names
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06, row_heights=[0.62, 0.38])
    for name, losses in zip(loss_slice.names, loss_slice.candidate_losses):
        fig.add_trace(
            go.Scatter(
                x=loss_slice.relative_importance,
                y=losses,
                mode="lines",
                name=f"theory: {PHASE_DESCRIPTIONS[name]}",
                line=dict(color=PHASE_COLORS[name], width=2.5),
                hovertemplate="r = %{x:.3g}<br>loss %{y:.4f}<extra></extra>",
            ),
            row=1,
            col=1,
        )
    r = np.repeat(loss_slice.fit_relative_importance[:, None], loss_slice.fit_loss.shape[1], axis=1)
    for index, name in enumerate(names):
        for kept in (True, False):
            chosen = (loss_slice.fit_phase == index) & (loss_slice.kept == kept)
            if not chosen.any():
                continue
            marker = dict(
                size=7,
                color=PHASE_COLORS[name] if kept else "rgba(0,0,0,0)",
                line=dict(width=1.5, color="grey" if kept else PHASE_COLORS[name]),
            )
            common = dict(mode="markers", marker=marker, legendgroup=name, hovertemplate="r = %{x:.3g}<br>%{y:.4f}")
            label = f"trained fit: {PHASE_DESCRIPTIONS[name]}" + ("" if kept else " (discarded)")
            fig.add_trace(go.Scatter(x=r[chosen], y=loss_slice.fit_loss[chosen], name=label, **common), row=1, col=1)
            fig.add_trace(
                go.Scatter(x=r[chosen], y=loss_slice.fit_extra_norm[chosen], showlegend=False, **common), row=2, col=1
            )
    fig.update_xaxes(type="log", row=1, col=1)
    fig.update_xaxes(type="log", title_text="relative importance r of the extra feature", row=2, col=1)
    fig.update_yaxes(title_text="loss per sample", type="log", row=1, col=1)
    fig.update_yaxes(title_text="‖W<sub>extra</sub>‖", rangemode="tozero", row=2, col=1)
    return fig.update_layout(title_text=title, height=640, legend=dict(orientation="h", y=-0.15))


def phase_column_slider(result: TrainResult, density: float):
    """A plotly slider along r at the grid density nearest to ``density`` of a trained n = 3, m = 2 phase grid:
    the lowest-loss fit's features in the hidden plane (the extra feature is the last), labelled with its phase."""

    r, s = grid_axes(result.experiment)
    density_index = nearest_column(s, density)
    if result.experiment.model.n_hidden != 2:
        raise ConfigError("phase_column_slider draws m = 2 models: use the phase_change_3 grid")
    best = result.best().W.detach().numpy().reshape(len(r), len(s), 2, -1)[:, density_index]
    names = [PHASE_DESCRIPTIONS[phases(3)[index]] for index in classify(best)[0]]
    labels = [f"r = {value:.3g}" for value in r]
    titles = [f"1−S = {s[density_index]:.3g}, r = {value:.3g}: {name}" for value, name in zip(r, names)]
    return instance_slider(
        lambda k: features_2d(best[k], [1.0, 1.0, r[k]], title=titles[k]),
        len(r),
        labels,
    )
