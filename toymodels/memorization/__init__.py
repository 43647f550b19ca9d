"""Beyond the paper: memorization and double descent (Henighan et al., 2023), the ReLU-output model trained on a
finite dataset of T examples (the core's :mod:`toymodels.finite`). Few examples: the model stores the examples
themselves in superposition, their hidden vectors a regular T-gon; many: it stores features; in between, the test
loss peaks."""

from .analysis import (
    TGON_TOLERANCE,
    MemorizationSweep,
    Peak,
    PlaneGeometry,
    Regime,
    load_sweep,
    peak,
    plane_geometry,
    regimes,
    tgon_dimensionality,
)
from .figures import ablation_figure, dimensionality_figure, hidden_plane, hidden_plane_slider, loss_figure, loss_map
from .tables import cost_table, peak_table, plane_table, regime_table
from .widgets import live_memorization

__all__ = [
    "TGON_TOLERANCE",
    "MemorizationSweep",
    "Peak",
    "PlaneGeometry",
    "plane_geometry",
    "Regime",
    "load_sweep",
    "peak",
    "regimes",
    "tgon_dimensionality",
    "hidden_plane",
    "hidden_plane_slider",
    "dimensionality_figure",
    "loss_figure",
    "loss_map",
    "ablation_figure",
    "regime_table",
    "peak_table",
    "plane_table",
    "cost_table",
    "live_memorization",
]
