"""§10, chapter 8 (computation in superposition): the absolute-value model, neuron by neuron.

**Setups** (presets in :mod:`toymodels.presets`; model ``kind="untied_relu_hidden"``: h = ReLU(W₁ x),
y' = ReLU(W₂ h + b), with W₁ the package's ``W`` (m, n) and W₂ its ``W_out`` (n, m); signed data,
``DataConfig(signed=True, target="abs")``: x_i = 0 with probability 1 − p, else U[−1, 1], target |x|):

* ``absolute_value``: n = 3, m = 6, dense (p = 1), importance 1. The paper: each feature gets a ReLU(x) and
  a ReLU(−x) neuron, whose outputs add up to |x|.
* ``computation_sweep``: n = 100, m = 40, I_i = 0.8^i, p ∈ {1, .3, .1, .03, .01, .003, .001}. The paper:
  monosemantic at p ≥ 0.3, a few slightly polysemantic neurons at 0.1, more polysemantic neurons as sparsity
  grows (the least important features first), all highly polysemantic at 0.001.
* ``computation_sweep_lr_1e-2`` and ``computation_sweep_lr_3e-2``: the same sweep under two longer protocols
  (``SWEEP_PROTOCOLS``), the convergence check; :func:`protocol_sweep` keeps each density's best across them.
* ``asymmetric_motif_search``: ARENA's n = 10, m = 10, importance 1, at p = 0.35 and around it, 10 fits each,
  for the asymmetric superposition motif (``absolute_value_live``: the live slider's smaller run).

**Rules** (thresholds are module constants of :mod:`.analysis`, whose docstring states them): neurons are
monosemantic, polysemantic or dead by their rescaled input weights; a feature is computed, one-sided or not
computed by the model's answer when it is alone; the motif is one neuron storing two features with reciprocal,
unequal weights plus a second neuron that makes the strong feature's interference negative.
"""

from .analysis import (
    ASYMMETRY,
    FEATURE_CLASSES,
    HALF_GAIN,
    MIN_GAIN,
    NEURON_CLASSES,
    Motif,
    MotifEffect,
    MotifPrecision,
    MotifSearch,
    NeuronClasses,
    classify_features,
    classify_neurons,
    duplicated_neurons,
    feature_errors,
    find_motifs,
    main_feature,
    monosemantic_baseline,
    motif_effect,
    motif_precision,
    neuron_order,
    one_sparse_answers,
    paper_example,
    rescaled,
    search_motifs,
    side_gains,
    weights_of,
)
from .figures import (
    function_and_weights,
    learned_function,
    motif_counts_figure,
    motif_graph,
    motif_graphs,
    neuron_weights,
    neuron_weights_slider,
    weight_matrices,
)
from .protocols import CHECKPOINT, ProtocolSweep, protocol_sweep, sweep_protocols, train_checkpointed
from .tables import (
    absolute_value_table,
    census_table,
    motif_list,
    motif_precision_table,
    motif_table,
    neuron_table,
    protocol_table,
    test_error,
)
from .widgets import live_absolute_value

__all__ = [
    "HALF_GAIN",
    "MIN_GAIN",
    "ASYMMETRY",
    "NEURON_CLASSES",
    "FEATURE_CLASSES",
    "rescaled",
    "main_feature",
    "neuron_order",
    "NeuronClasses",
    "classify_neurons",
    "duplicated_neurons",
    "one_sparse_answers",
    "feature_errors",
    "side_gains",
    "classify_features",
    "Motif",
    "MotifSearch",
    "MotifEffect",
    "MotifPrecision",
    "motif_effect",
    "motif_precision",
    "motif_precision_table",
    "find_motifs",
    "paper_example",
    "search_motifs",
    "weights_of",
    "monosemantic_baseline",
    "ProtocolSweep",
    "protocol_sweep",
    "sweep_protocols",
    "train_checkpointed",
    "CHECKPOINT",
    "protocol_table",
    "neuron_weights",
    "neuron_weights_slider",
    "learned_function",
    "weight_matrices",
    "function_and_weights",
    "motif_graph",
    "motif_graphs",
    "motif_counts_figure",
    "test_error",
    "absolute_value_table",
    "neuron_table",
    "census_table",
    "motif_table",
    "motif_list",
    "live_absolute_value",
]
