"""§4, chapter 4 (the geometry of superposition): uniform superposition and its polytopes (:mod:`.uniform`),
non-uniform superposition (:mod:`.non_uniform`), correlated and anticorrelated features (:mod:`.correlated`), the
precise losses they rank fits by (:mod:`.losses`), and the chapter's figures, tables and live sliders.

**Setups** (presets in :mod:`toymodels.presets`; importance 1 everywhere, ReLU-output model):

* ``non_uniform``: n = 5 features in m = 2 dimensions at density 0.05, except feature 0 ("the varied
  feature"), whose density is swept over a log range. At a uniform 0.05 the five features form a pentagon. The
  paper: a denser varied feature pushes the others away, a sparser one takes less room, and when it is about
  2.5× sparser than the rest the pentagon breaks into two digons (antipodal pairs) with the varied feature
  dropped, a first-order change where the pentagon's and the digons' loss curves cross.
* ``correlated`` / ``anticorrelated`` / ``correlated_3_pairs`` / ``local_orthogonal_bases`` / ``pca_sweep``:
  features in sets of ``set_size`` (``DataConfig.set_size``), with the paper's sampling. *Correlated*: one
  shared draw per set decides whether the whole set is zero (probability S); the non-zero values are
  independent U[0, 1]. *Anticorrelated*: the set is zero with probability S, else exactly one of its features,
  chosen uniformly, is active (so each feature's own density is (1 − S)/k; ``feature_probability`` holds the
  set's 1 − S). The paper: correlated features prefer to be orthogonal ("local orthogonal bases"), else side
  by side, else collapse onto their principal component (PCA); anticorrelated features prefer to be antipodal.

**Losses.** The trainer selects the best of K fits on 4 fresh batches, whose noise (15–20 % of the loss at
density 0.05) is larger than the gap between a pentagon and two digons near the threshold. Here every fit's
loss is re-estimated by :func:`expected_loss`: exact enumeration of which features (sets) are active, and for
each such pattern a scrambled Sobol (quasi-random) average over the active values, the same points for every
fit. On the non-uniform sweep, 2048 points (the default) agree with 16384 to 4e-4 of the loss at worst (median
3e-5), and differences between fits to 1.3e-6. Losses are the expected loss of ONE sample SUMMED over features
(as in :mod:`toymodels.theory`), n times the trainer's mean over features.

**Classification rules** (thresholds are module constants; ideal weights classify exactly, see the tests):

* Non-uniform fits (:func:`classify_non_uniform`, W of shape (…, 2, 5)):
  *pentagon*: all five ‖W_i‖ > ``REPRESENTED_NORM`` (0.5) and, going round the circle, every angle between
  neighbouring features within a factor 2 of the regular 72° (36°–144°, so no two features merge and none
  leaves a half-plane empty); *two digons*: the varied feature dropped (‖W_v‖ < ``DROPPED_NORM`` = 0.1) and
  the other four represented as two antipodal pairs (each has a partner with cos ≤ ``ANTIPODAL_COS`` = −0.9);
  *other*: anything else (e.g. a feature half-learned on top of a digon, seen at high varied density).
* A correlated or anticorrelated set (:func:`classify_sets`), from the cosines of its members' directions
  (every pair within the set must agree, else *mixed*): *collapsed* (cos ≥ ``COLLAPSED_COS`` = 0.9, the set's
  principal component), *antipodal* (cos ≤ −0.9), *orthogonal* (|cos| ≤ ``ORTHOGONAL_COS`` = 0.25: a local
  orthogonal basis), *side by side* (0.25 < cos < 0.9: an acute angle, neighbours on the circle), *obtuse*
  (−0.9 < cos < −0.25), *not learned* (some member with ‖W_i‖ < ``LEARNED_NORM`` = 0.25; collapsed members
  have ‖W_i‖ ≈ 1/√2 and shrink further when dense, hence the low bar).

**Numbers the chapter reports.** The pentagon → digon threshold (:class:`NonUniformSweep`): the varied
density where the lowest-loss pentagon and the lowest-loss pair of digons cost the same (log-linear
interpolation between grid points), with the grid interval where the lowest-loss fit switches and the ratio
base/threshold (paper ≈ 2.5). The collapse bands of the PCA sweep (:func:`collapse_bands`): runs of
densities with the same number of collapsed pairs in the lowest-loss fit (paper: ``PAPER_COLLAPSE_BANDS``), and
how PCA-like the fit is (:func:`pca_alignment`: the share of ‖W‖² along the sets' principal components, 1 when
every set is collapsed).
The block structure of WᵀW for two sets of ten in m = 10 (:func:`block_overlaps`): mean |W_i·W_j| within
sets against across sets.

"""

from .correlated import (
    ARRANGEMENTS,
    PAPER_COLLAPSE_BANDS,
    Band,
    BlockOverlaps,
    SetSweep,
    across_cosines,
    block_overlaps,
    classify_sets,
    collapse_bands,
    paper_collapsed,
    pca_alignment,
    set_cosines,
    set_sweep,
)
from .figures import (
    CLASS_COLORS,
    block_gram,
    collapse_figure,
    correlated_row,
    non_uniform_losses,
    non_uniform_slider,
    set_sweep_slider,
)
from .losses import MAX_PATTERNS, expected_loss, fit_losses
from .non_uniform import (
    DROPPED_NORM,
    NON_UNIFORM_CLASSES,
    PAPER_BASE_DENSITY,
    PAPER_THRESHOLD_RATIO,
    PENTAGON_GAP,
    NonUniformSweep,
    angular_gaps,
    classify_non_uniform,
    crossings,
    digon_loss_theory,
    non_uniform_sweep,
    room,
)
from .tables import (
    arrangement_table,
    block_overlap_table,
    collapse_bands_table,
    dimensionality_clusters_table,
    non_uniform_table,
    non_uniform_threshold,
    uniform_plateaus,
    uniform_table,
    uniform_training_table,
)
from .uniform import (
    STICKY,
    Component,
    Plateau,
    components,
    dimensionality_clusters,
    near_line,
    plateaus,
    polytope_counts,
)
from .uniform_figures import (
    OTHER_COMPONENT_COLOR,
    POLYTOPE_COLORS,
    feature_dimensionality_figure,
    feature_dimensionality_over_training,
    geometry_graph,
    geometry_graph_sweep,
)
from .widgets import live_correlated, live_non_uniform

__all__ = [
    "MAX_PATTERNS",
    "expected_loss",
    "fit_losses",
    "DROPPED_NORM",
    "PENTAGON_GAP",
    "NON_UNIFORM_CLASSES",
    "PAPER_BASE_DENSITY",
    "PAPER_THRESHOLD_RATIO",
    "angular_gaps",
    "room",
    "classify_non_uniform",
    "digon_loss_theory",
    "crossings",
    "NonUniformSweep",
    "non_uniform_sweep",
    "ARRANGEMENTS",
    "PAPER_COLLAPSE_BANDS",
    "set_cosines",
    "across_cosines",
    "classify_sets",
    "pca_alignment",
    "SetSweep",
    "set_sweep",
    "Band",
    "collapse_bands",
    "paper_collapsed",
    "BlockOverlaps",
    "block_overlaps",
    "STICKY",
    "Component",
    "components",
    "polytope_counts",
    "dimensionality_clusters",
    "near_line",
    "Plateau",
    "plateaus",
    "CLASS_COLORS",
    "correlated_row",
    "non_uniform_losses",
    "non_uniform_slider",
    "set_sweep_slider",
    "collapse_figure",
    "block_gram",
    "POLYTOPE_COLORS",
    "OTHER_COMPONENT_COLOR",
    "feature_dimensionality_figure",
    "geometry_graph",
    "geometry_graph_sweep",
    "feature_dimensionality_over_training",
    "non_uniform_table",
    "non_uniform_threshold",
    "arrangement_table",
    "collapse_bands_table",
    "block_overlap_table",
    "uniform_table",
    "uniform_training_table",
    "uniform_plateaus",
    "dimensionality_clusters_table",
    "live_non_uniform",
    "live_correlated",
]
