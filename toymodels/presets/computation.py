"""Presets of §10 (chapter 8): computation in superposition, the absolute value."""

from __future__ import annotations

from ..config import DataConfig, ModelConfig
from ..errors import ConfigError
from ..experiment import Experiment, importance_decay
from .base import BASIC_SWEEP, _train


def absolute_value(n_features: int = 3, n_hidden: int = 6, density=1.0, decay: float = 1.0, fast: bool = False):
    """§10: compute |x| with h = ReLU(W x), y' = ReLU(W_out h + b) on signed inputs."""
    return Experiment(
        ModelConfig(n_features=n_features, n_hidden=n_hidden, kind="untied_relu_hidden"),
        feature_probability=density,
        importance=importance_decay(n_features, decay),
        n_seeds=1 if fast else 3,
        data=DataConfig(signed=True, target="abs"),
        train=_train(fast),
        name=f"Absolute value, n={n_features}, m={n_hidden}",
    )


# Chapter 8's convergence check: the n = 100 sweep under the notebook's protocol and two longer ones with a
# cosine decay, a larger learning rate and smaller batches (more gradient noise), which the dense models need to
# leave duplicated neurons (book's choice; 30,000 steps; evaluation on 8,192 samples, as the notebook's 4,096).
SWEEP_PROTOCOLS = {
    "notebook": {},
    "lr 1e-2, batch 256": dict(lr=1e-2, lr_schedule="cosine", batch_size=256, steps=30_000, eval_batches=32),
    "lr 3e-2, batch 128": dict(lr=3e-2, lr_schedule="cosine", batch_size=128, steps=30_000, eval_batches=64),
}


def computation_sweep(protocol: str = "notebook", fast: bool = False) -> Experiment:
    """§10: |x| for 100 features with 40 neurons, I_i = 0.8^i, over the seven densities, best of 3 fits, trained
    by one of ``SWEEP_PROTOCOLS`` (fast: 2,000 steps, 1 fit)."""
    if protocol not in SWEEP_PROTOCOLS:
        raise ConfigError(f"protocol must be one of {', '.join(map(repr, SWEEP_PROTOCOLS))}; got {protocol!r}")
    exp = absolute_value(100, 40, BASIC_SWEEP, decay=0.8, fast=fast)
    if protocol == "notebook":
        return exp
    options = dict(SWEEP_PROTOCOLS[protocol], **({"steps": 2_000} if fast else {}))
    return exp.replace(**options, name=f"{exp.name}, {protocol}")


MOTIF_DENSITIES = (0.5, 0.35, 0.2, 0.1, 0.05)  # book's choice: ARENA's 0.35 and the densities around it


def asymmetric_motif_search(fast: bool = False) -> Experiment:
    """§10: ARENA's motif setting (n = 10 features of equal importance, m = 10 neurons) over ``MOTIF_DENSITIES``,
    10 fits each (fast: 3), every fit searched for the asymmetric-superposition motif (chapter 8)."""
    return absolute_value(10, 10, MOTIF_DENSITIES, fast=fast).replace(
        n_seeds=3 if fast else 10, name="Asymmetric motif search, n=10, m=10"
    )


def absolute_value_live(fast: bool = False) -> Experiment:
    """§10's live slider: the n = 3, m = 6 model, best of 3 fits of 3,000 steps at lr 1e-2 (a second or two)."""
    return absolute_value(fast=fast).replace(steps=3000, lr=1e-2, n_seeds=3, progress=False)
