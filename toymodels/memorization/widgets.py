"""The memorization chapter's live widget: a small model retrained on T examples as the reader moves T."""

from __future__ import annotations

import plotly.graph_objects as go
import torch

from ..errors import ConfigError
from ..finite import FiniteExperiment, SparseExamples, datasets, hidden_vectors, train_finite
from ..kit.live import int_slider, live_figure
from .figures import plane_figure


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
        n = experiment.n_features
        title = (
            f"T = {size}: train loss {arrays['train_loss'][0] * n:.3g}, test loss {arrays['test_loss'][0] * n:.3g}"
            " per example"
        )
        return plane_figure(W[0].numpy(), H, title)

    return live_figure(draw, size=int_slider(size, 2, largest, "examples T"))


__all__ = ["live_memorization"]
