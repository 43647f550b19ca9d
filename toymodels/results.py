"""What training returns: :class:`TrainResult` (the model of every fit, their losses, which fits won) and its
snapshots (:class:`History`), and how a result is rebuilt from named arrays (a worker's share, a store entry)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .errors import ConfigError
from .experiment import Experiment
from .models import ToyModel


@dataclass
class History:
    """Snapshots taken every ``snapshot_every`` steps (and after the last step).

    Fields:
        steps: ``(n_snapshots,)`` the step of each snapshot.
        W: ``(n_snapshots, n_instances, n_hidden, n_features)`` the weights then.
        b: ``(n_snapshots, n_instances, n_features)`` the output bias then.
        losses: ``(n_snapshots, n_instances)`` the training batch's loss then (the last: the evaluation loss).
        W_out: ``(n_snapshots, n_instances, n_features, n_hidden)`` the output weights of untied models; else None.
        c: ``(n_snapshots, n_instances, n_hidden)`` the hidden bias of models with one; else None.
    """

    steps: torch.Tensor  # (n_snapshots,)
    W: torch.Tensor  # (n_snapshots, n_instances, n_hidden, n_features)
    b: torch.Tensor  # (n_snapshots, n_instances, n_features)
    losses: torch.Tensor  # (n_snapshots, n_instances): training-batch loss (the last: the evaluation loss)
    W_out: torch.Tensor | None = None  # untied models only
    c: torch.Tensor | None = None  # models with a hidden bias only


@dataclass
class TrainResult:
    """What :func:`train` returns. Instances are laid out as ``setting * k + j``, with ``k`` fits per setting:
    all ``n_seeds``, or the survivors of successive halving.

    Fields:
        experiment: the :class:`~toymodels.config.Experiment` that was trained.
        model: the trained :class:`~toymodels.models.ToyModel`, every instance (``model.W``: ``(n_instances,
            n_hidden, n_features)``; ``model(x)`` takes ``x`` of shape ``(n_instances, batch, n_features)``, the
            instance axis first; ARENA's course puts the batch first).
        losses: ``(n_instances,)`` each fit's final loss on fresh evaluation batches (``eval_batches``), by which
            best-of-K selects.
        history: the snapshots (:class:`History`) if ``snapshot_every`` > 0, else None.
        seeds: ``(n_instances,)`` which of the ``n_seeds`` fits each instance is (after halving, the survivors').

    ``best()`` gives the best-of-K model, one instance per setting; ``best_index``, ``best_seed`` and
    ``best_losses`` say which fits won and their losses.
    """

    experiment: Experiment
    # Laid out as setting * k + j with k fits per setting: all n_seeds, or the survivors of successive halving.
    model: ToyModel
    losses: torch.Tensor  # (n_instances,) final loss on fresh evaluation batches
    history: History | None = None
    seeds: torch.Tensor | None = None  # (n_instances,) which of the n_seeds fits each instance is

    @property
    def fits_per_setting(self) -> int:
        return self.model.n_instances // self.experiment.n_settings

    @property
    def best_index(self) -> torch.Tensor:
        """Instance index of the best fit of each setting, (n_settings,)."""
        k = self.fits_per_setting
        best = self.losses.view(self.experiment.n_settings, k).argmin(dim=1)
        return torch.arange(len(best), device=best.device) * k + best

    @property
    def best_seed(self) -> torch.Tensor:
        """Which of the n_seeds fits won in each setting, (n_settings,)."""
        index = self.best_index
        return index % self.fits_per_setting if self.seeds is None else self.seeds[index]

    def best(self) -> ToyModel:
        """The best-of-K model: one instance per setting."""
        return self.model.select(self.best_index)

    @property
    def best_losses(self) -> torch.Tensor:
        return self.losses[self.best_index]


def result_from_arrays(experiment: Experiment, arrays: dict) -> TrainResult:
    """A :class:`TrainResult` from named arrays (tensors or NumPy arrays): ``W``, ``b``, ``losses``, ``seeds``,
    ``W_out`` for untied models, ``c`` for a hidden bias, and ``history_*`` when snapshots were kept; what a block's
    :meth:`Block.finish` and a results-store entry hold."""
    device = torch.device(experiment.train.device)
    tensor = {name: torch.as_tensor(value) for name, value in arrays.items()}
    model = ToyModel.from_arrays(
        experiment.model, tensor["W"], tensor["b"], tensor.get("W_out"), device=device, c=tensor.get("c")
    )
    history = None
    if "history_steps" in tensor:
        history = History(
            tensor["history_steps"],
            tensor["history_W"],
            tensor["history_b"],
            tensor["history_losses"],
            tensor.get("history_W_out"),
            tensor.get("history_c"),
        )
    return TrainResult(experiment, model, tensor["losses"].to(device), history, tensor["seeds"].to(device))


def result_of(experiment: Experiment, W, b=None, losses=None, W_out=None, c=None) -> TrainResult:
    """A :class:`TrainResult` holding given weights as if ``experiment`` had trained them: for models built by hand
    (an ideal polytope, a constructed circuit) that the analysis, tables and figures should read as trained ones.
    ``W`` (n_instances, m, n), laid out setting-major as the trainer does (instance = setting · k + fit, k fits
    per setting); ``b`` (n_instances, n), default 0; ``losses`` one per instance, default 0; ``W_out``
    (n_instances, n, m) for untied models; ``c`` (n_instances, m) for a hidden bias, default 0. Held as float32,
    as the trainer holds its results."""
    W = torch.as_tensor(W)
    if W.ndim != 3 or len(W) % experiment.n_settings:
        raise ConfigError(
            f"W must have shape (n_instances, n_hidden, n_features) with n_instances a multiple of the "
            f"experiment's {experiment.n_settings} settings, got {tuple(W.shape)}"
        )
    b = torch.zeros(len(W), W.shape[-1]) if b is None else torch.as_tensor(b)
    losses = torch.zeros(len(W)) if losses is None else torch.as_tensor(losses).reshape(-1)
    if len(losses) != len(W):
        raise ConfigError(f"losses must hold one loss per instance ({len(W)}), got {len(losses)}")
    if c is None and experiment.model.hidden_bias:
        c = torch.zeros(len(W), W.shape[1])
    model = ToyModel.from_arrays(experiment.model, W, b, W_out, c=c)
    return TrainResult(experiment, model, losses.to(torch.float32))


def _joined(parts: list[dict]) -> dict:
    """Blocks' arrays concatenated in block order (along the instance axis; the snapshot steps are shared)."""
    return {
        name: parts[0][name]
        if name == "history_steps"
        else torch.cat([part[name] for part in parts], dim=1 if name.startswith("history_") else 0)
        for name in parts[0]
    }
