"""§2 (chapter 2): the linear and ReLU sweeps side by side, and the loss accounting's figure."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from ..errors import ConfigError
from ..kit.panels import OUTLINE, norm_axis_end, stacked, summary_figure
from ..kit.sliders import instance_slider
from ..validation import check_array


def compare_sweeps(
    sweeps: Sequence[tuple], title: str | None = None, sqrt_superposition: bool = False, row_height: int = 360
) -> go.Figure:
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
            raise ConfigError(
                f"every experiment must share the settings of {first.name!r}; {experiment.name!r} differs"
            )
        s, m, n = experiment.n_settings, experiment.model.n_hidden, experiment.model.n_features
        checked.append(
            (
                check_array("W", W, shape=(s, m, n), expected=f"(n_settings, n_hidden, n_features) = ({s}, {m}, {n})"),
                check_array("b", b, shape=(s, n), expected=f"(n_settings, n_features) = ({s}, {n})"),
                experiment,
            )
        )
    importance = first.importance_tensor(per="setting").numpy()
    end = max(norm_axis_end(W) for W, _, _ in checked)  # one norm axis for every row and step

    def build(k: int) -> go.Figure:
        rows = [
            summary_figure(W[k], b[k], importance[k], sqrt_superposition=sqrt_superposition, norm_end=end)
            for W, b, _ in checked
        ]
        return stacked(rows, [experiment.name for _, _, experiment in checked])

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
    x = 1 / check_array("density", next(iter(accounting.values())).density, shape=(None,), expected="(n_settings,)")
    colors = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")
    lines = (
        ("feature_benefit", "1 − feature benefit", dict(dash="solid", width=2), "lines"),
        ("interference", "interference", dict(dash="dash", width=2), "lines"),
        ("measured", "measured loss", dict(dash="dot", width=1), "lines+markers"),
    )
    fig = go.Figure()
    for index, (name, terms) in enumerate(accounting.items()):
        for field_name, label, line, mode in lines:
            values = check_array(
                field_name, getattr(terms, field_name), shape=(len(x),), expected=f"({len(x)},), one per setting"
            )
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=values,
                    name=f"{name}: {label}",
                    mode=mode,
                    line=dict(line, color=colors[index % len(colors)]),
                    marker=dict(size=7, line=OUTLINE),
                    hovertemplate="1/(1−S) = %{x:.3g}<br>%{y:.4f}",
                )
            )
    fig.update_layout(
        title_text=title,
        height=520,
        legend=dict(orientation="h", y=-0.25),
        xaxis=dict(type="log", title_text="1/(1−S)  (sparser →)"),
        yaxis=dict(title_text="loss / Var(x<sub>i</sub>)", rangemode="tozero"),
    )
    return fig
