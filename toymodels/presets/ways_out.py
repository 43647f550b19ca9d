"""Presets of §9 (chapter 9): strategic ways out of superposition."""

from __future__ import annotations

from ..config import ModelConfig
from ..experiment import Experiment, importance_decay
from .base import _train
from .superposition import basic


def l1_way_out(fast: bool = False) -> Experiment:
    """§9: the basic ReLU-output model with an L1 penalty on h (book's choice λ = 0.01)."""
    exp = basic(fast=fast)
    return exp.replace(l1_penalty=0.01, name=exp.name + ", L1 λ = 0.01")


def ways_out_relu(fast: bool = False) -> Experiment:
    """§9, chapter 9: the basic ReLU-output model (n=20, m=5, I_i = 0.7^i) at 1 − S = 0.03, where ten features
    share the five dimensions, best of 4 fits (fast: 1); the chapter sweeps its ``l1_penalty``."""
    return basic(fast=fast).replace(feature_probability=0.03, n_seeds=1 if fast else 4, name="ReLU output, n=20, m=5")


def ways_out_privileged(fast: bool = False) -> Experiment:
    """§9, chapter 9: the privileged-basis model (n=10, m=5, I_i = 0.75^i) at 1 − S = 0.05, where every neuron
    is polysemantic, best of 4 fits (fast: 1); the chapter sweeps its ``l1_penalty``."""
    return Experiment(
        ModelConfig(n_features=10, n_hidden=5, kind="relu_hidden"),
        feature_probability=0.05,
        importance=importance_decay(10, 0.75),
        n_seeds=1 if fast else 4,
        train=_train(fast),
        name="Privileged basis, n=10, m=5",
    )


def sae_toy(fast: bool = False) -> Experiment:
    """§9, chapter 9: the model whose hidden activations the SAEs learn from: n=64 features of equal importance
    in m=16 dimensions at 1 − S = 0.02, all 64 represented, about four to a dimension (book's choice)."""
    return Experiment(
        ModelConfig(n_features=64, n_hidden=16),
        feature_probability=0.02,
        train=_train(fast),
        name="SAE toy, n=64, m=16",
    )


# Chapter 10 (beyond the paper): output nonlinearities other than the ReLU. ReLU's §2 sweep is "basic_relu" itself.
