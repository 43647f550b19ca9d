"""§4 (chapter 4): the tables of uniform superposition, the non-uniform threshold and the correlated sets."""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from ..kit.table import Table, setting_densities, vector_text
from ..metrics import dimensions_per_feature, feature_dimensionality, feature_norms
from ..results import TrainResult
from ..vocabulary import ANTIPODAL_COS, polytope_lines
from .correlated import ARRANGEMENTS, PAPER_COLLAPSE_BANDS, block_overlaps, collapse_bands
from .non_uniform import NON_UNIFORM_CLASSES, PAPER_THRESHOLD_RATIO
from .uniform import STICKY, dimensionality_clusters, near_line, plateaus, polytope_counts


def non_uniform_table(sweep) -> Table:
    """One row per varied density of a :class:`toymodels.geometry.NonUniformSweep`: how many times sparser than
    the others the varied feature is, how many fits are pentagons / two digons / other, the lowest-loss fit's
    class, the varied feature's room in the lowest-loss pentagon (mean angle to its two neighbours; 72° when
    regular), and the lowest losses of each solution (per sample, summed over features) with the closed form."""

    counts = sweep.counts()
    number = lambda value, spec=".5f": "–" if np.isnan(value) else f"{value:{spec}}"  # noqa: E731
    rows = tuple(
        (
            f"{p:.4g}",
            f"{sweep.base_density / p:.2f}",
            " / ".join(map(str, count)),
            NON_UNIFORM_CLASSES[best],
            number(room, ".1f"),
            number(pentagon),
            number(digons),
            f"{theory_digons:.5f}",
        )
        for p, count, best, room, pentagon, digons, theory_digons in zip(
            sweep.varied_density,
            counts.tolist(),
            sweep.best_class,
            sweep.pentagon_room,
            sweep.pentagon_loss,
            sweep.digon_loss,
            sweep.digon_theory,
        )
    )
    return Table(
        (
            "varied density",
            "× sparser",
            "fits: pentagon / digons / other",
            "lowest-loss fit",
            "pentagon: room of the varied feature (°)",
            "pentagon loss",
            "two digons loss",
            "two digons, closed form",
        ),
        rows,
    )


def non_uniform_threshold(sweep) -> Table:
    """The pentagon → two digons threshold of a :class:`toymodels.geometry.NonUniformSweep` next to the paper's:
    where the lowest-loss pentagon and two digons cost the same (trained digons, and the closed form), and
    the grid interval where the lowest-loss fit changes."""

    base = sweep.base_density
    low, high = sweep.switch
    rows = (
        ("losses cross (trained fits)", f"{sweep.threshold:.4g}", f"{base / sweep.threshold:.2f}"),
        (
            "losses cross (digons in closed form)",
            f"{sweep.threshold_theory:.4g}",
            f"{base / sweep.threshold_theory:.2f}",
        ),
        ("lowest-loss fit turns pentagon between", f"{low:.4g} – {high:.4g}", f"{base / high:.2f} – {base / low:.2f}"),
        ("paper", f"≈ {base / PAPER_THRESHOLD_RATIO:.3g}", f"≈ {PAPER_THRESHOLD_RATIO:g}"),
    )
    return Table(("pentagon → two digons", "varied density", f"× sparser than {base:g}"), rows)


def arrangement_table(sweeps: dict) -> Table:
    """One row per named :class:`toymodels.geometry.SetSweep` of a single setting (or per setting of a sweep):
    the density, each set's arrangement in the lowest-loss fit with its members' cosine, whether every feature
    has an antipodal partner in another set, and how many fits share that arrangement."""

    rows = []
    for name, sweep in sweeps.items():
        for s, p in enumerate(sweep.density):
            names = [ARRANGEMENTS[a] for a in sweep.arrangement[s]]
            same = (sweep.fit_arrangement[s] == sweep.arrangement[s]).all(-1).sum()
            rows.append(
                (
                    name,
                    f"{p:.3g}",
                    ", ".join(names),
                    vector_text(sweep.cosine[s]),
                    "yes" if (sweep.across_cosine[s] <= ANTIPODAL_COS).all() else "no",
                    f"{same}/{sweep.fit_arrangement.shape[1]}",
                    f"{sweep.fit_loss[s, sweep.best[s]]:.3g}",
                )
            )
    return Table(
        (
            "setup",
            "1−S per set",
            "sets (lowest-loss fit)",
            "cos within sets",
            "antipodal across sets",
            "fits alike",
            "loss",
        ),
        tuple(rows),
    )


def collapse_bands_table(sweep) -> Table:
    """The collapse bands of the superposition-vs-PCA sweep (a :class:`toymodels.geometry.SetSweep` over
    densities): each run of densities with the same number of collapsed sets in the lowest-loss fit, its
    share of ‖W‖² along the principal components, and the paper's band for that number."""

    paper = {
        0: PAPER_COLLAPSE_BANDS[0][1],
        1: PAPER_COLLAPSE_BANDS[1][1],
        2: PAPER_COLLAPSE_BANDS[2][1],
        3: f"{PAPER_COLLAPSE_BANDS[3][1]}; most PCA-like for {PAPER_COLLAPSE_BANDS[4][1]}",
    }
    rows = []
    for band in collapse_bands(sweep.density, sweep.collapsed):
        inside = (sweep.density >= band.low) & (sweep.density <= band.high)
        alignment = sweep.pca_alignment[inside]
        densities = f"{band.low:.3g}" if band.low == band.high else f"{band.low:.3g} – {band.high:.3g}"
        rows.append(
            (str(band.count), densities, f"{alignment.min():.2f} – {alignment.max():.2f}", paper.get(band.count, "–"))
        )
    return Table(
        ("collapsed pairs", "1−S (lowest-loss fit)", "share of ‖W‖² along the principal components", "paper"),
        tuple(rows),
    )


def block_overlap_table(sweeps: dict) -> Table:
    """Within-set against across-set overlaps of WᵀW (:func:`toymodels.geometry.block_overlaps`) of the lowest-loss
    fit of each named :class:`toymodels.geometry.SetSweep`, at each of its settings, and each feature's cosine
    with its most opposed feature in another set (median and range over the features)."""

    rows = []
    for name, sweep in sweeps.items():
        for s, p in enumerate(sweep.density):
            best = block_overlaps(sweep.best_W[s], sweep.set_size)
            opposed = sweep.across_cosine[s]
            rows.append(
                (
                    name,
                    f"{p:.3g}",
                    f"{float(best.within):.3f}",
                    f"{float(best.across):.3f}",
                    f"{float(best.across) / max(float(best.within), 1e-12):.1f}",
                    f"{float(best.across_share):.1%}",
                    f"{np.median(opposed):.2f} ({opposed.min():.2f} – {opposed.max():.2f})",
                )
            )
    return Table(
        (
            "setup",
            "1−S per set",
            "mean |Wᵢ·Wⱼ| within sets",
            "across sets",
            "across / within",
            "share of Σ(Wᵢ·Wⱼ)² across sets",
            "cos with the most opposed feature of another set",
        ),
        tuple(rows),
    )


def uniform_table(
    result: TrainResult, represented: float = 0.5, overlap: float = 0.1, tolerance: float = 0.03
) -> Table:
    """One row per density of a best-of-K uniform-superposition sweep: 1/(1−S), dimensions per feature D*,
    learned features, Σ_i D_i (≈ m when the features pack the space), the share of learned features whose D_i
    lies within ``tolerance`` of a polytope line, and the features in each kind of component of the geometry
    graph (:func:`toymodels.geometry.polytope_counts`)."""

    W = result.best().W.detach()
    m = result.experiment.model.n_hidden
    D = feature_dimensionality(W)
    learned = feature_norms(W) > represented
    columns = zip(setting_densities(result.experiment), W, dimensions_per_feature(W).tolist(), learned, D)
    rows = []
    for p, W_k, d_star, learned_k, D_k in columns:
        counts = polytope_counts(W_k, represented, overlap)
        shapes = ", ".join(
            f"{count} {label}"
            for label, count in sorted(counts.items(), key=lambda kv: -kv[1])
            if label != "not learned" and count
        )
        on_line = f"{near_line(D_k[learned_k], tolerance).mean():.0%}" if learned_k.any() else "–"
        rows.append(
            (
                f"{1 / p:.3g}",
                f"{d_star:.3f}",
                str(int(learned_k.sum())),
                f"{float(D_k.sum()):.1f}",
                on_line,
                shapes or "–",
            )
        )
    return Table(
        (
            "1/(1−S)",
            "D*",
            "learned features",
            f"Σ Dᵢ (m = {m})",
            f"Dᵢ within {tolerance} of a line",
            "features by component",
        ),
        tuple(rows),
    )


def uniform_training_table(result: TrainResult, represented: float = 0.5, tolerance: float = 0.03) -> Table:
    """How the uniform sweep's geometry sharpens with training, one row per snapshot: learned features over
    all densities, the share of them whose D_i lies within ``tolerance`` of a polytope line (1, 3/4, 2/3, 1/2,
    2/5, 3/8), and the loss summed over densities (the last row's is the evaluation loss)."""

    history = result.history
    if history is None:
        raise ConfigError("result has no snapshots: train with snapshot_every > 0 (the uniform preset does)")
    rows = []
    for step, W, loss in zip(history.steps.tolist(), history.W, history.losses):
        learned = feature_norms(W) > represented
        D = feature_dimensionality(W)[learned]
        share = float(near_line(D, tolerance).mean()) if len(D) else 0.0
        rows.append((f"{step:,}", str(int(learned.sum())), f"{share:.0%}", f"{float(loss.sum()):.4g}"))
    return Table(
        ("step", "learned features (all densities)", f"Dᵢ within {tolerance} of a polytope line", "loss"), tuple(rows)
    )


def uniform_plateaus(result: TrainResult, tolerance: float = 0.03) -> Table:
    """The sweep's sticky plateaus (:func:`toymodels.geometry.plateaus`): for D* = 1 and 1/2, each run of
    neighbouring densities whose D* lies within ``tolerance`` of it, with its range of 1/(1−S), its number of
    densities and its mean D*; a value never reached shows as "none"."""

    inverse = [1 / p for p in setting_densities(result.experiment)]
    D_star = dimensions_per_feature(result.best().W.detach())
    found = plateaus(D_star, STICKY, tolerance)
    rows = [
        (
            f"{run.value:g}",
            f"{inverse[run.first]:.3g} to {inverse[run.last]:.3g}",
            str(run.last - run.first + 1),
            f"{float(D_star[run.first : run.last + 1].mean()):.3f}",
        )
        for run in found
    ]
    rows += [(f"{value:g}", "none", "0", "–") for value in STICKY if all(run.value != value for run in found)]
    return Table(("D* plateau", "1/(1−S)", "densities", "mean D*"), tuple(rows))


def dimensionality_clusters_table(result: TrainResult, represented: float = 0.5, tolerance: float = 0.03) -> Table:
    """Where the learned features' D_i cluster over a whole sweep (best fit per setting): for each polytope
    line d/k, the features within ``tolerance`` of it and their mean D_i, and the share of all learned features."""

    W = result.best().W.detach()
    D = feature_dimensionality(W)[feature_norms(W) > represented]
    rows = tuple(
        (
            name,
            f"{polytope_lines()[name]:.3f}",
            str(count),
            "–" if count == 0 else f"{mean:.3f}",
            f"{count / max(len(D), 1):.0%}",
        )
        for name, (count, mean) in dimensionality_clusters(D, tolerance).items()
    )
    return Table(
        ("polytope", "d/k", f"features within {tolerance} (nearest line)", "their mean Dᵢ", "share of learned"), rows
    )
