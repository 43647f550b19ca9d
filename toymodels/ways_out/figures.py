"""Chapter 9's figures: the L1 sweep, the SAE grid's scores, a recovered dictionary beside the truth, absorption.
Every function returns a new plotly figure (no global state)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..errors import ConfigError
from ..kit.panels import DIVERGING, log_ticks, norm_axis_end, summary_figure
from ..kit.sliders import instance_slider
from ..results import TrainResult
from ..vocabulary import unit_columns
from .analysis import AbsorptionSweep, L1Measures, SaeSweep
from .scores import RECOVERED, best_latents, cosines, max_cosines

LINE_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")


def _penalty_labels(penalties) -> list[str]:
    return [f"{p:g}" for p in penalties]


def l1_figure(measures: Sequence[L1Measures], title: str | None = None) -> go.Figure:
    """Left: represented features (solid) and those in superposition (dashed) against λ, one colour per model,
    with each model's dimension count dotted. Right: the reconstruction loss (penalty excluded) relative to the
    loss without superposition (1: as good as the m most important features alone)."""
    if not measures:
        raise ConfigError("measures must not be empty")
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("features represented /<br>in superposition", "reconstruction loss ÷<br>no-superposition loss"),
        horizontal_spacing=0.12,
    )
    for k, m in enumerate(measures):
        color = LINE_COLORS[k % len(LINE_COLORS)]
        x = _penalty_labels(m.penalty)
        fig.add_trace(go.Scatter(x=x, y=m.represented, name=f"{m.name}: represented", line=dict(color=color)), 1, 1)
        fig.add_trace(
            go.Scatter(x=x, y=m.superposed, name=f"{m.name}: in superposition", line=dict(color=color, dash="dash")),
            1,
            1,
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[m.n_hidden] * len(x),
                name=f"{m.name}: m = {m.n_hidden}",
                mode="lines",
                line=dict(color=color, dash="dot", width=1),
            ),
            1,
            1,
        )
        fig.add_trace(
            go.Scatter(x=x, y=m.loss / m.reference, name=f"{m.name}: loss", line=dict(color=color), showlegend=False),
            1,
            2,
        )
    fig.add_hline(y=1.0, line=dict(color="grey", dash="dot"), row=1, col=2)
    fig.update_xaxes(title_text="L1 coefficient λ", type="category")
    fig.update_yaxes(title_text="features", rangemode="tozero", row=1, col=1)
    ratios = np.concatenate([m.loss / m.reference for m in measures] + [np.ones(1)])
    fig.update_yaxes(title_text="ratio", row=1, col=2, **log_ticks(ratios))
    # the legend below the axis titles, not over them
    fig.update_layout(title_text=title, height=500, legend=dict(orientation="h", y=-0.42), margin=dict(b=170))
    return fig


def l1_weights_slider(results: Sequence[TrainResult], title: str | None = None) -> go.Figure:
    """The paper's per-model picture (WᵀW, b, ‖W_i‖ coloured by superposition) of the best fit at each λ, a
    slider over λ (no kernel needed)."""
    if not results:
        raise ConfigError("results must not be empty")
    importance = results[0].experiment.importance_tensor(per="setting")[0].numpy()
    best = [r.best() for r in results]
    labels = [f"λ = {r.experiment.model.l1_penalty:g}" for r in results]
    end = norm_axis_end(np.stack([fit.W[0].detach().numpy() for fit in best]))  # one norm axis for every λ

    def build(k: int) -> go.Figure:
        return summary_figure(best[k].W[0].detach(), best[k].b[0].detach(), importance, norm_end=end)

    return instance_slider(build, len(results), labels, title=title or results[0].experiment.name.split(", L1")[0])


SCORE_PANELS = (
    ("mmcs", "mean max<br>cosine", (0.0, 1.0)),  # short lines: five panels share the figure's width
    ("recovered", f"share<br>recovered<br>(cos > {RECOVERED})", (0.0, 1.0)),
    ("l0", "L0 (active<br>latents)", None),
    ("dead", "dead latents<br>(share)", (0.0, 1.0)),
    ("fvu", "variance<br>unexplained", None),
)


def sae_heatmaps(sweep: SaeSweep, title: str | None = None) -> go.Figure:
    """The grid's scores as heatmaps, L1 coefficient across and dictionary size down, each cell printed."""
    fig = make_subplots(
        rows=1, cols=len(SCORE_PANELS), subplot_titles=[p[1] for p in SCORE_PANELS], horizontal_spacing=0.03
    )
    x = _penalty_labels(sweep.protocol.l1s)
    y = [str(s) for s in sweep.protocol.sizes]
    for col, (name, _, zrange) in enumerate(SCORE_PANELS, start=1):
        z = sweep.scores[name]
        zmin, zmax = zrange or (float(z.min()), float(z.max()))
        text = [[f"{v:.2f}" if name != "l0" else f"{v:.1f}" for v in row] for row in z]
        fig.add_trace(
            go.Heatmap(
                z=z,
                x=x,
                y=y,
                zmin=zmin,
                zmax=zmax,
                colorscale="Viridis",
                showscale=False,
                text=text,
                texttemplate="%{text}",
                hovertemplate=f"λ %{{x}}, %{{y}} latents: {name} %{{z:.3f}}<extra></extra>",
            ),
            1,
            col,
        )
        fig.update_xaxes(type="category", title_text="λ", row=1, col=col)
        fig.update_yaxes(type="category", showticklabels=col == 1, row=1, col=col)
    fig.update_yaxes(title_text="latents", row=1, col=1)
    fig.update_annotations(font_size=12)  # the panels' titles
    fig.update_layout(title_text=title, height=400, margin=dict(l=60, r=20, t=130, b=50))
    return fig


def dictionary_figure(true, decoder, title: str | None = None) -> go.Figure:
    """The true directions Ŵ_i (columns, top), the decoder direction that matches each best (middle), and that
    best cosine per feature (bottom), on the fixed range ±1 (red positive)."""
    true, decoder = np.asarray(true, dtype=float), np.asarray(decoder, dtype=float)
    best = best_latents(decoder, true)
    matched = unit_columns(decoder)[0][:, best]
    best_cos = max_cosines(decoder, true)
    features = np.arange(true.shape[1])
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.4, 0.4, 0.2],
        vertical_spacing=0.07,
        subplot_titles=("true directions Ŵᵢ", "best-matching decoder direction", "its cosine"),
    )
    for row, z in ((1, unit_columns(true)[0]), (2, matched)):
        fig.add_trace(
            go.Heatmap(
                z=z,
                x=features,
                zmin=-1,
                zmax=1,
                colorscale=DIVERGING,
                coloraxis=None,
                showscale=row == 1,
                colorbar=dict(len=0.6, y=0.65, thickness=12),
                hovertemplate="feature %{x}, dim %{y}: %{z:.2f}<extra></extra>",
            ),
            row,
            1,
        )
    fig.add_trace(
        go.Bar(
            x=features,
            y=best_cos,
            marker=dict(color=np.where(best_cos > RECOVERED, "#2ca02c", "#d62728")),
            hovertemplate="feature %{x}: cos %{y:.3f}<extra></extra>",
            showlegend=False,
        ),
        3,
        1,
    )
    fig.update_yaxes(autorange="reversed", title_text="dim", row=1, col=1)
    fig.update_yaxes(autorange="reversed", title_text="dim", row=2, col=1)
    fig.update_yaxes(range=[-1, 1], title_text="cos", row=3, col=1)
    fig.update_xaxes(title_text="true feature i", row=3, col=1)
    fig.update_layout(title_text=title, height=620, margin=dict(l=60, r=20, t=80, b=50))
    return fig


def best_dictionary(sweep: SaeSweep, title: str | None = None) -> go.Figure:
    """:func:`dictionary_figure` of the grid's best SAE (:attr:`SaeSweep.best`)."""
    k = sweep.best
    label = sweep.result.settings[k].label
    return dictionary_figure(
        sweep.true, sweep.result.decoder(k), title=title or f"Best SAE ({label}) against the truth"
    )


def sae_slider(sweep: SaeSweep, title: str | None = None) -> go.Figure:
    """:func:`dictionary_figure` for every SAE of the grid, a slider over them (no kernel needed)."""
    settings = sweep.result.settings
    labels = [f"{s.n_latents} latents, λ {s.l1:g}" for s in settings]

    def build(k: int) -> go.Figure:
        return dictionary_figure(sweep.true, sweep.result.decoder(k))

    return instance_slider(build, len(settings), labels, title=title or f"SAEs on {sweep.name}")


def absorption_figure(sweeps: Sequence[AbsorptionSweep], names: Sequence[str], title: str | None = None) -> go.Figure:
    """Absorption (1 − the parent latent's firing rate beside a child ÷ alone; left) and the children's latents'
    cosine with the parent direction (right; dotted: 1/√2, a latent along child + parent) against λ, one line per
    data set and dictionary size."""
    if len(sweeps) != len(names) or not sweeps:
        raise ConfigError("sweeps and names must be non-empty and of equal length")
    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.12,
        subplot_titles=(
            "absorption: parent latent<br>silent beside a child",
            "child latents' cosine<br>with the parent",
        ),
    )
    k = 0
    for sweep, name in zip(sweeps, names):
        protocol, settings = sweep.protocol, sweep.result.settings
        for size in protocol.sizes:
            rows = [r for s, r in zip(settings, sweep.scores) if s.n_latents == size]
            x = _penalty_labels(protocol.l1s)
            color = LINE_COLORS[k % len(LINE_COLORS)]
            label = f"{name}, {size} latents"
            fig.add_trace(go.Scatter(x=x, y=[r["absorption"] for r in rows], name=label, line=dict(color=color)), 1, 1)
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=[r["child_parent_cosine"] for r in rows],
                    name=label,
                    line=dict(color=color),
                    showlegend=False,
                ),
                1,
                2,
            )
            k += 1
    fig.add_hline(y=1 / np.sqrt(2), line=dict(color="grey", dash="dot"), row=1, col=2)
    fig.update_xaxes(title_text="L1 coefficient λ", type="category")
    fig.update_yaxes(range=[-0.05, 1.05])
    fig.update_layout(title_text=title, height=420, legend=dict(orientation="h", y=-0.3))
    return fig


def absorption_cosines(sweep: AbsorptionSweep, k: int, title: str | None = None) -> go.Figure:
    """Cosine of every latent's decoder direction (rows, in the order of the features they match best) with
    every true direction (columns: parent, children, others)."""
    decoder = sweep.result.decoder(k)
    table = cosines(decoder, sweep.true)
    order = np.argsort(table.argmax(axis=1), kind="stable")
    n_children = sweep.protocol.n_children
    names = ["parent"] + [f"child {j + 1}" for j in range(n_children)]
    names += [f"other {j + 1}" for j in range(sweep.protocol.n_others)]
    fig = go.Figure(
        go.Heatmap(
            z=np.round(table[order].astype(np.float64), 3),  # float32 would print as 0.7099999785423279
            x=names,
            y=[f"latent {j}" for j in order],
            zmin=-1,
            zmax=1,
            colorscale=DIVERGING,
            texttemplate="%{z:.2f}",
            hovertemplate="%{y}, %{x}: %{z:.3f}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_layout(title_text=title or sweep.result.settings[k].label, height=120 + 28 * len(order))
    return fig
