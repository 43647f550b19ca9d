"""§1 (chapter 1): the tables of the intro's fits and of the fine sparsity sweep."""

from __future__ import annotations

from ..kit.table import Table, density_label, setting_densities, vector_text
from ..metrics import feature_dimensionality, feature_norms, runs
from ..results import TrainResult
from .analysis import describe


def geometry_table(result: TrainResult) -> Table:
    """One row per setting of a best-of-K result: sparsity, loss, ‖W_i‖ and D_i of every feature, and the
    geometry they form."""
    best = result.best()
    norms, D = feature_norms(best.W), feature_dimensionality(best.W)
    rows = tuple(
        (density_label(p), f"{loss:.4g}", vector_text(norm), vector_text(d), text)
        for p, loss, norm, d, text in zip(
            setting_densities(result.experiment),
            result.best_losses.tolist(),
            norms.tolist(),
            D.tolist(),
            describe(best.W),
        )
    )
    return Table(("1−S", "loss", "‖Wᵢ‖ (feature 0 → n−1)", "Dᵢ", "geometry"), rows)


def geometry_phases(result: TrainResult) -> Table:
    """Consecutive settings of a sweep whose features form the same geometry, as ranges of sparsity: where
    the geometry changes."""
    density = setting_densities(result.experiment)
    rows = tuple(
        (
            density_label(density[first])
            if first == last
            else f"{density_label(density[first])} – {density_label(density[last])}",
            text,
        )
        for first, last, text in runs(describe(result.best().W))
    )
    return Table(("1−S", "geometry"), rows)
