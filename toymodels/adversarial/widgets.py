"""§6 (chapter 6): the live slider that trains a model at a chosen density and attacks it."""

from __future__ import annotations

from functools import lru_cache

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..experiment import Experiment
from ..kit.live import live_figure, log_slider, slider
from ..train import train
from .analysis import analytic_attack, evaluation_batch, no_superposition_model
from .figures import _attack_row, _surface_traces


def live_attack(experiment: Experiment, density: float = 0.05, fraction: float = 0.1):
    """Sliders for the density and the attack size (``experiment``: ``tm.preset("adversarial_live")``): the model
    is trained at the chosen density (once per density), then attacked; its WᵀW with the attacked row, the attack
    direction, and in the title the damage relative to the model without superposition."""

    @lru_cache(maxsize=16)
    def trained(density: float):
        setting = experiment.replace(feature_probability=density, progress=False)
        return setting, train(setting).best()

    def draw(density: float, fraction: float) -> go.Figure:
        setting, model = trained(round(density, 4))
        x, target = evaluation_batch(setting)
        importance = setting.importance_tensor(per="setting")
        attack = analytic_attack(model, x, target, importance, fraction)
        reference = analytic_attack(no_superposition_model(setting), x, target, importance, fraction)
        W = model.W.detach()[0].numpy()
        feature = int(attack.feature[0])
        fig = make_subplots(rows=2, cols=1, row_heights=[0.65, 0.35], vertical_spacing=0.08)
        for trace, row in zip(_surface_traces(W, feature, _attack_row(W, feature), colorbar=True), (1, 1, 2)):
            fig.add_trace(trace, row=row, col=1)
        fig.update_yaxes(autorange="reversed", row=1, col=1)
        fig.update_yaxes(range=[-1, 1], title_text="δ / λ", row=2, col=1)
        per_dimension = float((W**2).sum()) / setting.model.n_hidden
        damage, baseline = float(attack.damage[0]), float(reference.damage[0])
        fig.update_layout(
            title=(
                f"1−S = {density:.3g}: {per_dimension:.2f} features per dimension; attack {fraction:.0%} of the "
                f"input norm on feature {feature}<br>L′ − L = {damage:.2e}, {damage / baseline:.2f}× the damage "
                "to a model without superposition"
            ),
            height=650,
            legend=dict(orientation="h", y=-0.12),
        )
        return fig

    return live_figure(
        draw,
        density=log_slider(density, 0.01, 1.0, "density 1−S", step=0.1),
        fraction=slider(fraction, 0.02, 1.0, 0.02, "attack / input norm"),
    )
