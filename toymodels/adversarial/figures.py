"""Chapter 6's figures: the attack drawn on the model's own WᵀW, gradient against analytic attacks, vulnerability
against sparsity and features per dimension, and superposition under adversarial training."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..errors import ConfigError
from ..kit.panels import DIVERGING, OUTLINE, log_ticks
from ..kit.sliders import instance_slider, sweep_figure
from ..results import TrainResult
from .analysis import AdversarialTraining, Vulnerability

ATTACK_COLORS = {
    "analytic": "#d62728",
    "PGD per input": "#1f77b4",
    "FGSM per input": "#17becf",
    "PGD shared": "#9467bd",
    "analytic per input": "#ff7f0e",
    "no superposition": "grey",
}


def _surface_traces(W: np.ndarray, feature: int, delta: np.ndarray, colorbar: bool) -> list[go.BaseTraceType]:
    """WᵀW as a heatmap with the attacked row outlined by markers, and δ/λ (that row, normalised) as bars."""
    gram = W.T @ W
    n = gram.shape[0]
    heatmap = go.Heatmap(
        z=np.round(gram, 3),  # three decimals: the colour scale cannot show more, and the page stays light
        zmin=-1,
        zmax=1,
        colorscale=DIVERGING,
        showscale=colorbar,
        colorbar=dict(title="WᵀW", len=0.45, y=0.78),
        hovertemplate="(WᵀW)[%{y}, %{x}] = %{z:.3f}<extra></extra>",
    )
    row = go.Scatter(
        x=[-0.5, n - 0.5],
        y=[feature, feature],
        mode="lines",
        line=dict(color="black", width=2),
        name="attacked feature's row",
        hoverinfo="skip",
    )
    direction = delta / max(np.linalg.norm(delta), 1e-12)
    bars = go.Bar(
        x=np.arange(n),
        y=direction,
        marker=dict(color=np.where(direction >= 0, "#d62728", "#1f77b4"), line=OUTLINE),
        name="attack direction δ / λ",
        hovertemplate="feature %{x}: %{y:.3f}<extra></extra>",
    )
    return [heatmap, row, bars]


def _check_vulnerability(vulnerability) -> None:
    if not isinstance(vulnerability, Vulnerability):
        raise ConfigError(f"vulnerability must come from tm.adversarial.vulnerability, got {type(vulnerability)}")


def attack_surface(result: TrainResult, vulnerability: Vulnerability, settings=(0, -1)) -> go.Figure:
    """Side by side for two settings (default: the densest and the sparsest): WᵀW with the attacked feature's row
    marked, and below it the analytic attack's direction, which is that row normalised."""
    _check_vulnerability(vulnerability)
    W = result.best().W.detach().double().numpy()  # float64: the same digits on any CPU
    labels = [result.experiment.setting_labels[k] for k in settings]
    fig = make_subplots(
        rows=2,
        cols=len(settings),
        row_heights=[0.65, 0.35],
        vertical_spacing=0.08,
        horizontal_spacing=0.08,
        subplot_titles=[
            f"{label}:<br>{vulnerability.features_per_dimension[k]:.2f} features per dimension"
            for label, k in zip(labels, settings)
        ],
    )
    for column, k in enumerate(settings, start=1):
        feature = int(vulnerability.attacked_feature[k])
        heatmap, row, bars = _surface_traces(W[k], feature, _attack_row(W[k], feature), colorbar=column == 1)
        row.showlegend = bars.showlegend = column == 1
        for trace, at in ((heatmap, 1), (row, 1), (bars, 2)):
            fig.add_trace(trace, row=at, col=column)
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{column}", row=1, col=column)
    fig.update_xaxes(title_text="feature", row=2)
    fig.update_yaxes(title_text="δ / λ", row=2, col=1)
    fig.update_layout(
        title=f"{result.experiment.name}: the analytic attack is a row of WᵀW",
        height=740,
        margin=dict(t=150),  # a two-line title over two-line panel titles
        legend=dict(orientation="h", y=-0.12),
    )
    return fig


def _attack_row(W: np.ndarray, feature: int) -> np.ndarray:
    return W.T @ W[:, feature]


NEIGHBOURHOOD = 20  # features shown around the attacked one in the slider over the sweep


def _neighbourhood_traces(W: np.ndarray, feature: int) -> list[go.BaseTraceType]:
    """The attacked feature and the features its attack moves most: their block of WᵀW, and δ/λ on them."""
    row = _attack_row(W, feature)
    direction = row / max(np.linalg.norm(row), 1e-12)
    order = np.argsort(-np.abs(direction), kind="stable")[:NEIGHBOURHOOD]
    order = np.concatenate([[feature], order[order != feature]])[:NEIGHBOURHOOD]
    labels = [f"f{i}" for i in order]
    gram = (W.T @ W)[np.ix_(order, order)]
    heatmap = go.Heatmap(
        z=np.round(gram, 3),
        x=labels,
        y=labels,
        zmin=-1,
        zmax=1,
        colorscale=DIVERGING,
        colorbar=dict(title="WᵀW", len=0.45, y=0.78),
        hovertemplate="(WᵀW)[%{y}, %{x}] = %{z:.3f}<extra></extra>",
    )
    bars = go.Bar(
        x=labels,
        y=np.round(direction[order], 4),
        marker=dict(color=np.where(direction[order] >= 0, "#d62728", "#1f77b4"), line=OUTLINE),
        name="attack direction δ / λ",
        hovertemplate="%{x}: %{y:.3f}<extra></extra>",
    )
    return [heatmap, bars]


def attack_surface_slider(result: TrainResult, vulnerability: Vulnerability) -> go.Figure:
    """For one setting at a time, with a slider over the sweep (no kernel needed): the attacked feature (first)
    and the features its attack moves most, their block of WᵀW, and the attack direction δ/λ on them."""
    _check_vulnerability(vulnerability)
    W = result.best().W.detach().double().numpy()  # float64: the same digits on any CPU
    experiment = result.experiment

    def build(k: int) -> go.Figure:
        heatmap, bars = _neighbourhood_traces(W[k], int(vulnerability.attacked_feature[k]))
        fig = make_subplots(rows=2, cols=1, row_heights=[0.65, 0.35], vertical_spacing=0.1)
        fig.add_trace(heatmap, row=1, col=1)
        fig.add_trace(bars, row=2, col=1)
        fig.update_yaxes(autorange="reversed", row=1, col=1)
        fig.update_xaxes(title_text=f"the attacked feature and the {NEIGHBOURHOOD - 1} it moves most", row=2, col=1)
        fig.update_yaxes(title_text="δ / λ", range=[-1, 1], row=2, col=1)
        fig.update_layout(height=720, showlegend=False)
        return fig

    headings = [
        f"{label}: {vulnerability.features_per_dimension[k]:.1f} features per dimension, "
        f"{vulnerability.vulnerability[k]:.1f}× the damage without superposition"
        for k, label in enumerate(experiment.setting_labels)
    ]
    return instance_slider(build, experiment.n_settings, experiment.setting_labels, experiment.name, headings)


def _inverse_density(vulnerability: Vulnerability) -> np.ndarray:
    return 1 / vulnerability.density


def attacks_compared(vulnerability: Vulnerability) -> go.Figure:
    """The damage L′ − L against 1/(1−S) of the attacks of norm λ: analytic and PGD with one δ for the batch;
    analytic, PGD and FGSM with one δ per input; and the analytic attack on the model without superposition.
    Below, the share of output ReLUs that are off and of inputs whose gradient is zero."""
    _check_vulnerability(vulnerability)
    x = _inverse_density(vulnerability)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.65, 0.35], vertical_spacing=0.06)
    for name, values in (
        ("analytic", vulnerability.analytic_damage),
        ("PGD shared", vulnerability.pgd_shared_damage),
        ("analytic per input", vulnerability.analytic_per_input_damage),
        ("PGD per input", vulnerability.pgd_damage),
        ("FGSM per input", vulnerability.fgsm_damage),
        ("no superposition", vulnerability.baseline_damage),
    ):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=values,
                mode="lines+markers",
                name=f"{name} attack" if name != "no superposition" else "analytic, model without superposition",
                line=dict(color=ATTACK_COLORS[name], dash="dot" if name == "no superposition" else "solid"),
                hovertemplate="1/(1−S) = %{x:.3g}: L′ − L = %{y:.3g}<extra></extra>",
            ),
            row=1,
            col=1,
        )
    for values, name, dash in (
        (vulnerability.inactive, "output ReLUs off (%)", "solid"),
        (vulnerability.zero_gradient, "inputs with a zero gradient (%)", "dash"),
    ):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=100 * values,
                mode="lines+markers",
                name=name,
                line=dict(color="black", dash=dash),
                hovertemplate="1/(1−S) = %{x:.3g}: %{y:.1f} %<extra></extra>",
            ),
            row=2,
            col=1,
        )
    ticks = log_ticks(x)
    fig.update_xaxes(ticks, row=1, col=1)
    fig.update_xaxes(ticks, title_text="1/(1−S)", row=2, col=1)
    fig.update_yaxes(type="log", title_text="loss increase L′ − L", exponentformat="power", row=1, col=1)
    fig.update_yaxes(title_text="share (%)", range=[0, 100], row=2, col=1)
    fig.update_layout(
        title=f"Attacks of norm {vulnerability.fraction:g} × the mean input norm: analytic against gradient",
        height=620,
        legend=dict(orientation="h", y=-0.15),
    )
    return fig


def vulnerability_figure(vulnerability: Vulnerability) -> go.Figure:
    """Left: the relative vulnerability (L′ − L)/(L′₀ − L₀) against 1/(1−S). Right: the same against features per
    dimension ‖W‖_F²/m, one marker per density, with the correlation in the title."""
    _check_vulnerability(vulnerability)
    x = _inverse_density(vulnerability)
    v = vulnerability.vulnerability
    ticks = log_ticks(x)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12)
    fig.add_trace(
        go.Scatter(
            x=x,
            y=v,
            mode="lines+markers",
            name="vulnerability",
            line=dict(color=ATTACK_COLORS["analytic"]),
            hovertemplate="1/(1−S) = %{x:.3g}: %{y:.2f}×<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=vulnerability.features_per_dimension,
            y=v,
            mode="markers",
            name="one density",
            marker=dict(
                size=10,
                color=np.log10(x),
                colorscale="Viridis",
                line=OUTLINE,
                colorbar=dict(title="1/(1−S)", tickvals=np.log10(ticks["tickvals"]), ticktext=ticks["ticktext"]),
            ),
            text=[f"1/(1−S) = {value:.3g}" for value in x],
            hovertemplate="%{text}: %{x:.2f} features/dim, %{y:.2f}×<extra></extra>",
        ),
        row=1,
        col=2,
    )
    fig.update_xaxes(ticks, title_text="1/(1−S)", row=1, col=1)
    fig.update_xaxes(title_text="features per dimension ‖W‖²<sub>F</sub> / m", row=1, col=2)
    fig.update_yaxes(title_text="(L′ − L) / (L′₀ − L₀)", row=1, col=1)
    fig.update_layout(
        title=(
            f"Vulnerability relative to a model without superposition<br>correlation with features per dimension: "
            f"r = {vulnerability.correlation:.2f} over the sweep, {vulnerability.rising_correlation:.2f} up to the "
            "most vulnerable model"
        ),
        height=450,
        showlegend=False,
    )
    return fig


def adversarial_training_figure(training: AdversarialTraining) -> go.Figure:
    """Superposition against the size of the attack trained under: features per dimension (left) and features
    represented (right), with the lines where the model has as many features as dimensions."""
    if not isinstance(training, AdversarialTraining):
        raise ConfigError(f"training must come from tm.adversarial.adversarial_training, got {type(training)}")
    x = 100 * training.attack
    m = training.experiment.model.n_hidden
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12)
    panels = (
        (training.features_per_dimension, "features per dimension ‖W‖²<sub>F</sub> / m"),
        (training.represented, "features represented (‖Wᵢ‖ > 0.5)"),
    )
    for column, (values, label) in enumerate(panels, start=1):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=values,
                mode="lines+markers",
                name=label,
                line=dict(color=ATTACK_COLORS["analytic"]),
                hovertemplate="attack %{x:.0f} %: %{y:.3g}<extra></extra>",
            ),
            row=1,
            col=column,
        )
        fig.add_hline(
            y=1 if column == 1 else m,
            line=dict(color="grey", dash="dot"),
            annotation_text="no superposition" if column == 1 else f"m = {m}",
            row=1,
            col=column,
        )
        fig.update_yaxes(title_text=label, rangemode="tozero", row=1, col=column)
        fig.update_xaxes(
            title_text="training attack, % of the mean input norm" if column == 1 else "", row=1, col=column
        )
    fig.update_layout(title=training.experiment.name, height=430, showlegend=False)
    return fig


def trained_models_slider(result: TrainResult) -> go.Figure:
    """The models of an adversarial-training run, one per attack size, under a slider: the feature norms coloured
    by superposition, as in the basic-results chapter."""
    if not isinstance(result, TrainResult):
        raise ConfigError(f"result must be a TrainResult (tm.train / tm.store.train), got {type(result).__name__}")
    best = result.best()
    return sweep_figure(best.W.detach(), best.b.detach(), result.experiment, kind="norms")
