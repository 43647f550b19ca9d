"""Chapter 10: the tables the prose quotes — counts per nonlinearity and sparsity, where superposition starts,
what each nonlinearity does to negative inputs, and the softmax task."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import ConfigError
from ..kit.table import Table, density_label, fixed
from .analysis import PHASES, PhaseGrid, Shape, SweepCounts

FLOOR_TOLERANCE = 0.01  # act(−20) within this of 0: large negative interference is (nearly) free


def _sparsity(density: float | None) -> str:
    return "never" if density is None else density_label(density)


def counts_table(counts: dict[str, SweepCounts]) -> Table:
    """One row per nonlinearity, one column per sparsity: "represented / in superposition"."""
    if not counts:
        raise ConfigError("counts must hold at least one nonlinearity's SweepCounts")
    first = next(iter(counts.values()))
    columns = ("nonlinearity",) + tuple(f"1−S = {density_label(p)}" for p in first.density)
    rows = tuple(
        (name,) + tuple(f"{k} / {s}" for k, s in zip(c.represented.tolist(), c.superposed.tolist()))
        for name, c in counts.items()
    )
    return Table(columns, rows)


def _floor_text(shape: Shape) -> str:
    return "none (unbounded)" if shape.floor < -10 else fixed(shape.floor, 3)


def onset_table(counts: dict[str, SweepCounts], grids: Sequence[PhaseGrid], shapes: Sequence[Shape]) -> Table:
    """Per nonlinearity: its shape (act(0), the floor act(−20) that negative interference is pushed to, how far
    it dips below that floor), the sparsity at which superposition starts in the §2 sweep and the most features
    it represents there, and in the n = 2, m = 1 diagram the sparsity from which some point is in superposition
    (most kept fits antipodal) and the share of the grid's points that are."""
    grid_by_name = {g.name: g for g in grids}
    shape_by_name = {s.name: s for s in shapes}
    rows = []
    for name, c in counts.items():
        if name not in grid_by_name or name not in shape_by_name:
            raise ConfigError(f"{name!r} needs a PhaseGrid and a Shape too")
        grid, shape = grid_by_name[name], shape_by_name[name]
        rows.append(
            (
                name,
                fixed(shape.at_zero, 3),
                _floor_text(shape),
                fixed(shape.dip, 3),
                _sparsity(c.onset),
                str(c.most_represented),
                _sparsity(grid.superposition_onset),
                f"{grid.superposed_share:.0%}",
            )
        )
    return Table(
        (
            "nonlinearity",
            "act(0)",
            "floor act(−20)",
            "dip below floor",
            "20→5: superposition from 1−S =",
            "20→5: most represented",
            "2→1: superposition from 1−S =",
            "2→1: grid in superposition",
        ),
        tuple(rows),
    )


def conclusion_table(counts: dict[str, SweepCounts], grids: Sequence[PhaseGrid], shapes: Sequence[Shape]) -> Table:
    """The conclusion checked nonlinearity by nonlinearity: it predicts superposition exactly when the
    nonlinearity has a floor at 0 (|act(−20)| < FLOOR_TOLERANCE: large negative interference lands where an
    absent feature's output belongs), and the most of it when it also reaches the floor without dipping below;
    the table sets the prediction beside what both experiments measured (superposition in the 20→5 sweep, or
    at some point of the 2→1 diagram)."""
    grid_by_name = {g.name: g for g in grids}
    shape_by_name = {s.name: s for s in shapes}
    rows = []
    for name, c in counts.items():
        grid, shape = grid_by_name[name], shape_by_name[name]
        floor = abs(shape.floor) < FLOOR_TOLERANCE
        measured = c.onset is not None or grid.superposition_onset is not None
        rows.append(
            (
                name,
                "yes" if floor else "no",
                "yes" if floor and shape.dip > -FLOOR_TOLERANCE else "no",
                "yes" if measured else "no",
                "holds" if floor == measured else "fails",
            )
        )
    return Table(
        ("nonlinearity", "floor at 0", "monotone to it", "superposition measured", "floor at 0 ⇔ superposition"),
        tuple(rows),
    )


def softmax_table(counts: SweepCounts) -> Table:
    """The softmax task per sparsity: features represented, in superposition, named when alone (decodable), the
    mean dimensionality D_i of the represented features and the cross-entropy of the best fit. (No bias column:
    a softmax's logits are defined up to a shared constant.)"""
    if counts.decodable is None:
        raise ConfigError("counts must come from a softmax sweep (decodable features are counted only there)")
    rows = tuple(
        (density_label(p), str(k), str(s), str(d), fixed(D, 2), fixed(loss, 4))
        for p, k, s, d, D, loss in zip(
            counts.density.tolist(),
            counts.represented.tolist(),
            counts.superposed.tolist(),
            counts.decodable.tolist(),
            counts.dimensionality.tolist(),
            counts.loss.tolist(),
        )
    )
    return Table(
        ("1−S", "represented", "in superposition", "named when alone", "mean Dᵢ (represented)", "cross-entropy"),
        rows,
    )


PHASE_COLUMNS = {
    "extra_ignored": "extra not learned",
    "regular_ignored": "extra dedicated",
    "antipodal": "antipodal",
    "confused": "same-sign",
}  # short names of PHASE_DESCRIPTIONS for a table's header


def phase_table(grids: Sequence[PhaseGrid]) -> Table:
    """Per nonlinearity, the points of its n = 2, m = 1 diagram by phase (a phase counts where more than half of
    a point's kept fits hold it; else "no majority"), and as (r, 1−S) the antipodal points of its densest column
    and every same-sign point."""

    def where(mask, grid: PhaseGrid) -> str:
        points = [
            f"({r:.3g}, {density_label(p)})"
            for i, r in enumerate(grid.relative_importance)
            for j, p in enumerate(grid.density)
            if mask[i, j]
        ]
        return " ".join(points)

    rows = []
    for grid in grids:
        majority = grid.purity > 0.5
        counts = [int((majority & (grid.phase == k)).sum()) for k in range(len(PHASES))]
        confused = majority & (grid.phase == PHASES.index("confused"))
        dense = grid.superposed & np.isclose(grid.density, grid.density.max())[None, :]
        notes = [f"antipodal at the densest: {where(dense, grid)}"] if dense.any() else []
        notes += [f"same-sign: {where(confused, grid)}"] if confused.any() else []
        rows.append((grid.name, *map(str, counts), str(int((~majority).sum())), "; ".join(notes) or "–"))
    columns = ("nonlinearity", *(PHASE_COLUMNS[p] for p in PHASES), "no majority", "points (r, 1−S) of note")
    return Table(columns, tuple(rows))


def task_control_table(reconstruct: SweepCounts, one_hot: SweepCounts, softmax: SweepCounts) -> Table:
    """Per density, features represented / in superposition for the ReLU output reconstructing x (chapter 2's
    task), the ReLU output trained on the one-hot target of the largest active feature (squared error), and the
    softmax on that target (cross-entropy), with the features each one-hot model names when alone: the first
    pair of columns differ only in the task, the second pair only in the output and its loss."""
    for counts in (one_hot, softmax):
        if counts.decodable is None:
            raise ConfigError(f"{counts.name!r} must be trained on the one-hot target (target='argmax')")
    if not (np.allclose(reconstruct.density, one_hot.density) and np.allclose(one_hot.density, softmax.density)):
        raise ConfigError("the three sweeps must share their densities")
    rows = tuple(
        (
            density_label(p),
            f"{reconstruct.represented[k]} / {reconstruct.superposed[k]}",
            f"{one_hot.represented[k]} / {one_hot.superposed[k]}",
            str(one_hot.decodable[k]),
            f"{softmax.represented[k]} / {softmax.superposed[k]}",
            str(softmax.decodable[k]),
        )
        for k, p in enumerate(reconstruct.density.tolist())
    )
    columns = (
        "1−S",
        "ReLU, reconstruct x",
        "ReLU, one-hot target",
        "named alone",
        "softmax, one-hot target",
        "named alone",
    )
    return Table(columns, rows)


def groups_table(counts: dict[str, SweepCounts], grids: Sequence[PhaseGrid], shapes: Sequence[Shape]) -> Table:
    """The nonlinearities grouped by shape — a floor at 0 reached monotonically, a floor at 0 with a dip below it,
    no floor at 0 — with the range of what each group measured: the most features represented (20→5) and the
    share of the 2→1 grid in superposition."""
    grid_by_name = {g.name: g for g in grids}
    shape_by_name = {s.name: s for s in shapes}

    def group(name: str) -> str:
        shape = shape_by_name[name]
        if abs(shape.floor) >= FLOOR_TOLERANCE:
            return "no floor at 0"
        return "floor at 0, monotone" if shape.dip > -FLOOR_TOLERANCE else "floor at 0, dips below it"

    rows = []
    for label in ("floor at 0, monotone", "floor at 0, dips below it", "no floor at 0"):
        members = [name for name in counts if group(name) == label]
        if not members:
            continue
        most = [counts[name].most_represented for name in members]
        share = [grid_by_name[name].superposed_share for name in members]
        rows.append(
            (
                label,
                ", ".join(members),
                f"{min(most)}–{max(most)}" if min(most) != max(most) else str(most[0]),
                f"{min(share):.0%}–{max(share):.0%}" if min(share) != max(share) else f"{share[0]:.0%}",
            )
        )
    return Table(("shape", "nonlinearities", "20→5: most represented", "2→1: grid in superposition"), tuple(rows))
