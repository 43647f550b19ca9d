"""The paper's 2-D picture of a model: each feature a line from the origin to W_i coloured by importance
(:func:`features_2d`), several side by side (:func:`features_2d_row`), or coloured by group
(:func:`features_2d_groups`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from ..errors import ConfigError
from ..validation import check_array
from .panels import IMPORTANCE_COLORS, OUTLINE, _feature_vector, side_by_side, single_W


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
