"""Sliders over precomputed settings (they work without a kernel): one instance at a time (:func:`instance_slider`),
a menu and a slider together (:func:`menu_slider`), and a sweep's figure of a chosen kind (:func:`sweep_figure`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import plotly.graph_objects as go

from ..errors import ConfigError
from ..experiment import Experiment
from ..validation import check_array
from .panels import feature_norms_bar, norm_axis_end, summary_figure, weights_heatmap
from .pictures import features_2d

SWEEP_KINDS = ("summary", "weights", "norms", "features_2d")


SLIDER_PAD = 60  # px between the x axis and a slider


LEGEND_ROW = 50  # px more when a horizontal legend sits under the x axis


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
