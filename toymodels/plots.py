"""Plotly figures of learned weights, drawn as in the paper (§2 figure conventions, PAPER_NOTES §1).

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

from dataclasses import dataclass, field
from typing import Callable, NamedTuple, Sequence

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.colors import sample_colorscale

from .config import ConfigError, Experiment, as_float64
from .metrics import feature_norms, superposition

DIVERGING = "RdBu_r"  # WᵀW and b: blue negative, near-white zero, red positive
SUPERPOSITION_COLORS = "Plasma"
IMPORTANCE_COLORS = "Viridis"
OUTLINE = dict(width=1, color="grey")
PANEL_GAP = 0.04  # horizontal space between side-by-side panels, as a fraction of the plot width
SWEEP_KINDS = ("summary", "weights", "norms", "features_2d")


def _array(name: str, value, shape: tuple[int | None, ...], expected: str) -> np.ndarray:
    """``value`` as a float array of ``shape`` (None matches any size), else a ConfigError naming it."""
    array = as_float64(name, value)
    if array.ndim != len(shape) or any(want not in (None, got) for want, got in zip(shape, array.shape)):
        raise ConfigError(f"{name} must have shape {expected}, got {array.shape}")
    return array


def _single_W(W) -> np.ndarray:
    return _array("W", W, (None, None), "(n_hidden, n_features) for one instance (index a sweep: W[k])")


def _feature_vector(name: str, value, n: int) -> np.ndarray:
    return _array(name, value, (n,), f"(n_features,) = ({n},)")


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


def _weight_panels(W: np.ndarray, b, zmax: float) -> list[_Panel]:
    n = W.shape[1]
    b = _feature_vector("b", b, n)
    features = np.arange(n)
    scale = _Scale("coloraxis", DIVERGING, -zmax, zmax, "W<sup>T</sup>W and b")
    gram = go.Heatmap(
        z=W.T @ W, x=features, y=features, coloraxis="coloraxis",
        hovertemplate="W<sub>%{y}</sub>·W<sub>%{x}</sub> = %{z:.3f}<extra></extra>",
    )
    bias = go.Heatmap(
        z=b[:, None], x=[0], y=features, coloraxis="coloraxis", hovertemplate="b<sub>%{y}</sub> = %{z:.3f}<extra></extra>"
    )
    return [
        _Panel("W<sup>T</sup>W", n, [gram], _square(), scale),
        _Panel("b", 1, [bias], _square(showticklabels=False)),
    ]


def _norms_panel(W: np.ndarray, importance, sqrt_superposition: bool) -> _Panel:
    n = W.shape[1]
    label = ("√" if sqrt_superposition else "") + "Σ<sub>j≠i</sub>(Ŵ<sub>i</sub>·W<sub>j</sub>)²"
    hover = "feature %{y}<br>‖W<sub>i</sub>‖ = %{x:.3f}<br>" + label + " = %{marker.color:.3f}"
    if importance is not None:
        importance = _feature_vector("importance", importance, n)
        hover += "<br>importance %{customdata:.3g}"
    bars = go.Bar(
        x=feature_norms(W).numpy(), y=np.arange(n), orientation="h", customdata=importance,
        marker=dict(color=superposition(W, sqrt=sqrt_superposition).numpy(), coloraxis="coloraxis2", line=OUTLINE),
        hovertemplate=hover + "<extra></extra>",
    )
    scale = _Scale("coloraxis2", SUPERPOSITION_COLORS, 0.0, 1.0, "superposition<br>" + label)
    return _Panel("‖W<sub>i</sub>‖", max(n / 2, 3), [bars], dict(rangemode="tozero", showgrid=True), scale)


def weights_heatmap(W, b, title: str | None = None, zmax: float = 1.0) -> go.Figure:
    """WᵀW (n×n) and b (an n×1 column) for one instance, as diverging heatmaps on the fixed range ±zmax."""
    W = _single_W(W)
    return _panels_figure(_weight_panels(W, b, zmax), W.shape[1], title)


def feature_norms_bar(W, title: str | None = None, importance=None, sqrt_superposition: bool = False) -> go.Figure:
    """Horizontal bars of ‖W_i‖ per feature, coloured by the paper's superposition Σ_{j≠i}(Ŵ_i·W_j)² on [0, 1]
    (or its square root, as the authors' notebook and ARENA plot, with ``sqrt_superposition=True``).
    ``importance`` (n_features,), if given, is shown on hover."""
    W = _single_W(W)
    return _panels_figure([_norms_panel(W, importance, sqrt_superposition)], W.shape[1], title)


def summary_figure(
    W, b, importance=None, title: str | None = None, sqrt_superposition: bool = False, zmax: float = 1.0
) -> go.Figure:
    """The paper's per-model picture: WᵀW, b and the ‖W_i‖ bars side by side, rows aligned by feature."""
    W = _single_W(W)
    panels = _weight_panels(W, b, zmax) + [_norms_panel(W, importance, sqrt_superposition)]
    return _panels_figure(panels, W.shape[1], title)


def _plane_layout(title: str | None, axis_range: float) -> dict:
    """The hidden plane of an m = 2 model: equal aspect, both axes fixed to ±axis_range."""
    axis = dict(range=[-axis_range, axis_range], constrain="domain", zeroline=True)
    return dict(
        title_text=title,
        xaxis=dict(axis, title_text="hidden dimension 0"),
        yaxis=dict(axis, title_text="hidden dimension 1", scaleanchor="x"),
    )


def features_2d(W, importance=None, title: str | None = None, axis_range: float = 1.5) -> go.Figure:
    """The intro picture for m = 2: each feature a line from the origin to W_i with a marker at the tip,
    coloured by importance (viridis; grey when ``importance`` is None), equal aspect, axes fixed to ±axis_range."""
    W = _single_W(W)
    if W.shape[0] != 2:
        raise ConfigError(f"W must have n_hidden = 2 rows for features_2d, shape (2, n_features), got {W.shape}")
    n = W.shape[1]
    colors, marker = ["grey"] * n, dict(size=10, line=OUTLINE, color="grey")
    hover = "%{text}: (%{x:.3f}, %{y:.3f})"
    layout = _plane_layout(title, axis_range)
    if importance is not None:
        importance = _feature_vector("importance", importance, n)
        top = max(1.0, float(importance.max()))
        colors = sample_colorscale(IMPORTANCE_COLORS, list(np.clip(importance / top, 0, 1)))
        marker.update(color=importance, coloraxis="coloraxis")
        hover += "<br>importance %{customdata:.3g}"
        layout["coloraxis"] = dict(
            colorscale=IMPORTANCE_COLORS, cmin=0, cmax=top, colorbar=dict(title_text="importance")
        )
    lines = [
        go.Scatter(x=[0, x], y=[0, y], mode="lines", line=dict(color=color, width=3), hoverinfo="skip", showlegend=False)
        for x, y, color in zip(W[0], W[1], colors)
    ]
    tips = go.Scatter(
        x=W[0], y=W[1], mode="markers", marker=marker, text=[f"feature {i}" for i in range(n)], customdata=importance,
        hovertemplate=hover + "<extra></extra>", showlegend=False,
    )
    return go.Figure(lines + [tips], layout=layout)


def _titled(title: str, label: str) -> str:
    return f"{title} — {label}" if label else title


def instance_slider(
    build: Callable[[int], go.Figure], n_instances: int, labels: Sequence[str], title: str | None = None
) -> go.Figure:
    """One figure holding ``build(k)``'s traces for every instance k, with a plotly slider that shows one
    instance at a time (pure plotly.js: works in static HTML without a kernel).

    The layout (axes, colour bars, annotations) is ``build(0)``'s. With a ``title``, each step sets the title
    to "title — label"; otherwise the title of ``build(0)`` stays."""
    if isinstance(n_instances, bool) or not isinstance(n_instances, (int, np.integer)) or n_instances < 1:
        raise ConfigError(f"n_instances must be a positive integer, got {n_instances!r}")
    if len(labels) != n_instances:
        raise ConfigError(f"labels must have one label per instance ({n_instances}), got {len(labels)}")
    figures = [build(k) for k in range(n_instances)]
    owners = [k for k, figure in enumerate(figures) for _ in figure.data]
    traces = [dict(trace.to_plotly_json(), visible=k == 0) for k, figure in enumerate(figures) for trace in figure.data]
    fig = go.Figure(data=traces, layout=figures[0].layout)

    def step(k: int) -> dict:
        args = [{"visible": [owner == k for owner in owners]}]
        if title is not None:
            args.append({"title.text": _titled(title, labels[k])})  # plotly.js ignores a plain "title" here
        return dict(label=labels[k], method="update", args=args)

    fig.update_layout(sliders=[dict(active=0, pad=dict(t=60), steps=[step(k) for k in range(n_instances)])])
    if title is not None:
        fig.update_layout(title_text=_titled(title, labels[0]))
    return fig


def sweep_figure(W, b, experiment: Experiment, kind: str = "summary", sqrt_superposition: bool = False) -> go.Figure:
    """A slider over the settings of ``experiment``: W ``(n_settings, n_hidden, n_features)`` and b
    ``(n_settings, n_features)`` hold one instance per setting (after best-of-K). The title is
    ``experiment.name`` and the step labels ``experiment.setting_labels``.

    ``kind``: "summary" (WᵀW, b, norm bars), "weights" (WᵀW, b), "norms" (bars) or "features_2d" (m = 2)."""
    if kind not in SWEEP_KINDS:
        raise ConfigError(f"kind must be one of {', '.join(map(repr, SWEEP_KINDS))}; got {kind!r}")
    s, m, n = experiment.n_settings, experiment.model.n_hidden, experiment.model.n_features
    W = _array("W", W, (s, m, n), f"(n_settings, n_hidden, n_features) = ({s}, {m}, {n}), one instance per setting")
    b = _array("b", b, (s, n), f"(n_settings, n_features) = ({s}, {n})")
    importance = experiment.importance_tensor(per="setting").numpy()
    builders = {
        "summary": lambda k: summary_figure(W[k], b[k], importance[k], sqrt_superposition=sqrt_superposition),
        "weights": lambda k: weights_heatmap(W[k], b[k]),
        "norms": lambda k: feature_norms_bar(W[k], importance=importance[k], sqrt_superposition=sqrt_superposition),
        "features_2d": lambda k: features_2d(W[k], importance[k]),
    }
    return instance_slider(builders[kind], s, experiment.setting_labels, title=experiment.name)


def _side_by_side(panels: Sequence[go.Figure], labels: Sequence[str] = ()) -> go.Figure:
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
            fig.add_annotation(text=labels[i], x=left + width / 2, y=1.0, xref="paper", yref="paper",
                               xanchor="center", yanchor="bottom", showarrow=False)
    return fig


def features_2d_row(W, importance=None, labels: Sequence[str] = (), title: str | None = None,
                    axis_range: float = 1.5) -> go.Figure:
    """The paper's opening figure: the 2-D picture of ``features_2d`` for each instance, side by side.
    W is ``(n_instances, 2, n_features)``; ``importance`` ``(n_features,)`` or ``(n_instances, n_features)``;
    ``labels`` (one per instance) title the panels."""
    W = _array("W", W, (None, 2, None), "(n_instances, 2, n_features)")
    k, n = W.shape[0], W.shape[2]
    if labels and len(labels) != k:
        raise ConfigError(f"labels must have one label per instance ({k}), got {len(labels)}")
    if importance is not None:
        importance = np.broadcast_to(np.asarray(importance, dtype=float), (k, n))
    panels = [features_2d(W[i], None if importance is None else importance[i], axis_range=axis_range) for i in range(k)]
    fig = _side_by_side(panels, labels)
    if importance is not None:  # the colour bar goes below the row, so the panels get the full width
        fig.update_layout(coloraxis_colorbar=dict(orientation="h", y=-0.35, len=0.5, thickness=12, title_side="top"))
    # Square panels share the width, so the height follows it; narrow side margins leave them more room.
    fig.update_layout(title_text=title, height=max(320, int(750 / k) + 170), margin=dict(l=60, r=20, t=90, b=40))
    return fig


def _stacked(figures: Sequence[go.Figure], row_titles: Sequence[str], gap: float = 0.1) -> go.Figure:
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
        fig.update_layout({"yaxis" + y_ref[1:]: dict(layout["yaxis"], domain=[max(0.0, top - height), top], anchor=renamed["x"])})
        fig.add_traces([trace.update(xaxis=renamed[trace.xaxis or "x"], yaxis=y_ref) for trace in part.data])
        fig.add_annotation(text=f"<b>{row_titles[r]}</b>", x=0, y=top, xref="paper", yref="paper",
                           xanchor="left", yanchor="bottom", showarrow=False)
    return fig


def compare_sweeps(sweeps: Sequence[tuple], title: str | None = None, sqrt_superposition: bool = False,
                   row_height: int = 360) -> go.Figure:
    """Several models over the same settings, one row each (WᵀW, b and the ‖W_i‖ bars, as ``summary_figure``),
    with one slider that moves every row to the same setting: the paper's linear vs ReLU-output comparison.

    ``sweeps``: ``(W, b, experiment)`` per model, W ``(n_settings, n_hidden, n_features)`` (after best-of-K),
    b ``(n_settings, n_features)``; the experiments must share their densities and importances. Rows are
    titled by ``experiment.name``, steps labelled by the first experiment's ``setting_labels``."""
    if not sweeps:
        raise ConfigError("sweeps must hold at least one (W, b, experiment)")
    first = sweeps[0][2]
    checked = []
    for W, b, experiment in sweeps:
        if (experiment.feature_probability, experiment.importance) != (first.feature_probability, first.importance):
            raise ConfigError(f"every experiment must share the settings of {first.name!r}; {experiment.name!r} differs")
        s, m, n = experiment.n_settings, experiment.model.n_hidden, experiment.model.n_features
        checked.append((
            _array("W", W, (s, m, n), f"(n_settings, n_hidden, n_features) = ({s}, {m}, {n})"),
            _array("b", b, (s, n), f"(n_settings, n_features) = ({s}, {n})"),
            experiment,
        ))
    importance = first.importance_tensor(per="setting").numpy()

    def build(k: int) -> go.Figure:
        rows = [summary_figure(W[k], b[k], importance[k], sqrt_superposition=sqrt_superposition) for W, b, _ in checked]
        return _stacked(rows, [experiment.name for _, _, experiment in checked])

    fig = instance_slider(build, first.n_settings, first.setting_labels, title=title)
    return fig.update_layout(height=row_height * len(sweeps) + 160, showlegend=False)


def loss_decomposition(accounting: dict, title: str | None = None) -> go.Figure:
    """The §2 linear-model accounting of trained models across a sparsity sweep, one colour per model: the
    feature benefit not won, Σ_i I_i(1 − ‖W_i‖²)² (solid), the interference, Σ_{i≠j} I_j(W_j·W_i)² (dashed),
    and the measured loss in the same units (dotted, markers).

    ``accounting`` maps a model name to ``theory.loss_accounting``'s result for its best-of-K weights (all
    over the same densities). x is 1/(1−S) on a log axis; y is in units of one feature's variance."""
    if not accounting:
        raise ConfigError("accounting must hold at least one model's theory.loss_accounting result")
    x = 1 / _array("density", next(iter(accounting.values())).density, (None,), "(n_settings,)")
    colors = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")
    lines = (("feature_benefit", "1 − feature benefit", dict(dash="solid", width=2), "lines"),
             ("interference", "interference", dict(dash="dash", width=2), "lines"),
             ("measured", "measured loss", dict(dash="dot", width=1), "lines+markers"))
    fig = go.Figure()
    for index, (name, terms) in enumerate(accounting.items()):
        for field_name, label, line, mode in lines:
            values = _array(field_name, getattr(terms, field_name), (len(x),), f"({len(x)},), one per setting")
            fig.add_trace(go.Scatter(
                x=x, y=values, name=f"{name}: {label}", mode=mode, line=dict(line, color=colors[index % len(colors)]),
                marker=dict(size=7, line=OUTLINE), hovertemplate="1/(1−S) = %{x:.3g}<br>%{y:.4f}",
            ))
    fig.update_layout(
        title_text=title, height=520, legend=dict(orientation="h", y=-0.25),
        xaxis=dict(type="log", title_text="1/(1−S)  (sparser →)"),
        yaxis=dict(title_text="loss / Var(x<sub>i</sub>)", rangemode="tozero"),
    )
    return fig


# ----------------------------------------------------------------------------------------------------
# Phase diagrams (§3). Axes are log10 of the density (dense on the left) and of the relative importance r,
# with ticks labelled in the plain values: images and heatmaps then share one geometry.

PHASE_COLORS = {
    "extra_ignored": "#b0b0b0", "perp_001": "#b0b0b0",  # extra feature not learned: grey
    "regular_ignored": "#2166ac", "perp_100": "#2166ac",  # extra feature gets its own dimension: blue
    "perp_110": "#67a9cf",  # extra dedicated, the two regular features antipodal: light blue
    "antipodal": "#b2182b", "perp_011": "#b2182b",  # extra feature in superposition: red
    "confused": "#7b3294",  # both features on one same-sign direction: purple
}
_WHITE, _BLUE, _RED = np.array([255.0, 255, 255]), np.array([33.0, 102, 172]), np.array([178.0, 24, 43])


def _log_axis(values: np.ndarray, title: str, reverse: bool = False) -> dict:
    """An axis in log10 units spanning the cells centred on ``values`` (a geometric grid), plain tick labels."""
    logs = np.log10(values)
    half = abs(logs[1] - logs[0]) / 2 if len(logs) > 1 else 0.5
    low, high = logs.min() - half, logs.max() + half
    ticks = [t for t in (0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100) if low <= np.log10(t) <= high]
    return dict(title_text=title, range=[high, low] if reverse else [low, high], tickvals=np.log10(ticks).tolist(),
                ticktext=[f"{t:g}" for t in ticks], showgrid=False, zeroline=False)


def _discrete_colorscale(names: Sequence[str]) -> list:
    k = len(names)
    return [[edge, PHASE_COLORS[name]] for i, name in enumerate(names) for edge in (i / k, (i + 1) / k)]


def _phase_heatmap(phase: np.ndarray, r: np.ndarray, s: np.ndarray, names: Sequence[str], text=None) -> go.Heatmap:
    return go.Heatmap(
        z=phase, x=np.log10(s), y=np.log10(r), zmin=-0.5, zmax=len(names) - 0.5, colorscale=_discrete_colorscale(names),
        showscale=False, text=text, hovertemplate="%{text}<extra></extra>" if text is not None else None,
        hoverinfo=None if text is not None else "skip",
    )


def paper_phase_colors(extra_norm, extra_superposition) -> np.ndarray:
    """The paper's colour of a grid point from its extra feature's norm ν and superposition σ (both clipped to
    [0, 1]): white when not learned, blue when it has a dimension of its own, red in superposition —
    RGB = (1 − ν)·white + ν·((1 − σ)·blue + σ·red), as uint8 of shape (*shape, 3)."""
    nu = np.clip(np.asarray(extra_norm, dtype=float), 0, 1)[..., None]
    sigma = np.clip(np.asarray(extra_superposition, dtype=float), 0, 1)[..., None]
    return np.round((1 - nu) * _WHITE + nu * ((1 - sigma) * _BLUE + sigma * _RED)).astype(np.uint8)


def phase_diagrams(empirical, theory, title: str | None = None) -> go.Figure:
    """The empirical phase diagram beside the theory's, as three panels on the same axes (density 1 − S on
    x, dense on the left; the extra feature's relative importance r on y; both log):

    1. the trained fits in the paper's colours (:func:`paper_phase_colors` of the mean over kept fits);
    2. the trained fits' most common phase, with a cross where it differs from the theory at that point;
    3. the theory over a fine grid, with its closed-form boundaries drawn on top.

    ``empirical`` and ``theory`` come from :func:`toymodels.phase.empirical_phase_diagram` and
    :func:`toymodels.phase.theory_phase_diagram`; hovering a grid point shows its numbers."""
    from .phase import PHASE_DESCRIPTIONS

    names, r, s = empirical.names, empirical.relative_importance, empirical.density
    on_grid = _array("theory.on_grid", theory.on_grid, empirical.phase.shape, f"{empirical.phase.shape}").astype(int)
    theory_r, theory_s, theory_phase, boundaries = theory.relative_importance, theory.density, theory.phase, theory.boundaries
    k_kept = empirical.kept.sum(-1)
    text = np.array([[
        f"r = {r[i]:.3g}, 1−S = {s[j]:.3g}<br>"
        f"kept fits: {PHASE_DESCRIPTIONS[names[empirical.phase[i, j]]]} "
        f"({round(empirical.purity[i, j] * k_kept[i, j])}/{k_kept[i, j]})<br>"
        f"lowest-loss fit: {PHASE_DESCRIPTIONS[names[empirical.best_phase[i, j]]]}<br>"
        f"theory: {PHASE_DESCRIPTIONS[names[on_grid[i, j]]]}<br>"
        f"extra feature: ‖W‖ = {empirical.extra_norm[i, j]:.2f}, superposition {empirical.extra_superposition[i, j]:.2f}"
        for j in range(len(s))] for i in range(len(r))])
    log_r, log_s = np.log10(r), np.log10(s)
    step_r = log_r[1] - log_r[0] if len(r) > 1 else 1.0
    step_s = log_s[1] - log_s[0] if len(s) > 1 else -1.0
    image = go.Image(
        z=paper_phase_colors(empirical.extra_norm, empirical.extra_superposition), x0=log_s[0], dx=step_s,
        y0=log_r[0], dy=step_r, hovertemplate="%{text}<extra></extra>", text=text,
    )
    differ = np.argwhere(empirical.phase != on_grid)
    crosses = go.Scatter(
        x=log_s[differ[:, 1]], y=log_r[differ[:, 0]], mode="markers", hoverinfo="skip", showlegend=bool(len(differ)),
        name="differs from the theory", marker=dict(symbol="x-thin", size=9, line=dict(width=2, color="black")),
    )
    fig = go.Figure()
    panels = [("trained (the paper's colours)", [image]),
              ("trained: most common phase", [_phase_heatmap(empirical.phase, r, s, names, text), crosses]),
              ("theory", [_phase_heatmap(theory_phase, theory_r, theory_s, names)])]
    for curve_name, (curve_s, curve_r) in boundaries.items():
        panels[2][1].append(go.Scatter(
            x=np.log10(curve_s), y=np.log10(curve_r), mode="lines", line=dict(color="black", width=2, dash="dot"),
            name="closed-form boundaries", legendgroup="boundaries", showlegend=curve_name == next(iter(boundaries)),
            hoverinfo="skip",
        ))
    width = (1 - 2 * PANEL_GAP) / 3
    for index, (panel_title, traces) in enumerate(panels):
        suffix = "" if index == 0 else str(index + 1)
        domain = [index * (width + PANEL_GAP), index * (width + PANEL_GAP) + width]
        fig.add_traces([trace.update(xaxis="x" + suffix, yaxis="y" + suffix) for trace in traces])
        fig.update_layout({
            f"xaxis{suffix}": dict(_log_axis(s, "density 1 − S", reverse=True), domain=domain, anchor="y" + suffix),
            f"yaxis{suffix}": dict(_log_axis(r, "relative importance r of the extra feature" if index == 0 else ""),
                                   anchor="x" + suffix, **({} if index == 0 else dict(matches="y"))),
        })
        fig.add_annotation(text=f"<b>{panel_title}</b>", x=sum(domain) / 2, y=1.0, xref="paper", yref="paper",
                           xanchor="center", yanchor="bottom", showarrow=False)
    for index, name in enumerate(names):  # legend entries for the phase colours
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=PHASE_DESCRIPTIONS[name],
                                 marker=dict(symbol="square", size=12, color=PHASE_COLORS[name], line=OUTLINE)))
    fig.update_layout(yaxis=dict(scaleanchor=False))  # the image panel would otherwise keep square pixels
    return fig.update_layout(title_text=title, height=480, legend=dict(orientation="h", y=-0.2),
                             margin=dict(t=90))


def phase_slice(loss_slice, title: str | None = None) -> go.Figure:
    """The phase change along one density (a :class:`toymodels.phase.LossSlice`): above, the closed-form loss of
    each candidate against r (lines) and every trained fit's loss (markers coloured by the fit's phase; the
    fit the protocol discards is hollow); below, the extra feature's norm ‖W_e‖ of every fit, which jumps
    where the loss curves cross. Both y axes are per sample, summed over features; x is r on a log axis."""
    from plotly.subplots import make_subplots

    from .phase import PHASE_DESCRIPTIONS

    names = loss_slice.fit_names
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06, row_heights=[0.62, 0.38])
    for name, losses in zip(loss_slice.names, loss_slice.candidate_losses):
        fig.add_trace(go.Scatter(
            x=loss_slice.relative_importance, y=losses, mode="lines", name=f"theory: {PHASE_DESCRIPTIONS[name]}",
            line=dict(color=PHASE_COLORS[name], width=2.5), hovertemplate="r = %{x:.3g}<br>loss %{y:.4f}<extra></extra>",
        ), row=1, col=1)
    r = np.repeat(loss_slice.fit_relative_importance[:, None], loss_slice.fit_loss.shape[1], axis=1)
    for index, name in enumerate(names):
        for kept in (True, False):
            chosen = (loss_slice.fit_phase == index) & (loss_slice.kept == kept)
            if not chosen.any():
                continue
            marker = dict(size=7, color=PHASE_COLORS[name] if kept else "rgba(0,0,0,0)",
                          line=dict(width=1.5, color="grey" if kept else PHASE_COLORS[name]))
            common = dict(mode="markers", marker=marker, legendgroup=name, hovertemplate="r = %{x:.3g}<br>%{y:.4f}")
            label = f"trained fit: {PHASE_DESCRIPTIONS[name]}" + ("" if kept else " (discarded)")
            fig.add_trace(go.Scatter(x=r[chosen], y=loss_slice.fit_loss[chosen], name=label, **common), row=1, col=1)
            fig.add_trace(go.Scatter(x=r[chosen], y=loss_slice.fit_extra_norm[chosen], showlegend=False, **common),
                          row=2, col=1)
    fig.update_xaxes(type="log", row=1, col=1)
    fig.update_xaxes(type="log", title_text="relative importance r of the extra feature", row=2, col=1)
    fig.update_yaxes(title_text="loss per sample", type="log", row=1, col=1)
    fig.update_yaxes(title_text="‖W<sub>extra</sub>‖", rangemode="tozero", row=2, col=1)
    return fig.update_layout(title_text=title, height=640, legend=dict(orientation="h", y=-0.15))


# ----------------------------------------------------------------------------------------------------
# The geometry of superposition (§4): non-uniform superposition, correlated and anticorrelated sets.
# The analyses come from toymodels.geometry (NonUniformSweep, SetSweep); these builders only draw them.

GROUP_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")  # feature groups (sets)
CLASS_COLORS = {"pentagon": "#1f77b4", "two digons": "#d62728", "other": "#7f7f7f"}


def features_2d_groups(W, groups, names: Sequence[str], title: str | None = None, axis_range: float = 1.5) -> go.Figure:
    """The 2-D picture of ``features_2d`` with each feature coloured by its group (a correlated set, or the
    varied feature against the rest): ``groups`` (n_features,) holds group indices into ``names``, one legend
    entry per group. Always n + len(names) traces (lines, then one marker trace per group), so a live figure
    can redraw it in place."""
    W = _single_W(W)
    if W.shape[0] != 2:
        raise ConfigError(f"W must have n_hidden = 2 rows for features_2d_groups, shape (2, n_features), got {W.shape}")
    n = W.shape[1]
    groups = np.asarray(groups)
    if groups.shape != (n,) or not np.issubdtype(groups.dtype, np.integer) or groups.min() < 0 or groups.max() >= len(names):
        raise ConfigError(f"groups must hold one integer in [0, {len(names)}) per feature ({n}), got {groups.tolist()}")
    colors = [GROUP_COLORS[g % len(GROUP_COLORS)] for g in groups]
    lines = [
        go.Scatter(x=[0, x], y=[0, y], mode="lines", line=dict(color=color, width=3), hoverinfo="skip", showlegend=False)
        for x, y, color in zip(W[0], W[1], colors)
    ]
    tips = []
    for index, name in enumerate(names):
        chosen = np.flatnonzero(groups == index)
        tips.append(go.Scatter(
            x=W[0, chosen], y=W[1, chosen], mode="markers", name=name, legendgroup=name,
            marker=dict(size=10, color=GROUP_COLORS[index % len(GROUP_COLORS)], line=OUTLINE),
            text=[f"feature {i}" for i in chosen], hovertemplate="%{text}: (%{x:.3f}, %{y:.3f})<extra></extra>",
        ))
    return go.Figure(lines + tips, layout=_plane_layout(title, axis_range))


def _set_groups(n: int, set_size: int) -> tuple[np.ndarray, list[str]]:
    if isinstance(set_size, bool) or not isinstance(set_size, (int, np.integer)) or set_size < 1 or n % set_size:
        raise ConfigError(f"set_size must be a positive integer dividing n_features={n}, got {set_size!r}")
    return np.arange(n) // set_size, [f"set {s + 1} (features {s * set_size}–{(s + 1) * set_size - 1})"
                                      for s in range(n // set_size)]


def correlated_row(panels: Sequence[tuple], title: str | None = None, axis_range: float = 1.5) -> go.Figure:
    """Several m = 2 models side by side, features coloured by set: ``panels`` holds ``(W, set_size, label)``
    per model, W ``(2, n_features)`` (models may differ in n). One legend entry per set index."""
    if not panels:
        raise ConfigError("panels must hold at least one (W, set_size, label)")
    figures, labels = [], []
    for W, set_size, label in panels:
        W = _single_W(W)
        groups, names = _set_groups(W.shape[1], set_size)
        figures.append(features_2d_groups(W, groups, [f"set {s + 1}" for s in range(len(names))], axis_range=axis_range))
        labels.append(label)
    k = len(figures)
    fig = _side_by_side(figures, labels)
    fig.update_layout(title_text=title, height=max(340, int(750 / k) + 190), margin=dict(l=60, r=20, t=100, b=40),
                      legend=dict(orientation="h", y=-0.2))
    return fig


def _log_ticks(values: np.ndarray) -> dict:
    """A log axis over ``values`` with ticks at 1, 2 and 5 times powers of ten, labelled plainly."""
    low, high = float(np.min(values)), float(np.max(values))
    ticks = [t * 10.0**e for e in range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1) for t in (1, 2, 5)]
    ticks = [t for t in ticks if low / 1.2 <= t <= high * 1.2]
    return dict(type="log", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])


def non_uniform_losses(sweep, title: str | None = None) -> go.Figure:
    """The loss of every fit of the non-uniform sweep (a :class:`toymodels.geometry.NonUniformSweep`) against
    the varied feature's density, coloured by its class. Above: the loss per sample (summed over features, log
    scale); the lowest-loss pentagon and pair of digons as lines, and the closed-form loss of two digons
    (dashed). Below: every loss divided by that closed form, so that the pentagon's curve crosses 1 where the
    two solutions cost the same. Dotted vertical lines: the measured threshold and the paper's (the varied
    feature 2.5× sparser than the others)."""
    from .geometry import NON_UNIFORM_CLASSES, PAPER_THRESHOLD_RATIO
    from plotly.subplots import make_subplots

    p = sweep.varied_density
    S, K = sweep.fit_loss.shape
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.07, row_heights=[0.5, 0.5])
    x = np.repeat(p[:, None], K, axis=1)
    for row, scale in ((1, np.ones(S)), (2, np.asarray(sweep.digon_theory, dtype=float))):
        for index, name in enumerate(NON_UNIFORM_CLASSES):
            chosen = sweep.fit_class == index
            fig.add_trace(go.Scatter(
                x=x[chosen], y=(sweep.fit_loss / scale[:, None])[chosen], mode="markers", name=f"fit: {name}",
                legendgroup=name, showlegend=row == 1,
                marker=dict(size=6, color=CLASS_COLORS[name], opacity=0.6, line=dict(width=0.5, color="grey")),
                hovertemplate="p = %{x:.4g}<br>%{y:.5g}<extra>" + name + "</extra>",
            ), row=row, col=1)
        for values, label, color, dash in (
            (sweep.pentagon_loss, "lowest-loss pentagon", CLASS_COLORS["pentagon"], "solid"),
            (sweep.digon_loss, "lowest-loss two digons", CLASS_COLORS["two digons"], "solid"),
            (sweep.digon_theory, "two digons, closed form", CLASS_COLORS["two digons"], "dash"),
        ):
            fig.add_trace(go.Scatter(
                x=p, y=values / scale, mode="lines", name=label, legendgroup=label, showlegend=row == 1,
                line=dict(color=color, dash=dash, width=2), hovertemplate="p = %{x:.4g}<br>%{y:.5g}<extra>" + label + "</extra>",
            ), row=row, col=1)
    paper = sweep.base_density / PAPER_THRESHOLD_RATIO
    marks = ((sweep.threshold, f"measured: {sweep.threshold:.3g} ({sweep.ratio:.2f}× sparser)", "black", "right"),
             (paper, f"paper: {paper:.3g} ({PAPER_THRESHOLD_RATIO:g}× sparser)", "grey", "left"))
    for value, text, color, side in marks:
        if np.isfinite(value):
            fig.add_vline(x=value, line=dict(color=color, dash="dot", width=1.5))
            fig.add_annotation(x=np.log10(value), y=1.0, xref="x", yref="paper", text=text, showarrow=False,
                               yanchor="bottom", xanchor=side, xshift=-4 if side == "right" else 4)
    axis = _log_ticks(p)
    fig.update_xaxes(axis, row=1, col=1)
    fig.update_xaxes(axis, title_text=f"density of the varied feature {sweep.varied} (the others: {sweep.base_density:g})",
                     row=2, col=1)
    shown = np.concatenate([sweep.fit_loss.ravel(), np.asarray(sweep.digon_theory, dtype=float)])
    fig.update_yaxes(_log_ticks(shown[np.isfinite(shown) & (shown > 0)]), title_text="loss per sample", row=1, col=1)
    fig.update_yaxes(title_text="loss ÷ two digons' (closed form)", row=2, col=1)
    return fig.update_layout(title_text=title, height=700, legend=dict(orientation="h", y=-0.15), margin=dict(t=100))


def non_uniform_slider(sweep, title: str | None = None, axis_range: float = 1.5) -> go.Figure:
    """A slider over the varied density of the non-uniform sweep: the lowest-loss fit's features in the hidden
    plane, the varied feature in its own colour, each step labelled with the density and the fit's class."""
    from .geometry import NON_UNIFORM_CLASSES

    n = sweep.best_W.shape[-1]
    groups = np.where(np.arange(n) == sweep.varied, 0, 1)
    names = [f"feature {sweep.varied} (density varied)", f"the others (density {sweep.base_density:g})"]
    labels = [f"p = {p:.3g}: {NON_UNIFORM_CLASSES[c]}" for p, c in zip(sweep.varied_density, sweep.best_class)]
    return instance_slider(lambda k: features_2d_groups(sweep.best_W[k], groups, names, axis_range=axis_range),
                           len(labels), labels, title=title)


def set_sweep_slider(sweep, title: str | None = None, axis_range: float = 1.5) -> go.Figure:
    """A slider over the densities of a correlated or anticorrelated sweep of m = 2 models (a
    :class:`toymodels.geometry.SetSweep`): the lowest-loss fit's features coloured by set, each step labelled
    with the density and the number of collapsed sets."""
    n = sweep.best_W.shape[-1]
    groups, names = _set_groups(n, sweep.set_size)
    labels = [f"1−S = {p:.3g}: {c} collapsed" for p, c in zip(sweep.density, sweep.collapsed)]
    return instance_slider(lambda k: features_2d_groups(sweep.best_W[k], groups, names, axis_range=axis_range),
                           len(labels), labels, title=title)


def collapse_figure(sweep, title: str | None = None) -> go.Figure:
    """The superposition-vs-PCA sweep (a :class:`toymodels.geometry.SetSweep` over densities): above, the number
    of collapsed sets of the lowest-loss fit (line) and of every fit (markers sized by how many fits), with the
    paper's bands (dashed; a gap where it states none); below, the lowest-loss fit's share of ‖W‖² along the
    sets' principal components (1 = all collapsed, PCA-like)."""
    from .geometry import paper_collapsed
    from plotly.subplots import make_subplots

    p = sweep.density
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.65, 0.35])
    counts = sweep.fit_collapsed
    levels = np.arange(counts.max() + 1) if counts.size else np.arange(1)
    tally = np.stack([(counts == c).sum(-1) for c in levels], axis=-1)  # (S, levels)
    s_index, c_index = np.nonzero(tally)
    fig.add_trace(go.Scatter(
        x=p[s_index], y=levels[c_index], mode="markers", name="every fit (size: how many)",
        marker=dict(size=4 + 2.5 * tally[s_index, c_index], color="rgba(128,128,128,0.35)", line=OUTLINE),
        customdata=tally[s_index, c_index], hovertemplate="1−S = %{x:.3g}<br>%{customdata} fits: %{y} collapsed<extra></extra>",
    ), row=1, col=1)
    fig.add_trace(go.Scatter(
        x=p, y=sweep.collapsed, mode="lines+markers", name="lowest-loss fit", line=dict(color="#d62728", width=2.5, shape="hvh"),
        marker=dict(size=8, line=OUTLINE), hovertemplate="1−S = %{x:.3g}<br>%{y} collapsed<extra>lowest loss</extra>",
    ), row=1, col=1)
    fine = np.geomspace(p.min(), p.max(), 400)
    paper = paper_collapsed(fine).astype(float)
    fig.add_trace(go.Scatter(
        x=fine, y=np.where(paper >= 0, paper, np.nan), mode="lines", name="paper", line=dict(color="black", dash="dash", width=1.5),
        hovertemplate="1−S = %{x:.3g}<br>paper: %{y}<extra></extra>",
    ), row=1, col=1)
    fig.add_trace(go.Scatter(
        x=p, y=sweep.pca_alignment, mode="lines+markers", name="share of ‖W‖² along the principal components",
        line=dict(color="#2ca02c", width=2), marker=dict(size=6, line=OUTLINE),
        hovertemplate="1−S = %{x:.3g}<br>%{y:.3f}<extra></extra>",
    ), row=2, col=1)
    n_sets = sweep.arrangement.shape[-1]
    fig.update_xaxes(_log_ticks(p), row=1, col=1)
    fig.update_xaxes(_log_ticks(p), title_text="density 1 − S of each correlated set", row=2, col=1)
    fig.update_yaxes(title_text="collapsed sets", range=[-0.3, n_sets + 0.3], dtick=1, row=1, col=1)
    fig.update_yaxes(title_text="PCA-likeness", range=[0, 1.05], row=2, col=1)
    return fig.update_layout(title_text=title, height=600, legend=dict(orientation="h", y=-0.15))


def block_gram(W, set_size: int, title: str | None = None, zmax: float = 1.0) -> go.Figure:
    """WᵀW of one model with features in consecutive sets of ``set_size``, set boundaries outlined: local
    orthogonal bases show as near-identity blocks on the diagonal. The default title gives the mean
    |W_i·W_j| (i ≠ j) within and across sets (:func:`toymodels.geometry.block_overlaps`)."""
    from .geometry import block_overlaps

    W = _single_W(W)
    n = W.shape[1]
    _set_groups(n, set_size)
    overlaps = block_overlaps(W, set_size)
    features = np.arange(n)
    heatmap = go.Heatmap(
        z=W.T @ W, x=features, y=features, coloraxis="coloraxis",
        hovertemplate="W<sub>%{y}</sub>·W<sub>%{x}</sub> = %{z:.3f}<extra></extra>",
    )
    fig = go.Figure([heatmap])
    for start in range(0, n, set_size):
        fig.add_shape(type="rect", x0=start - 0.5, x1=start + set_size - 0.5, y0=start - 0.5, y1=start + set_size - 0.5,
                      line=dict(color="black", width=2))
    default = (f"W<sup>T</sup>W, {n // set_size} sets of {set_size}: mean |W<sub>i</sub>·W<sub>j</sub>| "
               f"within sets {float(overlaps.within):.3f}, across {float(overlaps.across):.3f}")
    return fig.update_layout(
        title_text=default if title is None else title,
        coloraxis=dict(colorscale=DIVERGING, cmin=-zmax, cmax=zmax, colorbar=dict(title_text="W<sub>i</sub>·W<sub>j</sub>")),
        xaxis=dict(title_text="feature", scaleanchor="y", constrain="domain", showgrid=False, zeroline=False),
        yaxis=dict(title_text="feature", range=[n - 0.5, -0.5], constrain="domain", showgrid=False, zeroline=False),
    )


# ----------------------------------------------------------------------------------------------------
# Uniform superposition (§4): dimensions per feature, feature dimensionality and the geometry graph.

POLYTOPE_COLORS = {
    "dedicated": "#1f77b4", "tetrahedron": "#9467bd", "triangle": "#2ca02c", "digon": "#d62728",
    "pentagon": "#ff7f0e", "square antiprism": "#8c564b",
}
OTHER_COMPONENT_COLOR = "#7f7f7f"


def _fraction_lines(fig: go.Figure, values: dict) -> None:
    """Dotted horizontal lines at the polytopes' D = d/k, labelled on the right."""
    for name, value in values.items():
        fig.add_hline(y=value, line=dict(color=POLYTOPE_COLORS.get(name, "grey"), width=1, dash="dot"),
                      annotation_text=f"{name} {value:.3g}", annotation_position="right",
                      annotation_font=dict(size=10, color=POLYTOPE_COLORS.get(name, "grey")))


def feature_dimensionality_figure(density, W, title: str | None = None, represented: float = 0.5) -> go.Figure:
    """The paper's §4 figure for a sparsity sweep of one model per density: every learned feature's D_i
    (‖W_i‖ > ``represented``; markers) and the dimensions per feature D* = m/‖W‖_F² (line), against 1/(1−S),
    with the polytope fractions d/k (1, 3/4, 2/3, 1/2, 2/5, 3/8) as dotted lines.

    ``density`` is ``(n_settings,)``; W ``(n_settings, n_hidden, n_features)``."""
    from .metrics import dimensions_per_feature, feature_dimensionality
    from .polytopes import POLYTOPE_FRACTIONS

    density = _array("density", density, (None,), "(n_settings,)")
    W = _array("W", W, (len(density), None, None), f"(n_settings={len(density)}, n_hidden, n_features)")
    x = 1 / density
    D = feature_dimensionality(torch.from_numpy(W)).numpy()
    learned = feature_norms(torch.from_numpy(W)).numpy() > represented
    columns = np.broadcast_to(x[:, None], D.shape)
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=columns[learned], y=D[learned], mode="markers", name="D<sub>i</sub> of a learned feature",
        marker=dict(size=4, color="rgba(31,119,180,0.35)"), hovertemplate="1/(1−S) = %{x:.3g}<br>D_i = %{y:.3f}<extra></extra>",
    ))
    fig.add_trace(go.Scatter(
        x=x, y=dimensions_per_feature(torch.from_numpy(W)).numpy(), mode="lines+markers", name="dimensions per feature D*",
        line=dict(color="black", width=2), marker=dict(size=5), hovertemplate="1/(1−S) = %{x:.3g}<br>D* = %{y:.3f}<extra></extra>",
    ))
    _fraction_lines(fig, POLYTOPE_FRACTIONS)
    return fig.update_layout(
        title_text=title, height=520, xaxis=dict(type="log", title_text="1/(1−S)  (sparser →)"), yaxis=dict(title_text="dimensions", range=[0, 1.1]),
        legend=dict(orientation="h", y=-0.2), margin=dict(r=140),
    )


def geometry_graph(W, title: str | None = None, represented: float = 0.5, overlap: float = 0.1,
                   max_ring: int = 12) -> go.Figure:
    """The feature-geometry graph of one model W (m, n): learned features as nodes, an edge where
    |W_i·W_j| > ``overlap`` (wider above 0.4 and 0.7), nodes coloured by the polytope of their component
    (:func:`toymodels.polytopes.components`; grey when it is none). Components are laid out on a grid, largest
    first, each as a ring of its features; one of more than ``max_ring`` features is a square block of nodes
    without its edges (which would be thousands)."""
    from .polytopes import components

    W = np.asarray(_single_W(W), dtype=np.float64)
    parts = components(W, represented, overlap)
    hidden = dict(showgrid=False, zeroline=False, showticklabels=False, title_text="")
    if not parts:  # nothing learned (yet): an empty graph that says so
        fig = go.Figure(go.Scatter(x=[], y=[], mode="markers", showlegend=False))
        fig.add_annotation(text=f"no feature with ‖W_i‖ > {represented}", x=0.5, y=0.5, xref="paper", yref="paper",
                           showarrow=False)
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
                for j in part.features[a + 1:]:
                    if low < gram[i, j] <= high:
                        xs += [position[i][0], position[j][0], None]
                        ys += [position[i][1], position[j][1], None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", hoverinfo="skip", showlegend=False,
                                 name=f"|W_i·W_j| in ({low:g}, {high:g}]", line=dict(width=width, color="rgba(120,120,120,0.6)")))
    labels = list(dict.fromkeys(part.label for part in parts))
    for label in labels:
        members = [(feature, part) for part in parts if part.label == label for feature in part.features]
        color = POLYTOPE_COLORS.get(label, OTHER_COMPONENT_COLOR)
        fig.add_trace(go.Scatter(
            x=[position[f][0] for f, _ in members], y=[position[f][1] for f, _ in members], mode="markers",
            name=f"{label} ({len(members)} features)", marker=dict(size=9, color=color, line=OUTLINE),
            text=[f"feature {f}: {p.label}, ‖W‖ = {np.linalg.norm(W[:, f]):.2f}" for f, p in members],
            hovertemplate="%{text}<extra></extra>",
        ))
    return fig.update_layout(title_text=title, height=560, xaxis=hidden, yaxis=dict(hidden, scaleanchor="x"),
                             legend=dict(orientation="h", y=-0.05))


def geometry_graph_sweep(density, W, title: str | None = None, represented: float = 0.5,
                         overlap: float = 0.1) -> go.Figure:
    """:func:`geometry_graph` of every model of a sparsity sweep (one per density), under a slider labelled
    by 1/(1−S). ``density`` is ``(n_settings,)``; W ``(n_settings, n_hidden, n_features)``."""
    density = _array("density", density, (None,), "(n_settings,)")
    W = _array("W", W, (len(density), None, None), f"(n_settings={len(density)}, n_hidden, n_features)")
    return instance_slider(lambda k: geometry_graph(W[k], represented=represented, overlap=overlap), len(density),
                           [f"1/(1−S) = {1 / p:.3g}" for p in density], title=title)


def feature_dimensionality_over_training(density, history_W, steps, title: str | None = None) -> go.Figure:
    """:func:`feature_dimensionality_figure` at every snapshot of a sweep's training, under a slider over the
    steps: how the D_i gather onto the polytope lines as training goes on. ``history_W`` is
    ``(n_snapshots, n_settings, n_hidden, n_features)`` (``TrainResult.history.W`` of one fit per setting)."""
    history_W = _array("history_W", history_W, (None, None, None, None), "(n_snapshots, n_settings, n_hidden, n_features)")
    steps = [int(step) for step in np.asarray(steps).ravel()]
    if len(steps) != len(history_W):
        raise ConfigError(f"steps must hold one step per snapshot ({len(history_W)}), got {len(steps)}")
    return instance_slider(lambda k: feature_dimensionality_figure(density, history_W[k]), len(steps),
                           [f"step {step:,}" for step in steps], title=title)
