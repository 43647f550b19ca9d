"""Chapter 6's tables: the numbers the prose quotes, computed from the stored sweeps."""

from __future__ import annotations

import numpy as np

from ..kit.table import Table, fixed
from .analysis import AdversarialTraining, Vulnerability


def vulnerability_table(vulnerability: Vulnerability) -> Table:
    """Per density: superposition, the clean loss, the damage of each attack and the relative vulnerability."""
    v = vulnerability
    rows = tuple(
        (
            f"{1 / v.density[k]:.3g}",
            fixed(v.features_per_dimension[k]),
            str(int(v.represented[k])),
            f"{v.clean_loss[k]:.2e}",
            f"{v.analytic_damage[k]:.2e}",
            f"{v.pgd_shared_damage[k]:.2e}",
            f"{v.analytic_per_input_damage[k]:.2e}",
            f"{v.pgd_damage[k]:.2e}",
            f"{v.fgsm_damage[k]:.2e}",
            f"{v.baseline_damage[k]:.2e}",
            fixed(v.vulnerability[k]),
            f"{100 * v.inactive[k]:.1f} %",
            f"{100 * v.zero_gradient[k]:.1f} %",
            f"{v.attack_size[k]:.3f}",
            f"{v.bias[k]:.3f}",
        )
        for k in range(len(v.density))
    )
    return Table(
        (
            "1/(1−S)",
            "features/dim",
            "represented",
            "L",
            "L′ − L analytic",
            "PGD shared",
            "analytic per input",
            "PGD per input",
            "FGSM per input",
            "L′₀ − L₀",
            "vulnerability",
            "ReLUs off",
            "zero gradient",
            "λ",
            "mean bias",
        ),
        rows,
    )


def vulnerability_summary(vulnerability: Vulnerability) -> Table:
    """The chapter's headline numbers, each beside the paper's statement."""
    v = vulnerability
    rise = v.vulnerability.max() / v.vulnerability[0]
    sparse = int(np.argmin(v.density))
    per_input = max(v.pgd_damage[sparse], v.fgsm_damage[sparse]) / v.analytic_per_input_damage[sparse]
    shared = v.pgd_shared_damage[sparse] / v.analytic_damage[sparse]
    return Table(
        ("measure", "book", "paper"),
        (
            ("vulnerability, densest model", f"{v.vulnerability[0]:.2f}×", "≈ 1 (no superposition yet)"),
            ("vulnerability, most vulnerable model", f"{v.vulnerability.max():.2f}×", "–"),
            ("rise across the sweep", f"{rise:.1f}×", "more than 3×"),
            ("correlation with features per dimension, whole sweep", f"{v.correlation:.2f}", "tracks it"),
            (
                "the same, densest to most vulnerable model",
                f"{v.rising_correlation:.2f}",
                "tracks it",
            ),
            (
                "1/(1−S) of the most vulnerable model",
                f"{1 / v.density[int(np.argmax(v.vulnerability))]:.3g}",
                "–",
            ),
            (
                "output ReLUs off, sparsest model",
                f"{100 * v.inactive[sparse]:.1f} %",
                "≈ 99 % at high sparsity",
            ),
            ("inputs with a zero gradient, sparsest model", f"{100 * v.zero_gradient[sparse]:.1f} %", "–"),
            (
                "gradient / analytic damage, one δ per input, sparsest model",
                f"{per_input:.2f}",
                "gradient attacks fail",
            ),
            ("gradient / analytic damage, one δ for the batch, sparsest model", f"{shared:.2f}", "as above"),
        ),
    )


def adversarial_training_table(training: AdversarialTraining) -> Table:
    """Per attack size trained under: superposition, clean loss and vulnerability to the chapter's attack."""
    t = training
    rows = tuple(
        (
            f"{100 * t.attack[k]:.0f} %",
            fixed(t.features_per_dimension[k]),
            str(int(t.represented[k])),
            f"{t.clean_loss[k]:.2e}",
            fixed(t.vulnerability[k]),
        )
        for k in range(len(t.attack))
    )
    return Table(
        (
            "attack in training",
            "features/dim",
            "represented",
            "clean loss",
            f"vulnerability ({100 * t.fraction:.0f} % attack)",
        ),
        rows,
    )


def attack_anatomy_table(training: AdversarialTraining) -> Table:
    """Per attack size trained under: the vulnerability, how long the represented features are, which feature the
    most damaging evaluation attack aims at (its norm), and where its damage lands: the share on that feature's
    own output (negative when the attack helps it) and the largest share on any one other output."""
    t = training
    rows = tuple(
        (
            f"{100 * t.attack[k]:.0f} %",
            fixed(t.vulnerability[k]),
            fixed(t.represented_norm[k]),
            fixed(t.attacked_norm[k]),
            f"{round(100 * t.own_share[k]) + 0:+d} %",
            f"{100 * t.top_other_share[k]:.0f} %",
        )
        for k in range(len(t.attack))
    )
    columns = (
        "attack in training",
        "vulnerability",
        "mean ‖Wᵢ‖, represented",
        "‖Wᵢ‖ of the attacked feature",
        "damage on its own output",
        "largest share on another",
    )
    return Table(columns, rows, fold=False)  # the prose reads its last rows


def adversarial_training_summary(training: AdversarialTraining) -> Table:
    """Where adversarial training removes superposition, beside the paper's statement."""
    t = training
    removed = t.removed_at
    return Table(
        ("measure", "book", "paper"),
        (
            ("features per dimension without attack", fixed(t.features_per_dimension[0]), "–"),
            (
                f"features per dimension at the largest attack ({100 * t.attack[-1]:.0f} %)",
                fixed(t.features_per_dimension[-1]),
                "–",
            ),
            (
                "smallest attack leaving ≤ 1 feature per dimension",
                "none up to " + f"{100 * t.attack[-1]:.0f} %" if removed is None else f"{100 * removed:.0f} %",
                "“80% input L2 norm” to fully eliminate it",
            ),
        ),
    )
