"""Chapter 12's measurements: what the paper's design choices buy, read from stored sweeps.

Every quantity is computed in float64 from the stored weights, and losses are measured on fresh seeded batches in
float64 (:func:`toymodels.train.evaluate`), so that a printed digit does not depend on the CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..errors import ConfigError
from ..experiment import Experiment
from ..metrics import ARRANGEMENTS, classify_sets, represented_features, set_cosines, superposition
from ..models import ToyModel
from ..results import TrainResult
from ..train import Trainer, evaluate
from ..vocabulary import ANTIPODAL_COS, INTERFERING, REPRESENTED_NORM, unit_columns

EVAL_BATCHES = 512  # batches of the experiment's size (1,024) on which a best fit's loss is measured


def _loss(model, experiment: Experiment, n_batches: int) -> np.ndarray:
    return evaluate(model, experiment, n_batches=n_batches, dtype=torch.float64).numpy()


def initial_weights(result: TrainResult) -> dict[str, np.ndarray]:
    """Every fit's weights before its first step (float64 arrays by name): ``result``'s snapshot at step 0 when it
    kept one (the stored bits), else drawn again as the trainer draws them (``torch.randn``, whose last bits depend
    on the CPU's instruction set)."""
    history = result.history
    if history is not None and int(history.steps[0]) == 0:
        named = {"W": history.W, "W_out": history.W_out, "c": history.c, "b": history.b}
        return {name: value[0].double().numpy() for name, value in named.items() if value is not None}
    return {name: value.double().numpy() for name, value in Trainer(result.experiment).model.weights().items()}


@dataclass(frozen=True)
class DecoderFits:
    """The best fit of each setting of a sweep, read as an encoder W and a decoder D (Wᵀ for a tied model), (S, …)
    over its S settings. A feature is represented when its self-term D_i·W_i exceeds ``REPRESENTED_NORM``² (for a
    tied model, ‖W_i‖ > ``REPRESENTED_NORM``); with a hidden ReLU, when ‖W_i⁺‖ does (:mod:`toymodels.metrics`)."""

    name: str
    density: np.ndarray  # (S,) 1 − S
    loss: np.ndarray  # (S,) float64 loss on EVAL_BATCHES fresh batches
    W: np.ndarray  # (S, m, n) encoder
    decoder: np.ndarray  # (S, n, m) D: Wᵀ when tied
    b: np.ndarray  # (S, n) output bias
    c: np.ndarray | None  # (S, m) hidden bias, for a model with one
    start_self_term: np.ndarray  # (S, n) D_i·W_i of the same fit at initialisation
    hidden_relu: bool

    @property
    def self_term(self) -> np.ndarray:
        """(S, n) D_i·W_i: how feature i's own direction reads back as feature i (‖W_i‖² when tied)."""
        return np.einsum("sim,smi->si", self.decoder, self.W)

    @property
    def represented(self) -> np.ndarray:
        if self.hidden_relu:
            return represented_features(self.W, hidden_relu=True).numpy()
        return self.self_term > REPRESENTED_NORM**2

    @property
    def cosine(self) -> np.ndarray:
        """(S, n) cos(D_i, W_i) between feature i's decoder row and encoder column (1 when tied; 0 if either is 0)."""
        encoder, _ = unit_columns(self.W)
        decoder, _ = unit_columns(np.swapaxes(self.decoder, 1, 2))
        return (encoder * decoder).sum(1)

    @property
    def norm_ratio(self) -> np.ndarray:
        """(S, n) ‖D_i‖ / ‖W_i‖ for the represented features, NaN for the others."""
        ratio = np.linalg.norm(self.decoder, axis=2) / np.maximum(np.linalg.norm(self.W, axis=1), 1e-300)
        return np.where(self.represented, ratio, np.nan)

    @property
    def product(self) -> np.ndarray:
        """(S, n, n) P = D W: entry (i, j) is how feature j, active alone, moves output i before the bias and the
        ReLU (WᵀW for a tied model)."""
        return np.einsum("sim,smj->sij", self.decoder, self.W)

    @property
    def positive_interference(self) -> np.ndarray:
        """(S,) the mean of max(P_ij, 0) over ordered pairs i ≠ j of represented features: the interference that
        reaches the ReLU with the sign that passes it (negative P_ij is cut by the ReLU for free); 0 without pairs."""
        both = self.represented[:, :, None] & self.represented[:, None, :]
        both &= ~np.eye(self.W.shape[-1], dtype=bool)
        total = np.where(both, np.maximum(self.product, 0.0), 0.0).sum((1, 2))
        return total / np.maximum(both.sum((1, 2)), 1)

    @property
    def asymmetry(self) -> np.ndarray:
        """(S,) ‖P − Pᵀ‖_F / ‖P + Pᵀ‖_F of the product P = D W: 0 for a Gram matrix WᵀW, larger as feature j's
        interference on i and i's on j part. Unlike D's rows, P does not change under W → A W, D → D A⁻¹ (any
        invertible A on the hidden space), which leaves an untied model's function unchanged."""
        P = self.product
        Pt = np.swapaxes(P, 1, 2)
        return np.linalg.norm(P - Pt, axis=(1, 2)) / np.maximum(np.linalg.norm(P + Pt, axis=(1, 2)), 1e-300)

    @property
    def antipodal_pairs(self) -> np.ndarray:
        """(S,) pairs of represented features whose encoder directions are opposite (cos ≤ ``ANTIPODAL_COS``); exact
        antipodes stay antipodes under any invertible linear map of the hidden space, so an untied model's count
        means the same as a tied one's."""
        unit, _ = unit_columns(self.W)
        cos = np.einsum("smi,smj->sij", unit, unit)
        both = self.represented[:, :, None] & self.represented[:, None, :]
        return (np.triu(both & (cos <= ANTIPODAL_COS), 1)).sum((1, 2))


def decoder_fits(result: TrainResult, n_batches: int = EVAL_BATCHES) -> DecoderFits:
    """:class:`DecoderFits` of ``result``'s best fits (best-of-K by the trainer's evaluation loss)."""
    experiment = result.experiment
    best, index = result.best(), result.best_index.cpu().numpy()
    weights = {name: value.double().cpu().numpy() for name, value in best.weights().items()}
    start = initial_weights(result)
    start_decoder = start.get("W_out", np.swapaxes(start["W"], 1, 2))[index]
    decoder = weights.get("W_out", np.swapaxes(weights["W"], 1, 2))
    return DecoderFits(
        name=experiment.name,
        density=experiment.density_per_setting(),
        loss=_loss(best, experiment, n_batches),
        W=weights["W"],
        decoder=decoder,
        b=weights["b"],
        c=weights.get("c"),
        start_self_term=np.einsum("sim,smi->si", start_decoder, start["W"][index]),
        hidden_relu=experiment.model.hidden_relu,
    )


def loss_over_training(result: TrainResult, at=None, n_batches: int = EVAL_BATCHES) -> tuple[np.ndarray, np.ndarray]:
    """The snapshot steps ``at`` (default: every snapshot of ``result``), (K,), and the float64 loss (K, S) of each
    setting's finally best fit at each of them, on ``n_batches`` fresh batches: the batches of
    :func:`decoder_fits`, so that the last snapshot's loss is its ``loss``."""
    history = result.history
    if history is None:
        raise ConfigError(f"{result.experiment.name!r} kept no snapshots: train it with snapshot_every > 0")
    steps = history.steps.numpy()
    at = steps if at is None else np.asarray(at)
    missing = sorted(set(at.tolist()) - set(steps.tolist()))
    if missing:
        raise ConfigError(
            f"at must name snapshot steps of {result.experiment.name!r} ({steps.tolist()}), got {missing}"
        )
    index = result.best_index.cpu()
    config = result.experiment.model
    losses = []
    for k in (int(np.flatnonzero(steps == step)[0]) for step in at):
        pick = {
            name: None if value is None else value[k][index]
            for name, value in (("W", history.W), ("b", history.b), ("W_out", history.W_out), ("c", history.c))
        }
        model = ToyModel.from_arrays(config, pick["W"], pick["b"], pick["W_out"], c=pick["c"])
        losses.append(_loss(model, result.experiment, n_batches))
    return at, np.array(losses)


@dataclass(frozen=True)
class HiddenBiasEffect:
    """A sweep with a hidden bias c beside the same sweep without one, (S,) over settings. Without a hidden
    nonlinearity, Wᵀ(W x + c) + b = WᵀW x + (Wᵀc + b): c only moves the output bias, to b + Wᵀc."""

    density: np.ndarray
    loss_ratio: np.ndarray  # loss with c / loss without
    largest_c: np.ndarray  # max_j |c_j| of the best fit
    effective_bias: np.ndarray  # (S, n) b + Wᵀc
    bias_gap: np.ndarray  # max_i |(b + Wᵀc)_i − b_i of the model without c|
    represented: tuple[np.ndarray, np.ndarray]  # represented features (with c, without)


def hidden_bias_effect(with_bias: DecoderFits, without: DecoderFits) -> HiddenBiasEffect:
    """How a hidden bias changes a sweep (both :class:`DecoderFits` of tied models over the same settings)."""
    if with_bias.c is None or without.c is not None or with_bias.hidden_relu or without.hidden_relu:
        raise ConfigError("with_bias must be a tied model with a hidden bias c, without one without (no hidden ReLU)")
    if not np.array_equal(with_bias.density, without.density):
        raise ConfigError("with_bias and without must sweep the same densities")
    effective = with_bias.b + np.einsum("smi,sm->si", with_bias.W, with_bias.c)
    return HiddenBiasEffect(
        density=with_bias.density,
        loss_ratio=with_bias.loss / without.loss,
        largest_c=np.abs(with_bias.c).max(1),
        effective_bias=effective,
        bias_gap=np.abs(effective - without.b).max(1),
        represented=(with_bias.represented.sum(1), without.represented.sum(1)),
    )


FEATURE_ROLES = ("dedicated", "in superposition", "dropped")


@dataclass(frozen=True)
class GramReading:
    """What the picture of WᵀW and b says about each feature of a tied model, for several models (frames): a
    represented feature is "dedicated" when the others' overlap with it, Σ_{j≠i}(Ŵ_i·W_j)², is at most
    ``INTERFERING``, else "in superposition"; an unrepresented one is "dropped" and outputs its bias b_i."""

    labels: tuple[str, ...]
    density: np.ndarray  # (F,) 1 − S of each frame (NaN for the random initialisation)
    W: np.ndarray  # (F, m, n)
    b: np.ndarray  # (F, n)
    role: np.ndarray  # (F, n) index into FEATURE_ROLES

    def count(self, role: str) -> np.ndarray:
        return (self.role == FEATURE_ROLES.index(role)).sum(1)

    @property
    def negative_bias_in_superposition(self) -> np.ndarray:
        """(F,) features in superposition whose bias is negative: it cuts the interference the ReLU sees."""
        return ((self.role == FEATURE_ROLES.index("in superposition")) & (self.b < 0)).sum(1)

    @property
    def dropped_bias_gap(self) -> np.ndarray:
        """(F,) largest |b_i − E[x_i]| over the dropped features (E[x_i] = p/2: a dropped feature's best constant
        output is its mean); NaN for a frame without a dropped feature or without a density."""
        mean = self.density[:, None] / 2
        gap = np.where(self.role == FEATURE_ROLES.index("dropped"), np.abs(self.b - mean), -np.inf).max(1)
        return np.where(np.isfinite(gap), gap, np.nan)


def gram_reading(result: TrainResult, densities) -> GramReading:
    """The random initialisation of ``result``'s best fit at the first of ``densities``, then the best fit at each
    of ``densities`` (each one of the sweep's), read as :class:`GramReading` frames. Tied models only."""
    experiment = result.experiment
    if not experiment.model.tied or experiment.model.hidden_relu:
        raise ConfigError("result must be a tied model without a hidden ReLU (its picture is WᵀW)")
    swept = experiment.density_per_setting()
    settings = []
    for p in densities:
        match = np.flatnonzero(np.isclose(swept, p))
        if not len(match):
            raise ConfigError(f"densities must be among the sweep's {swept.tolist()}, got {p!r}")
        settings.append(int(match[0]))
    best = result.best()
    index = result.best_index.cpu().numpy()
    start = initial_weights(result)
    W = np.concatenate([start["W"][index[settings[0]]][None], best.W.detach().double().numpy()[settings]])
    b = np.concatenate([start["b"][index[settings[0]]][None], best.b.detach().double().numpy()[settings]])
    represented = represented_features(W).numpy()
    crowded = superposition(W).numpy() > INTERFERING
    role = np.where(represented, np.where(crowded, 1, 0), 2)
    labels = ("random start",) + tuple(f"1−S = {float(swept[s]):g}" for s in settings)
    return GramReading(labels, np.concatenate([[np.nan], swept[settings]]), W, b, role)


@dataclass(frozen=True)
class PairArrangements:
    """How the pairs (features 2k, 2k + 1) of every fit of a pairs experiment lie (:func:`classify_sets`)."""

    name: str
    share: dict[str, float]  # arrangement → share of all fits' pairs
    mean_cosine: float  # mean cos between partners, over all fits' pairs
    best: tuple[str, ...]  # the best fit's pairs
    loss: float  # the best fit's loss on its own objective
    W: np.ndarray  # (m, n) the best fit's weights
    b: np.ndarray  # (n,)


def pair_arrangements(result: TrainResult, n_batches: int = EVAL_BATCHES) -> PairArrangements:
    """:class:`PairArrangements` of a pairs experiment (one setting, ``tm.presets.importance_pairs``)."""
    experiment = result.experiment
    if experiment.n_settings != 1 or experiment.model.n_features % 2:
        raise ConfigError("result must be one setting of pairs of features (tm.presets.importance_pairs)")
    W = result.model.W.detach().double().numpy()
    arrangement = classify_sets(W, 2)
    best = int(result.best_index[0])
    return PairArrangements(
        name=experiment.name,
        share={name: float((arrangement == k).mean()) for k, name in enumerate(ARRANGEMENTS)},
        mean_cosine=float(set_cosines(W, 2)[..., 0, 1].mean()),
        best=tuple(ARRANGEMENTS[k] for k in arrangement[best]),
        loss=float(_loss(result.best(), experiment, n_batches)[0]),
        W=W[best],
        b=result.model.b.detach().double().numpy()[best],
    )


def cross_losses(results: dict[str, TrainResult], n_batches: int = EVAL_BATCHES) -> np.ndarray:
    """(trained on, evaluated on): each named result's best fit measured on every named experiment's objective,
    so that a model trained for one definition is scored by another (all must share n, m and the model)."""
    models = {name: result.best() for name, result in results.items()}
    configs = {result.experiment.model for result in results.values()}
    if len(configs) != 1 or any(result.experiment.n_settings != 1 for result in results.values()):
        raise ConfigError("results must be one-setting experiments of one model configuration")
    return np.array(
        [[_loss(model, result.experiment, n_batches)[0] for result in results.values()] for model in models.values()]
    )
