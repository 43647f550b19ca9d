"""§2 (chapter 2, demonstrating superposition): the linear model's loss accounting of trained sweeps."""

from __future__ import annotations

import torch

from .. import theory
from ..kit.table import setting_densities
from ..results import TrainResult
from ..theory import LossAccounting
from ..train import evaluate


def loss_accounting(results: dict[str, TrainResult], eval_batches: int = 256) -> dict[str, LossAccounting]:
    """``theory.loss_accounting`` of each named best-of-K sweep: the §2 linear-model terms of its trained
    weights, and its loss measured again on ``eval_batches`` fresh batches (the 4 batches that select the
    best fit are too few to compare with the terms at high sparsity, where few features are ever active)."""
    accounting = {}
    for name, result in results.items():
        experiment, best = result.experiment.replace(n_seeds=1), result.best()
        losses = evaluate(best, experiment, n_batches=eval_batches, dtype=torch.float64)  # float64: any CPU
        accounting[name] = theory.loss_accounting(
            best.W, experiment.importance_tensor(per="setting"), setting_densities(experiment), losses
        )
    return accounting
