"""Presets of Chapter 10 (beyond the paper): output nonlinearities other than the ReLU."""

from __future__ import annotations

import numpy as np

from ..config import DataConfig, ModelConfig
from ..experiment import Experiment
from ..grids import r_major
from .base import _train
from .superposition import basic, phase_change

NONLINEARITIES = ("relu", "gelu", "silu", "softplus", "sigmoid", "tanh", "none")
# Chapter 10's runs keep snapshots every this many steps (a quarter of the run): checkpoints that let the
# reproduce check (tools/verify_store.py --sample) re-train only the first quarter of a block.
_CHECKPOINTS = 2_500


def nonlinearity_sweep(activation: str = "gelu", fast: bool = False) -> Experiment:
    """Chapter 10: the §2 setup (n=20, m=5, I_i = 0.7^i, the seven densities, best of 3) with the output
    nonlinearity ``activation``, with checkpoints every 2,500 steps; for "relu" it is ``basic_relu`` (the same store
    entry). Fast: 1,000 steps, no checkpoints."""
    exp = basic(fast=fast)
    if activation == "relu":
        return exp
    return exp.replace(
        activation=activation,
        steps=1_000 if fast else exp.train.steps,
        snapshot_every=0 if fast else _CHECKPOINTS,
        name=f"{activation} output, n=20, m=5",
    )


def nonlinearity_phase(activation: str = "relu", fast: bool = False) -> Experiment:
    """Chapter 10: the §3 n=2, m=1 diagram with the output nonlinearity ``activation``, by the phase chapter's
    protocol on a coarser grid (book's choice, for the time budget: 7 × 7 points, r from 0.1 to 10 and 1 − S from
    1 to 0.01, 6 fits each, 5,000 steps with checkpoints every 1,250; fast: 4 × 4, 3 fits, 1,000 steps)."""
    size = 4 if fast else 7
    r, p = r_major(np.geomspace(0.1, 10, size), np.geomspace(1.0, 0.01, size))
    importance = np.ones((r.size, 2))
    importance[:, -1] = r
    return phase_change(2, fast=fast).replace(
        activation=activation,
        feature_probability=p,
        importance=importance,
        n_seeds=3 if fast else 6,
        steps=1_000 if fast else 5_000,
        snapshot_every=0 if fast else _CHECKPOINTS // 2,
        name=f"Phase change, n=2, m=1, {activation} output",
        setting_labels=tuple(f"r = {ri:.3g}, 1−S = {pi:.3g}" for ri, pi in zip(r, p)),
    )


def softmax_sweep(fast: bool = False) -> Experiment:
    """Chapter 10's softmax task on the §2 setup: logits WᵀW x + b, a softmax over the 20 features, and the
    cross-entropy against the largest active feature (``target="argmax"``), importance-weighted (I_i = 0.7^i);
    the seven densities, best of 2 (book's choice, for the time budget; fast: 1 fit of 1,000 steps)."""
    exp = basic(fast=fast)
    return exp.replace(
        activation="softmax",
        target="argmax",
        n_seeds=1 if fast else 2,
        steps=1_000 if fast else exp.train.steps,
        snapshot_every=0 if fast else _CHECKPOINTS,
        name="softmax output, n=20, m=5",
    )


def argmax_relu(fast: bool = False) -> Experiment:
    """The softmax task's control (chapter 10): the same one-hot target of the largest active feature, learnt by
    the ReLU output with the book's squared error, everything else as ``softmax_sweep``; it separates what the
    task does from what the softmax does."""
    return softmax_sweep(fast).replace(activation="relu", name="relu output, one-hot target, n=20, m=5")


def nonlinearity_browser(fast: bool = False) -> Experiment:
    """Chapter 10's live fit in the reader's browser: ``nonlinearity_live`` trained with the browser's protocol
    (a thousand steps of batch 256 at learning rate 0.01, best of 4; book's choice: at densities 0.1, 0.03 and
    0.01 it finds the kernel widget's represented counts to within one feature and its in-superposition counts
    to within two, for ReLU, GELU, SiLU, tanh, sigmoid and the linear output, in about a second in the browser).
    The softmax is not in the browser's trainer."""
    return nonlinearity_live(fast).replace(
        steps=1_000, batch_size=256, lr=0.01, name="Output nonlinearities, n=20, m=5 (live, in the browser)"
    )


def nonlinearity_live(fast: bool = False) -> Experiment:
    """Chapter 10's live widget: the §2 model at one density, the best of 4 fits of 2,000 steps at learning rate
    5e-3 (book's choice: about a second a redraw on 2 cores; at 1 − S = 0.01 it finds the full protocol's counts
    to within one feature for ReLU, GELU, tanh and the softmax, and 3 fewer for sigmoid, whose large negative
    biases take longer). The nonlinearity is chosen by the widget."""
    return basic(fast=fast).replace(
        feature_probability=0.03,
        n_seeds=4,
        steps=500 if fast else 2_000,
        lr=5e-3,
        progress=False,
        name="Output nonlinearities, n=20, m=5 (live)",
    )


def softmax_geometry(fast: bool = False) -> Experiment:
    """Chapter 10's softmax task with 6 features of equal importance in 2 dimensions (book's choice, drawn in
    the plane), at densities 1 to 0.01, best of 3 (fast: 2 fits of 1,000 steps)."""
    return Experiment(
        ModelConfig(n_features=6, n_hidden=2, activation="softmax"),
        feature_probability=(1.0, 0.3, 0.1, 0.03, 0.01),
        importance=1.0,
        n_seeds=2 if fast else 3,
        data=DataConfig(target="argmax"),
        train=_train(fast, fast_steps=1_000, snapshot_every=0 if fast else _CHECKPOINTS),
        name="softmax output, 6 features in 2 dimensions",
    )
