"""§10 (chapter 8): what an absolute-value model computes, neuron by neuron.

The model (``kind="untied_relu_hidden"``): h = ReLU(W₁ x), y' = ReLU(W₂ h + b), trained on signed features
(x_i = 0 w.p. 1 − p, else U[−1, 1]) to output |x|. Here ``W1`` is the package's ``W``, (…, m, n): row k is
neuron k's input weights; ``W2`` is ``W_out``, (…, n, m): column k is what neuron k writes to each output.

**Neurons** (:func:`classify_neurons`). As in the paper's figure each neuron's input weights are rescaled so
that its largest |W₁| entry is 1 (:func:`rescaled`); its *main feature* is that entry's feature. A neuron
*responds* to feature i when its rescaled |W₁ₖᵢ| ≥ ``RESPONDS_SHARE`` (0.25): *monosemantic* when it responds to one
feature, *polysemantic* when to several, *dead* when its largest |W₁| is below ``DEAD_WEIGHT`` (0.1, in the weights'
own units). A neuron's *polysemantic share* is the part of its ‖W₁ₖ‖² outside its main feature (0 for a
monosemantic neuron, 1/2 for two equal features); it shows the "slightly polysemantic" neurons that stay under
the threshold.

**Features computed** (:func:`side_gains`, :func:`classify_features`). The model's answer for feature i alone,
y'ᵢ(t) for x = t eᵢ with t on a grid over [−1, 1]. Its *gain* on each side is the least-squares slope of
y'ᵢ(t) − y'ᵢ(0) against |t| over t > 0 and over t < 0: (1, 1) for a perfect |x|, (1, 0) for ReLU(x) alone
(what the ReLU-output model of §2 computes), (0, 0) for a feature the model ignores, whatever constant it
outputs for it. A feature is *computed* when both gains reach ``HALF_GAIN`` (0.5), *one-sided* when one does.
:func:`feature_errors` gives the plain error ∫(y'ᵢ − |t|)² / ∫t² (0 for a perfect |x|).

**The asymmetric superposition motif** (:func:`find_motifs`; paper §10, with the example W₁ = [2, −½],
W₂ = [½, 2]). One neuron k computes two features a and b: both path gains |W₁ₖᵢ|·W₂ᵢₖ are at least
``MIN_GAIN`` (0.5: half a side of |x|, whose gain is 1). It stores them *asymmetrically*: |W₁ₖₐ| ≥ ``ASYMMETRY``
(2) × |W₁ₖ_b| and, reciprocally, W₂_bₖ ≥ 2 × W₂ₐₖ, so both gains can be equal while feature a, the strongly
stored one, leaks a large positive interference |W₁ₖₐ|·W₂_bₖ into output b. A second neuron l *inhibits*
that output: it fires on the same sign of feature a (s·W₁ₗₐ > 0 with s = sign W₁ₖₐ) and writes negatively to
output b, so that the total interference of feature a on output b, Σⱼ ReLU(s·W₁ⱼₐ)·W₂_bⱼ per unit |xₐ| (every
neuron that fires with feature a alone), is ≤ 0: negative interference, which the output ReLU removes. The
inhibitor reported is the neuron with the most negative term. The weak side (feature b leaking
|W₁ₖ_b|·W₂ₐₖ into output a) is small by construction and needs no inhibitor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..errors import ConfigError
from ..metrics import neuron_features
from ..validation import as_float64
from ..vocabulary import DEAD_WEIGHT, RESPONDS_SHARE

HALF_GAIN = 0.5  # gain on one side (slope of y' against |x|) from which that side of |x| counts as computed
# Path gain |W₁ₖᵢ|·W₂ᵢₖ for a neuron to compute feature i in the motif: half a side of |x|, as HALF_GAIN. Chapter 8
# measures the choice with motif_effect: at 0.1 most detections in the 100-feature models carried little.
MIN_GAIN = 0.5
ASYMMETRY = 2.0  # ratio of the strong to the weak weight, in W₁ and (reciprocally) in W₂
NEURON_CLASSES = ("monosemantic", "polysemantic", "dead")
FEATURE_CLASSES = ("computed", "one-sided", "not computed")
GRID = np.linspace(-1.0, 1.0, 201)  # t for the 1-sparse answers y'_i(t e_i)


def _weights(W1, W2=None, b=None):
    """W1 (…, m, n), W2 (…, n, m) and b (…, n) as float64 arrays of matching shapes, else a ConfigError."""
    W1 = as_float64("W1", W1)
    if W1.ndim < 2:
        raise ConfigError(f"W1 must have shape (..., n_hidden, n_features), got {W1.shape}")
    m, n = W1.shape[-2:]
    out = [W1]
    if W2 is not None:
        W2 = as_float64("W2", W2)
        if W2.shape != W1.shape[:-2] + (n, m):
            raise ConfigError(f"W2 must have shape {W1.shape[:-2] + (n, m)} (…, n_features, n_hidden), got {W2.shape}")
        out.append(W2)
    if b is not None:
        b = as_float64("b", b)
        if b.shape != W1.shape[:-2] + (n,):
            raise ConfigError(f"b must have shape {W1.shape[:-2] + (n,)} (…, n_features), got {b.shape}")
        out.append(b)
    return out


def rescaled(W1) -> np.ndarray:
    """Each neuron's input weights divided by its largest |W₁| entry (the paper's display; a zero row stays 0)."""
    (W1,) = _weights(W1)
    largest = np.abs(W1).max(-1, keepdims=True)
    return np.divide(W1, largest, out=np.zeros_like(W1), where=largest > 0)


def main_feature(W1) -> np.ndarray:
    """Each neuron's main feature, argmax_i |W₁ₖᵢ|, (…, m)."""
    (W1,) = _weights(W1)
    return np.abs(W1).argmax(-1)


def neuron_order(W1) -> np.ndarray:
    """Neurons sorted as in the paper's figure: by their main feature (features are indexed by decreasing
    importance), then positive before negative weight, then by the share of ‖W₁ₖ‖² on the main feature
    (most monosemantic first). For one instance, W1 (m, n) → (m,) neuron indices; dead neurons last."""
    (W1,) = _weights(W1)
    if W1.ndim != 2:
        raise ConfigError(f"W1 must be one instance's (n_hidden, n_features), got {W1.shape}")
    main = main_feature(W1)
    rows = np.arange(W1.shape[0])
    top = W1[rows, main]
    dead = np.abs(top) < DEAD_WEIGHT
    share = top**2 / np.maximum((W1**2).sum(-1), 1e-30)
    return np.lexsort((-share, top < 0, main, dead))


@dataclass(frozen=True)
class NeuronClasses:
    """Per neuron of every instance (…, m): its main feature, the features it responds to, its class (an index
    into ``NEURON_CLASSES``) and its polysemantic share."""

    main: np.ndarray
    responds: np.ndarray  # bool (…, m, n)
    kind: np.ndarray  # (…, m): 0 monosemantic, 1 polysemantic, 2 dead
    share: np.ndarray  # (…, m): part of ‖W₁ₖ‖² outside the main feature

    def counts(self) -> dict[str, np.ndarray]:
        """Number of neurons of each class, (…,) each."""
        return {name: (self.kind == k).sum(-1) for k, name in enumerate(NEURON_CLASSES)}


def classify_neurons(W1, responds: float = RESPONDS_SHARE, dead: float = DEAD_WEIGHT) -> NeuronClasses:
    """Monosemantic, polysemantic or dead, for every neuron of W1 (…, m, n) (see the module's rules)."""
    if not 0 < responds <= 1:
        raise ConfigError(f"responds must lie in (0, 1], got {responds!r}")
    if not dead >= 0:
        raise ConfigError(f"dead must be a number >= 0, got {dead!r}")
    (W1,) = _weights(W1)
    largest = np.abs(W1).max(-1)
    alive = largest >= dead
    batched = W1.reshape(-1, *W1.shape[-2:])  # the core's rule (toymodels.metrics.neuron_features), per instance
    mask = neuron_features(torch.from_numpy(batched), responds, dead).numpy().reshape(W1.shape)
    count = mask.sum(-1)
    kind = np.where(~alive, 2, np.where(count > 1, 1, 0))
    total = np.maximum((W1**2).sum(-1), 1e-30)
    share = np.where(alive, 1 - largest**2 / total, 0.0)
    return NeuronClasses(main_feature(W1), mask, kind, share)


def duplicated_neurons(W1) -> np.ndarray:
    """Monosemantic neurons that read the same side of the same feature as another monosemantic neuron (same main
    feature, same sign), counted beyond the first of each side, (…,): neurons a model could give to other
    features. Gradient descent leaves them in place: the duplicates share the side's output between them, and one
    whose output weight shrinks gets no gradient towards another feature."""
    (W1,) = _weights(W1)
    classes = classify_neurons(W1)
    sign = np.take_along_axis(W1, classes.main[..., None], -1)[..., 0] > 0
    side = np.where(classes.kind == 0, 2 * classes.main + sign, -1).reshape(-1, W1.shape[-2])
    counts = [(row >= 0).sum() - np.unique(row[row >= 0]).size for row in side]
    return np.asarray(counts).reshape(W1.shape[:-2])


def one_sparse_answers(W1, W2, b, t=GRID) -> np.ndarray:
    """y'ᵢ(t) for x = t eᵢ (feature i alone), (…, n, len(t)): the model's own |x| for each feature."""
    W1, W2, b = _weights(W1, W2, b)
    t = as_float64("t", t)
    # h_k = ReLU(W1_ki t) for each feature i and value t: (…, m, n, T)
    h = np.maximum(W1[..., :, :, None] * t, 0.0)
    diagonal = np.einsum("...im,...mit->...it", W2, h)
    return np.maximum(diagonal + b[..., :, None], 0.0)


def feature_errors(W1, W2, b, t=GRID) -> np.ndarray:
    """∫(y'ᵢ(t) − |t|)² dt / ∫t² dt for each feature, (…, n): 0 computed, ≈ ½ one sign only, 1 ignored."""
    answers = one_sparse_answers(W1, W2, b, t)
    t = as_float64("t", t)
    return ((answers - np.abs(t)) ** 2).mean(-1) / (t**2).mean()


def side_gains(W1, W2, b, t=GRID) -> np.ndarray:
    """Each feature's gain on the positive and the negative side, (…, n, 2): the least-squares slope of
    y'ᵢ(t) − y'ᵢ(0) against |t| over the grid's t > 0 and t < 0 (1 where that side of |x| is computed)."""
    t = as_float64("t", t)
    if not ((t > 0).any() and (t < 0).any()):
        raise ConfigError("t must hold values on both sides of 0")
    answers = one_sparse_answers(W1, W2, b, t) - one_sparse_answers(W1, W2, b, [0.0])
    gains = [(answers[..., side] * np.abs(t[side])).sum(-1) / (t[side] ** 2).sum() for side in (t > 0, t < 0)]
    return np.stack(gains, axis=-1)


def classify_features(W1, W2, b, t=GRID) -> np.ndarray:
    """Each feature's class, an index into ``FEATURE_CLASSES`` (…, n): computed (both gains ≥ ``HALF_GAIN``),
    one-sided (one of them) or not computed."""
    sides = (side_gains(W1, W2, b, t) >= HALF_GAIN).sum(-1)
    return np.choose(sides, [2, 1, 0])


@dataclass(frozen=True)
class Motif:
    """One instance of asymmetric superposition in one model (see the module's rules)."""

    neuron: int  # k, the neuron that stores two features
    strong: int  # a, stored with the large input weight
    weak: int  # b, stored with the small input weight (and the large output weight)
    inhibitor: int  # l, the neuron whose negative output weight cancels a's interference on output b
    W1: tuple[float, float]  # (W₁ₖₐ, W₁ₖ_b)
    W2: tuple[float, float]  # (W₂ₐₖ, W₂_bₖ)
    inhibitor_W1: float  # W₁ₗₐ
    inhibitor_W2: float  # W₂_bₗ
    interference: float  # |W₁ₖₐ|·W₂_bₖ: what neuron k alone leaks into output b per unit |xₐ| (> 0)
    net: float  # Σⱼ ReLU(s·W₁ⱼₐ)·W₂_bⱼ: the leak after every neuron that fires with feature a (≤ 0)

    def describe(self) -> str:
        sign = "+" if self.W1[0] > 0 else "−"
        return (
            f"neuron {self.neuron} stores features {self.strong} (W₁ {self.W1[0]:.2f}) and {self.weak} "
            f"(W₁ {self.W1[1]:.2f}); neuron {self.inhibitor} fires on {sign}x{self.strong} and inhibits output "
            f"{self.weak} (W₂ {self.inhibitor_W2:.2f}): leak {self.interference:.2f} → {self.net:.2f}"
        )


def find_motifs(
    W1, W2, min_gain: float = MIN_GAIN, asymmetry: float = ASYMMETRY, tolerance: float = 0.0
) -> list[Motif]:
    """Every asymmetric superposition motif of one model (W1 (m, n), W2 (n, m)), in order of neuron and
    features. ``tolerance``: the net interference may be up to this (≥ 0) and still count as removed."""
    W1, W2 = _weights(W1, W2)
    if W1.ndim != 2:
        raise ConfigError(f"W1 must be one instance's (n_hidden, n_features), got {W1.shape}")
    if not min_gain > 0:
        raise ConfigError(f"min_gain must be > 0, got {min_gain!r}")
    if not asymmetry > 1:
        raise ConfigError(f"asymmetry must be > 1, got {asymmetry!r}")
    gain = np.abs(W1) * W2.T  # (m, n): path gain of feature i (on the sign neuron k reads) through neuron k
    found = []
    for k in range(W1.shape[0]):
        computes = np.flatnonzero((gain[k] >= min_gain) & (W2[:, k] > 0))
        for a in computes:
            for b in computes:
                if a == b:
                    continue
                strong_in = abs(W1[k, a]) >= asymmetry * abs(W1[k, b])
                strong_out = W2[b, k] >= asymmetry * W2[a, k]
                if not (strong_in and strong_out):
                    continue
                s = np.sign(W1[k, a])
                terms = np.maximum(s * W1[:, a], 0.0) * W2[b, :]  # each neuron's leak into output b, per |x_a|
                net = float(terms.sum())
                others = terms.copy()
                others[k] = np.inf
                inhibitor = int(others.argmin())
                if net > tolerance or terms[inhibitor] >= 0:
                    continue
                found.append(
                    Motif(
                        neuron=k,
                        strong=int(a),
                        weak=int(b),
                        inhibitor=inhibitor,
                        W1=(float(W1[k, a]), float(W1[k, b])),
                        W2=(float(W2[a, k]), float(W2[b, k])),
                        inhibitor_W1=float(W1[inhibitor, a]),
                        inhibitor_W2=float(W2[b, inhibitor]),
                        interference=float(terms[k]),
                        net=net,
                    )
                )
    return found


# A motif *works* (:attr:`MotifEffect.works`) when its neuron carries at least this share of each of its two features'
# answers on the side it reads, and its inhibitor removes at least ``MIN_LEAK`` of the strong feature's leak.
MIN_SHARE = 0.5
MIN_LEAK = 0.1  # mean spurious output of the weak feature, per unit |x_a|, that the inhibitor removes


@dataclass(frozen=True)
class MotifEffect:
    """What a motif does in its model, measured by ablation on 1-sparse inputs (:func:`motif_effect`)."""

    strong_share: float  # share of output a's gain, on the side neuron k reads, lost without k's path to a
    weak_share: float  # the same for output b
    leak_removed: float  # mean y'_b for x_a alone on that side, without the inhibitor's path to b, minus with it

    @property
    def works(self) -> bool:
        return min(self.strong_share, self.weak_share) >= MIN_SHARE and self.leak_removed >= MIN_LEAK


def motif_effect(W1, W2, b, motif: Motif, t=GRID) -> MotifEffect:
    """Ablate one path at a time of ``motif`` in the model (W1 (m, n), W2 (n, m), b (n,)) and measure, on each
    feature alone: how much of its answer's gain (:func:`side_gains`, on the side neuron k reads) the motif
    neuron carries, and how much of the strong feature's spurious output on the weak feature the inhibitor
    removes. A detected motif whose paths carry little (a gain of 0.24 out of 1, say) is a pattern of weights,
    not a mechanism."""
    W1, W2, b = _weights(W1, W2, b)
    if W1.ndim != 2:
        raise ConfigError(f"W1 must be one instance's (n_hidden, n_features), got {W1.shape}")
    k, a, w, l = motif.neuron, motif.strong, motif.weak, motif.inhibitor
    side = {feature: 0 if W1[k, feature] > 0 else 1 for feature in (a, w)}  # gain columns: (positive, negative)

    def share(feature: int) -> float:
        cut = W2.copy()
        cut[feature, k] = 0.0
        full, ablated = (side_gains(W1, M, b, t)[feature, side[feature]] for M in (W2, cut))
        return float(1 - ablated / full) if full > 0 else 0.0

    t = as_float64("t", t)
    values = np.abs(t[t != 0])
    x = np.zeros((values.size, W1.shape[1]))
    x[:, a] = np.sign(W1[k, a]) * values

    def leak(M) -> float:
        return float(np.maximum(np.maximum(x @ W1.T, 0.0) @ M[w] + b[w], 0.0).mean())

    cut = W2.copy()
    cut[w, l] = 0.0
    return MotifEffect(share(a), share(w), leak(cut) - leak(W2))


@dataclass(frozen=True)
class MotifSearch:
    """The motifs of every fit of a result: ``motifs[s][j]`` lists those of fit j of setting s."""

    densities: tuple[float, ...]
    motifs: tuple[tuple[tuple[Motif, ...], ...], ...]

    @property
    def counts(self) -> np.ndarray:
        """(n_settings, fits per setting) motif counts."""
        return np.array([[len(fit) for fit in setting] for setting in self.motifs], dtype=int)

    def instances(self) -> list[tuple[int, int, Motif]]:
        """Every motif found, as (setting, fit, motif)."""
        return [(s, j, m) for s, setting in enumerate(self.motifs) for j, fit in enumerate(setting) for m in fit]


@dataclass(frozen=True)
class MotifPrecision:
    """How many motifs :func:`find_motifs` finds in every fit of a result at each path-gain threshold, and how
    many of them work (:func:`motif_effect`)."""

    name: str
    thresholds: tuple[float, ...]
    found: tuple[int, ...]
    working: tuple[int, ...]


def motif_precision(result, thresholds=(0.1, 0.25, 0.5), name: str | None = None) -> MotifPrecision:
    """:func:`search_motifs` of every fit of ``result`` at each ``min_gain`` in ``thresholds``, each motif found
    checked by ablation (:func:`motif_effect`)."""
    W1, W2, b = weights_of(result, best=False)
    k = result.fits_per_setting
    found, working = [], []
    for threshold in thresholds:
        instances = search_motifs(result, min_gain=threshold).instances()
        found.append(len(instances))
        working.append(sum(motif_effect(W1[s * k + j], W2[s * k + j], b[s * k + j], m).works for s, j, m in instances))
    return MotifPrecision(name or result.experiment.name, tuple(thresholds), tuple(found), tuple(working))


def search_motifs(result, **options) -> MotifSearch:
    """:func:`find_motifs` over every fit (every seed) of a trained untied model (a ``TrainResult``)."""
    experiment = result.experiment
    if experiment.model.tied:
        raise ConfigError(
            f"result must be of an untied model (kind='untied_relu_hidden'), got {experiment.model.kind!r}"
        )
    k = result.fits_per_setting
    W1 = result.model.W.detach().double().numpy()
    W2 = result.model.W_out.detach().double().numpy()
    motifs = tuple(
        tuple(tuple(find_motifs(W1[s * k + j], W2[s * k + j], **options)) for j in range(k))
        for s in range(experiment.n_settings)
    )
    return MotifSearch(tuple(experiment.density_per_setting().tolist()), motifs)


def weights_of(result, best: bool = True):
    """(W1, W2, b) of a trained untied model as float64 arrays: the best fit of each setting, or every fit."""
    model = result.best() if best else result.model
    if model.W_out is None:
        raise ConfigError(f"result must be of an untied model (kind='untied_relu_hidden'), got {model.config.kind!r}")
    return tuple(p.detach().double().numpy() for p in (model.W, model.W_out, model.b))


def paper_example(inhibition: float = -4.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The paper's asymmetric superposition example for features 0 and 1, completed by hand into a model of four
    neurons that computes |x| exactly for either feature alone: (W1 (4, 2), W2 (2, 4), b (2,)).

    Neuron 0 stores both features, W₁ = [2, −½], W₂ = [½, 2]: ReLU(+x₀) for y₀ and ReLU(−x₁) for y₁, each with
    gain 1; alone it would leak 2·2 = 4 per unit x₀ into y₁. Neuron 1 fires on +x₀ (W₁ = 1) and writes
    ``inhibition`` (−4) to y₁, which cancels the leak; neurons 2 and 3 compute ReLU(−x₀) and ReLU(+x₁). The weak
    side, ¼|x₁| leaking into y₀ for negative x₁, is left. ``inhibition=0`` gives the same model without the
    inhibitor (the motif's first half only)."""
    W1 = np.array([[2.0, -0.5], [1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])
    W2 = np.array([[0.5, 0.0, 1.0, 0.0], [2.0, float(inhibition), 0.0, 1.0]])
    return W1, W2, np.zeros(2)


def monosemantic_baseline(experiment) -> np.ndarray:
    """The loss, per setting, of the best model that does no computation in superposition: m // 2 neurons pairs
    compute |x| exactly for the m // 2 most important features (ReLU(x) and ReLU(−x), as the n = 3 model does),
    and every other feature gets the constant output that costs least, ReLU(b) = p/2, at p/3 − p²/4 each
    (|x| is 0 w.p. 1 − p, else U[0, 1]: E(|x| − c)² = c² − pc + p/3). In the trainer's units: importance-weighted,
    averaged over features. A trained model below it gains from sharing neurons between features.

    No other model without superposition does better: a lone neuron on feature i computes one side of |x| at best,
    y' = ReLU(w·ReLU(x) + c) with c = p / (4 − 3p/2), w = 1 − 3c/2, at a cost p/6 − p²/(16 − 6p), which is more
    than half the constant's, so a pair on one feature always beats lone neurons on two (tests check both)."""
    if experiment.model.tied or experiment.data.target != "abs":
        raise ConfigError("experiment must be an absolute-value experiment (kind='untied_relu_hidden', target='abs')")
    p = experiment.probability_tensor(per="setting").double().numpy()
    importance = experiment.importance_tensor(per="setting").double().numpy()
    pairs = experiment.model.n_hidden // 2
    left_out = np.argsort(-importance, axis=1, kind="stable")[:, pairs:]
    cost = importance * (p / 3 - p**2 / 4)
    return np.take_along_axis(cost, left_out, axis=1).sum(1) / experiment.model.n_features
