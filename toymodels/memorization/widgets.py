"""The memorization chapter's live widget: a small model retrained on T examples as the reader moves T."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import torch

from ..errors import ConfigError
from ..finite import FiniteExperiment, SparseExamples, datasets, hidden_vectors, train_finite
from ..kit.live import int_slider, live_figure
from .figures import DATA_COLOR, FEATURE_COLOR, SHOWN_FEATURES, _rays


def live_memorization(experiment: FiniteExperiment, size: int = 10, largest: int = 300):
    """A slider over T (from 2 to ``largest``) that retrains ``experiment`` (one dataset, m = 2; a small, short
    variant of the chapter's, ``tm.presets.memorization_live()``) on T examples and draws its hidden plane as in
    the chapter, with the training and test losses in the title."""
    if experiment.n_hidden != 2:
        raise ConfigError(f"live_memorization draws the hidden plane: it needs m = 2, got m = {experiment.n_hidden}")

    def draw(size: int) -> go.Figure:
        chosen = experiment.replace(n_examples=int(size))
        arrays = train_finite(chosen)
        W = torch.as_tensor(arrays["W"][:1]).double()
        examples = datasets(chosen)
        x = SparseExamples(examples.index[:1], examples.value[:1].double(), examples.n_features)
        H = hidden_vectors(W, x)[0].T.numpy()
        W = W[0].numpy()
        W = W[:, np.argsort(-np.linalg.norm(W, axis=0))[:SHOWN_FEATURES]]
        scale = lambda V: V / max(float(np.linalg.norm(V, axis=0).max()), 1e-12)  # noqa: E731
        n = experiment.n_features
        fig = go.Figure(
            _rays(scale(W), FEATURE_COLOR, "feature W_i", 1.5) + _rays(scale(H), DATA_COLOR, "example h_t", 2.5)
        )
        axis = dict(range=[-1.15, 1.15], constrain="domain", zeroline=True, showticklabels=False)
        fig.update_layout(
            title_text=(
                f"T = {size}: train loss {arrays['train_loss'][0] * n:.3g}, test loss {arrays['test_loss'][0] * n:.3g}"
                " per example"
            ),
            xaxis=dict(axis, title_text="hidden dimension 0"),
            yaxis=dict(axis, title_text="hidden dimension 1", scaleanchor="x"),
            legend=dict(orientation="h", y=-0.12, x=0),
            height=520,
        )
        return fig

    return live_figure(draw, size=int_slider(size, 2, largest, "examples T"))


__all__ = ["live_memorization"]
