"""Chapter 13, superposition and neural scaling laws (Liu, Liu & Gore, 2025; Chen, Chen, Liu & Gore, 2026): the
paper's toy model with power-law feature frequencies, its loss against width and over training in the weak and
strong regimes of superposition that a weight decay sets, and the geometry behind the 1/m law."""

from .analysis import (
    KIND,
    VALUE_SQUARE,
    DecaySweep,
    PowerLaw,
    ScalingRun,
    TrainingCurves,
    WidthScaling,
    checkpoints,
    decay_sweep,
    fit_power_law,
    power_law_alpha,
    scaling_run,
    strong_exponent,
    training_curves,
    weak_exponent,
    width_scaling,
)
from .figures import norms_slider, overlap_figure, represented_figure, training_figure, width_figure
from .reference import reference_run, reference_runs
from .tables import (
    cost_table,
    decay_table,
    dynamics_table,
    exponent_over_training_table,
    exponent_table,
    overlap_exponents,
    overlap_table,
    reference_table,
    weak_table,
)
from .widgets import live_scaling

__all__ = [
    "KIND",
    "strong_exponent",
    "VALUE_SQUARE",
    "DecaySweep",
    "PowerLaw",
    "ScalingRun",
    "TrainingCurves",
    "WidthScaling",
    "checkpoints",
    "decay_sweep",
    "fit_power_law",
    "power_law_alpha",
    "scaling_run",
    "training_curves",
    "weak_exponent",
    "width_scaling",
    "norms_slider",
    "overlap_figure",
    "represented_figure",
    "training_figure",
    "width_figure",
    "cost_table",
    "decay_table",
    "dynamics_table",
    "exponent_over_training_table",
    "exponent_table",
    "overlap_exponents",
    "overlap_table",
    "weak_table",
    "live_scaling",
    "reference_run",
    "reference_runs",
    "reference_table",
]
