"""The figure building blocks every section draws with: learned weights as in the paper (§2 figure conventions,
PAPER_NOTES §1), the 2-D picture, panels side by side, sliders over precomputed settings, colour scales.

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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from ..config import Experiment
from ..errors import ConfigError
from ..metrics import feature_norms, superposition
from ..validation import check_array

DIVERGING = "RdBu_r"  # WᵀW and b: blue negative, near-white zero, red positive
SUPERPOSITION_COLORS = "Plasma"
IMPORTANCE_COLORS = "Viridis"
OUTLINE = dict(width=1, color="grey")
PANEL_GAP = 0.04  # horizontal space between side-by-side panels, as a fraction of the plot width
SWEEP_KINDS = ("summary", "weights", "norms", "features_2d")
SLIDER_PAD = 60  # px between the x axis and a slider
LEGEND_ROW = 50  # px more when a horizontal legend sits under the x axis


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


def _weight_panels(W: np.ndarray, b, zmax: float) -> list[_Panel]:
    n = W.shape[1]
    b = _feature_vector("b", b, n)
    features = np.arange(n)
    scale = _Scale("coloraxis", DIVERGING, -zmax, zmax, "W<sup>T</sup>W and b")
    gram = go.Heatmap(
        z=W.astype(np.float64).T @ W.astype(np.float64),  # float64: the same digits on any CPU
        x=features,
        y=features,
        coloraxis="coloraxis",
        hovertemplate="W<sub>%{y}</sub>·W<sub>%{x}</sub> = %{z:.3f}<extra></extra>",
    )
    bias = go.Heatmap(
        z=b[:, None],
        x=[0],
        y=features,
        coloraxis="coloraxis",
        hovertemplate="b<sub>%{y}</sub> = %{z:.3f}<extra></extra>",
    )
    return [
        _Panel("W<sup>T</sup>W", n, [gram], _square(), scale),
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


def weights_heatmap(W, b, title: str | None = None, zmax: float = 1.0) -> go.Figure:
    """WᵀW (n×n) and b (an n×1 column) for one instance, as diverging heatmaps on the fixed range ±zmax."""
    W = single_W(W)
    return _panels_figure(_weight_panels(W, b, zmax), W.shape[1], title)


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
    W = single_W(W)
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
        go.Scatter(
            x=[0, x], y=[0, y], mode="lines", line=dict(color=color, width=3), hoverinfo="skip", showlegend=False
        )
        for x, y, color in zip(W[0], W[1], colors)
    ]
    tips = go.Scatter(
        x=W[0],
        y=W[1],
        mode="markers",
        marker=marker,
        text=[f"feature {i}" for i in range(n)],
        customdata=importance,
        hovertemplate=hover + "<extra></extra>",
        showlegend=False,
    )
    return go.Figure(lines + [tips], layout=layout)


def _titled(title: str, label: str) -> str:
    return f"{title} — {label}" if title and label else title or label


def _frame_text(frame: go.Figure, first: go.Figure) -> dict:
    """The layout text of ``frame`` that differs from ``first``'s (title, axes' tick labels, annotations), as the
    relayout a slider step applies: a frame shows its own labels, never the first frame's."""
    changes = {}
    mine, theirs = frame.layout.to_plotly_json(), first.layout.to_plotly_json()
    if mine.get("title", {}).get("text") != theirs.get("title", {}).get("text"):
        changes["title.text"] = mine.get("title", {}).get("text") or ""
    for name in (key for key in mine if key.startswith(("xaxis", "yaxis"))):
        for key in ("tickvals", "ticktext"):
            value = mine[name].get(key)
            if value is not None and list(value) != list(theirs.get(name, {}).get(key) or []):
                changes[f"{name}.{key}"] = list(value)
    if mine.get("annotations", []) != theirs.get("annotations", []):
        changes["annotations"] = mine.get("annotations", [])
    return changes


def instance_slider(
    build: Callable[[int], go.Figure],
    n_instances: int,
    labels: Sequence[str],
    title: str | None = None,
    headings: Sequence[str] = (),
) -> go.Figure:
    """One figure holding ``build(k)``'s traces for every instance k, with a plotly slider that shows one
    instance at a time (pure plotly.js: works in static HTML without a kernel).

    The layout (axes, colour bars, annotations) is ``build(0)``'s; a step that shows instance k also sets the
    title, tick labels and annotations in which ``build(k)`` differs, so no frame keeps another's text. With a
    ``title``, each step sets the title to "title — heading", the heading being the step's label or, given
    ``headings``, its own (longer) text: plotly writes every label under the slider, so labels stay short."""
    if isinstance(n_instances, bool) or not isinstance(n_instances, (int, np.integer)) or n_instances < 1:
        raise ConfigError(f"n_instances must be a positive integer, got {n_instances!r}")
    if len(labels) != n_instances:
        raise ConfigError(f"labels must have one label per instance ({n_instances}), got {len(labels)}")
    if headings and len(headings) != n_instances:
        raise ConfigError(f"headings must have one heading per instance ({n_instances}), got {len(headings)}")
    headings = list(headings) or list(labels)
    figures = [build(k) for k in range(n_instances)]
    owners = [k for k, figure in enumerate(figures) for _ in figure.data]
    traces = [dict(trace.to_plotly_json(), visible=k == 0) for k, figure in enumerate(figures) for trace in figure.data]
    fig = go.Figure(data=traces, layout=figures[0].layout)

    def step(k: int) -> dict:
        layout = _frame_text(figures[k], figures[0])
        if title is not None:
            layout["title.text"] = _titled(title, headings[k])  # plotly.js ignores a plain "title" here
        return dict(label=labels[k], method="update", args=[{"visible": [owner == k for owner in owners]}, layout])

    legend = fig.layout.legend
    below = legend.orientation == "h" and legend.y is not None and legend.y < 0  # a legend under the x axis
    pad = SLIDER_PAD + (LEGEND_ROW if below else 0)  # the slider's label under that legend, not beside it
    fig.update_layout(sliders=[dict(active=0, pad=dict(t=pad), steps=[step(k) for k in range(n_instances)])])
    if title is not None:
        fig.update_layout(title_text=_titled(title, headings[0]))
    return fig


def menu_slider(
    build: Callable[[int, int], go.Figure],
    choices: Sequence[str],
    labels: Sequence[str],
    title: str | None = None,
) -> go.Figure:
    """One figure holding ``build(i, k)``'s traces for every choice i (buttons above the plot) and slider step k
    (labels), showing one at a time (pure plotly.js, no kernel): a tall stack of rows becomes one row that the
    reader picks. A button shows its choice at the first step and gives the slider that choice's steps. With a
    ``title``, the title reads "title — choice, label". The layout is ``build(0, 0)``'s; each step also sets the
    tick labels and annotations in which its figure differs (as :func:`instance_slider`)."""
    if not choices:
        raise ConfigError("choices must name at least one choice")
    if not labels:
        raise ConfigError("labels must name at least one slider step")
    frames = {(i, k): build(i, k) for i in range(len(choices)) for k in range(len(labels))}
    owners = [key for key, figure in frames.items() for _ in figure.data]
    traces = [
        dict(trace.to_plotly_json(), visible=key == (0, 0)) for key, figure in frames.items() for trace in figure.data
    ]
    fig = go.Figure(data=traces, layout=frames[0, 0].layout)

    def shows(i: int, k: int) -> dict:
        layout = _frame_text(frames[i, k], frames[0, 0])
        if title is not None:
            layout["title.text"] = _titled(title, f"{choices[i]}, {labels[k]}")
        return layout

    def steps(i: int) -> list[dict]:
        return [
            dict(label=labels[k], method="update", args=[{"visible": [o == (i, k) for o in owners]}, shows(i, k)])
            for k in range(len(labels))
        ]

    buttons = [
        dict(
            label=choice,
            method="update",
            args=[{"visible": [o == (i, 0) for o in owners]}, dict(shows(i, 0), **{"sliders[0].steps": steps(i)})],
        )
        for i, choice in enumerate(choices)
    ]
    fig.update_layout(
        sliders=[dict(active=0, pad=dict(t=SLIDER_PAD), steps=steps(0))],
        updatemenus=[
            dict(
                type="buttons",
                direction="right",
                buttons=buttons,
                active=0,
                x=0,
                xanchor="left",
                y=1.02,
                yanchor="bottom",
                pad=dict(b=4),
                font=dict(size=11),
            )
        ],
    )
    if title is not None:
        fig.update_layout(title_text=_titled(title, f"{choices[0]}, {labels[0]}"))
    return fig


def sweep_figure(W, b, experiment: Experiment, kind: str = "summary", sqrt_superposition: bool = False) -> go.Figure:
    """A slider over the settings of ``experiment``: W ``(n_settings, n_hidden, n_features)`` and b
    ``(n_settings, n_features)`` hold one instance per setting (after best-of-K). The title is
    ``experiment.name`` and the step labels ``experiment.setting_labels``.

    ``kind``: "summary" (WᵀW, b, norm bars), "weights" (WᵀW, b), "norms" (bars) or "features_2d" (m = 2)."""
    if kind not in SWEEP_KINDS:
        raise ConfigError(f"kind must be one of {', '.join(map(repr, SWEEP_KINDS))}; got {kind!r}")
    s, m, n = experiment.n_settings, experiment.model.n_hidden, experiment.model.n_features
    W = check_array(
        "W",
        W,
        shape=(s, m, n),
        expected=f"(n_settings, n_hidden, n_features) = ({s}, {m}, {n}), one instance per setting",
    )
    b = check_array("b", b, shape=(s, n), expected=f"(n_settings, n_features) = ({s}, {n})")
    importance = experiment.importance_tensor(per="setting").numpy()
    end = norm_axis_end(W)  # one norm axis for every setting
    builders = {
        "summary": lambda k: summary_figure(
            W[k], b[k], importance[k], sqrt_superposition=sqrt_superposition, norm_end=end
        ),
        "weights": lambda k: weights_heatmap(W[k], b[k]),
        "norms": lambda k: feature_norms_bar(
            W[k], importance=importance[k], sqrt_superposition=sqrt_superposition, norm_end=end
        ),
        "features_2d": lambda k: features_2d(W[k], importance[k]),
    }
    return instance_slider(builders[kind], s, experiment.setting_labels, title=experiment.name)


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


def features_2d_row(
    W, importance=None, labels: Sequence[str] = (), title: str | None = None, axis_range: float = 1.5
) -> go.Figure:
    """The paper's opening figure: the 2-D picture of ``features_2d`` for each instance, side by side.
    W is ``(n_instances, 2, n_features)``; ``importance`` ``(n_features,)`` or ``(n_instances, n_features)``;
    ``labels`` (one per instance) title the panels."""
    W = check_array("W", W, shape=(None, 2, None), expected="(n_instances, 2, n_features)")
    k, n = W.shape[0], W.shape[2]
    if labels and len(labels) != k:
        raise ConfigError(f"labels must have one label per instance ({k}), got {len(labels)}")
    if importance is not None:
        importance = np.broadcast_to(np.asarray(importance, dtype=float), (k, n))
    panels = [features_2d(W[i], None if importance is None else importance[i], axis_range=axis_range) for i in range(k)]
    fig = side_by_side(panels, labels)
    if importance is not None:  # the colour bar goes below the row, so the panels get the full width
        fig.update_layout(coloraxis_colorbar=dict(orientation="h", y=-0.35, len=0.5, thickness=12, title_side="top"))
    # Square panels share the width, so the height follows it; narrow side margins leave them more room.
    fig.update_layout(title_text=title, height=max(320, int(750 / k) + 170), margin=dict(l=60, r=20, t=90, b=40))
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


GROUP_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")  # feature groups (sets)


def features_2d_groups(W, groups, names: Sequence[str], title: str | None = None, axis_range: float = 1.5) -> go.Figure:
    """The 2-D picture of ``features_2d`` with each feature coloured by its group (a correlated set, or the
    varied feature against the rest): ``groups`` (n_features,) holds group indices into ``names``, one legend
    entry per group. Always n + len(names) traces (lines, then one marker trace per group), so a live figure
    can redraw it in place."""
    W = single_W(W)
    if W.shape[0] != 2:
        raise ConfigError(f"W must have n_hidden = 2 rows for features_2d_groups, shape (2, n_features), got {W.shape}")
    n = W.shape[1]
    groups = np.asarray(groups)
    if (
        groups.shape != (n,)
        or not np.issubdtype(groups.dtype, np.integer)
        or groups.min() < 0
        or groups.max() >= len(names)
    ):
        raise ConfigError(f"groups must hold one integer in [0, {len(names)}) per feature ({n}), got {groups.tolist()}")
    colors = [GROUP_COLORS[g % len(GROUP_COLORS)] for g in groups]
    lines = [
        go.Scatter(
            x=[0, x], y=[0, y], mode="lines", line=dict(color=color, width=3), hoverinfo="skip", showlegend=False
        )
        for x, y, color in zip(W[0], W[1], colors)
    ]
    tips = []
    for index, name in enumerate(names):
        chosen = np.flatnonzero(groups == index)
        tips.append(
            go.Scatter(
                x=W[0, chosen],
                y=W[1, chosen],
                mode="markers",
                name=name,
                legendgroup=name,
                marker=dict(size=10, color=GROUP_COLORS[index % len(GROUP_COLORS)], line=OUTLINE),
                text=[f"feature {i}" for i in chosen],
                hovertemplate="%{text}: (%{x:.3f}, %{y:.3f})<extra></extra>",
            )
        )
    return go.Figure(lines + tips, layout=_plane_layout(title, axis_range))


def log_ticks(values: np.ndarray) -> dict:
    """A log axis over ``values`` with ticks at 1, 2 and 5 times powers of ten, labelled plainly."""
    low, high = float(np.min(values)), float(np.max(values))
    ticks = [
        t * 10.0**e for e in range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1) for t in (1, 2, 5)
    ]
    ticks = [t for t in ticks if low / 1.2 <= t <= high * 1.2]
    return dict(type="log", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])
