"""Configuration: frozen, validated dataclasses with commented defaults.

An :class:`Experiment` is everything needed to reproduce one figure of the paper: the model
(:class:`ModelConfig`), the data (:class:`DataConfig`), the optimisation (:class:`TrainConfig`), and the
per-instance feature densities and importances that turn a sweep into one batched run.

Conventions (decided once for the whole project, see PAPER_NOTES §3):

* ``feature_probability`` is the density p = 1 - S (the paper's sparsity S is derived, never stored).
* Importances are indexed from 0, as in the paper and its notebook: ``I_i = base ** i``.
* Instances are laid out as ``setting * n_seeds + seed``: the ``n_seeds`` replicas of one setting are
  adjacent, so best-of-K is a reshape to ``(n_settings, n_seeds)`` and an argmin.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields

import numpy as np
import torch

from .errors import ConfigError
from .validation import described, one_of, positive_int, require

MODEL_KINDS = ("linear", "relu_output", "relu_hidden", "untied_relu_hidden", "untied_relu_output")
CORRELATIONS = ("none", "correlated", "anticorrelated")
ANTICORRELATED_CONVENTIONS = ("paper", "arena")
TARGETS = ("identity", "abs", "argmax")
# Output nonlinearities of the tied and hidden models (not of "linear"): x' = act(WᵀW x + b). "relu" is the paper's;
# "none" is the identity (the linear model's output); "softmax" is over the features and trains by cross-entropy
# against the "argmax" target (see toymodels.models).
ACTIVATIONS = ("relu", "gelu", "silu", "softplus", "sigmoid", "tanh", "none", "softmax")
LR_SCHEDULES = ("constant", "linear", "cosine", "half_cosine")
INITS = ("xavier", "notebook", "small")
DECODER_INITS = ("random", "transpose")
IMPORTANCE_WHEN = ("always", "alone")

Numeric = float | int | Sequence[float] | Sequence[Sequence[float]] | np.ndarray | torch.Tensor


def _plain_fields(config) -> None:
    """Check each field of a config dataclass against its annotation and store it as the plain Python value
    (``int``, ``float``, ``str``, ``bool``): NumPy scalars (``np.int64(5)`` from ``np.arange``) and a
    ``torch.device`` are accepted and converted, so that the store's JSON keys never see them; a string where a
    number belongs (``lr="0.1"``) is a ConfigError naming the field, never silently parsed."""
    for spec in dataclass_fields(config):
        name, kind, value = spec.name, spec.type, getattr(config, spec.name)
        if kind == "int":
            ok = isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
            plain = int(value) if ok else None
            expected = "an integer"
        elif kind == "float":
            ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
            plain = float(value) if ok else None
            expected = "a number"
        elif kind == "bool":
            ok = isinstance(value, (bool, np.bool_))
            plain = bool(value) if ok else None
            expected = "True or False"
        elif kind == "str":
            ok = isinstance(value, str) or (name == "device" and isinstance(value, torch.device))
            plain = str(value) if ok else None
            expected = "a torch device ('cpu', 'cuda', 'cuda:1')" if name == "device" else "a string"
        else:
            continue
        require(ok, f"{name} must be {expected}, got {described(value)}")
        object.__setattr__(config, name, plain)


@dataclass(frozen=True)
class ModelConfig:
    """The network: sizes and architecture (paper §2, §8, §10).

    ``kind``:
      * ``"linear"``:  x' = WᵀW x + b
      * ``"relu_output"``: x' = ReLU(WᵀW x + b)            (the paper's main toy model)
      * ``"relu_hidden"``: h = ReLU(W x), x' = ReLU(Wᵀh + b) (privileged basis, §8)
      * ``"untied_relu_hidden"``: h = ReLU(W x), y' = ReLU(W_out h + b)  (computation, §10)
      * ``"untied_relu_output"``: x' = ReLU(W_out W x + b), the ReLU-output model with a free decoder W_out
        instead of Wᵀ (the "why this model?" question: what does tying buy?)

    ``activation`` replaces the output ReLU of the last three by another nonlinearity (chapter 10): x' =
    act(WᵀW x + b) with act one of ``ACTIVATIONS``; "softmax" turns the output into a distribution over the
    features, trained by cross-entropy against ``DataConfig(target="argmax")``.

    Fields:
        n_features: n, the number of input features (an integer >= 1).
        n_hidden: m, the hidden dimensions or neurons (an integer >= 1).
        kind: one of ``MODEL_KINDS``, above.
        init: ``"xavier"`` (Xavier-normal per instance, std sqrt(2 / (n + m)); the default), ``"notebook"`` (the
            authors' notebook's Xavier on the 3-D tensor, whose scale depends on the number of instances) or
            ``"small"`` (Xavier × 0.1, for the energy-level jumps of chapter 5).
        l1_penalty: λ of the penalty λ·E‖h‖₁ on the hidden activations (chapter 9); 0 disables it.
        activation: the output nonlinearity, one of ``ACTIVATIONS`` (default ``"relu"``, the paper's).
        hidden_bias: a learned bias c in the hidden layer, h = W x + c (h = ReLU(W x + c) for the hidden-ReLU
            kinds); False, the paper's model, has none.
        decoder_init: how an untied model's decoder W_out starts: ``"random"`` (drawn like W; the default) or
            ``"transpose"`` (W_out = Wᵀ of the same initial W, so that training starts from the tied model).
    """

    n_features: int  # n: number of input features
    n_hidden: int  # m: hidden dimensions (neurons)
    kind: str = "relu_output"
    # "xavier": Xavier-normal per instance, std = sqrt(2 / (n + m)).
    # "notebook": the authors' notebook quirk, Xavier on the 3-D tensor, std = sqrt(2 / (m * (n + n_instances))).
    # "small": Xavier-normal × 0.1, the small start of the public replications that see energy-level jumps (§5).
    init: str = "xavier"
    l1_penalty: float = 0.0  # λ in λ·E‖h‖₁, the §9 "way out" of superposition; 0 disables it
    # The output nonlinearity act in x' = act(… + b) of every kind but "linear" (ACTIVATIONS; chapter 10).
    activation: str = "relu"
    hidden_bias: bool = False  # h = W x + c with a learned c (issue 36's "why no hidden bias?"); the paper has none
    # Untied kinds: W_out starts "random" (drawn like W) or at "transpose", Wᵀ of the initial W.
    decoder_init: str = "random"

    def __post_init__(self) -> None:
        _plain_fields(self)
        positive_int("n_features", self.n_features)
        positive_int("n_hidden", self.n_hidden)
        one_of("kind", self.kind, MODEL_KINDS)
        one_of("init", self.init, INITS)
        one_of("activation", self.activation, ACTIVATIONS)
        one_of("decoder_init", self.decoder_init, DECODER_INITS)
        require(
            self.decoder_init == "random" or not self.tied,
            f"decoder_init applies to the untied kinds (untied_relu_output, untied_relu_hidden), whose decoder is "
            f"free; kind={self.kind!r} decodes with Wᵀ (got decoder_init={self.decoder_init!r})",
        )
        require(
            self.kind != "linear" or self.activation == "relu",
            f"activation applies to the output of the non-linear kinds; kind='linear' has none (use kind="
            f"'relu_output' with activation='none'), got activation={self.activation!r}",
        )
        require(
            math.isfinite(self.l1_penalty) and self.l1_penalty >= 0,
            f"l1_penalty must be a finite number >= 0, got {self.l1_penalty!r}",
        )

    @property
    def tied(self) -> bool:
        return self.kind not in ("untied_relu_hidden", "untied_relu_output")

    @property
    def hidden_relu(self) -> bool:
        """Whether h = ReLU(W x): the models with a privileged hidden basis."""
        return self.kind in ("relu_hidden", "untied_relu_hidden")


@dataclass(frozen=True)
class DataConfig:
    """How synthetic features are drawn (paper §2 and §4.4). Each feature is 0 with probability S and otherwise
    uniform on [0, 1] (or [−1, 1], ``signed``); its density 1 − S is the experiment's ``feature_probability``.

    Fields:
        correlation: ``"none"`` (independent features; the default), ``"correlated"`` (each set of ``set_size``
            consecutive features is zero or non-zero together) or ``"anticorrelated"`` (at most one feature of a
            set is non-zero).
        set_size: features per correlated or anticorrelated set (1 when ``correlation`` is ``"none"``).
        anticorrelated_convention: ``"paper"`` (a set is active with probability p, then exactly one of its
            features fires: each feature's density is p / k) or ``"arena"`` (a set is active with probability
            k·p, so each feature keeps density p; needs k·p <= 1).
        signed: values uniform on [−1, 1] instead of [0, 1] (the absolute-value task of §10).
        target: what the model is trained to output: ``"identity"`` (x itself; the default), ``"abs"`` (|x|,
            with ``signed``) or ``"argmax"`` (the one-hot of the largest active feature, all zeros when none is
            active: the softmax output's class, by cross-entropy; another output learns it by squared error).
        importance_when: when a feature's importance counts in the loss: ``"always"`` (the paper) or ``"alone"``
            (conditional importance: only on samples where no other feature of its set of ``set_size`` is active,
            so that the features of a set are never important together; independent features only).
    """

    # "none": independent features; "correlated": each set of `set_size` features is zero or non-zero
    # together (one shared draw); "anticorrelated": at most one feature of a set is non-zero.
    correlation: str = "none"
    set_size: int = 1  # features per correlated / anticorrelated set; features are grouped consecutively
    # "paper": a set is active w.p. p and then exactly one of its features fires (per-feature density p/k).
    # "arena": a set is active w.p. k·p (needs k·p <= 1), so each feature keeps marginal density p.
    anticorrelated_convention: str = "paper"
    signed: bool = False  # values U[-1, 1] instead of U[0, 1] (for the absolute-value task, §10)
    # "identity": reconstruct x; "abs": predict |x|; "argmax": the one-hot of the largest active feature (all zeros
    # when none is active), the class a softmax output predicts (chapter 10)
    target: str = "identity"
    # "always": I_i weighs feature i's error on every sample (the paper); "alone": only on samples where no other
    # feature of its set is active (conditional importance, issue 36)
    importance_when: str = "always"

    def __post_init__(self) -> None:
        _plain_fields(self)
        one_of("correlation", self.correlation, CORRELATIONS)
        one_of("importance_when", self.importance_when, IMPORTANCE_WHEN)
        positive_int("set_size", self.set_size)
        one_of("anticorrelated_convention", self.anticorrelated_convention, ANTICORRELATED_CONVENTIONS)
        one_of("target", self.target, TARGETS)
        require(
            self.correlation != "none" or self.set_size == 1 or self.importance_when == "alone",
            f"set_size must be 1 when correlation is 'none' (and importance_when is 'always'), got {self.set_size}",
        )
        require(
            self.importance_when == "always" or (self.correlation == "none" and self.set_size >= 2),
            f"importance_when='alone' needs independent features (correlation='none') grouped in sets of "
            f"set_size >= 2; got correlation={self.correlation!r}, set_size={self.set_size}",
        )


def _decay_values(value) -> float | tuple[float, ...]:
    """``weight_decay`` as a float, or as a tuple of floats (one per setting) when a sequence of two or more."""
    if isinstance(value, (torch.Tensor, np.ndarray)):
        value = value.tolist()
    single = not isinstance(value, Sequence) or isinstance(value, str)
    values = [value] if single else list(value)
    ok = bool(values) and all(
        isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) and math.isfinite(v) for v in values
    )
    require(
        ok,
        f"weight_decay must be a finite number (>= 0: AdamW's decay; < 0: the pull of each feature's norm towards "
        f"1) or a non-empty sequence of them (one per setting), got {described(value)}",
    )
    return float(values[0]) if len(values) == 1 else tuple(float(v) for v in values)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation. Defaults are the authors' notebook: AdamW, lr 1e-3, PyTorch's weight decay 0.01,
    batch 1024, 10,000 steps, constant learning rate (the paper itself states none).

    Fields:
        steps: optimiser steps (an integer >= 1).
        batch_size: fresh samples per step and instance.
        lr: the learning rate (> 0).
        weight_decay: γ, AdamW's decoupled weight decay (0 gives plain Adam, as the ARENA course uses). A negative γ
            is Liu, Liu & Gore's (2025) "negative weight decay": before each step, every feature's column W_i of W
            moves by lr·γ·W_i·(1 − 1/‖W_i‖), pulling its norm towards 1 (biases and a free decoder get none). A
            sequence gives one γ per setting of the experiment (a sweep over weight decay in one batched run).
        decay_biases: whether a positive weight decay also decays the biases b and c (PyTorch's AdamW over every
            parameter, as the authors' notebook does; the default); False decays only the weight matrices W and
            W_out, as Liu, Liu & Gore do.
        lr_schedule: ``"constant"``, ``"linear"`` (decays to 0), ``"cosine"`` (the notebook's quarter cosine) or
            ``"half_cosine"`` (lr·(1 + cos(π·progress))/2, the usual cosine decay to 0).
        min_lr_fraction: where a decaying schedule ends, as a fraction f of ``lr`` (in [0, 1]; default 0): the
            schedule's shape s(t) from 1 to 0 becomes lr·(f + (1 − f)·s(t)) (Liu, Liu & Gore decay to 0.05·lr).
        warmup_steps: steps over which the learning rate first rises linearly to ``lr``; the schedule then runs over
            the remaining steps (0, the default, has no warm-up; Henighan et al. 2023 warm up over 2,500 of 50,000).
        seed: seeds the initial weights and every batch (an integer >= 0); the same seed gives the same weights
            however the instances are split across workers.
        snapshot_every: keep W, b and the loss every this many steps (``TrainResult.history``); 0 keeps none.
        eval_batches: fresh batches of ``batch_size`` on which each fit's final loss is measured (best-of-K
            selects by it); more batches tell close losses apart.
        halving_steps: best-of-K by successive halving: every fit trains this many steps, then only the best
            1/``halving_eta`` of each setting's fits go on for ``halving_eta`` times as many steps, and so on,
            never fewer than ``halving_finalists``, which train to the end; 0 trains every fit for all steps.
        halving_eta: the factor η of successive halving (an integer >= 2).
        halving_finalists: fits per setting that train to the end under successive halving.
        device: where to train: ``"cpu"`` (the default), ``"cuda"``, ``"cuda:1"`` or a ``torch.device``.
        threads: torch CPU threads while training (restored afterwards); 0 chooses by problem size (1 for small
            models, 2 for large ones), never by the machine, so that a seed gives the same weights everywhere.
        progress: show a progress bar (also silenced by the environment variable ``TOYMODELS_PROGRESS=0``).
    """

    steps: int = 10_000
    batch_size: int = 1024
    lr: float = 1e-3
    # Decoupled (AdamW); 0 gives plain Adam, as ARENA uses; < 0 pulls each feature's norm ‖W_i‖ towards 1 (Liu et al.)
    weight_decay: float | tuple[float, ...] = 0.01  # or one γ per setting of the experiment
    decay_biases: bool = True  # a positive decay also decays b and c (PyTorch's AdamW); False: W and W_out only
    lr_schedule: str = "constant"  # "constant" | "linear" (to 0) | "cosine" (the notebook's quarter) | "half_cosine"
    min_lr_fraction: float = 0.0  # a decaying schedule ends at this fraction of lr (Liu et al.: 0.05)
    seed: int = 0  # seeds the initial weights and every batch
    warmup_steps: int = 0  # a linear warm-up to lr over these steps, then the schedule over the rest
    snapshot_every: int = 0  # keep W, b and the loss every N steps for learning dynamics; 0 keeps none
    eval_batches: int = 4  # fresh batches used for the final per-instance loss (selection is by this loss)
    # Best-of-K by successive halving: every fit trains `halving_steps` steps, then only the best 1/η of each
    # setting's fits continue (η = `halving_eta`) for η times as many steps, and so on, never keeping fewer
    # than `halving_finalists`, which train to the end. 0 trains every fit for all steps.
    halving_steps: int = 0
    halving_eta: int = 4
    halving_finalists: int = 8
    device: str = "cpu"
    # torch CPU threads while training (restored afterwards). 0 chooses by problem size: 1 for small models
    # (more threads spin on barriers, badly so on a busy machine), 2 for large ones. The count never depends
    # on the machine, so a seed gives the same weights everywhere.
    threads: int = 0
    progress: bool = True  # a tqdm bar; also silenced by the environment variable TOYMODELS_PROGRESS=0

    def __post_init__(self) -> None:
        _plain_fields(self)
        positive_int("steps", self.steps)
        positive_int("batch_size", self.batch_size)
        require(math.isfinite(self.lr) and self.lr > 0, f"lr must be a finite number > 0, got {self.lr!r}")
        object.__setattr__(self, "weight_decay", _decay_values(self.weight_decay))
        one_of("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        require(
            0 <= self.min_lr_fraction <= 1,
            f"min_lr_fraction must be a number in [0, 1] (a fraction of lr), got {self.min_lr_fraction!r}",
        )
        require(
            self.min_lr_fraction == 0 or self.lr_schedule != "constant",
            f"min_lr_fraction applies to a decaying lr_schedule (linear, cosine, half_cosine), not 'constant' (got "
            f"min_lr_fraction={self.min_lr_fraction!r})",
        )
        require(
            0 <= self.warmup_steps < self.steps,
            f"warmup_steps must be an integer in [0, steps) = [0, {self.steps}), got {self.warmup_steps!r}",
        )
        require(
            self.seed >= 0,
            f"seed must be an integer >= 0, got {self.seed!r}",
        )
        require(
            self.snapshot_every >= 0,
            f"snapshot_every must be an integer >= 0 (0 = no snapshots), got {self.snapshot_every!r}",
        )
        positive_int("eval_batches", self.eval_batches)
        require(
            self.halving_steps >= 0,
            f"halving_steps must be an integer >= 0 (0 = no successive halving), got {self.halving_steps!r}",
        )
        require(
            self.halving_eta >= 2,
            f"halving_eta must be an integer >= 2, got {self.halving_eta!r}",
        )
        positive_int("halving_finalists", self.halving_finalists)
        require(
            not (self.halving_steps and self.snapshot_every),
            "snapshot_every must be 0 with successive halving (halving_steps > 0): instances change mid-run",
        )
        require(
            self.threads >= 0,
            f"threads must be an integer >= 0 (0 = automatic), got {self.threads!r}",
        )
        try:
            torch.device(self.device)
        except (RuntimeError, TypeError) as error:
            raise ConfigError(
                f"device must name a torch device such as 'cpu' or 'cuda', got {self.device!r}"
            ) from error
