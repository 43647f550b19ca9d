"""The paper's analytic adversarial attack and the relative vulnerability measure (paper §6).

Gradient attacks fail on these models (the output ReLUs are off ~99 % of the time at high sparsity), so the
paper attacks analytically: for each feature i, push the input along the direction that excites the most
interference, δ_i = λ (WᵀW)_i / ‖(WᵀW)_i‖₂, with λ a fraction (0.1) of the mean input L2 norm, and keep
the feature whose attack hurts the loss most. Vulnerability is the loss increase relative to that of a model
without superposition under the same attack.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..config import ConfigError
from ..models import ToyModel


@dataclass
class Attack:
    delta: torch.Tensor  # (n_instances, n_features): the perturbation added to every input
    feature: torch.Tensor  # (n_instances,): the attacked feature i
    clean_loss: torch.Tensor  # (n_instances,)
    attacked_loss: torch.Tensor  # (n_instances,)


def reconstruction_loss(
    model: ToyModel, x: torch.Tensor, target: torch.Tensor, importance: torch.Tensor
) -> torch.Tensor:
    """Importance-weighted MSE per instance (no L1 term), as in training."""
    return (importance.unsqueeze(1) * (target - model(x)).square()).mean((1, 2))


@torch.no_grad()
def analytic_attack(
    model: ToyModel, x: torch.Tensor, target: torch.Tensor, importance: torch.Tensor, fraction: float = 0.1
) -> Attack:
    """The strongest of the n analytic attacks δ_i, per instance; the target stays the clean one."""
    if not isinstance(model, ToyModel):
        raise ConfigError(f"model must be a ToyModel, got {type(model).__name__}")
    for name, value in (("x", x), ("target", target)):
        if not isinstance(value, torch.Tensor):
            raise ConfigError(f"{name} must be a tensor of shape (n_instances, batch, n_features), got {value!r:.60}")
    model._check_input(x)
    if target.shape != x.shape:
        raise ConfigError(f"target must have the shape of x, {tuple(x.shape)}, got {tuple(target.shape)}")
    if not (isinstance(fraction, (int, float)) and fraction > 0):
        raise ConfigError(
            f"fraction must be a number > 0 (the attack's norm over the mean input norm), got {fraction!r}"
        )
    W = model.W
    gram = torch.bmm(W.transpose(1, 2), W)  # WᵀW, (instance, feature, feature); symmetric, so column i = row i
    directions = gram / gram.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    scale = fraction * x.norm(dim=-1).mean(-1)  # λ per instance
    clean = reconstruction_loss(model, x, target, importance)
    attacked = torch.stack(
        [
            reconstruction_loss(model, x + (scale[:, None] * directions[:, i]).unsqueeze(1), target, importance)
            for i in range(W.shape[-1])
        ],
        dim=-1,
    )  # (instance, feature)
    worst = attacked.argmax(-1)
    rows = torch.arange(W.shape[0], device=W.device)
    return Attack(
        delta=scale[:, None] * directions[rows, worst],
        feature=worst,
        clean_loss=clean,
        attacked_loss=attacked[rows, worst],
    )


def relative_vulnerability(
    model: ToyModel,
    baseline: ToyModel,
    x: torch.Tensor,
    target: torch.Tensor,
    importance: torch.Tensor,
    fraction: float = 0.1,
) -> torch.Tensor:
    """(L′ − L) / (L′₀ − L₀): the attack's damage to ``model`` relative to ``baseline``, a model without
    superposition (for example the linear model trained on the same data), instance by instance."""
    attack = analytic_attack(model, x, target, importance, fraction)
    reference = analytic_attack(baseline, x, target, importance, fraction)
    return (attack.attacked_loss - attack.clean_loss) / (reference.attacked_loss - reference.clean_loss)
