"""§10 (chapter 8): the chapter's experiments beyond the presets: the asymmetric-motif search over densities."""

from __future__ import annotations

from ..config import Experiment
from ..presets import preset

MOTIF_DENSITIES = (0.5, 0.35, 0.2, 0.1, 0.05)  # book's choice: ARENA's 0.35 and the densities around it


def motif_sweep(fast: bool = False) -> Experiment:
    """ARENA's motif setting (n = 10 features of equal importance, m = 10 neurons, ``tm.preset("asymmetric_motif")``)
    over ``MOTIF_DENSITIES``, 10 fits each (fast: 3), every fit searched for the motif."""
    exp = preset("asymmetric_motif", fast=fast)
    return exp.replace(
        feature_probability=MOTIF_DENSITIES,
        n_seeds=3 if fast else 10,
        name="Asymmetric motif search, n=10, m=10",
    )
