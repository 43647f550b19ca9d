"""An experiment: a model, its data and its training, over a sweep of settings (densities and importances) with
several fits (seeds) per setting; and the importance and density helpers the presets use."""

from __future__ import annotations

import difflib
import math
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch

from .config import DataConfig, ModelConfig, Numeric, TrainConfig
from .errors import ConfigError
from .validation import as_float64, described, one_of, positive_int, require


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
        decay = (
            np.atleast_1d(np.array(self.train.weight_decay, dtype=np.float64))
            if isinstance(self.train, TrainConfig)
            else np.zeros(1)
        )
        rows = {len(prob), len(imp), len(attack), len(decay)}
        require(
            len(rows - {1}) <= 1,
            f"feature_probability has {len(prob)} settings, importance {len(imp)}, attack_fraction "
            f"{len(attack)} and train.weight_decay {len(decay)}; they must match or be 1",
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
        if self.data.importance_when == "alone":
            k = self.data.set_size
            require(n % k == 0, f"n_features={n} must be a multiple of set_size={k} for importance_when='alone'")
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
            labels = _derive_labels(
                prob_array, imp_array, np.broadcast_to(attack, n_settings), np.broadcast_to(decay, n_settings)
            )
            object.__setattr__(self, "setting_labels", labels)

    @property
    def n_settings(self) -> int:
        decays = self.train.weight_decay
        return max(
            len(self.feature_probability),
            len(self.importance),
            len(self.attack_fraction),
            len(decays) if isinstance(decays, tuple) else 1,
        )

    @property
    def n_instances(self) -> int:
        return self.n_settings * self.n_seeds

    def probability_tensor(self, per: str = "instance", device: str | torch.device = "cpu") -> torch.Tensor:
        """Densities as a float32 tensor, ``(n_instances, n_features)`` or ``(n_settings, n_features)``."""
        return self._tensor(self.feature_probability, per, device)

    def densities(self) -> np.ndarray:
        """Densities as the experiment states them, ``(n_settings, n_features)`` float64, for analysis and theory
        (the trainer samples with the float32 :meth:`probability_tensor`)."""
        return np.broadcast_to(
            np.array(self.feature_probability, dtype=np.float64), (self.n_settings, self.model.n_features)
        )

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

    def weight_decay_tensor(self, per: str = "instance", device: str | torch.device = "cpu") -> torch.Tensor:
        """The weight decay γ of each instance (``(n_instances,)``) or setting (``(n_settings,)``), float32: the
        training's one γ, or its one per setting."""
        decays = self.train.weight_decay
        return self._tensor([[g] for g in decays] if isinstance(decays, tuple) else [[decays]], per, device)[:, 0]

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


def _derive_labels(prob: np.ndarray, imp: np.ndarray, attack: np.ndarray, decay: np.ndarray) -> tuple[str, ...]:
    """Label settings by what varies across them: a density (as 1-S) or an importance, an attack size and a weight
    decay."""
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
    if np.ptp(decay) > 0:
        parts.append(tuple(f"weight decay {g:.3g}" for g in decay))
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


def power_law_densities(n_features: int, alpha: float, total: float = 1.0) -> tuple[float, ...]:
    """Feature densities following a power law, p_i ∝ i^(−α) for i = 1..n, scaled so that they sum to ``total`` (the
    expected number of active features per sample): Liu, Liu & Gore's (2025) frequencies, whose ``total`` is 1.
    α = 0 gives every feature the density total/n."""
    positive_int("n_features", n_features)
    require(
        isinstance(alpha, (int, float)) and math.isfinite(alpha) and alpha >= 0,
        f"alpha must be a finite number >= 0, got {alpha!r}",
    )
    require(
        isinstance(total, (int, float)) and 0 < total <= n_features,
        f"total (expected active features per sample) must be a number in (0, n_features={n_features}], got {total!r}",
    )
    weights = np.arange(1, n_features + 1, dtype=np.float64) ** -float(alpha)
    densities = total * weights / weights.sum()
    require(
        densities[0] <= 1,
        f"total={total!r} gives the first feature a density {densities[0]:.3g} > 1 at alpha={alpha!r}: lower total",
    )
    return tuple(float(p) for p in densities)
