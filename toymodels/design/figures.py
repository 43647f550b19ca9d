"""Chapter 12's figures: the tied and free decoders' products side by side, their losses against density, the
picture of WᵀW and b from a random start to sparse data, and the pairs experiment's pictures."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..errors import ConfigError
from ..kit.panels import log_ticks, stacked, weights_heatmap
from ..kit.sliders import instance_slider
from ..kit.table import density_label
from .analysis import FEATURE_ROLES, DecoderFits, GramReading, PairArrangements

ROW_HEIGHT = 360  # px per stacked row of WᵀW-and-b heatmaps


def product_slider(tied: DecoderFits, free: DecoderFits, title: str | None = None) -> go.Figure:
    """A slider over the densities of two sweeps: above, the tied model's WᵀW and b; below, the free decoder's
    product W_out W (entry (i, j): feature j's direction read out as feature i) and b."""
    if not np.array_equal(tied.density, free.density):
        raise ConfigError("tied and free must sweep the same densities")
    labels = [density_label(p) for p in tied.density]

    def build(s: int) -> go.Figure:
        rows = [
            weights_heatmap(tied.W[s], tied.b[s]),
            weights_heatmap(free.W[s], free.b[s], decoder=free.decoder[s]),
        ]
        names = [
            f"tied: {tied.represented[s].sum()} represented",
            f"free decoder: {free.represented[s].sum()} represented",
        ]
        # One colour scale for both rows (stacked keeps the first row's), named for both products.
        return stacked(rows, names).update_layout(coloraxis_colorbar_title_text="WᵀW, W<sub>out</sub>W and b")

    fig = instance_slider(build, len(labels), labels, title=title, headings=[f"1−S = {label}" for label in labels])
    return fig.update_layout(height=2 * ROW_HEIGHT + 160)


def loss_ratio_figure(curves: dict[str, tuple[np.ndarray, np.ndarray]], reference: np.ndarray, density, title=None):
    """Loss ÷ ``reference`` (the tied model's, one per density) against density, on log axes: one line per named
    (loss (S,), dash) curve; a grey line marks 1, where a variant does exactly as well as the tied model."""
    density = np.asarray(density, dtype=np.float64)
    fig = go.Figure()
    ratios = []
    for name, (loss, dash) in curves.items():
        ratio = np.asarray(loss, dtype=np.float64) / reference
        ratios.append(ratio)
        fig.add_trace(
            go.Scatter(
                x=density,
                y=ratio,
                name=name,
                mode="lines+markers",
                line=dict(dash=dash),
                hovertemplate="1−S = %{x:.3g}<br>loss ÷ tied's = %{y:.3g}<extra>" + name + "</extra>",
            )
        )
    fig.add_hline(y=1.0, line=dict(color="grey", width=1))
    values = np.concatenate([*ratios, [1.0]])
    return fig.update_layout(
        title_text=title,
        xaxis=dict(log_ticks(density), title_text="density 1−S", autorange="reversed"),
        yaxis=dict(log_ticks(values), title_text="loss ÷ the tied model's"),
        legend=dict(orientation="h", y=-0.25),
        height=460,
    )


def gram_slider(reading: GramReading, title: str | None = None) -> go.Figure:
    """WᵀW and b of each frame of a :class:`GramReading` (a random start, then trained models), on a slider whose
    headings count the dedicated, superposed and dropped features."""

    def heading(k: int) -> str:
        counts = ", ".join(f"{reading.count(role)[k]} {role}" for role in FEATURE_ROLES)
        return f"{reading.labels[k]}: {counts}"

    return instance_slider(
        lambda k: weights_heatmap(reading.W[k], reading.b[k]),
        len(reading.labels),
        list(reading.labels),
        title=title,
        headings=[heading(k) for k in range(len(reading.labels))],
    ).update_layout(height=ROW_HEIGHT + 200)


def pairs_slider(arrangements: dict[str, PairArrangements], title: str | None = None) -> go.Figure:
    """The best fit's WᵀW and b for each named pairs experiment (features 2k and 2k + 1 are partners), on a slider
    whose headings say how the best fit's pairs lie."""
    names = list(arrangements)
    if not names:
        raise ConfigError("arrangements must name at least one pairs experiment")

    def heading(name: str) -> str:
        best = arrangements[name].best
        kinds = sorted(set(best), key=best.index)
        return f"{name}: pairs " + ", ".join(f"{best.count(kind)} {kind}" for kind in kinds)

    return instance_slider(
        lambda k: weights_heatmap(arrangements[names[k]].W, arrangements[names[k]].b),
        len(names),
        names,
        title=title,
        headings=[heading(name) for name in names],
    ).update_layout(height=ROW_HEIGHT + 200)
