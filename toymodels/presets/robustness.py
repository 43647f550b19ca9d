"""Presets of §6 (chapter 6): superposition and adversarial vulnerability."""

from __future__ import annotations

from ..config import ModelConfig
from ..experiment import Experiment, log_densities
from .base import _train


def adversarial(fast: bool = False) -> Experiment:
    """§6: uniform models over a sparsity sweep, for the analytic attack. Book's choice of size (n=100, m=20).
    Snapshots every 2,500 steps serve the reproduce check as checkpoints."""
    return Experiment(
        ModelConfig(n_features=100, n_hidden=20),
        feature_probability=log_densities(1.0, 0.01, 6 if fast else 16),
        importance=1.0,
        train=_train(fast, steps=20_000, snapshot_every=0 if fast else 2_500),
        name="Adversarial vulnerability, n=100, m=20",
    )


ADVERSARIAL_TRAINING_ATTACKS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def adversarial_training(fast: bool = False) -> Experiment:
    """§6: the same model trained under the analytic attack on a random feature, at attack sizes from 0 to 100 %
    of the mean input norm, at one density where the undefended model is deep in superposition (book's choice
    1−S = 0.03)."""
    attacks = ADVERSARIAL_TRAINING_ATTACKS[::3] if fast else ADVERSARIAL_TRAINING_ATTACKS
    return Experiment(
        ModelConfig(n_features=100, n_hidden=20),
        feature_probability=0.03,
        importance=1.0,
        attack_fraction=attacks,
        # 10,000 steps (the notebook's): an attacked step costs about 1.7 plain ones.
        train=_train(fast, steps=10_000, snapshot_every=0 if fast else 2_000),
        name="Adversarial training, n=100, m=20, 1−S = 0.03",
    )


def adversarial_live(fast: bool = False) -> Experiment:
    """§6's live widget: one smaller model (n=40, m=10) trained on demand, then attacked."""
    return Experiment(
        ModelConfig(n_features=40, n_hidden=10),
        feature_probability=0.05,
        train=_train(fast, steps=3_000, fast_steps=500, progress=False),
        name="Adversarial vulnerability, live, n=40, m=10",
    )
