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

import difflib
import math
import numbers
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from dataclasses import fields as dataclass_fields

import numpy as np
import torch

from .errors import ConfigError
from .validation import as_float64, described, one_of, positive_int, require

MODEL_KINDS = ("linear", "relu_output", "relu_hidden", "untied_relu_hidden")
CORRELATIONS = ("none", "correlated", "anticorrelated")
ANTICORRELATED_CONVENTIONS = ("paper", "arena")
TARGETS = ("identity", "abs", "argmax")
# Output nonlinearities of the tied and hidden models (not of "linear"): x' = act(WᵀW x + b). "relu" is the paper's;
# "none" is the identity (the linear model's output); "softmax" is over the features and trains by cross-entropy
# against the "argmax" target (see toymodels.models).
ACTIVATIONS = ("relu", "gelu", "silu", "softplus", "sigmoid", "tanh", "none", "softmax")
LR_SCHEDULES = ("constant", "linear", "cosine")
INITS = ("xavier", "notebook", "small")

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

    def __post_init__(self) -> None:
        _plain_fields(self)
        positive_int("n_features", self.n_features)
        positive_int("n_hidden", self.n_hidden)
        one_of("kind", self.kind, MODEL_KINDS)
        one_of("init", self.init, INITS)
        one_of("activation", self.activation, ACTIVATIONS)
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
        return self.kind != "untied_relu_hidden"

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

    def __post_init__(self) -> None:
        _plain_fields(self)
        one_of("correlation", self.correlation, CORRELATIONS)
        positive_int("set_size", self.set_size)
        one_of("anticorrelated_convention", self.anticorrelated_convention, ANTICORRELATED_CONVENTIONS)
        one_of("target", self.target, TARGETS)
        require(
            self.correlation != "none" or self.set_size == 1,
            f"set_size must be 1 when correlation is 'none', got {self.set_size}",
        )


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation. Defaults are the authors' notebook: AdamW, lr 1e-3, PyTorch's weight decay 0.01,
    batch 1024, 10,000 steps, constant learning rate (the paper itself states none).

    Fields:
        steps: optimiser steps (an integer >= 1).
        batch_size: fresh samples per step and instance.
        lr: the learning rate (> 0).
        weight_decay: AdamW's decoupled weight decay (>= 0; 0 gives plain Adam, as the ARENA course uses).
        lr_schedule: ``"constant"``, ``"linear"`` (decays to 0) or ``"cosine"`` (the notebook's quarter cosine).
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
    weight_decay: float = 0.01  # decoupled (AdamW); 0 gives plain Adam, as ARENA uses
    lr_schedule: str = "constant"  # "constant" | "linear" (to 0) | "cosine" (the notebook's quarter cosine)
    seed: int = 0  # seeds the initial weights and every batch
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
        require(
            math.isfinite(self.weight_decay) and self.weight_decay >= 0,
            f"weight_decay must be a finite number >= 0, got {self.weight_decay!r}",
        )
        one_of("lr_schedule", self.lr_schedule, LR_SCHEDULES)
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


def _as_matrix(name: str, value: Numeric, row_means: str) -> tuple[tuple[float, ...], ...]:
    """Normalise a scalar, 1-D or 2-D array-like to a tuple-of-tuples matrix.

    ``row_means`` says how a 1-D input is read: "settings" (one value per setting, shared by all features)
    or "features" (one value per feature, shared by all settings)."""
    array = as_float64(name, value)
    if array.ndim == 0:
        array = array.reshape(1, 1)
    elif array.ndim == 1:
        array = array.reshape(-1, 1) if row_means == "settings" else array.reshape(1, -1)
    require(array.ndim == 2, f"{name} must be a scalar, a 1-D or a 2-D array, got {array.ndim} dimensions")
    require(array.size > 0, f"{name} must not be empty")
    return tuple(tuple(float(v) for v in row) for row in array)


@dataclass(frozen=True)
class Experiment:
    """One batched run: ``n_settings`` (density, importance) settings, each fitted ``n_seeds`` times.

    ``feature_probability`` (p = 1 - S) broadcasts to ``(n_settings, n_features)``: a scalar is shared by
    everything, a 1-D sequence gives one density per *setting* (a sparsity sweep), a 2-D array gives
    per-setting, per-feature densities (non-uniform sparsity).
    ``importance`` broadcasts the same way, except that a 1-D sequence gives one importance per *feature*
    (``importance_decay(n, 0.9)``); pass a 2-D array to vary importance across settings.

    Fields:
        model: the :class:`ModelConfig`.
        feature_probability: the density 1 − S of each feature, in (0, 1] (**not** the sparsity S: pass 1 − S).
        importance: each feature's weight I_i in the loss (>= 0).
        n_seeds: fits per setting; the one with the lowest evaluation loss is kept (best-of-K).
        data: the :class:`DataConfig`.
        train: the :class:`TrainConfig`.
        name: used in figure titles and the store's file names.
        setting_labels: one label per setting for sliders; derived from what varies when empty.
        attack_fraction: adversarial training (paper §6): a scalar or one value per setting, the size of the
            analytic attack added to every training input as a fraction of the batch's mean input norm; 0: none.

    ``replace(**changes)`` makes a copy with fields of the experiment or of its three configurations changed by
    name (``exp.replace(steps=500, n_hidden=3)``).
    """

    model: ModelConfig
    feature_probability: Numeric = 1.0
    importance: Numeric = 1.0
    n_seeds: int = 1  # fits per setting; the lowest-loss one is kept (best-of-K)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    name: str = "experiment"  # used in figure titles
    setting_labels: tuple[str, ...] = ()  # one label per setting for sliders; derived when empty
    # Adversarial training (paper §6): a scalar or one value per setting, the size of the analytic attack added to
    # every training input, as a fraction of the batch's mean input norm (see :mod:`toymodels.block`); 0: none.
    attack_fraction: Numeric = 0.0

    def __post_init__(self) -> None:
        require(isinstance(self.model, ModelConfig), f"model must be a ModelConfig, got {described(self.model)}")
        require(isinstance(self.name, str), f"name must be a string, got {described(self.name)}")
        n = self.model.n_features
        prob = _as_matrix("feature_probability", self.feature_probability, row_means="settings")
        imp = _as_matrix("importance", self.importance, row_means="features")
        for label, matrix in (("feature_probability", prob), ("importance", imp)):
            width = len(matrix[0])
            require(
                width in (1, n),
                f"{label} must have 1 or n_features={n} columns, got {width}",
            )
        attack = as_float64("attack_fraction", self.attack_fraction)
        require(attack.ndim <= 1, f"attack_fraction must be a scalar or one value per setting, got {attack.ndim}-D")
        attack = attack.reshape(-1)
        require(
            attack.size > 0 and bool(np.all(np.isfinite(attack) & (attack >= 0))),
            f"attack_fraction must be finite and >= 0 (a fraction of the mean input norm), got {attack.tolist()!r}",
        )
        rows = {len(prob), len(imp), len(attack)}
        require(
            len(rows - {1}) <= 1,
            f"feature_probability has {len(prob)} settings, importance {len(imp)} and attack_fraction "
            f"{len(attack)}; they must match or be 1",
        )
        n_settings = max(rows)
        prob_array = np.broadcast_to(np.array(prob), (n_settings, n))
        imp_array = np.broadcast_to(np.array(imp), (n_settings, n))
        require(
            bool(np.all((prob_array > 0) & (prob_array <= 1))),
            f"feature_probability must lie in (0, 1], got values from {prob_array.min():g} to {prob_array.max():g}"
            + _sparsity_hint(prob_array),
        )
        require(
            bool(np.all(np.isfinite(imp_array) & (imp_array >= 0))),
            f"importance must be finite and >= 0, got values from {imp_array.min():g} to {imp_array.max():g}",
        )
        positive_int("n_seeds", self.n_seeds)
        object.__setattr__(self, "n_seeds", int(self.n_seeds))
        require(isinstance(self.data, DataConfig), f"data must be a DataConfig, got {described(self.data)}")
        require(isinstance(self.train, TrainConfig), f"train must be a TrainConfig, got {described(self.train)}")
        if self.data.correlation != "none":
            k = self.data.set_size
            require(n % k == 0, f"n_features={n} must be a multiple of set_size={k} for correlated/anticorrelated data")
            sets = prob_array.reshape(n_settings, n // k, k)
            require(
                bool(np.all(sets == sets[..., :1])),
                "feature_probability must be equal within each correlated/anticorrelated set",
            )
            if self.data.correlation == "anticorrelated" and self.data.anticorrelated_convention == "arena":
                require(
                    bool(np.all(prob_array * k <= 1)),
                    f"with the 'arena' anticorrelated convention, set_size * feature_probability must be <= 1 "
                    f"(got up to {prob_array.max() * k:g})",
                )
        if self.data.target == "abs":
            require(self.data.signed, "target 'abs' needs signed data (DataConfig(signed=True))")
        require(
            self.model.activation != "softmax" or self.data.target == "argmax",
            f"activation 'softmax' (cross-entropy) needs target 'argmax' (a class); got target {self.data.target!r} "
            "(another output may also be trained on 'argmax', by squared error against the one-hot target)",
        )
        # Store normalised matrices, (1 or n_settings, n_features), so equal experiments compare (and hash)
        # equal; a single row stays single, so `replace` can change the other one's number of settings.
        for name, matrix in (("feature_probability", prob), ("importance", imp)):
            object.__setattr__(
                self, name, tuple(map(tuple, np.broadcast_to(np.array(matrix), (len(matrix), n)).tolist()))
            )
        object.__setattr__(self, "attack_fraction", tuple(float(a) for a in attack))
        if self.setting_labels:
            require(
                not isinstance(self.setting_labels, str),
                f"setting_labels must be a sequence of strings, one per setting, got {described(self.setting_labels)}",
            )
            object.__setattr__(self, "setting_labels", tuple(str(label) for label in self.setting_labels))
            require(
                len(self.setting_labels) == n_settings,
                f"setting_labels must have one label per setting ({n_settings}), got {len(self.setting_labels)}",
            )
        else:
            labels = _derive_labels(prob_array, imp_array, np.broadcast_to(attack, n_settings))
            object.__setattr__(self, "setting_labels", labels)

    @property
    def n_settings(self) -> int:
        return max(len(self.feature_probability), len(self.importance), len(self.attack_fraction))

    @property
    def n_instances(self) -> int:
        return self.n_settings * self.n_seeds

    def probability_tensor(self, per: str = "instance", device: str | torch.device = "cpu") -> torch.Tensor:
        """Densities as a float32 tensor, ``(n_instances, n_features)`` or ``(n_settings, n_features)``."""
        return self._tensor(self.feature_probability, per, device)

    def density_per_setting(self) -> torch.Tensor:
        """One density per setting, ``(n_settings,)`` float32: the first feature's, which in a sparsity sweep (all
        features at one density) is the setting's density, the x axis of the sweep's figures."""
        return self.probability_tensor(per="setting")[:, 0]

    def importance_tensor(self, per: str = "instance", device: str | torch.device = "cpu") -> torch.Tensor:
        """Importances as a float32 tensor, ``(n_instances, n_features)`` or ``(n_settings, n_features)``."""
        return self._tensor(self.importance, per, device)

    def attack_tensor(self, per: str = "instance", device: str | torch.device = "cpu") -> torch.Tensor:
        """Adversarial-training attack sizes as a float32 tensor, ``(n_instances,)`` or ``(n_settings,)``."""
        return self._tensor([[a] for a in self.attack_fraction], per, device)[:, 0]

    def _tensor(self, matrix, per: str, device) -> torch.Tensor:
        one_of("per", per, ("instance", "setting"))
        values = torch.tensor(matrix, dtype=torch.float32, device=device).expand(self.n_settings, -1)
        return values.repeat_interleave(self.n_seeds, dim=0) if per == "instance" else values

    def to_dict(self) -> dict:
        """Every field as plain JSON values (lists, numbers, strings), for :meth:`from_dict` and the results
        store."""
        return {
            "model": asdict(self.model),
            "data": asdict(self.data),
            "train": asdict(self.train),
            "feature_probability": [list(row) for row in self.feature_probability],
            "importance": [list(row) for row in self.importance],
            "n_seeds": self.n_seeds,
            "name": self.name,
            "setting_labels": list(self.setting_labels),
            "attack_fraction": list(self.attack_fraction),
        }

    @classmethod
    def from_dict(cls, fields: dict) -> Experiment:
        """The experiment :meth:`to_dict` described (validated like any other)."""
        try:
            return cls(
                ModelConfig(**fields["model"]),
                fields["feature_probability"],
                fields["importance"],
                fields["n_seeds"],
                DataConfig(**fields["data"]),
                TrainConfig(**fields["train"]),
                fields["name"],
                tuple(fields["setting_labels"]),
                fields.get("attack_fraction", 0.0),  # absent from entries written before it existed
            )
        except (KeyError, TypeError) as error:
            raise ConfigError(f"not an experiment's fields ({error}): {fields!r:.200}") from error

    def replace(self, **changes) -> Experiment:
        """A copy with some fields changed; ``model``, ``data`` and ``train`` fields may be given by name
        (``exp.replace(steps=500, n_hidden=3)``). Labels are re-derived unless given."""
        groups = {"model": ModelConfig, "data": DataConfig, "train": TrainConfig}
        updates: dict = {}
        for key, value in changes.items():
            owner = next((g for g, cls in groups.items() if key in cls.__dataclass_fields__), None)
            if key in Experiment.__dataclass_fields__:
                updates[key] = value
            elif owner is not None:
                updates.setdefault(owner, {})[key] = value
            else:
                known = list(Experiment.__dataclass_fields__) + [
                    f for cls in groups.values() for f in cls.__dataclass_fields__
                ]
                near = difflib.get_close_matches(key, known, n=1)
                raise ConfigError(
                    f"unknown experiment field {key!r}"
                    + (f"; did you mean {near[0]!r}?" if near else "")
                    + f" (fields of Experiment, ModelConfig, DataConfig and TrainConfig: {', '.join(known)})"
                )
        for group in groups:
            if isinstance(updates.get(group), dict):
                updates[group] = replace(getattr(self, group), **updates[group])
        if "setting_labels" not in updates and (
            {"feature_probability", "importance", "attack_fraction"} & updates.keys()
        ):
            updates["setting_labels"] = ()
        return replace(self, **updates)


def _sparsity_hint(density: np.ndarray) -> str:
    """A hint when densities outside (0, 1] look like sparsities S: all in [0, 1) with a 0 (S = 0, dense)."""
    if density.size and density.min() == 0 and density.max() < 1:
        return (
            ". feature_probability is the density 1 − S (the probability that a feature is non-zero), not the "
            "sparsity S: these values look like S, for which pass 1 − S"
        )
    return ""


def _derive_labels(prob: np.ndarray, imp: np.ndarray, attack: np.ndarray) -> tuple[str, ...]:
    """Label settings by what varies across them: a density (as 1-S) or an importance, and an attack size."""
    n_settings = prob.shape[0]
    if n_settings == 1:
        return ("",)
    parts: list[tuple[str, ...]] = []
    prob_spread, imp_spread = np.ptp(prob, axis=0), np.ptp(imp, axis=0)
    if prob_spread.max() > 0:
        column = int(prob_spread.argmax())
        prefix = "1−S" if prob_spread.min() > 0 else f"p[{column}]"
        parts.append(tuple(f"{prefix} = {p:.3g}" for p in prob[:, column]))
    elif imp_spread.max() > 0:
        column = int(imp_spread.argmax())
        parts.append(tuple(f"I[{column}] = {i:.3g}" for i in imp[:, column]))
    if np.ptp(attack) > 0:
        parts.append(tuple(f"attack {a:.3g}" for a in attack))
    if not parts:
        return tuple(f"setting {k}" for k in range(n_settings))
    return tuple(", ".join(labels) for labels in zip(*parts))


def importance_decay(n_features: int, base: float) -> tuple[float, ...]:
    """Geometric importances I_i = base ** i, i = 0..n-1 (the paper indexes from 0; ARENA from 1)."""
    positive_int("n_features", n_features)
    require(math.isfinite(base) and base > 0, f"base must be a finite number > 0, got {base!r}")
    return tuple(float(base**i) for i in range(n_features))


def log_densities(start: float, stop: float, num: int) -> tuple[float, ...]:
    """``num`` densities log-spaced from ``start`` to ``stop`` (both in (0, 1])."""
    positive_int("num", num)
    for name, value in (("start", start), ("stop", stop)):
        require(0 < value <= 1, f"{name} must lie in (0, 1], got {value!r}")
    return tuple(float(v) for v in np.geomspace(start, stop, num))
