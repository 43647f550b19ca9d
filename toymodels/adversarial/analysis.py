"""Superposition and adversarial examples (paper §6; chapter 6).

Gradient attacks fail on these models (the output ReLUs are off most of the time at high sparsity), so the
paper attacks analytically: for each feature i, push the input along the direction that excites the most
interference, δ_i = λ (WᵀW)_i / ‖(WᵀW)_i‖₂, with λ a fraction (0.1) of the mean input L2 norm, and keep
the feature whose attack hurts the loss most. Vulnerability is the loss increase relative to that of a model
without superposition under the same attack (:func:`no_superposition_model`).

The analytic attack is one perturbation δ per model instance, added to every input of the batch; the gradient
attacks find one δ per instance the same way or, as adversarial examples usually are, one per input. Every
attack's norm is set relative to the batch's mean input norm, and the target stays the clean input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..data import FeatureSampler, Uniforms, target_of
from ..errors import ConfigError
from ..experiment import Experiment
from ..metrics import count_represented, represented_features
from ..models import ToyModel, activate, interference_directions
from ..results import TrainResult

EVALUATION_SEED = 6  # the attacks' evaluation batches: a stream of their own, the same for every model
EVALUATION_BATCH = 4096


@dataclass
class Attack:
    delta: torch.Tensor  # (n_instances, n_features): the perturbation added to every input
    feature: torch.Tensor | None  # (n_instances,): the attacked feature i (None for a gradient attack)
    clean_loss: torch.Tensor  # (n_instances,)
    attacked_loss: torch.Tensor  # (n_instances,)

    @property
    def damage(self) -> torch.Tensor:
        """L′ − L per instance."""
        return self.attacked_loss - self.clean_loss


def reconstruction_loss(
    model: ToyModel, x: torch.Tensor, target: torch.Tensor, importance: torch.Tensor
) -> torch.Tensor:
    """Importance-weighted MSE per instance (no L1 term), as in training."""
    return _per_input_loss(model, x, target, importance).mean(-1)


def _check_attack(model, x, target, importance, fraction) -> None:
    if not isinstance(model, ToyModel):
        raise ConfigError(f"model must be a ToyModel, got {type(model).__name__}")
    for name, value in (("x", x), ("target", target)):
        if not isinstance(value, torch.Tensor):
            raise ConfigError(f"{name} must be a tensor of shape (n_instances, batch, n_features), got {value!r:.60}")
    model._check_input(x)
    if target.shape != x.shape:
        raise ConfigError(f"target must have the shape of x, {tuple(x.shape)}, got {tuple(target.shape)}")
    expected = (model.n_instances, model.config.n_features)
    if not isinstance(importance, torch.Tensor) or tuple(importance.shape) != expected:
        found = tuple(importance.shape) if isinstance(importance, torch.Tensor) else type(importance).__name__
        raise ConfigError(f"importance must be a tensor of shape (n_instances, n_features) = {expected}, got {found}")
    if not (isinstance(fraction, (int, float)) and not isinstance(fraction, bool) and 0 < fraction < float("inf")):
        raise ConfigError(
            f"fraction must be a number > 0 (the attack's norm over the mean input norm), got {fraction!r}"
        )


def attack_norm(x: torch.Tensor, fraction: float) -> torch.Tensor:
    """λ per instance: ``fraction`` of the batch's mean input L2 norm."""
    return fraction * x.norm(dim=-1).mean(-1)


def _per_input_loss(model: ToyModel, x: torch.Tensor, target: torch.Tensor, importance: torch.Tensor):
    """Importance-weighted squared error of each input, (instance, batch)."""
    return (importance.unsqueeze(1) * (target - model(x)).square()).mean(-1)


def _attacked_losses(model: ToyModel, x, target, importance, deltas: torch.Tensor) -> torch.Tensor:
    """The loss of every input under every attack δ_i (rows of ``deltas``, (instance, i, feature)): (instance,
    batch, i). With a linear hidden layer, x + δ_i only shifts the output's preactivation by D W δ_i (D the
    decoder), so each instance takes one product for all attacks and then, attack by attack, a few elementwise
    passes over its (batch, feature) preactivation, small enough to stay in the CPU's cache."""
    n = model.config.n_features
    if model.config.hidden_relu:  # h = ReLU(W x): no shortcut
        attacked = [_per_input_loss(model, x + deltas[:, i].unsqueeze(1), target, importance) for i in range(n)]
        return torch.stack(attacked, dim=-1)
    pre = model.preactivation(x)
    shifts = torch.bmm(deltas, torch.bmm(model.decoder, model.W).transpose(1, 2))  # row i: (D W δ_i)ᵀ
    attacked = x.new_empty(x.shape[0], x.shape[1], n)
    for k in range(x.shape[0]):
        for i in range(n):
            shifted = pre[k] + shifts[k, i]
            out = shifted if model.config.kind == "linear" else activate(shifted, model.config.activation)
            attacked[k, :, i] = (importance[k] * (target[k] - out).square_()).mean(-1)
    return attacked


@torch.no_grad()
def analytic_attack(
    model: ToyModel,
    x: torch.Tensor,
    target: torch.Tensor,
    importance: torch.Tensor,
    fraction: float = 0.1,
    per_input: bool = False,
) -> Attack:
    """The strongest of the n analytic attacks δ_i, per instance (one δ for the whole batch) or, ``per_input``,
    for each input its own strongest δ_i (``delta`` is then ``(n_instances, batch, n_features)`` and ``feature``
    ``(n_instances, batch)``). The target stays the clean one."""
    _check_attack(model, x, target, importance, fraction)
    directions = interference_directions(model.W.detach())  # (instance, feature, feature), row i: δ_i / λ
    scale = attack_norm(x, fraction)
    clean = _per_input_loss(model, x, target, importance)
    attacked = _attacked_losses(model, x, target, importance, scale[:, None, None] * directions)
    # attacked: (instance, batch, attacked feature)
    rows = torch.arange(model.n_instances, device=x.device)
    if per_input:
        worst = attacked.argmax(-1)  # (instance, batch)
        return Attack(
            delta=scale[:, None, None] * directions[rows[:, None], worst],
            feature=worst,
            clean_loss=clean.mean(-1),
            attacked_loss=attacked.max(-1).values.mean(-1),
        )
    mean_attacked = attacked.mean(1)  # (instance, attacked feature)
    worst = mean_attacked.argmax(-1)
    return Attack(
        delta=scale[:, None] * directions[rows, worst],
        feature=worst,
        clean_loss=clean.mean(-1),
        attacked_loss=mean_attacked[rows, worst],
    )


def gradient_attack(
    model: ToyModel,
    x: torch.Tensor,
    target: torch.Tensor,
    importance: torch.Tensor,
    fraction: float = 0.1,
    steps: int = 20,
    per_input: bool = False,
) -> Attack:
    """A standard L2 gradient attack with the analytic attack's budget: projected gradient ascent (PGD) from δ = 0,
    each step λ·2.5/steps along the normalised gradient (Madry et al.'s step rule), projected back to ‖δ‖₂ ≤ λ;
    ``steps=1`` with a step of λ is the fast gradient method (FGSM's L2 form). One δ per instance, shared by the
    batch as the analytic attack's is, or (``per_input``) one δ per input, the usual adversarial example, each
    following its own input's gradient; ``delta`` is then ``(n_instances, batch, n_features)``."""
    _check_attack(model, x, target, importance, fraction)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ConfigError(f"steps must be a positive integer, got {steps!r}")
    scale = attack_norm(x, fraction)[:, None]
    if per_input:
        scale = scale.unsqueeze(-1)
    step = scale if steps == 1 else scale * 2.5 / steps
    delta = torch.zeros(x.shape if per_input else (x.shape[0], x.shape[2]), device=x.device)

    def perturbed(delta: torch.Tensor) -> torch.Tensor:
        return x + (delta if per_input else delta.unsqueeze(1))

    for _ in range(steps):
        delta.requires_grad_(True)
        # The instances' (and the inputs') losses are independent: one sum gives every δ its own gradient.
        loss = reconstruction_loss(model, perturbed(delta), target, importance).sum()
        (gradient,) = torch.autograd.grad(loss, delta)
        with torch.no_grad():
            delta = delta + step * gradient / gradient.norm(dim=-1, keepdim=True).clamp_min(1e-30)
            delta = delta * scale / delta.norm(dim=-1, keepdim=True).clamp_min(scale)  # back into the ball
    with torch.no_grad():
        return Attack(
            delta=delta,
            feature=None,
            clean_loss=reconstruction_loss(model, x, target, importance),
            attacked_loss=reconstruction_loss(model, perturbed(delta), target, importance),
        )


def zero_gradient_inputs(model: ToyModel, x: torch.Tensor, target: torch.Tensor, importance: torch.Tensor):
    """Per instance, the share of inputs whose loss has a zero gradient with respect to the input: every output
    ReLU is off or exact, so a gradient attack from δ = 0 cannot move them."""
    _check_attack(model, x, target, importance, 1.0)
    x = x.detach().clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(reconstruction_loss(model, x, target, importance).sum(), x)
    return (gradient == 0).all(-1).float().mean(-1)


@torch.no_grad()
def inactive_outputs(model: ToyModel, x: torch.Tensor) -> torch.Tensor:
    """Per instance, the share of output ReLUs that are off (pre-activation ≤ 0) over the batch and features: a
    gradient reaches the input only through the others."""
    if not isinstance(x, torch.Tensor):
        raise ConfigError(f"x must be a tensor of shape (n_instances, batch, n_features), got {x!r:.60}")
    pre = torch.bmm(model.hidden(x), model.decoder.transpose(1, 2)) + model.b.unsqueeze(1)
    return (pre <= 0).float().mean((1, 2))


def no_superposition_model(experiment: Experiment) -> ToyModel:
    """For each setting of ``experiment`` (one instance each), the ReLU-output model without superposition: its m
    most important features each have a dimension of their own (W_i = e_i, bias 0, read back exactly) and the
    others are dropped, output as their best constant, the bias E[x_i] = p_i / 2 (ReLU(b) = b). This is the
    solution the basic-results chapter finds when features are dense, made exact, so the baseline is the same
    kind of model at the same density, differing only in having no superposition."""
    n, m = experiment.model.n_features, experiment.model.n_hidden
    if m > n:
        raise ConfigError(f"n_hidden={m} must be <= n_features={n} for a model without superposition")
    importance = experiment.importance_tensor(per="setting")
    probability = experiment.probability_tensor(per="setting")
    kept = importance.argsort(dim=1, descending=True, stable=True)[:, :m]  # (setting, m)
    W = torch.zeros(experiment.n_settings, m, n)
    W.scatter_(2, kept.unsqueeze(-1), 1.0)
    b = (probability / 2).scatter(1, kept, 0.0)
    config = experiment.model.__class__(n, m, kind="relu_output")
    return ToyModel.from_arrays(config, W, b)


def evaluation_batch(experiment: Experiment, batch: int = EVALUATION_BATCH) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and targets for the attacks, ``(n_settings, batch, n_features)``: the same draw for every model of a
    setting, from a stream of its own (not the trainer's)."""
    sampler = FeatureSampler(
        experiment.probability_tensor(per="setting"), experiment.data, Uniforms(EVALUATION_SEED, stream=(0,))
    )
    x = sampler(batch)
    return x, target_of(x, experiment.data)


def relative_vulnerability(
    model: ToyModel,
    baseline: ToyModel,
    x: torch.Tensor,
    target: torch.Tensor,
    importance: torch.Tensor,
    fraction: float = 0.1,
) -> torch.Tensor:
    """(L′ − L) / (L′₀ − L₀): the attack's damage to ``model`` relative to ``baseline``, a model without
    superposition (:func:`no_superposition_model`), instance by instance."""
    if not isinstance(baseline, ToyModel):
        raise ConfigError(f"baseline must be a ToyModel, got {type(baseline).__name__}")
    if (baseline.n_instances, baseline.config.n_features) != (model.n_instances, model.config.n_features):
        raise ConfigError(
            f"baseline must have the model's instances and features, ({model.n_instances}, "
            f"{model.config.n_features}); got ({baseline.n_instances}, {baseline.config.n_features})"
        )
    attack = analytic_attack(model, x, target, importance, fraction)
    reference = analytic_attack(baseline, x, target, importance, fraction)
    return attack.damage / reference.damage


@dataclass
class Vulnerability:
    """The attacks on one model per setting of a sweep (arrays of ``(n_settings,)``)."""

    experiment: Experiment
    fraction: float
    density: np.ndarray
    features_per_dimension: np.ndarray  # ‖W‖_F² / m
    represented: np.ndarray  # features with ‖W_i‖ > 0.5
    clean_loss: np.ndarray
    analytic_damage: np.ndarray  # L′ − L under the analytic attack, one δ for the batch
    analytic_per_input_damage: np.ndarray  # … each input under its own strongest analytic δ_i
    baseline_damage: np.ndarray  # L′₀ − L₀: the model without superposition, same attack, same inputs
    fgsm_damage: np.ndarray  # L′ − L under a one-step gradient attack of the same norm, one δ per input
    pgd_damage: np.ndarray  # … under projected gradient ascent, one δ per input
    pgd_shared_damage: np.ndarray  # … under projected gradient ascent, one δ for the batch (the analytic's model)
    inactive: np.ndarray  # share of output ReLUs off on the clean inputs
    zero_gradient: np.ndarray  # share of inputs whose loss has a zero gradient with respect to the input
    attack_size: np.ndarray  # λ, the attacks' norm
    bias: np.ndarray  # the model's mean output bias
    attacked_feature: np.ndarray

    @property
    def vulnerability(self) -> np.ndarray:
        """(L′ − L) / (L′₀ − L₀)."""
        return self.analytic_damage / self.baseline_damage

    @property
    def correlation(self) -> float:
        """Pearson correlation of the vulnerability with features per dimension, across the settings."""
        return float(np.corrcoef(self.vulnerability, self.features_per_dimension)[0, 1])

    @property
    def rising_correlation(self) -> float:
        """The same correlation over the settings from the densest to the most vulnerable one (in sweep order)."""
        end = int(np.argmax(self.vulnerability)) + 1
        return float(np.corrcoef(self.vulnerability[:end], self.features_per_dimension[:end])[0, 1])

    @property
    def rank_correlation(self) -> float:
        """Spearman's: the same on ranks (ties broken by order)."""
        ranks = [np.argsort(np.argsort(values)) for values in (self.vulnerability, self.features_per_dimension)]
        return float(np.corrcoef(*ranks)[0, 1])


def vulnerability(
    result: TrainResult, fraction: float = 0.1, pgd_steps: int = 20, batch: int = EVALUATION_BATCH
) -> Vulnerability:
    """Attack the best fit of every setting of ``result`` analytically and by gradient, and the model without
    superposition analytically, all on the same evaluation batch."""
    if not isinstance(result, TrainResult):
        raise ConfigError(f"result must be a TrainResult (tm.train / tm.store.train), got {type(result).__name__}")
    experiment = result.experiment
    if experiment.model.kind != "relu_output":
        raise ConfigError(f"the attacks are the paper's, on ReLU-output models; got kind={experiment.model.kind!r}")
    # In float64: what the chapter prints then does not depend on how this CPU rounds float32 sums.
    model = result.best().double()
    x, target = (tensor.double() for tensor in evaluation_batch(experiment, batch))
    importance = experiment.importance_tensor(per="setting").double()
    analytic = analytic_attack(model, x, target, importance, fraction)
    analytic_per_input = analytic_attack(model, x, target, importance, fraction, per_input=True)
    reference = analytic_attack(no_superposition_model(experiment).double(), x, target, importance, fraction)
    fgsm = gradient_attack(model, x, target, importance, fraction, steps=1, per_input=True)
    pgd = gradient_attack(model, x, target, importance, fraction, steps=pgd_steps, per_input=True)
    pgd_shared = gradient_attack(model, x, target, importance, fraction, steps=pgd_steps)
    W = model.W.detach()
    numpy = lambda tensor: tensor.detach().numpy().astype(np.float64)  # noqa: E731
    return Vulnerability(
        experiment=experiment,
        fraction=fraction,
        density=numpy(experiment.density_per_setting()),
        features_per_dimension=numpy(W.square().sum((1, 2)) / experiment.model.n_hidden),
        represented=count_represented(W).numpy(),
        clean_loss=numpy(analytic.clean_loss),
        analytic_damage=numpy(analytic.damage),
        analytic_per_input_damage=numpy(analytic_per_input.damage),
        baseline_damage=numpy(reference.damage),
        fgsm_damage=numpy(fgsm.damage),
        pgd_damage=numpy(pgd.damage),
        pgd_shared_damage=numpy(pgd_shared.damage),
        inactive=numpy(inactive_outputs(model, x)),
        zero_gradient=numpy(zero_gradient_inputs(model, x, target, importance)),
        attacked_feature=analytic.feature.numpy(),
        attack_size=numpy(attack_norm(x, fraction)),
        bias=numpy(model.b.detach().mean(-1)),
    )


@dataclass
class AdversarialTraining:
    """Models trained under the analytic attack, one per attack size (arrays of ``(n_settings,)``)."""

    experiment: Experiment
    attack: np.ndarray  # the attack size each model was trained under, as a fraction of the mean input norm
    features_per_dimension: np.ndarray  # ‖W‖_F² / m
    represented: np.ndarray  # features with ‖W_i‖ > 0.5
    clean_loss: np.ndarray  # on clean inputs
    vulnerability: np.ndarray  # under the evaluation attack (``fraction``), relative to no superposition
    fraction: float
    # Where the evaluation attack's damage lands (chapter 6's anatomy table):
    represented_norm: np.ndarray  # mean ‖W_i‖ of the represented features
    attacked_norm: np.ndarray  # ‖W_i‖ of the feature the most damaging attack aims at
    own_share: np.ndarray  # share of the damage on that feature's own output (negative: the attack helps it)
    top_other_share: np.ndarray  # the largest share on any one other output

    @property
    def removed_at(self) -> float | None:
        """The smallest attack size in training whose model holds at most one feature per dimension
        (‖W‖_F²/m ≤ 1: no superposition left); None if none does."""
        done = np.flatnonzero(self.features_per_dimension <= 1.0)
        return float(self.attack[done[0]]) if len(done) else None


def adversarial_training(result: TrainResult, fraction: float = 0.1) -> AdversarialTraining:
    """Measure the models of an adversarial-training run (``tm.preset("adversarial_training")``): superposition,
    clean loss and vulnerability to the analytic attack of size ``fraction``, per attack size trained under."""
    if not isinstance(result, TrainResult):
        raise ConfigError(f"result must be a TrainResult (tm.train / tm.store.train), got {type(result).__name__}")
    experiment = result.experiment
    if not any(experiment.attack_fraction):
        raise ConfigError("result was not trained under attack: its experiment's attack_fraction is 0")
    model = result.best().double()  # float64, as in vulnerability
    x, target = (tensor.double() for tensor in evaluation_batch(experiment))
    importance = experiment.importance_tensor(per="setting").double()
    W = model.W.detach()
    baseline = no_superposition_model(experiment).double()
    attack = analytic_attack(model, x, target, importance, fraction)
    relative = attack.damage / analytic_attack(baseline, x, target, importance, fraction).damage
    with torch.no_grad():  # each output's part of the damage L′ − L (the loss is a mean over the features)
        change = (model(x + attack.delta[:, None, :]) - target) ** 2 - (model(x) - target) ** 2
        per_output = (importance[:, None, :] * change).mean(1) / experiment.model.n_features
    share = (per_output / attack.damage[:, None]).numpy()
    norms = W.norm(dim=1).numpy()
    represented = represented_features(W).numpy()
    rows = np.arange(len(norms))
    attacked = attack.feature.numpy()
    others = share.copy()
    others[rows, attacked] = -np.inf
    return AdversarialTraining(
        experiment=experiment,
        attack=experiment.attack_tensor(per="setting").numpy().astype(np.float64),
        features_per_dimension=(W.square().sum((1, 2)) / experiment.model.n_hidden).numpy().astype(np.float64),
        represented=represented.sum(1),
        clean_loss=result.best_losses.numpy().astype(np.float64),
        vulnerability=relative.numpy().astype(np.float64),
        fraction=fraction,
        represented_norm=np.array([n[r].mean() if r.any() else np.nan for n, r in zip(norms, represented)]),
        attacked_norm=norms[rows, attacked],
        own_share=share[rows, attacked],
        top_other_share=others.max(1),
    )
