"""§5 (chapter 5): the live widget that trains one 6 → 3 correlated model and scrubs through its snapshots."""

from __future__ import annotations

from functools import lru_cache

import plotly.graph_objects as go

from ..experiment import Experiment
from ..kit.live import int_slider, live_figure
from ..train import train
from .analysis import name_regime
from .figures import features_3d


def live_transformations(experiment: Experiment, seed: int = 0, max_seed: int = 99):
    """Sliders for the seed and the training step (``experiment``: ``tm.preset("geometric_transformations_live")``,
    one fit with snapshots): the model is trained once per seed (a second or two), then any snapshot is drawn
    in 3-D, its regime named in the title."""

    @lru_cache(maxsize=8)
    def snapshots(seed: int):
        run = train(experiment.replace(seed=seed, n_seeds=1, progress=False))
        return run.history.steps.numpy(), run.history.W[:, 0].double().numpy()

    steps, _ = snapshots(seed)

    def draw(seed: int, snapshot: int) -> go.Figure:
        steps, W = snapshots(seed)
        k = min(snapshot, len(steps) - 1)
        name = name_regime(W[k], experiment.data.set_size)
        return features_3d(W[k], experiment.data.set_size, title=f"seed {seed}, step {int(steps[k])}: {name}")

    return live_figure(
        draw,
        seed=int_slider(seed, 0, max_seed, "seed"),
        snapshot=int_slider(0, 0, len(steps) - 1, "snapshot"),
    )
