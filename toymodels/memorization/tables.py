"""The memorization chapter's tables: what each T does (regimes) and where each m's test loss peaks."""

from __future__ import annotations

from collections.abc import Sequence

from ..kit.table import Table, fixed
from ..vocabulary import REPRESENTED_NORM
from .analysis import MemorizationSweep, peak, plane_geometry, regimes


def _significant(value: float, digits: int = 3) -> str:
    return f"{float(f'{value:.{digits}g}'):g}"


def regime_table(sweep: MemorizationSweep) -> Table:
    """One row per T: mean training and test loss per example, instance 0's range of data dimensionalities against
    the T-gon's min(1, m/T) (✓ within 10 %), its represented features and their largest D_i."""
    rows = tuple(
        (
            str(r.size),
            _significant(r.train_loss),
            _significant(r.test_loss),
            f"{_significant(r.data_low)}–{_significant(r.data_high)}",
            _significant(r.tgon) + (" ✓" if r.is_tgon else ""),
            str(r.represented),
            fixed(r.feature_high, 2),
        )
        for r in regimes(sweep)
    )
    columns = ("T", "train", "test", "Dₜ of examples", "T-gon m/T", f"‖Wᵢ‖ > {REPRESENTED_NORM}", "largest Dᵢ")
    return Table(columns, rows, fold=False)


def peak_table(sweeps: Sequence[MemorizationSweep]) -> Table:
    """One row per m: the grid's peak and its test loss, T* between the grid's points, T*/m, and the test loss at
    the smallest and the largest T."""
    rows = []
    for sweep in sweeps:
        found = peak(sweep)
        loss = sweep.mean_test_loss()
        first, last = int(sweep.sizes[0]), int(sweep.sizes[-1])
        rows.append(
            (
                str(sweep.n_hidden),
                "none" if found is None else str(found.size),
                "–" if found is None else _significant(found.loss),
                "–" if found is None else f"{found.interpolated:.0f}",
                "–" if found is None else f"{found.interpolated / sweep.n_hidden:.0f}",
                f"{_significant(loss[0])} (T = {first})",
                f"{_significant(loss[-1])} (T = {last})",
            )
        )
    columns = ("m", "grid's peak", "test there", "T*", "T*/m", "test, smallest T", "test, largest T")
    if len({(s.experiments[0].train.weight_decay, s.experiments[0].train.steps) for s in sweeps}) > 1:
        columns = ("m, protocol", *columns[1:])
        rows = [(f"{row[0]}, {_protocol_text(s)}", *row[1:]) for row, s in zip(rows, sweeps)]
    return Table(columns, tuple(rows), fold=False)


def plane_table(sweep: MemorizationSweep, k: int = 5) -> Table:
    """For m = 2, per T: the angular gaps between neighbouring examples' hidden vectors against a regular T-gon's
    360°/T, and between the k longest features against a regular k-gon's, with those features' norms."""
    rows = tuple(
        (
            str(g.size),
            f"{g.example_gaps[0]:.0f}–{g.example_gaps[1]:.0f}",
            f"{360 / g.size:.0f}",
            f"{g.feature_gaps[0]:.0f}–{g.feature_gaps[1]:.0f}",
            f"{g.feature_norms[0]:.2f}–{g.feature_norms[1]:.2f}",
        )
        for g in plane_geometry(sweep, k)
    )
    columns = ("T", "examples' gaps (°)", "T-gon (°)", f"{k} longest features' gaps (°)", "their ‖Wᵢ‖")
    return Table(columns, rows, fold=False)


def _protocol_text(sweep: MemorizationSweep) -> str:
    train = sweep.experiments[0].train
    return f"wd {train.weight_decay:g}, {train.steps:,} steps"


def cost_table(sweeps: Sequence[MemorizationSweep]) -> Table:
    """One row per sweep: m, weight decay, the sizes T, the models per T (datasets × fits), the steps, and the
    work of its training in (feature × example) updates, Σ_T T · n · steps · models, what a step's dense output
    side costs."""
    rows = []
    for sweep in sweeps:
        e = sweep.experiments[0]
        work = sum(x.n_examples * x.n_features * x.train.steps * x.n_instances for x in sweep.experiments)
        rows.append(
            (
                str(sweep.n_hidden),
                f"{e.train.weight_decay:g}",
                f"{int(sweep.sizes[0])}–{int(sweep.sizes[-1])} ({len(sweep.sizes)})",
                f"{e.n_datasets} × {e.fits_per_dataset}",
                f"{e.train.steps:,}",
                f"{work:.2e}",
            )
        )
    columns = ("m", "weight decay", "T (sizes)", "datasets × fits", "steps", "updates")
    return Table(columns, tuple(rows), fold=False)


__all__ = ["regime_table", "plane_table", "peak_table", "cost_table"]
