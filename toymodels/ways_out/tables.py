"""Chapter 9's tables: the numbers the prose quotes, computed from the stored runs."""

from __future__ import annotations

from collections.abc import Sequence

from ..kit.table import Table, fixed
from .analysis import AbsorptionSweep, L1Measures, SaeSweep


def l1_table(measures: L1Measures) -> Table:
    """One row per λ: represented features, those in superposition, their mean Dᵢ, monosemantic neurons, and the
    reconstruction loss (penalty excluded) absolute and relative to the loss without superposition."""
    rows = tuple(
        (
            f"{m_lambda:g}",
            str(int(rep)),
            str(int(sup)),
            fixed(mean_D, 3) if rep else "–",
            str(int(mono)),
            f"{loss:.3e}",
            fixed(loss / measures.reference, 2),
        )
        for m_lambda, rep, sup, mean_D, mono, loss in zip(
            measures.penalty,
            measures.represented,
            measures.superposed,
            measures.mean_dimensionality,
            measures.monosemantic,
            measures.loss,
        )
    )
    columns = ("λ", "represented", "in superposition", "mean Dᵢ", "monosemantic neurons", "loss", "÷ no-superposition")
    return Table(columns, rows)


def exit_table(measures: Sequence[L1Measures]) -> Table:
    """Per model: the first λ at which no more features are represented than there are dimensions, and the first
    at which features are still represented but none is in superposition (:attr:`L1Measures.exit_index`), with the
    features represented there and what it costs: the reconstruction loss against λ = 0's and against the loss
    without superposition."""
    rows = []
    for m in measures:
        k, fewer = m.exit_index, m.fewer_than_m_index
        first = "–" if fewer is None else f"{m.penalty[fewer]:g}"
        if k is None:
            rows.append((m.name, first, "not in the sweep", "", "", "", ""))
            continue
        rows.append(
            (
                m.name,
                first,
                f"{m.penalty[k]:g}",
                f"{int(m.represented[k])} (m = {m.n_hidden})",
                f"{m.loss[k]:.3e}",
                f"× {m.loss[k] / m.loss[0]:.2f}",
                f"× {m.loss[k] / m.reference:.2f}",
            )
        )
    columns = (
        "model",
        "λ: ≤ m represented",
        "λ: superposition gone",
        "represented there",
        "loss there",
        "vs λ = 0",
        "vs no superposition",
    )
    return Table(columns, tuple(rows))


def sae_table(sweep: SaeSweep) -> Table:
    """Every SAE of the grid: its scores against the truth and on fresh activations, with the mean max cosine a
    random dictionary of its size would score."""
    s = sweep.scores
    rows = []
    for k, setting in enumerate(sweep.result.settings):
        i, j = divmod(k, len(sweep.protocol.l1s))
        rows.append(
            (
                str(setting.n_latents),
                f"{setting.l1:g}",
                fixed(s["mmcs"][i, j], 3),
                fixed(s["recovered"][i, j], 2),
                fixed(s["l0"][i, j], 2),
                fixed(s["dead"][i, j], 2),
                fixed(s["fvu"][i, j], 3),
                fixed(s["random"][i, j], 3),
            )
        )
    columns = ("latents", "λ", "MMCS", "recovered", "L0", "dead", "FVU", "random MMCS")
    return Table(columns, tuple(rows))


def best_sae_table(sweep: SaeSweep) -> Table:
    """The best SAE of the grid (the sparsest among those recovering the most features) and, for each size, the
    best mean max cosine reached and the λ that reached it."""
    s = sweep.scores
    k = sweep.best
    i, j = divmod(k, len(sweep.protocol.l1s))
    setting = sweep.result.settings[k]
    rows = [
        (
            f"best: {setting.n_latents} latents, λ {setting.l1:g}",
            fixed(s["mmcs"][i, j], 3),
            fixed(s["recovered"][i, j], 2),
            fixed(s["l0"][i, j], 2),
            fixed(s["fvu"][i, j], 3),
        )
    ]
    for i, size in enumerate(sweep.protocol.sizes):
        j = int(s["mmcs"][i].argmax())
        rows.append(
            (
                f"{size} latents, best λ {sweep.protocol.l1s[j]:g}",
                fixed(s["mmcs"][i, j], 3),
                fixed(s["recovered"][i, j], 2),
                fixed(s["l0"][i, j], 2),
                fixed(s["fvu"][i, j], 3),
            )
        )
    return Table(("SAE", "MMCS", "recovered", "L0", "FVU"), tuple(rows))


def absorption_table(sweep: AbsorptionSweep) -> Table:
    """Every SAE on hierarchical features: the parent latent's firing rate alone and beside a child, absorption,
    the children's latents' cosine with the parent, and the SAE's mean max cosine, L0 and FVU (seven columns,
    so that it fits the text column in one piece)."""
    rows = tuple(
        (
            f"{setting.n_latents}, {setting.l1:g}",
            f"{fixed(r['parent_alone'], 2)} / {fixed(r['parent_with_child'], 2)}",
            fixed(r["absorption"], 2),
            fixed(r["child_parent_cosine"], 2),
            fixed(r["mmcs"], 3),
            fixed(r["l0"], 2),
            fixed(r["fvu"], 3),
        )
        for setting, r in zip(sweep.result.settings, sweep.scores)
    )
    columns = (
        "latents, λ",
        "parent fires: alone / with a child",
        "absorption",
        "child·parent cos",
        "MMCS",
        "L0",
        "FVU",
    )
    return Table(columns, rows)
