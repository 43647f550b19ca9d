"""§8: neurons and regimes of the privileged-basis model, h = ReLU(W x), x' = ReLU(Wᵀh + b) (n = 10, m = 5).

With a ReLU on the hidden layer the neurons are a privileged basis: a feature is stored along neurons, not along
an arbitrary direction, and each neuron can be read off W directly. The paper sees, as features get sparser,
neurons go from monosemantic (one feature each) to polysemantic, through six regimes (PAPER_NOTES, "Privileged
basis"; :data:`PAPER_REGIMES`).

**Reading a fit** (thresholds are module constants; the tests check hand-built W for every regime):

* Feature i *activates* neuron j when W_ji ≥ ``ON_FRACTION`` (1/3) × the neuron's largest weight and W_ji ≥
  ``DEAD_WEIGHT`` (0.1). Only positive weights count: the inputs are non-negative, so a negative weight can only
  silence the neuron (the paper draws those below the axis). Neuron j's *code* column is which features activate it.
* A neuron is *monosemantic* when one feature activates it, *polysemantic* when several do, *dead* when none.
* Feature i is *represented* when ‖W_i⁺‖ > ``REPRESENTED_NORM`` (0.5), the norm of its positive weights: alone,
  it comes back as x'_i = ReLU(‖W_i⁺‖² x_i + b_i). Its *code* is the set of neurons it activates.
* A represented feature is *dedicated* when every neuron it activates is monosemantic. The other represented
  features and the polysemantic neurons form the *shared block*: k features in j neurons.

**Regimes** (:func:`neurons`, :func:`regime_of`), named by the shared block: *dedicated neurons* (no shared block),
*binary code* (3 features in 2 neurons), *neuron pairs* (every shared feature activates exactly two neurons, all
C(j, 2) pairs of j neurons used, at least 10 features: the paper's 10 = C(5, 2)), else "k in j" (the paper's *5 in
3*, *6 in 4* and *8 in 5* among them; :data:`REGIMES` lists the six the paper names), and *no distinct codes* when
two shared features activate the same set of neurons, which the output could not tell apart. In *6 in 4* the paper
sees one neuron separate the important features from the unimportant ones; :func:`separator_neurons` finds such
neurons (every feature that activates one more important than every feature that silences it, or every one less
important).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..errors import ConfigError
from ..metrics import represented_features
from ..validation import as_float64, as_instances
from ..vocabulary import DEAD_WEIGHT

ON_FRACTION = 1 / 3  # a quarter called a 0.23 weight beside 0.8 and 0.95 a third neuron of a pair
NO_DISTINCT_CODES = "no distinct codes"  # a block whose features do not activate distinct sets of neurons
NEGATIVE_WEIGHT = 0.1  # a weight ≤ −this counts as inhibiting the neuron (separator_neurons)

# The regimes the paper names; a fit may also be "k in j" for another shared block, or "no distinct codes".
REGIMES = ("dedicated neurons", "binary code", "5 in 3", "6 in 4", "8 in 5", "neuron pairs")


@dataclass(frozen=True)
class PaperRegime:
    """What the paper reports for a band of densities (PAPER_NOTES, "Privileged basis")."""

    low: float  # the band's densities, low ≤ 1 − S ≤ high
    high: float
    regime: str  # one of REGIMES
    monosemantic: int  # monosemantic neurons
    represented: int  # features represented
    description: str


PAPER_REGIMES = (
    PaperRegime(0.5, 1.0, "dedicated neurons", 5, 5, "every neuron monosemantic: the 5 most important features"),
    PaperRegime(0.2, 0.5, "binary code", 3, 6, "top 3 dedicated; the next 3 as a binary code in 2 neurons"),
    PaperRegime(0.15, 0.15, "5 in 3", 2, 7, "2 dedicated; 5 features in 3 neurons"),
    PaperRegime(0.12, 0.12, "6 in 4", 1, 7, "1 dedicated; 6 features in 4 neurons, one neuron a separator"),
    PaperRegime(0.05, 0.08, "8 in 5", 0, 8, "8 features in 5 neurons, all polysemantic"),
    PaperRegime(0.0, 0.04, "neuron pairs", 0, 10, "every feature a pair of neurons: 10 = C(5, 2)"),
)


def paper_regime(density: float) -> PaperRegime | None:
    """The paper's regime at ``density`` (1 − S), or None between its bands."""
    for band in PAPER_REGIMES:
        if band.low - 1e-9 <= density <= band.high + 1e-9:
            return band
    return None


def activates(W) -> np.ndarray:
    """(…, m, n) bool: feature i activates neuron j (see the module's reading rules)."""
    W, single = as_instances("W", W)
    largest = W.max(-1, keepdims=True)
    on = (W >= ON_FRACTION * largest) & (W >= DEAD_WEIGHT)
    return on[0] if single else on


def represented(W) -> np.ndarray:
    """(…, n) bool: ‖W_i⁺‖ > REPRESENTED_NORM (:func:`toymodels.metrics.represented_features` of a model with a
    hidden ReLU)."""
    W, single = as_instances("W", W)
    value = represented_features(torch.as_tensor(W), hidden_relu=True).numpy()
    return value[0] if single else value


@dataclass(frozen=True)
class Neurons:
    """How one fit's neurons and features share out (one W of shape (m, n))."""

    on: np.ndarray  # (m, n) bool: feature i activates neuron j
    represented: np.ndarray  # (n,) bool
    dedicated: np.ndarray  # (n,) bool: represented, and only by monosemantic neurons
    monosemantic: int
    polysemantic: int
    dead: int
    block_features: tuple[int, ...]  # the shared block's features
    block_neurons: tuple[int, ...]  # and its neurons
    distinct_codes: bool  # the block's features activate distinct sets of neurons
    regime: str  # "dedicated neurons", "binary code", "neuron pairs", "k in j" or "no distinct codes"

    @property
    def n_represented(self) -> int:
        return int(self.represented.sum())

    @property
    def block(self) -> tuple[int, int]:
        """(features, neurons) of the shared block."""
        return len(self.block_features), len(self.block_neurons)


def neurons(W) -> Neurons:
    """Read one fit: which features activate which neurons, and its regime (module docstring)."""
    W, single = as_instances("W", W)
    if not single:
        raise ConfigError(
            f"neurons reads one fit: W must have shape (n_hidden, n_features), got {W.shape[1:]} × {len(W)}"
        )
    W = W[0]
    on = activates(W) & represented(W)[None, :]  # an unrepresented feature's weak weights make no code
    per_neuron = on.sum(-1)
    mono, poly = per_neuron == 1, per_neuron > 1
    rep = represented(W)
    dedicated = rep & on.any(0) & ~(on & poly[:, None]).any(0)
    block_features = tuple(int(i) for i in np.flatnonzero(rep & ~dedicated))
    block_neurons = tuple(int(j) for j in np.flatnonzero(poly))
    codes = [tuple(on[:, i]) for i in block_features]
    distinct = len(set(codes)) == len(codes) and all(any(code) for code in codes)
    n_block = (len(block_features), len(block_neurons))
    if not distinct:
        regime = NO_DISTINCT_CODES
    elif n_block == (0, 0):
        regime = "dedicated neurons"
    elif n_block == (3, 2):
        regime = "binary code"
    elif all(sum(code) == 2 for code in codes) and n_block[0] == n_block[1] * (n_block[1] - 1) // 2 >= 10:
        regime = "neuron pairs"
    else:
        regime = f"{n_block[0]} in {n_block[1]}"
    return Neurons(
        on=on,
        represented=rep,
        dedicated=dedicated,
        monosemantic=int(mono.sum()),
        polysemantic=int(poly.sum()),
        dead=int((per_neuron == 0).sum()),
        block_features=block_features,
        block_neurons=block_neurons,
        distinct_codes=distinct,
        regime=regime,
    )


def separator_neurons(W, importance) -> tuple[int, ...]:
    """Neurons of one fit that separate important features from unimportant ones: activated by some represented
    features, silenced (W_ji ≤ −NEGATIVE_WEIGHT) by other represented features, and every feature that activates
    it on one side of the importance order of every feature that silences it (all more important, or all less)."""
    W, single = as_instances("W", W)
    if not single:
        raise ConfigError("separator_neurons reads one fit: W must have shape (n_hidden, n_features)")
    W = W[0]
    importance = as_float64("importance", importance)
    if importance.shape != (W.shape[1],):
        raise ConfigError(f"importance must have shape (n_features,) = ({W.shape[1]},), got {importance.shape}")
    rep = represented(W)
    on = activates(W) & rep
    found = []
    for j in range(W.shape[0]):
        positive, negative = importance[on[j]], importance[(W[j] <= -NEGATIVE_WEIGHT) & rep]
        if len(positive) and len(negative) and (positive.min() > negative.max() or positive.max() < negative.min()):
            found.append(j)
    return tuple(found)


def regime_of(W) -> np.ndarray:
    """The regime name of every fit: W (…, m, n) → (…,) array of str."""
    W = as_float64("W", W)
    if W.ndim < 2:
        raise ConfigError(f"W must have shape (…, n_hidden, n_features), got {W.shape}")
    flat = W.reshape(-1, *W.shape[-2:])
    return np.array([neurons(w).regime for w in flat], dtype=object).reshape(W.shape[:-2])
