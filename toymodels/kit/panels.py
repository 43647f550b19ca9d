"""The figure building blocks every section draws with: learned weights as in the paper (§2 figure conventions,
PAPER_NOTES §1), panels side by side, colour scales (the 2-D picture is in :mod:`.pictures`, sliders over
precomputed settings in :mod:`.sliders`).

Every builder takes arrays (torch tensors or numpy) and returns a new ``plotly.graph_objects.Figure``. None of
them calls ``.show()``, prints, or touches plotly's global state (``plotly.io.templates.default``,
``plotly.io.renderers``): the caller's template and renderer decide how a figure looks and where it goes.

Shapes follow :mod:`toymodels.metrics`: W is ``(n_hidden, n_features)`` for one instance and
``(n_instances, n_hidden, n_features)`` for a sweep, and column ``W[..., :, i]`` is feature i; b is
``(n_features,)`` or ``(n_instances, n_features)``. Feature 0 is drawn on top.

Colour ranges are fixed, never fitted to the data, so colours compare across instances and slider steps:
WᵀW and b on [-zmax, zmax] (diverging, red positive, zmax = 1 as in the paper), superposition on [0, 1],
importance on [0, max(1, max I)]. Values outside a range are clipped to the colour of its nearest end; hovering
shows the true value. Bars and markers get a grey outline so that they stay visible on light and dark themes.

"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go

from ..errors import ConfigError
from ..metrics import feature_norms, superposition
from ..validation import check_array

DIVERGING = "RdBu_r"  # WᵀW and b: blue negative, near-white zero, red positive
SUPERPOSITION_COLORS = "Plasma"
IMPORTANCE_COLORS = "Viridis"
OUTLINE = dict(width=1, color="grey")
PANEL_GAP = 0.04  # horizontal space between side-by-side panels, as a fraction of the plot width


def single_W(W) -> np.ndarray:
    return check_array(
        "W", W, shape=(None, None), expected="(n_hidden, n_features) for one instance (index a sweep: W[k])"
    )


def _feature_vector(name: str, value, n: int) -> np.ndarray:
    return check_array(name, value, shape=(n,), expected=f"(n_features,) = ({n},)")


class _Scale(NamedTuple):
    """A layout colour axis shared by the traces that name it."""

    name: str  # "coloraxis", "coloraxis2", ...
    colorscale: str
    cmin: float
    cmax: float
    label: str  # colour bar title


@dataclass
class _Panel:
    title: str  # the panel's x-axis title
    width: float  # relative width of the panel
    traces: list
    axis: dict = field(default_factory=dict)  # extra x-axis settings
    scale: _Scale | None = None


def _square(**extra) -> dict:
    """x-axis settings that lock the x scale to the shared feature axis: square heatmap cells."""
    return dict(scaleanchor="y", constrain="domain", **extra)


def _panels_figure(panels: list[_Panel], n_features: int, title: str | None) -> go.Figure:
    """Panels side by side sharing one y axis, feature 0 on top, so bars line up with heatmap rows."""
    fig = go.Figure()
    usable = 1 - PANEL_GAP * (len(panels) - 1)
    total = sum(panel.width for panel in panels)
    left = 0.0
    for k, panel in enumerate(panels, start=1):
        suffix = "" if k == 1 else str(k)
        right = min(1.0, left + usable * panel.width / total)  # min: rounding may pass 1
        axis = dict(domain=[left, right], anchor="y", title_text=panel.title, showgrid=False, zeroline=False)
        fig.update_layout({f"xaxis{suffix}": dict(axis, **panel.axis)})
        fig.add_traces([trace.update(xaxis=f"x{suffix}", yaxis="y") for trace in panel.traces])
        left = right + PANEL_GAP
    scales = [panel.scale for panel in panels if panel.scale]
    for index, scale in enumerate(scales):  # colour bars stacked on the right
        colorbar = dict(
            title=dict(text=scale.label, side="right"), y=1 - (index + 0.5) / len(scales), len=1 / len(scales) - 0.05
        )
        fig.update_layout(
            {scale.name: dict(colorscale=scale.colorscale, cmin=scale.cmin, cmax=scale.cmax, colorbar=colorbar)}
        )
    fig.update_layout(
        title_text=title,
        yaxis=dict(
            range=[n_features - 0.5, -0.5], title_text="feature", constrain="domain", showgrid=False, zeroline=False
        ),
    )
    return fig


def _weight_panels(W: np.ndarray, b, zmax: float, decoder: np.ndarray | None = None) -> list[_Panel]:
    n = W.shape[1]
    b = _feature_vector("b", b, n)
    features = np.arange(n)
    W64 = W.astype(np.float64)  # float64: the same digits on any CPU
    if decoder is None:
        name, product, entry = "W<sup>T</sup>W", W64.T @ W64, "W<sub>%{y}</sub>·W<sub>%{x}</sub>"
    else:
        name, product = "W<sub>out</sub>W", np.asarray(decoder, dtype=np.float64) @ W64
        entry = "(W<sub>out</sub>)<sub>%{y}</sub>·W<sub>%{x}</sub>"
    scale = _Scale("coloraxis", DIVERGING, -zmax, zmax, f"{name} and b")
    gram = go.Heatmap(
        z=product,
        x=features,
        y=features,
        coloraxis="coloraxis",
        hovertemplate=entry + " = %{z:.3f}<extra></extra>",
    )
    bias = go.Heatmap(
        z=b[:, None],
        x=[0],
        y=features,
        coloraxis="coloraxis",
        hovertemplate="b<sub>%{y}</sub> = %{z:.3f}<extra></extra>",
    )
    return [
        _Panel(name, n, [gram], _square(), scale),
        _Panel("b", 1, [bias], _square(showticklabels=False)),
    ]


def norm_axis_end(W) -> float:
    """Where the ‖Wᵢ‖ axis ends for weights W of any leading shape (..., m, n): at 1 or the largest norm, with a
    5 % margin. A fixed end keeps a model that learned nothing at short bars (an autoscaled axis would stretch
    norms of 10⁻⁴ across the panel), and one end for every frame of a slider keeps them comparable."""
    norms = np.linalg.norm(np.asarray(W, dtype=np.float64), axis=-2)
    return 1.05 * max(1.0, float(norms.max(initial=0.0)))


def _norms_panel(W: np.ndarray, importance, sqrt_superposition: bool, norm_end: float | None = None) -> _Panel:
    n = W.shape[1]
    label = ("√" if sqrt_superposition else "") + "Σ<sub>j≠i</sub>(Ŵ<sub>i</sub>·W<sub>j</sub>)²"
    hover = "feature %{y}<br>‖W<sub>i</sub>‖ = %{x:.3f}<br>" + label + " = %{marker.color:.3f}"
    if importance is not None:
        importance = _feature_vector("importance", importance, n)
        hover += "<br>importance %{customdata:.3g}"
    bars = go.Bar(
        x=feature_norms(W).numpy(),
        y=np.arange(n),
        orientation="h",
        customdata=importance,
        marker=dict(color=superposition(W, sqrt=sqrt_superposition).numpy(), coloraxis="coloraxis2", line=OUTLINE),
        hovertemplate=hover + "<extra></extra>",
    )
    scale = _Scale("coloraxis2", SUPERPOSITION_COLORS, 0.0, 1.0, "superposition<br>" + label)
    end = norm_axis_end(W) if norm_end is None else norm_end
    return _Panel("‖W<sub>i</sub>‖", max(n / 2, 3), [bars], dict(range=[0, end], showgrid=True), scale)


def weights_heatmap(W, b, title: str | None = None, zmax: float = 1.0, decoder=None) -> go.Figure:
    """WᵀW (n×n) and b (an n×1 column) for one instance, as diverging heatmaps on the fixed range ±zmax; given an
    untied model's ``decoder`` W_out (n×m), the product W_out W instead of WᵀW (entry (i, j): how feature j's
    direction reads out as feature i)."""
    W = single_W(W)
    if decoder is not None:
        decoder = np.asarray(decoder, dtype=np.float64)
        if decoder.shape != W.shape[::-1]:
            raise ConfigError(f"decoder must have shape (n_features, n_hidden) = {W.shape[::-1]}, got {decoder.shape}")
    return _panels_figure(_weight_panels(W, b, zmax, decoder), W.shape[1], title)


def feature_norms_bar(
    W, title: str | None = None, importance=None, sqrt_superposition: bool = False, norm_end: float | None = None
) -> go.Figure:
    """Horizontal bars of ‖W_i‖ per feature, coloured by the paper's superposition Σ_{j≠i}(Ŵ_i·W_j)² on [0, 1]
    (or its square root, as the authors' notebook and ARENA plot, with ``sqrt_superposition=True``).
    ``importance`` (n_features,), if given, is shown on hover; the norm axis ends at ``norm_end`` (default
    :func:`norm_axis_end` of W)."""
    W = single_W(W)
    return _panels_figure([_norms_panel(W, importance, sqrt_superposition, norm_end)], W.shape[1], title)


def summary_figure(
    W,
    b,
    importance=None,
    title: str | None = None,
    sqrt_superposition: bool = False,
    zmax: float = 1.0,
    norm_end: float | None = None,
) -> go.Figure:
    """The paper's per-model picture: WᵀW, b and the ‖W_i‖ bars side by side, rows aligned by feature (the norm
    axis ending at ``norm_end``, by default :func:`norm_axis_end` of W)."""
    W = single_W(W)
    panels = _weight_panels(W, b, zmax) + [_norms_panel(W, importance, sqrt_superposition, norm_end)]
    return _panels_figure(panels, W.shape[1], title)


def side_by_side(panels: Sequence[go.Figure], labels: Sequence[str] = ()) -> go.Figure:
    """Square 2-D panels in one row of one figure, axis titles on the first only, each panel titled by its
    label; a legend entry (a named trace) shows once, at its first panel. The layout starts as the first's."""
    fig = go.Figure(layout=panels[0].layout)
    k = len(panels)
    width = (1 - PANEL_GAP * (k - 1)) / k
    shown: set[str] = set()
    for i, panel in enumerate(panels):
        suffix = "" if i == 0 else str(i + 1)
        left = i * (width + PANEL_GAP)
        x = dict(panel.layout.xaxis.to_plotly_json(), domain=[left, left + width], anchor=f"y{suffix}")
        y = dict(panel.layout.yaxis.to_plotly_json(), anchor=f"x{suffix}", scaleanchor=f"x{suffix}")
        if i:  # axis titles on the first panel only
            x.pop("title", None), y.pop("title", None)
        fig.update_layout({f"xaxis{suffix}": x, f"yaxis{suffix}": y})
        for trace in panel.data:
            if trace.name is not None:
                trace.update(showlegend=trace.name not in shown)
                shown.add(trace.name)
            fig.add_trace(trace.update(xaxis=f"x{suffix}", yaxis=f"y{suffix}"))
        if labels:
            fig.add_annotation(
                text=labels[i],
                x=left + width / 2,
                y=1.0,
                xref="paper",
                yref="paper",
                xanchor="center",
                yanchor="bottom",
                showarrow=False,
            )
    return fig


def stacked(figures: Sequence[go.Figure], row_titles: Sequence[str], gap: float = 0.1) -> go.Figure:
    """Figures made by ``_panels_figure`` (panels side by side on one y axis) stacked as rows of one figure.
    Colour axes are taken from the first figure: the builders use fixed, shared ranges."""
    rows = len(figures)
    height = (1 - gap * (rows - 1)) / rows
    fig = go.Figure(layout=dict(figures[0].layout.to_plotly_json(), annotations=[]))
    x_count = 0
    for r, part in enumerate(figures):
        layout = part.layout.to_plotly_json()
        y_ref = "y" if r == 0 else f"y{r + 1}"
        top = 1 - r * (height + gap)
        x_keys = sorted((key for key in layout if key.startswith("xaxis")), key=lambda key: int(key[5:] or 1))
        renamed = {}
        for key in x_keys:
            x_count += 1
            old = "x" + key[5:]
            renamed[old] = "x" if x_count == 1 else f"x{x_count}"
            axis = dict(layout[key], anchor=y_ref)
            if "scaleanchor" in axis:
                axis["scaleanchor"] = y_ref
            fig.update_layout({"xaxis" + renamed[old][1:]: axis})
        fig.update_layout(
            {"yaxis" + y_ref[1:]: dict(layout["yaxis"], domain=[max(0.0, top - height), top], anchor=renamed["x"])}
        )
        fig.add_traces([trace.update(xaxis=renamed[trace.xaxis or "x"], yaxis=y_ref) for trace in part.data])
        fig.add_annotation(
            text=f"<b>{row_titles[r]}</b>",
            x=0,
            y=top,
            xref="paper",
            yref="paper",
            xanchor="left",
            yanchor="bottom",
            showarrow=False,
        )
    return fig


def log_ticks(values: np.ndarray) -> dict:
    """A log axis over ``values`` with ticks at 1, 2 and 5 times powers of ten, labelled plainly."""
    low, high = float(np.min(values)), float(np.max(values))
    ticks = [
        t * 10.0**e for e in range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1) for t in (1, 2, 5)
    ]
    ticks = [t for t in ticks if low / 1.2 <= t <= high * 1.2]
    return dict(type="log", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])
