"""§8, chapter 7 (superposition in a privileged basis): h = ReLU(W x), x' = ReLU(Wᵀh + b), n = 10, m = 5,
I = 0.75^i. Reading neurons and regimes off W (:mod:`.analysis`), precise losses to rank fits (:mod:`.losses`), a
trained sweep read fit by fit with best-of-K (:mod:`.sweep`), and the chapter's figures, tables and live slider.
"""

from .analysis import (
    NEGATIVE_WEIGHT,
    NO_DISTINCT_CODES,
    ON_FRACTION,
    PAPER_REGIMES,
    REGIMES,
    Neurons,
    PaperRegime,
    activates,
    neurons,
    paper_regime,
    regime_of,
    represented,
    separator_neurons,
)
from .figures import (
    density_slider,
    feature_colors,
    fits_figure,
    loss_distribution,
    neuron_figure,
    regime_color,
    regime_map,
    sweep_map,
)
from .losses import expected_loss, fit_losses, patterns
from .sweep import PrivilegedSweep, independent_draws, privileged_sweep
from .tables import best_of_k_table, draws_table, halving_table, ranking_table, regime_counts_table, regime_table
from .widgets import best_fit, live_privileged

__all__ = [
    "NEGATIVE_WEIGHT",
    "NO_DISTINCT_CODES",
    "ON_FRACTION",
    "PAPER_REGIMES",
    "REGIMES",
    "Neurons",
    "PaperRegime",
    "activates",
    "neurons",
    "paper_regime",
    "regime_of",
    "represented",
    "separator_neurons",
    "density_slider",
    "feature_colors",
    "fits_figure",
    "sweep_map",
    "loss_distribution",
    "neuron_figure",
    "regime_color",
    "regime_map",
    "expected_loss",
    "fit_losses",
    "patterns",
    "PrivilegedSweep",
    "privileged_sweep",
    "independent_draws",
    "draws_table",
    "best_of_k_table",
    "halving_table",
    "ranking_table",
    "regime_counts_table",
    "regime_table",
    "best_fit",
    "live_privileged",
]
