"""Presets of the "why this model?" chapter (chapter 12): the §2 sweep (n = 20, m = 5, I_i = 0.7^i, the paper's
seven densities) with one design choice of the paper's model changed at a time, and pairs of features whose
importance depends on which other features are active."""

from __future__ import annotations

from ..config import DataConfig, ModelConfig
from ..errors import ConfigError
from ..experiment import Experiment
from .superposition import basic

DECODERS = ("tied", "random", "transpose")  # Wᵀ; a free W_out drawn like W; a free W_out that starts at Wᵀ
# Book's choice: 16× the paper's 10,000 steps, with a snapshot every 10,000 (the first is the paper's protocol):
# the free decoder's sparse end still improves from 40,000 to 160,000 steps, the tied model's does not.
LONG_STEPS = 160_000
SNAPSHOT_EVERY = 10_000
FAST_LONG_STEPS, FAST_SNAPSHOT_EVERY = 2_000, 500  # the same in CI's fast mode
PAIR_CONDITIONS = ("independent", "alone", "anticorrelated")
PAIR_DENSITY = 0.05  # each feature's own density in the pairs experiment


def decoder_sweep(decoder: str = "transpose", steps: int = 10_000, fast: bool = False) -> Experiment:
    """The §2 ReLU sweep with the decoder ``decoder``: ``"tied"`` (Wᵀ, the paper's), ``"random"`` (a free W_out
    drawn like W) or ``"transpose"`` (a free W_out that starts at Wᵀ); ``steps`` of training, with a snapshot every
    ``SNAPSHOT_EVERY`` steps when they are more than the paper's 10,000 (fast: 2,000 steps, snapshots every 500
    for a long run)."""
    if decoder not in DECODERS:
        raise ConfigError(f"decoder must be one of {DECODERS}, got {decoder!r}")
    if decoder == "tied":
        experiment = basic(fast=fast)
        if steps == 10_000:
            return experiment  # the §2 chapter's own sweep (and store entry)
    else:
        experiment = basic(kind="untied_relu_output", fast=fast).replace(decoder_init=decoder)
    label = {"tied": "tied decoder Wᵀ", "random": "free decoder, random start", "transpose": "free decoder from Wᵀ"}
    long = steps > 10_000
    return experiment.replace(
        steps=(FAST_LONG_STEPS if long else 2_000) if fast else steps,
        snapshot_every=(FAST_SNAPSHOT_EVERY if fast else SNAPSHOT_EVERY) if long else 0,
        name=f"n=20, m=5, {label[decoder]}" + (f", {steps:,} steps" if long else ""),
    )


def decoder_checkpoints(fast: bool = False) -> tuple[int, int, int]:
    """The steps at which chapter 12 reads the long decoder sweeps' snapshots: the paper's 10,000, then 4× and 16×
    as many (fast: a quarter, half and all of the fast run's steps)."""
    return (500, 1_000, FAST_LONG_STEPS) if fast else (10_000, 40_000, LONG_STEPS)


def hidden_bias_sweep(fast: bool = False) -> Experiment:
    """The §2 ReLU sweep with a learned bias in the hidden layer: h = W x + c."""
    return basic(fast=fast).replace(hidden_bias=True, name="n=20, m=5, hidden bias")


def hidden_relu_sweep(fast: bool = False) -> Experiment:
    """The §2 sweep with a ReLU on the hidden layer too (the privileged-basis model of §7): h = ReLU(W x)."""
    return basic(kind="relu_hidden", fast=fast).replace(name="n=20, m=5, hidden ReLU")


def importance_pairs(condition: str = "alone", fast: bool = False) -> Experiment:
    """Ten pairs of features (n = 20) in m = 5, every importance 1, each feature active with probability 0.05:
    ``"independent"`` (the paper's loss), ``"alone"`` (conditional importance: a feature's error counts only
    while its partner is silent, so the two are never important together) or ``"anticorrelated"`` (the partners
    are never active together, §4.4, in the convention that keeps each feature's density). Best of 20 fits."""
    if condition not in PAIR_CONDITIONS:
        raise ConfigError(f"condition must be one of {PAIR_CONDITIONS}, got {condition!r}")
    data = {
        "independent": DataConfig(),
        "alone": DataConfig(importance_when="alone", set_size=2),
        "anticorrelated": DataConfig(correlation="anticorrelated", set_size=2, anticorrelated_convention="arena"),
    }[condition]
    return Experiment(
        ModelConfig(n_features=20, n_hidden=5),
        feature_probability=PAIR_DENSITY,
        importance=1.0,
        n_seeds=4 if fast else 20,
        data=data,
        train=basic(fast=fast).train,
        name=f"10 pairs in 5 dimensions, {condition}",
    )
