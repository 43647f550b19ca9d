"""§3 (chapter 3): the theory's numbers, agreement of the empirical and theory diagrams, and their disagreements."""

from __future__ import annotations

from collections import Counter

import numpy as np

from .. import theory
from ..kit.table import Table
from .analysis import PHASE_DESCRIPTIONS


def phase_agreement_table(diagrams: dict) -> Table:
    """One row per named ``(EmpiricalPhaseDiagram, TheoryPhaseDiagram)``: its grid, how often the trained
    phase is the theory's (most common phase of the kept fits, and the lowest-loss fit's), how pure the grid
    points are, and how many fits took the confused solution or are far (Gram distance > 0.5) from every phase."""
    rows = []
    for name, (empirical, theory_diagram) in diagrams.items():
        R, S, K = empirical.fit_phase.shape
        confused = empirical.names.index("confused") if "confused" in empirical.names else -1
        rows.append(
            (
                name,
                f"{R} × {S} × {K}",
                f"{empirical.agreement(theory_diagram.on_grid):.1%}",
                f"{empirical.agreement(theory_diagram.on_grid, best=True):.1%}",
                f"{empirical.purity.mean():.1%}",
                str(int((empirical.fit_phase == confused).sum())),
                str(int((empirical.fit_distance > 0.5).sum())),
            )
        )
    return Table(
        (
            "setup",
            "grid (r × density × fits)",
            "agree: most common phase",
            "agree: lowest-loss fit",
            "kept fits in the common phase",
            "confused fits",
            "fits far from every phase",
        ),
        tuple(rows),
    )


def phase_disagreements(empirical, theory_diagram) -> Table:
    """The grid points where the kept fits' most common phase differs from the theory's: the kept fits'
    phases (counts), the lowest-loss fit's phase, and the theory's."""

    rows = []
    for i, j in np.argwhere(empirical.phase != theory_diagram.on_grid):
        counts = Counter(empirical.names[k] for k in empirical.fit_phase[i, j][empirical.kept[i, j]])
        kept = ", ".join(f"{count} {PHASE_DESCRIPTIONS[name]}" for name, count in counts.most_common())
        rows.append(
            (
                f"{empirical.relative_importance[i]:.3g}",
                f"{empirical.density[j]:.3g}",
                kept,
                PHASE_DESCRIPTIONS[empirical.names[empirical.best_phase[i, j]]],
                PHASE_DESCRIPTIONS[empirical.names[theory_diagram.on_grid[i, j]]],
            )
        )
    return Table(("r", "density", "kept fits", "lowest-loss fit", "theory"), tuple(rows))


def phase_theory_table(densities=(1.0, 0.6, 0.3, 0.1, 0.03, 0.01), n_samples: int = 400_000) -> Table:
    """The closed forms behind the diagrams at a few densities s: the cost q of an ignored feature, the cost
    g of one half of an antipodal pair with b = 0 (the paper's s²/6) and with the optimal bias b*, the
    window r_low < r < 1/r_low where the pair wins for n = 2, and a Monte Carlo estimate of the pair's cost
    (n_samples samples at W = [1, −1], b = b*) with its standard error."""
    rows = []
    for s in densities:
        q, g0, g = (
            float(v)
            for v in (
                theory.ignored_feature_loss(s),
                theory.antipodal_feature_loss(s, False),
                theory.antipodal_feature_loss(s),
            )
        )
        r_low, _ = theory.antipodal_window(s)
        W, b = theory.candidate_solution("antipodal", s)
        mc, stderr = theory.expected_loss_monte_carlo(W, b, 1.0, s, n_samples=n_samples, return_stderr=True)
        window = "none (q ≤ 2g)" if np.isnan(r_low) else f"{float(r_low):.3g} – {1 / float(r_low):.3g}"
        rows.append(
            (
                f"{s:g}",
                f"{q:.3g}",
                f"{g0:.3g}",
                f"{float(theory.antipodal_optimal_bias(s)):.3g}",
                f"{g:.3g}",
                f"{mc / 2:.3g} ± {stderr / 2:.1g}",
                window,
            )
        )
    return Table(
        ("density s", "q (ignored)", "g, b = 0", "b*", "g, b = b*", "g, Monte Carlo", "antipodal window in r"),
        tuple(rows),
    )
