"""§10 (chapter 8): the tables of computation in superposition — the n = 3 model's error and neurons, the
neuron and feature counts of the sparsity sweep, and the asymmetric superposition motifs found."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..kit.table import Table, density_label, fixed, setting_densities
from ..results import TrainResult
from ..train import evaluate
from .analysis import (
    FEATURE_CLASSES,
    Motif,
    MotifPrecision,
    MotifSearch,
    classify_features,
    classify_neurons,
    duplicated_neurons,
    feature_errors,
    main_feature,
    monosemantic_baseline,
    weights_of,
)
from .protocols import ProtocolSweep


def test_error(result: TrainResult, n_batches: int = 64, seed: int = 12345) -> np.ndarray:
    """Importance-weighted mean squared error of the best fit of each setting on ``n_batches`` fresh batches of a
    seed the trainer never used, (n_settings,)."""
    return evaluate(result.best(), result.experiment, n_batches=n_batches, seed=seed, dtype=torch.float64).numpy()


def absolute_value_table(result: TrainResult) -> Table:
    """The best fit of each setting: its test error (mean squared error over the features, on 65,536 fresh
    samples), that error relative to E[x²] (what outputting 0 would cost), and each feature's 1-sparse error."""
    error = test_error(result)
    importance = result.experiment.importance_tensor(per="setting").double().numpy()
    W1, W2, b = weights_of(result)
    per_feature = feature_errors(W1, W2, b)
    rows = []
    for s, p in enumerate(setting_densities(result.experiment)):
        zero_cost = p / 3 * importance[s].mean()  # E[x²] = p/3 for x ~ U[−1, 1] w.p. p
        rows.append(
            (
                density_label(p),
                f"{error[s]:.2e}",
                f"{np.sqrt(error[s] / importance[s].mean()):.4f}",
                f"{error[s] / zero_cost:.2e}",
                " ".join(f"{e:.1e}" for e in per_feature[s]),
            )
        )
    return Table(("1−S", "test MSE", "RMS error", "MSE / E[x²]", "1-sparse error per feature"), tuple(rows))


def neuron_table(result: TrainResult, setting: int = 0) -> Table:
    """One row per neuron of the best fit of ``setting``: what it computes (ReLU(+x_i) or ReLU(−x_i) of its main
    feature), its input weights W₁ₖ, its output weights W₂ₖ, and the path gain |W₁ₖᵢ|·W₂ᵢₖ into its feature's
    output (1 for a neuron that alone computes one side of |x_i|)."""
    W1, W2, _ = (w[setting] for w in weights_of(result))
    classes = classify_neurons(W1)
    rows = []
    for k in np.argsort(main_feature(W1) * 2 + (W1[np.arange(len(W1)), main_feature(W1)] < 0), kind="stable"):
        i = int(classes.main[k])
        sign = "+" if W1[k, i] > 0 else "−"
        rows.append(
            (
                str(k),
                f"ReLU({sign}x{i})",
                ["monosemantic", "polysemantic", "dead"][classes.kind[k]],
                " ".join(fixed(w) for w in W1[k]),
                " ".join(fixed(w) for w in W2[:, k]),
                fixed(abs(W1[k, i]) * W2[i, k]),
            )
        )
    return Table(("neuron", "computes", "class", "W₁ (input weights)", "W₂ (output weights)", "gain"), tuple(rows))


def census_table(result: TrainResult | ProtocolSweep) -> Table:
    """The sparsity sweep, best fit of each density: the loss and its ratio to the best model without
    superposition (:func:`~toymodels.computation.analysis.monosemantic_baseline`); monosemantic, polysemantic and
    dead neurons, and the mean polysemantic share of the monosemantic ones (their small weights on other
    features); features computed (both signs), one-sided and not computed; and the most important feature that
    shares a polysemantic neuron (features are indexed by decreasing importance)."""
    W1, W2, b = weights_of(result)
    classes = classify_neurons(W1)
    counts = classes.counts()
    features = classify_features(W1, W2, b)
    baseline = monosemantic_baseline(result.experiment)
    rows = []
    for s, p in enumerate(setting_densities(result.experiment)):
        mono = classes.kind[s] == 0
        shared = np.flatnonzero(classes.responds[s][classes.kind[s] == 1].any(0))
        rows.append(
            (
                density_label(p),
                f"{result.best_losses[s].item():.4g}",
                f"{result.best_losses[s].item() / baseline[s]:.2f}" if baseline[s] > 0 else "–",
                str(counts["monosemantic"][s]),
                str(counts["polysemantic"][s]),
                str(counts["dead"][s]),
                fixed(classes.share[s][mono].mean(), 3) if mono.any() else "–",
                *(str((features[s] == c).sum()) for c in range(len(FEATURE_CLASSES))),
                str(shared.min()) if shared.size else "–",
            )
        )
    return Table(
        (
            "1−S",
            "loss",
            "loss / monosemantic baseline",
            "monosemantic",
            "polysemantic",
            "dead",
            "share off-main (mono)",
            "computed",
            "one-sided",
            "not computed",
            "first feature in a poly neuron",
        ),
        tuple(rows),
    )


def protocol_table(sweep: ProtocolSweep) -> Table:
    """The convergence check of a sweep trained under several protocols: for each setting and protocol, the best
    fit's loss relative to :func:`~toymodels.computation.analysis.monosemantic_baseline` (on the same fresh
    samples; 1 is the best model without superposition, below 1 a model that gains from it), its features
    computed and its duplicated neurons, and which protocol is kept (the lowest loss)."""
    baseline = monosemantic_baseline(sweep.experiment)
    rows = []
    for k, (name, result) in enumerate(zip(sweep.protocols, sweep.results, strict=True)):
        W1, W2, b = weights_of(result)
        computed = (classify_features(W1, W2, b) == 0).sum(-1)
        duplicated = duplicated_neurons(W1)
        for s, p in enumerate(setting_densities(sweep.experiment)):
            ratio = f"{sweep.test_losses[k, s] / baseline[s]:.2f}" if baseline[s] > 0 else "–"
            kept = "✓" if sweep.best_protocol[s] == k else ""
            rows.append((s, k, (density_label(p), name, ratio, str(computed[s]), str(duplicated[s]), kept)))
    rows.sort(key=lambda row: row[:2])  # by setting, then protocol
    columns = ("1−S", "protocol", "loss / baseline", "features computed", "duplicated neurons", "kept")
    return Table(columns, tuple(row[2] for row in rows))


def motif_precision_table(precisions: Sequence[MotifPrecision]) -> Table:
    """Per searched sweep and path-gain threshold: the motifs found and how many of them work (their neuron
    carries at least half of both features' answers, and their inhibitor removes a leak): the detector's
    precision."""
    rows = tuple(
        (
            p.name,
            f"{threshold:g}",
            str(found),
            str(working),
            "–" if not found else f"{100 * working / found:.0f} %",
        )
        for p in precisions
        for threshold, found, working in zip(p.thresholds, p.found, p.working)
    )
    return Table(("models", "min path gain", "motifs found", "that work", "precision"), rows)


def motif_table(search: MotifSearch) -> Table:
    """Asymmetric superposition motifs per density: the count in each fit (seed), the fits with at least one,
    and the total."""
    counts = search.counts
    rows = tuple(
        (
            density_label(p),
            " ".join(str(c) for c in counts[s]),
            f"{(counts[s] > 0).sum()} of {counts.shape[1]}",
            str(counts[s].sum()),
        )
        for s, p in enumerate(search.densities)
    )
    return Table(("1−S", "motifs per fit (seed)", "fits with a motif", "total"), rows)


def motif_list(motifs: MotifSearch | Sequence[Motif], limit: int = 12) -> Table:
    """The first ``limit`` motifs found, described: the neuron, its two features' weights, the inhibitor and the
    leak of the strong feature into the weak one's output before and after it. ``motifs``: a search over a
    sweep's fits (each row then names its density and fit) or one model's :func:`find_motifs`."""
    search = isinstance(motifs, MotifSearch)
    found = motifs.instances() if search else [(None, None, m) for m in motifs]
    where = ("1−S", "fit") if search else ()
    columns = (
        *where,
        "neuron",
        "strong feature: W₁ / W₂",
        "weak feature: W₁ / W₂",
        "inhibitor: W₁ / W₂",
        "leak into weak output",
    )
    rows = tuple(
        (
            *((density_label(motifs.densities[s]), str(j)) if search else ()),
            str(m.neuron),
            f"{m.strong}: {m.W1[0]:.2f} / {m.W2[0]:.2f}",
            f"{m.weak}: {m.W1[1]:.2f} / {m.W2[1]:.2f}",
            f"{m.inhibitor}: {m.inhibitor_W1:.2f} / {m.inhibitor_W2:.2f}",
            f"{m.interference:.2f} → {m.net:.2f}",
        )
        for s, j, m in found[:limit]
    )
    return Table(columns, rows or (("none found",) + ("–",) * (len(columns) - 1),))
