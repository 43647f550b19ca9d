"""§5, chapter 5 (learning dynamics): energy-level jumps of the per-feature dimensionalities and the named
regimes of the 6 → 3 correlated model along training (:mod:`.analysis`)."""

from .analysis import (
    ANTIPODAL_COS,
    COLLAPSED_COS,
    LEARNED_NORM,
    ORTHOGONAL_COS,
    Jump,
    Plateau,
    Regime,
    detect_jumps,
    loss_changes,
    name_regime,
    plateaus,
    regime_sequence,
)

__all__ = [
    "ANTIPODAL_COS",
    "COLLAPSED_COS",
    "LEARNED_NORM",
    "ORTHOGONAL_COS",
    "Jump",
    "Plateau",
    "Regime",
    "detect_jumps",
    "loss_changes",
    "name_regime",
    "plateaus",
    "regime_sequence",
]
