"""Training: one ``train`` entry point for every experiment (paper §2; protocol of the authors' notebook).

Each step draws a fresh batch (infinite data), computes the per-instance importance-weighted MSE and its
gradients in closed form (:func:`toymodels.models.loss_and_grads`), and takes an AdamW step. Instances are
independent: the summed loss gives each instance the gradient of its own loss. Best-of-K keeps, for each
setting, the seed with the lowest loss on fresh evaluation batches.
"""

from __future__ import annotations

import math
import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Optional

import torch
from tqdm import tqdm

from .config import Experiment, TrainConfig
from .data import sample_features, target_of
from .models import ToyModel, loss_and_grads

Callback = Callable[[int, ToyModel, torch.Tensor], None]

# Seeds the evaluation batches apart from the training batches of the same seed.
_EVAL_SEED_OFFSET = 1_000_003


def lr_at(step: int, train: TrainConfig) -> float:
    """Learning rate at ``step`` (0-based) for the configured schedule (the notebook's three schedules)."""
    if train.lr_schedule == "linear":
        return train.lr * (1 - step / train.steps)
    if train.lr_schedule == "cosine":
        return train.lr * math.cos(0.5 * math.pi * step / max(train.steps - 1, 1))
    return train.lr


@dataclass
class History:
    """Snapshots taken every ``snapshot_every`` steps (and after the last step)."""

    steps: torch.Tensor  # (n_snapshots,)
    W: torch.Tensor  # (n_snapshots, n_instances, n_hidden, n_features)
    b: torch.Tensor  # (n_snapshots, n_instances, n_features)
    losses: torch.Tensor  # (n_snapshots, n_instances): training-batch loss (the last: the evaluation loss)
    W_out: Optional[torch.Tensor] = None  # untied models only


@dataclass
class TrainResult:
    experiment: Experiment
    model: ToyModel  # every instance, laid out as setting * n_seeds + seed
    losses: torch.Tensor  # (n_instances,) final loss on fresh evaluation batches
    history: Optional[History] = None

    @property
    def best_seed(self) -> torch.Tensor:
        """Index of the lowest-loss seed of each setting, (n_settings,)."""
        exp = self.experiment
        return self.losses.view(exp.n_settings, exp.n_seeds).argmin(dim=1)

    @property
    def best_index(self) -> torch.Tensor:
        """Instance index of the best fit of each setting, (n_settings,)."""
        seeds = self.best_seed
        return torch.arange(len(seeds), device=seeds.device) * self.experiment.n_seeds + seeds

    def best(self) -> ToyModel:
        """The best-of-K model: one instance per setting."""
        return self.model.select(self.best_index)

    @property
    def best_losses(self) -> torch.Tensor:
        return self.losses[self.best_index]


def _progress_enabled(train: TrainConfig) -> bool:
    return train.progress and os.environ.get("TOYMODELS_PROGRESS", "1") != "0"


@torch.no_grad()
def evaluate(
    model: ToyModel, experiment: Experiment, n_batches: int | None = None, seed: int | None = None
) -> torch.Tensor:
    """Per-instance loss averaged over fresh batches (seeded, so repeated calls agree)."""
    train = experiment.train
    device = model.W.device
    generator = torch.Generator(device).manual_seed((train.seed if seed is None else seed) + _EVAL_SEED_OFFSET)
    probability = experiment.probability_tensor(device=device)
    importance = experiment.importance_tensor(device=device)
    total = torch.zeros(model.n_instances, device=device)
    n_batches = n_batches or train.eval_batches
    for _ in range(n_batches):
        x = sample_features(probability, train.batch_size, experiment.data, generator)
        total += model.loss(x, target_of(x, experiment.data), importance)
    return total / n_batches


@contextmanager
def _torch_threads(threads: int):
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def train(experiment: Experiment, *, callback: Callback | None = None) -> TrainResult:
    """Train every instance of ``experiment`` and return the model, the final losses and the history.

    ``callback(step, model, loss)`` runs at every snapshot (needs ``snapshot_every`` > 0); ``loss`` is the
    per-instance training loss at that step. The same seed gives the same weights (at the same
    ``threads``, which the trainer sets while it runs).
    """
    with _torch_threads(experiment.train.threads):
        return _train(experiment, callback)


def _train(experiment: Experiment, callback: Callback | None) -> TrainResult:
    config = experiment.train
    device = torch.device(config.device)
    generator = torch.Generator(device).manual_seed(config.seed)
    model = ToyModel(experiment.model, experiment.n_instances, generator=generator, device=device)
    probability = experiment.probability_tensor(device=device)
    importance = experiment.importance_tensor(device=device)
    parameters = [p for p in (model.W, model.W_out, model.b) if p is not None]
    optimizer = torch.optim.AdamW(parameters, lr=config.lr, weight_decay=config.weight_decay, foreach=True)

    snapshots: list[tuple[int, torch.Tensor, ...]] = []

    def snapshot(step: int, loss: torch.Tensor) -> None:
        W_out = None if model.W_out is None else model.W_out.detach().cpu().clone()
        snapshots.append((step, model.W.detach().cpu().clone(), model.b.detach().cpu().clone(), loss.cpu(), W_out))
        if callback is not None:
            callback(step, model, loss)

    bar = tqdm(total=config.steps, disable=not _progress_enabled(config), desc=experiment.name, mininterval=1.0)
    for step in range(config.steps):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, config)
        x = sample_features(probability, config.batch_size, experiment.data, generator)
        loss, grads = loss_and_grads(model, x, target_of(x, experiment.data), importance)
        for name, grad in grads.items():
            getattr(model, name).grad = grad
        if config.snapshot_every and step % config.snapshot_every == 0:
            snapshot(step, loss)
        optimizer.step()
        if step % 100 == 0 or step == config.steps - 1:
            bar.set_postfix(loss=f"{loss.sum().item():.3g}", refresh=False)
        bar.update()
    bar.close()

    losses = evaluate(model, experiment)
    if config.snapshot_every:
        snapshot(config.steps, losses)
    history = None
    if snapshots:
        steps, Ws, bs, step_losses, W_outs = zip(*snapshots)
        history = History(
            steps=torch.tensor(steps),
            W=torch.stack(Ws),
            b=torch.stack(bs),
            losses=torch.stack(step_losses),
            W_out=None if W_outs[0] is None else torch.stack(W_outs),
        )
    return TrainResult(experiment=experiment, model=model, losses=losses, history=history)
