"""§9, chapter 9 (beyond the paper): getting features out of superposition.

**L1 on the hidden layer**: the ReLU-output and privileged-basis models trained with λ·E‖h‖₁
(``ModelConfig(l1_penalty=λ)``) over a sweep of λ (:func:`l1_sweep`, :func:`l1_measures`): represented features,
features in superposition and the reconstruction loss against λ.

**Sparse autoencoders** (:mod:`.sae`): a small SAE of our own on the instance axis (:func:`train_saes` over a
grid :func:`sae_grid` of L1 coefficient × dictionary size), trained on a toy model's hidden activations
(:func:`sae_sweep`) and scored against the true directions (:mod:`.scores`: mean max cosine, share recovered,
dead latents, L0, variance unexplained; a random dictionary's expected score). **Where SAEs fail**: feature
absorption on hierarchical features (:func:`absorption_sweep`).
"""

from .analysis import (
    L1_PENALTIES,
    SAE_L1S,
    SAE_SIZES,
    SUPERPOSED,
    AbsorptionProtocol,
    AbsorptionSweep,
    L1Measures,
    SaeProtocol,
    SaeSweep,
    absorption_protocol,
    absorption_sweep,
    l1_measures,
    l1_sweep,
    mean_dimensionality,
    no_superposition_loss,
    reconstruction_loss,
    sae_protocol,
    sae_sweep,
)
from .figures import (
    absorption_cosines,
    absorption_figure,
    best_dictionary,
    dictionary_figure,
    l1_figure,
    l1_weights_slider,
    sae_heatmaps,
    sae_slider,
)
from .sae import SAE_VERSION, SaeResult, SaeSetting, sae_grid, sae_loss, toy_activations, train_saes
from .scores import (
    RECOVERED,
    absorption,
    activation_scores,
    best_latents,
    cosines,
    hierarchical_features,
    max_cosines,
    mean_max_cosine,
    random_mean_max_cosine,
    recovered_share,
)
from .tables import absorption_table, best_sae_table, exit_table, l1_table, sae_table
from .widgets import live_sae

__all__ = [
    "L1_PENALTIES",
    "SUPERPOSED",
    "SAE_L1S",
    "SAE_SIZES",
    "RECOVERED",
    "SAE_VERSION",
    "l1_sweep",
    "l1_measures",
    "mean_dimensionality",
    "L1Measures",
    "reconstruction_loss",
    "no_superposition_loss",
    "SaeSetting",
    "SaeResult",
    "sae_grid",
    "sae_loss",
    "train_saes",
    "toy_activations",
    "cosines",
    "max_cosines",
    "best_latents",
    "mean_max_cosine",
    "recovered_share",
    "random_mean_max_cosine",
    "activation_scores",
    "hierarchical_features",
    "absorption",
    "SaeProtocol",
    "sae_protocol",
    "SaeSweep",
    "sae_sweep",
    "AbsorptionProtocol",
    "absorption_protocol",
    "AbsorptionSweep",
    "absorption_sweep",
    "l1_figure",
    "l1_weights_slider",
    "sae_heatmaps",
    "dictionary_figure",
    "best_dictionary",
    "sae_slider",
    "absorption_figure",
    "absorption_cosines",
    "l1_table",
    "exit_table",
    "sae_table",
    "best_sae_table",
    "absorption_table",
    "live_sae",
]
