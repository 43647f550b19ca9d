"""§5, chapter 5 (learning dynamics): energy-level jumps of the per-feature dimensionalities and the named
regimes of the 6 → 3 correlated model along training (:mod:`.analysis`), their figures (:mod:`.figures`), and
the energy-level runs kept in the results store as dimensionality paths (:mod:`.paths`)."""

from .analysis import (
    DROP_FACTOR,
    ENERGY_LEVELS,
    LEVEL_NORM,
    EnergyLevels,
    Jump,
    Plateau,
    Regime,
    detect_jumps,
    dimensionality_paths,
    energy_levels,
    levels_from_paths,
    loss_changes,
    name_regime,
    plateaus,
    regime_sequence,
)
from .figures import dimensionality_figure, features_3d, regime_loss_figure, training_slider
from .paths import DIGON_PLATEAU, energy_level_grid, energy_level_run
from .tables import (
    geometry_table,
    grid_table,
    jump_slider,
    jump_table,
    levels_of,
    regime_loss,
    regimes_of,
    transformation_slider,
)
from .widgets import live_transformations

__all__ = [
    "live_transformations",
    "transformation_slider",
    "regimes_of",
    "regime_loss",
    "levels_of",
    "energy_level_run",
    "energy_level_grid",
    "grid_table",
    "DIGON_PLATEAU",
    "levels_from_paths",
    "jump_table",
    "jump_slider",
    "geometry_table",
    "DROP_FACTOR",
    "ENERGY_LEVELS",
    "LEVEL_NORM",
    "EnergyLevels",
    "Jump",
    "Plateau",
    "Regime",
    "detect_jumps",
    "dimensionality_paths",
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
