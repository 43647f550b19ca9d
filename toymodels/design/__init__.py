"""Chapter 12, "why this model?": the paper's design choices (a tied decoder Wᵀ, no hidden bias, no hidden
nonlinearity, an importance that does not depend on the context) each changed in turn on the §2 sweep, and what the
picture of WᵀW and b says."""

from .analysis import (
    EVAL_BATCHES,
    FEATURE_ROLES,
    DecoderFits,
    GramReading,
    HiddenBiasEffect,
    PairArrangements,
    cross_losses,
    decoder_fits,
    gram_reading,
    hidden_bias_effect,
    initial_weights,
    loss_over_training,
    pair_arrangements,
)
from .figures import gram_slider, loss_ratio_figure, pairs_slider, product_slider
from .tables import (
    alignment_table,
    convergence_table,
    cross_table,
    dead_start_table,
    decoder_table,
    gram_table,
    hidden_table,
    pairs_table,
)

__all__ = [
    "EVAL_BATCHES",
    "FEATURE_ROLES",
    "DecoderFits",
    "GramReading",
    "HiddenBiasEffect",
    "PairArrangements",
    "cross_losses",
    "decoder_fits",
    "gram_reading",
    "hidden_bias_effect",
    "initial_weights",
    "loss_over_training",
    "pair_arrangements",
    "product_slider",
    "loss_ratio_figure",
    "gram_slider",
    "pairs_slider",
    "decoder_table",
    "alignment_table",
    "convergence_table",
    "dead_start_table",
    "hidden_table",
    "gram_table",
    "pairs_table",
    "cross_table",
]
