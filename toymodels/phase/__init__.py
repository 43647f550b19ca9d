"""§3, chapter 3 (superposition as a phase change): the paper's protocol on a trained grid, the theory on
the same grid, and their figures, tables and live slider.
"""

from .analysis import (
    PHASE_DESCRIPTIONS,
    PHASE_WEIGHTS,
    PHASES,
    EmpiricalPhaseDiagram,
    LossSlice,
    TheoryPhaseDiagram,
    classify,
    critical_density,
    empirical_phase_diagram,
    extra_feature_geometry,
    grid_axes,
    loss_slice,
    nearest_column,
    phases,
    theory_boundaries,
    theory_phase_diagram,
)
from .figures import PHASE_COLORS, paper_phase_colors, phase_column_slider, phase_diagrams, phase_slice
from .tables import phase_agreement_table, phase_disagreements, phase_theory_table
from .widgets import browser_phase_point, live_phase_point

__all__ = [
    "PHASE_WEIGHTS",
    "PHASES",
    "PHASE_DESCRIPTIONS",
    "phases",
    "classify",
    "extra_feature_geometry",
    "grid_axes",
    "EmpiricalPhaseDiagram",
    "empirical_phase_diagram",
    "theory_boundaries",
    "critical_density",
    "TheoryPhaseDiagram",
    "theory_phase_diagram",
    "LossSlice",
    "nearest_column",
    "loss_slice",
    "PHASE_COLORS",
    "paper_phase_colors",
    "phase_diagrams",
    "phase_slice",
    "phase_column_slider",
    "phase_agreement_table",
    "phase_disagreements",
    "phase_theory_table",
    "live_phase_point",
    "browser_phase_point",
]
