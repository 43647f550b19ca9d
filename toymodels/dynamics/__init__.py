"""§5, chapter 5 (learning dynamics): energy-level jumps of the per-feature dimensionalities and the named
regimes of the 6 → 3 correlated model along training (:mod:`.analysis`), and their figures (:mod:`.figures`)."""

from .analysis import (
    ANTIPODAL_COS,
    COLLAPSED_COS,
    DROP_FACTOR,
    LEARNED_NORM,
    LEVEL_NORM,
    ORTHOGONAL_COS,
    EnergyLevels,
    Jump,
    Plateau,
    Regime,
    detect_jumps,
    energy_levels,
    loss_changes,
    name_regime,
    plateaus,
    regime_sequence,
)
from .figures import dimensionality_figure, features_3d, regime_loss_figure, training_slider

__all__ = [
    "ANTIPODAL_COS",
    "COLLAPSED_COS",
    "DROP_FACTOR",
    "LEARNED_NORM",
    "LEVEL_NORM",
    "ORTHOGONAL_COS",
    "EnergyLevels",
    "Jump",
    "Plateau",
    "Regime",
    "detect_jumps",
    "dimensionality_figure",
    "energy_levels",
    "features_3d",
    "loss_changes",
    "name_regime",
    "plateaus",
    "regime_loss_figure",
    "regime_sequence",
    "training_slider",
]
