"""Chapter 10 (beyond the paper): which output nonlinearities let superposition pay — the §2 sweep and the §3
n = 2, m = 1 diagram for each, and a softmax task — with their figures, tables and a live widget."""

from .analysis import (
    PHASE_DESCRIPTIONS,
    PHASES,
    PhaseGrid,
    Shape,
    SweepCounts,
    decodable,
    in_superposition,
    nonlinearity_shape,
    phase_grid,
    relative_superposition,
    represented,
    shape_phase,
    sweep_counts,
)
from .experiments import NONLINEARITIES, phase_grids, shapes, softmax_results, sweeps, task_control
from .figures import counts_figure, phase_grids_figure, softmax_plane, weights_slider
from .tables import (
    conclusion_table,
    counts_table,
    groups_table,
    onset_table,
    phase_table,
    softmax_table,
    task_control_table,
)
from .widgets import browser_nonlinearity, live_nonlinearity

__all__ = [
    "NONLINEARITIES",
    "PHASES",
    "PHASE_DESCRIPTIONS",
    "PhaseGrid",
    "Shape",
    "SweepCounts",
    "represented",
    "relative_superposition",
    "in_superposition",
    "decodable",
    "sweep_counts",
    "shape_phase",
    "phase_grid",
    "nonlinearity_shape",
    "sweeps",
    "phase_grids",
    "shapes",
    "softmax_results",
    "task_control",
    "counts_figure",
    "weights_slider",
    "phase_grids_figure",
    "softmax_plane",
    "counts_table",
    "onset_table",
    "conclusion_table",
    "groups_table",
    "softmax_table",
    "task_control_table",
    "phase_table",
    "live_nonlinearity",
    "browser_nonlinearity",
]
