"""§2 (chapter 2): the tables of the linear and ReLU sweeps and of the loss accounting."""

from __future__ import annotations

from ..kit.table import Table, density_label, fixed, setting_densities
from ..metrics import feature_norms, superposition
from ..results import TrainResult
from ..theory import LossAccounting
from ..vocabulary import INTERFERING, REPRESENTED_NORM


def sweep_table(
    results: dict[str, TrainResult], represented: float = REPRESENTED_NORM, interfering: float = INTERFERING
) -> Table:
    """One row per setting of sweeps over the same settings, for each named best-of-K result: how many
    features are represented (‖W_i‖ > ``represented``), how many of those are in superposition
    (Σ_{j≠i}(Ŵ_i·W_j)² > ``interfering``), and the most negative bias."""
    columns, cells = ["1−S"], []
    for name, result in results.items():
        best = result.best()
        kept = feature_norms(best.W) > represented
        crowded = kept & (superposition(best.W) > interfering)
        cells.append(zip(kept.sum(-1).tolist(), crowded.sum(-1).tolist(), best.b.detach().amin(-1).tolist()))
        columns += [f"{name}: represented", f"{name}: in superposition", f"{name}: min bᵢ"]
    first = next(iter(results.values())).experiment
    rows = tuple(
        (density_label(p),) + tuple(text for k, c, b in triples for text in (str(k), str(c), fixed(b, 3)))
        for p, *triples in zip(setting_densities(first), *cells)
    )
    return Table(tuple(columns), rows)


def accounting_table(accounting: dict[str, LossAccounting]) -> Table:
    """One row per setting: each model's feature benefit not won, interference and measured loss."""
    columns, cells = ["1−S"], []
    for name, terms in accounting.items():
        columns += [f"{name}: 1 − benefit", f"{name}: interference", f"{name}: measured"]
        cells.append(zip(terms.feature_benefit, terms.interference, terms.measured))
    density = next(iter(accounting.values())).density
    rows = tuple(
        (density_label(p),) + tuple(fixed(value, 3) for triple in triples for value in triple)
        for p, *triples in zip(density.tolist(), *cells)
    )
    return Table(tuple(columns), rows)
