"""Chapter 13's tables: the represented fraction against weight decay, the fitted exponents of loss against width
beside the predictions, what the weak regime represents and loses, the squared overlaps against 1/m, and the
exponents of loss over training."""

from __future__ import annotations

import numpy as np

from ..kit.table import Table, fixed
from ..theory import welch_bound
from .analysis import (
    VALUE_SQUARE,
    DecaySweep,
    PowerLaw,
    ScalingRun,
    TrainingCurves,
    WidthScaling,
    fit_power_law,
    strong_exponent,
    weak_exponent,
    width_scaling,
)


def _exponent(fit: PowerLaw) -> str:
    exponent = fit.exponent if abs(fit.exponent) >= 0.005 else 0.0  # no "-0.00"
    return f"{exponent:.2f} ± {fit.stderr:.2f}"


def decay_table(sweep: DecaySweep) -> Table:
    """One row per γ: the represented fraction φ_{1/2} at each α."""
    rows = tuple(
        (f"{g:g}", *(fixed(sweep.fraction[k, a], 3) for a in range(len(sweep.alphas))))
        for k, g in enumerate(sweep.decays)
    )
    return Table(("γ", *(f"φ at α = {alpha:g}" for alpha in sweep.alphas)), rows, fold=False)


def exponent_table(scaling: WidthScaling) -> Table:
    """One row per α: the fitted exponent α_m of loss ∝ m^(−α_m) (± its standard error) and the fit's R² in each
    regime, beside the predictions Liu et al. draw: max(1, 2(α − 1)) (strong), α − 1 (weak, for α > 1)."""
    strong, weak = scaling.regimes.index("strong"), scaling.regimes.index("weak")
    rows = []
    for a, alpha in enumerate(scaling.alphas):
        s, w = scaling.fits[strong][a], scaling.fits[weak][a]
        predicted = weak_exponent(float(alpha))
        rows.append(
            (
                f"{alpha:g}",
                _exponent(s),
                fixed(s.r2, 3),
                f"{strong_exponent(float(alpha)):g}",
                _exponent(w),
                fixed(w.r2, 3),
                "–" if predicted is None else f"{predicted:g}",
            )
        )
    columns = ("α", "strong: αₘ", "R²", "paper's line", "weak: αₘ", "R²", "paper's line (α − 1)")
    return Table(columns, tuple(rows), fold=False)


def weak_table(scaling: WidthScaling) -> Table:
    """One row per width: in the weak regime, at each α, the represented features k and the share of the loss
    that the features left out account for alone (E[v²]·Σ of their p_i ÷ the loss); last, the fewest features the
    strong regime represents at any α."""
    weak, strong = scaling.regimes.index("weak"), scaling.regimes.index("strong")
    rows = tuple(
        (
            str(int(m)),
            *(
                f"{int(scaling.represented[weak, a, k])} · {fixed(share, 2)}"
                for a, share in enumerate(scaling.left_out[weak, :, k] / scaling.loss[weak, :, k])
            ),
            str(int(scaling.represented[strong, :, k].min())),
        )
        for k, m in enumerate(scaling.widths)
    )
    columns = ("m", *(f"α = {alpha:g}: k · left-out share" for alpha in scaling.alphas), "strong: fewest k")
    return Table(columns, rows, fold=False)


def overlap_table(scaling: WidthScaling, regime: str = "strong") -> Table:
    """One row per width: the represented features' mean squared overlap at each α in ``regime``, beside random
    directions' 1/m and the least possible mean for n vectors (Welch)."""
    r = scaling.regimes.index(regime)
    rows = tuple(
        (
            str(int(m)),
            *(f"{scaling.overlap[r, a, k]:.4f}" for a in range(len(scaling.alphas))),
            f"{1 / m:.4f}",
            f"{welch_bound(scaling.n_features, int(m)):.4f}",
        )
        for k, m in enumerate(scaling.widths)
    )
    columns = ("m", *(f"α = {alpha:g}" for alpha in scaling.alphas), "1/m", "least possible")
    return Table(columns, rows, fold=False)


def overlap_exponents(scaling: WidthScaling, regime: str = "strong") -> Table:
    """One row per α: the fitted exponent of the mean squared overlap against m in ``regime`` (1/m: exponent 1)."""
    r = scaling.regimes.index(regime)
    rows = tuple(
        (f"{alpha:g}", _exponent(fit_power_law(scaling.widths, scaling.overlap[r, a])))
        for a, alpha in enumerate(scaling.alphas)
        if np.all(np.isfinite(scaling.overlap[r, a]))
    )
    return Table(("α", "overlap ∝ m^(−exponent)"), rows, fold=False)


def dynamics_table(curves: TrainingCurves) -> Table:
    """One row per α: in each regime, the fitted exponent of loss ∝ t^(−exponent) ± its standard error, the fit's
    R², and the step from which the loss stays within 5 % of its final value."""
    rows = tuple(
        (
            f"{alpha:g}",
            *(
                cell
                for r in range(len(curves.regimes))
                for cell in (
                    _exponent(curves.fits[r][a]),
                    fixed(curves.fits[r][a].r2, 2),
                    f"{int(curves.settled[r, a]):,}",
                )
            ),
        )
        for a, alpha in enumerate(curves.alphas)
    )
    columns = ("α", *(c for name in curves.regimes for c in (f"{name}: exponent", "R²", "settled")))
    return Table(columns, rows, fold=False)


def cost_table(experiments) -> Table:
    """One row per stored run: its size (n, m, settings), its steps of batch B, and the work of its matrix products,
    four of B·n·m multiply-adds per step and setting (h = W x, Wᵀh and the two products of the gradient)."""
    rows = []
    for e in experiments:
        n, m, t = e.model.n_features, e.model.n_hidden, e.train
        work = 4 * 2 * t.batch_size * n * m * t.steps * e.n_instances
        rows.append(
            (e.name, str(n), str(m), str(e.n_instances), f"{t.steps:,} × {t.batch_size:,}", f"{work / 1e12:.1f}")
        )
    columns = ("run", "n", "m", "settings", "steps × batch", "matrix work (TFLOP)")
    return Table(columns, tuple(rows), fold=False)


STARTS = {"theirs": "‖Wᵢ‖ ≈ 1, b ~ N(0, 1)", "package": "Xavier, b = 0"}


def reference_table(groups, book: ScalingRun) -> Table:
    """Liu et al.'s loop against the book's training at one setting: for each (runs, their arrays) of ``groups`` and
    each run, its steps × batch, values, start, the represented fraction φ and the loss in units of E[v²] (the error
    of one unlearned active feature); last, the book's own run at the same (m, α, γ)."""
    rows, first = [], groups[0][0][0]
    for runs, arrays in groups:
        for run, fraction, loss in zip(runs, arrays["fraction"], arrays["loss"]):
            rows.append(
                (
                    "their loop",
                    f"{run['steps']:,} × {run['batch']:,}",
                    f"U[0, {run['values']:g}]",
                    STARTS[run["init"]],
                    fixed(fraction, 3),
                    fixed(loss / (run["values"] ** 2 / 3), 3),
                )
            )
    s, train = book.setting(first["decay"], first["alpha"]), book.experiment.train
    rows.append(
        (
            "the book's training",
            f"{train.steps:,} × {train.batch_size:,}",
            "U[0, 1]",
            STARTS["package"],
            fixed(book.represented_fraction[s], 3),
            fixed(book.summed_loss[s] / VALUE_SQUARE, 3),
        )
    )
    return Table(("run", "steps × batch", "values", "start", "φ", "loss ÷ E[v²]"), tuple(rows), fold=False)


def exponent_over_training_table(runs, regimes: dict[str, float], steps, regime: str = "strong") -> Table:
    """One row per checkpoint of ``steps`` (common to the runs): the exponent α_m of loss against width fitted to
    the losses at that step in ``regime``, per α (the learning rate anneals along the way)."""
    rows, alphas = [], ()
    for step in steps:
        scaling = width_scaling(runs, regimes, int(step))
        r, alphas = scaling.regimes.index(regime), scaling.alphas
        rows.append((f"{int(step):,}", *(f"{fit.exponent:.2f}" for fit in scaling.fits[r])))
    return Table(("step", *(f"αₘ at α = {alpha:g}" for alpha in alphas)), tuple(rows), fold=False)
