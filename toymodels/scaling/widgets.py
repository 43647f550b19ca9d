"""Chapter 13's live widget: a small model with power-law frequencies retrained as the reader moves α, the weight
decay γ and the width m."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..experiment import Experiment, power_law_densities
from ..kit.live import int_slider, live_figure, slider
from ..kit.panels import log_ticks
from ..train import train
from ..vocabulary import REPRESENTED_NORM


def live_scaling(experiment: Experiment, alpha: float = 1.0, decay: float = -1.0):
    """Sliders over α, γ and m that retrain ``experiment`` (one setting; ``tm.presets.scaling_live()``, a small
    variant of the chapter's runs) and draw every feature's ‖W_i‖ against its rank, with the represented fraction
    and the loss in the title."""
    n = experiment.model.n_features
    rank = np.arange(1, n + 1)

    def draw(alpha: float, decay: float, width: int) -> go.Figure:
        chosen = experiment.replace(
            feature_probability=[power_law_densities(n, float(alpha))], weight_decay=float(decay), n_hidden=int(width)
        )
        result = train(chosen, workers=1)
        norms = result.model.W.detach().double().norm(dim=1)[0].numpy()
        fraction = float(np.mean(norms > REPRESENTED_NORM))
        loss = float(result.losses[0]) * n
        fig = go.Figure(
            go.Scatter(
                x=rank,
                y=norms,
                mode="markers",
                marker=dict(size=5),
                hovertemplate="feature %{x}: ‖Wᵢ‖ = %{y:.3f}<extra></extra>",
            )
        )
        fig.add_hline(y=REPRESENTED_NORM, line=dict(color="grey", width=1, dash="dot"))
        return fig.update_layout(
            title_text=f"α = {alpha:g}, γ = {decay:g}, m = {width}: φ = {fraction:.2f}, loss {loss:.3g}",
            xaxis=dict(log_ticks(rank), title_text="feature i, by frequency"),
            yaxis=dict(range=[0, 1.6], title_text="‖Wᵢ‖"),
            height=420,
        )

    return live_figure(
        draw,
        alpha=slider(alpha, 0.0, 2.0, 0.25, "α"),
        decay=slider(decay, -1.0, 1.0, 0.1, "γ"),
        width=int_slider(experiment.model.n_hidden, 4, 64, "m"),
    )


__all__ = ["live_scaling"]
