"""§8: a trained privileged-basis experiment read fit by fit: precise losses, regimes and neuron counts of every
fit, the lowest-loss fit of each density, and best-of-K for smaller K (how much the protocol matters).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from ..experiment import Experiment
from ..results import TrainResult
from ..train import evaluate
from .analysis import Neurons, neurons
from .losses import fit_losses


@dataclass(frozen=True)
class PrivilegedSweep:
    """Every fit of a trained privileged-basis experiment. Arrays are (S,) over densities or (S, K) over the fits
    the result holds (all n_seeds, or the survivors of successive halving)."""

    name: str
    density: np.ndarray  # (S,)
    importance: np.ndarray  # (n,)
    n_seeds: int  # fits trained per density (K of best-of-K)
    halving: bool  # trained by successive halving (the result holds only the finalists)
    seeds: np.ndarray  # (S, K) which of the n_seeds fits each is
    W: np.ndarray  # (S, K, m, n)
    b: np.ndarray  # (S, K, n)
    loss: np.ndarray  # (S, K) precise expected loss (per sample, summed over features)
    trainer_loss: np.ndarray  # (S, K) the trainer's evaluation loss (4 batches, mean over features)
    regime: np.ndarray  # (S, K) str
    represented: np.ndarray  # (S, K) features represented
    monosemantic: np.ndarray  # (S, K) monosemantic neurons
    best: np.ndarray  # (S,) index of the lowest precise loss
    # (S, K) each fit's loss on 4 fresh batches, as the trainer ranks by default (mean over features); only for a
    # run that trained every fit (the trainer's evaluation needs every instance), else None
    four_batch_loss: np.ndarray | None = None

    @property
    def best_W(self) -> np.ndarray:
        return self.W[np.arange(len(self.best)), self.best]

    @property
    def best_b(self) -> np.ndarray:
        return self.b[np.arange(len(self.best)), self.best]

    @property
    def best_loss(self) -> np.ndarray:
        return self.loss[np.arange(len(self.best)), self.best]

    def best_neurons(self, s: int) -> Neurons:
        return neurons(self.best_W[s])

    def best_of(self, k: int) -> np.ndarray:
        """(S,) index of the lowest precise loss among the fits with seed < k: best-of-k from the same run (all
        fits must be held, i.e. a run without successive halving)."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= self.n_seeds:
            raise ConfigError(f"k must be an integer in [1, {self.n_seeds}], got {k!r}")
        if self.seeds.shape[1] != self.n_seeds:
            raise ConfigError("best_of needs every fit: a run without successive halving (halving_steps=0)")
        return np.where(self.seeds < k, self.loss, np.inf).argmin(-1)

    def index(self, density: float) -> int:
        """The setting nearest ``density``."""
        return int(np.abs(np.log(self.density) - np.log(density)).argmin())


def privileged_sweep(result: TrainResult, n_points: int = 1024) -> PrivilegedSweep:
    """Read every fit of a trained ``tm.preset("privileged_basis")`` (or any relu_hidden sweep of densities): its
    precise loss (:func:`toymodels.privileged.fit_losses`), regime, features represented and monosemantic
    neurons; the lowest precise loss picks each density's fit."""
    experiment = result.experiment
    if experiment.model.kind != "relu_hidden":
        raise ConfigError(f"result must be of a relu_hidden model (h = ReLU(W x)), got kind {experiment.model.kind!r}")
    S, K = experiment.n_settings, result.fits_per_setting
    n = experiment.model.n_features
    probability = np.broadcast_to(np.array(experiment.feature_probability, dtype=np.float64), (S, n))
    importance = np.broadcast_to(np.array(experiment.importance, dtype=np.float64), (S, n))
    if not (np.allclose(probability, probability[:, :1]) and np.allclose(importance, importance[0])):
        raise ConfigError("result must sweep one density for all features, with one importance vector")
    W = result.model.W.detach().double().numpy().reshape(S, K, *result.model.W.shape[1:])
    b = result.model.b.detach().double().numpy().reshape(S, K, n)
    loss = fit_losses(result, n_points)
    readings = [[neurons(w) for w in row] for row in W]
    four = None
    if result.model.n_instances == experiment.n_instances:
        four = evaluate(result.model, experiment, n_batches=4).double().numpy().reshape(S, K)
    return PrivilegedSweep(
        name=experiment.name,
        density=probability[:, 0].copy(),
        importance=importance[0].copy(),
        n_seeds=experiment.n_seeds,
        halving=bool(experiment.train.halving_steps),
        seeds=np.tile(np.arange(K), (S, 1)) if result.seeds is None else result.seeds.numpy().reshape(S, K).copy(),
        W=W,
        b=b,
        loss=loss,
        trainer_loss=result.losses.double().numpy().reshape(S, K),
        regime=np.array([[r.regime for r in row] for row in readings], dtype=object),
        represented=np.array([[r.n_represented for r in row] for row in readings]),
        monosemantic=np.array([[r.monosemantic for r in row] for row in readings]),
        best=loss.argmin(-1),
        four_batch_loss=four,
    )


def independent_draws(experiment: Experiment, densities=(0.15, 0.12), draws: int = 5) -> tuple[Experiment, ...]:
    """``draws`` independent repetitions of ``experiment``'s protocol (the chapter's 1000 fits by successive
    halving) at ``densities``, each with its own training seed (1 to ``draws``; the chapter's own run is seed 0):
    how often each regime wins when the whole protocol is run again."""
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 1:
        raise ConfigError(f"draws must be a positive integer, got {draws!r}")
    return tuple(
        experiment.replace(feature_probability=list(densities), seed=k, name=f"{experiment.name}, draw {k}")
        for k in range(1, draws + 1)
    )
