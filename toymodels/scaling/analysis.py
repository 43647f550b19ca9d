"""Chapter 13's analysis: Liu, Liu & Gore's (2025) toy model of neural scaling, read from the results store.

A run (:func:`scaling_run`) trains one experiment of the scaling presets (every (γ, α) of a grid at one width m) and
keeps what the chapter reads, not the weights (W at m = 128 is 512 kB a fit): the loss on the trainer's evaluation
batches at log-spaced checkpoints (the loss over training), each feature's final norm ‖W_i‖ (the represented
fraction φ = share of ‖W_i‖ > 1/2, the paper's φ_{1/2}) and the mean squared overlap of the represented features'
directions (the paper's geometric reason for 1/m). The store's ``scaling-run`` kind holds them; its reproduce check
re-trains the first block up to the first checkpoint at or after a tenth of the run and compares the losses there.

Everything the chapter prints is computed here from those arrays in float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import store
from ..block import blocks
from ..errors import ConfigError
from ..experiment import Experiment
from ..train import Trainer
from ..vocabulary import REPRESENTED_NORM, unit_columns

KIND = "scaling-run"
KIND_VERSION = 1
N_CHECKPOINTS = 24  # log-spaced evaluation steps from 10 to the end of a run
VALUE_SQUARE = 1 / 3  # E[v²] of an active feature's value v ~ U[0, 1] (Liu et al.'s U[0, 2]: 4/3)


def checkpoints(steps: int) -> tuple[int, ...]:
    """The steps at which a run's loss is measured: about ``N_CHECKPOINTS`` log-spaced from 10 (or 1) to ``steps``."""
    first = min(10, steps)
    return tuple(int(s) for s in np.unique(np.round(np.geomspace(first, steps, N_CHECKPOINTS)).astype(int)))


def _mean_square_overlap(W: np.ndarray, chosen: np.ndarray) -> float:
    """Mean over pairs i < j of the chosen features of cos²(W_i, W_j), in float64 (NaN with fewer than two)."""
    unit, _ = unit_columns(W[:, chosen])
    k = unit.shape[1]
    if k < 2:
        return float("nan")
    gram = unit.T @ unit
    return float((np.square(gram).sum() - np.square(np.diag(gram)).sum()) / (k * (k - 1)))


def _train_arrays(experiment: Experiment, steps: tuple[int, ...], block_range=None, cores=None) -> dict:
    """Train ``experiment`` (or its blocks ``block_range``), evaluating the loss at every step of ``steps``; the
    losses (len(steps), fits) and, at the last step, each feature's norm and the represented features' overlap."""
    trainer = Trainer(experiment, block_range=block_range, cores=cores)
    losses = []
    for step in steps:
        trainer.run(step - trainer.step)
        losses.append(trainer.evaluate())
    loss = torch.stack(losses).numpy()
    if not np.isfinite(loss).all():
        raise ConfigError(f"{experiment.name!r}: a loss is not finite; lower lr (now {experiment.train.lr:g})")
    W = trainer.model.W.detach().numpy().astype(np.float64)
    norms = np.linalg.norm(W, axis=1)
    overlap = [_mean_square_overlap(w, n > REPRESENTED_NORM) for w, n in zip(W, norms)]
    return {"loss": loss, "norms": norms.astype(np.float32), "overlap": np.array(overlap)}


def _arrays(spec: dict) -> dict[str, np.ndarray]:
    experiment = Experiment.from_dict(spec["experiment"])
    steps = tuple(spec["checkpoints"])
    return {"steps": np.array(steps, dtype=np.int64)} | _train_arrays(experiment, steps)


def _sample(spec: dict, stored: dict) -> tuple[str, dict, dict]:
    """Re-train the first block to the first checkpoint at or after a tenth of the run; compare its losses."""
    experiment = Experiment.from_dict(spec["experiment"])
    steps = tuple(spec["checkpoints"])
    last = next(k for k, s in enumerate(steps) if s >= experiment.train.steps / 10)
    start, stop = blocks(experiment)[0]
    # (fits, checkpoints): the store's checks judge each fit (first axis) by its loss
    fresh = {"loss": _train_arrays(experiment, steps[: last + 1], block_range=(0, 1), cores=1)["loss"].T}
    part = {"loss": stored["loss"][: last + 1, start:stop].T}
    what = f"block 0 (instances {start}–{stop - 1}), its first {steps[last]:,} of {experiment.train.steps:,} steps"
    return what, fresh, part


store.register_kind(KIND, __name__, KIND_VERSION, _arrays, _sample)


@dataclass(frozen=True)
class ScalingRun:
    """One stored run: every (γ, α) setting of a grid at width m, one fit each.

    Fields:
        experiment: the run's experiment.
        steps: the checkpoints (T,).
        loss: the loss at each checkpoint (T, settings), the package's: squared error averaged over the n
            features (× n for the paper's sum over features, :attr:`summed_loss`).
        norms: each feature's final ‖W_i‖ (settings, n).
        overlap: the mean squared overlap cos²(W_i, W_j) of the represented features' pairs (settings,).
        decay: γ of each setting; alpha: α of each setting.
    """

    experiment: Experiment
    steps: np.ndarray
    loss: np.ndarray
    norms: np.ndarray
    overlap: np.ndarray
    decay: np.ndarray
    alpha: np.ndarray

    @property
    def width(self) -> int:
        return self.experiment.model.n_hidden

    @property
    def summed_loss(self) -> np.ndarray:
        """The final loss summed over features, ⟨‖x′ − x‖²⟩ per sample, as Liu et al. report it (settings,)."""
        return self.loss[-1] * self.experiment.model.n_features

    @property
    def represented(self) -> np.ndarray:
        """Whether each feature is represented, ‖W_i‖ > 1/2 (settings, n)."""
        return self.norms > REPRESENTED_NORM

    @property
    def represented_fraction(self) -> np.ndarray:
        """φ_{1/2}: the share of features with ‖W_i‖ > 1/2 (settings,)."""
        return self.represented.mean(axis=1)

    def setting(self, decay: float, alpha: float) -> int:
        """The index of the setting (γ, α)."""
        match = np.flatnonzero(np.isclose(self.decay, decay) & np.isclose(self.alpha, alpha))
        if match.size != 1:
            raise ConfigError(f"no setting γ = {decay:g}, α = {alpha:g} in {self.experiment.name!r}")
        return int(match[0])


def power_law_alpha(densities: np.ndarray) -> float:
    """α of densities p_i ∝ i^(−α), from the first two (p_1 / p_2 = 2^α)."""
    return float(np.log2(densities[0] / densities[1]))


def scaling_run(experiment: Experiment) -> ScalingRun:
    """``experiment`` (a scaling preset) trained once through the results store's ``scaling-run`` kind."""
    if experiment.n_seeds != 1:
        raise ConfigError(f"a scaling run fits each setting once (n_seeds=1), got n_seeds={experiment.n_seeds}")
    spec = {"experiment": store.key_fields(experiment), "checkpoints": list(checkpoints(experiment.train.steps))}
    arrays = store.cached_arrays(KIND, experiment.name, spec)
    densities = experiment.densities()
    return ScalingRun(
        experiment=experiment,
        steps=np.asarray(arrays["steps"], dtype=np.int64),
        loss=np.asarray(arrays["loss"], dtype=np.float64),
        norms=np.asarray(arrays["norms"], dtype=np.float64),
        overlap=np.asarray(arrays["overlap"], dtype=np.float64),
        decay=experiment.weight_decay_tensor("setting").double().numpy(),
        alpha=np.array([power_law_alpha(p) for p in densities]),
    )


@dataclass(frozen=True)
class PowerLaw:
    """y ≈ prefactor · x^(−exponent), fitted by least squares on log y against log x (as Liu et al. fit theirs).

    Fields: exponent, its standard error (from the residuals, with n − 2 degrees of freedom), the fit's R² and
    the prefactor."""

    exponent: float
    stderr: float
    r2: float
    prefactor: float


def fit_power_law(x, y) -> PowerLaw:
    """Least squares of log y on log x over the points given (at least three, all positive)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1 or x.size < 3:
        raise ConfigError(f"x and y must be 1-D of one length >= 3, got shapes {x.shape} and {y.shape}")
    if not (np.all(x > 0) and np.all(y > 0)):
        raise ConfigError("a power law is fitted to positive x and y only")
    u, v = np.log(x), np.log(y)
    du = u - u.mean()
    slope = float(du @ (v - v.mean()) / (du @ du))
    intercept = float(v.mean() - slope * u.mean())
    residual = v - (intercept + slope * u)
    stderr = float(np.sqrt(residual @ residual / (x.size - 2) / (du @ du)))
    total = float(np.sum(np.square(v - v.mean())))
    r2 = 1 - float(residual @ residual) / total if total > 0 else 1.0
    return PowerLaw(exponent=-slope, stderr=stderr, r2=r2, prefactor=float(np.exp(intercept)))


def weak_exponent(alpha: float) -> float | None:
    """The weak regime's exponent of loss ∝ m^(−α_m) if the m most frequent features are represented and every
    other feature costs its expected error E[v²]·p_i: Σ_{i>m} p_i ∝ m^(1−α), so α_m = α − 1, for α > 1 (with α <= 1
    the tail is no power law of m while m ≪ n). ``None`` where there is no such prediction."""
    return alpha - 1 if alpha > 1 else None


def strong_exponent(alpha: float) -> float:
    """The strong regime's exponent of loss ∝ m^(−α_m) as Liu et al. draw it (their figure 6e): 1, the 1/m of
    squared overlaps, while the frequencies fall slowly, and 2(α − 1) once that is larger (α > 1.5), where the loss
    is set by how fast the rare features' frequencies fall."""
    return max(1.0, 2 * (alpha - 1))


@dataclass(frozen=True)
class WidthScaling:
    """Loss against width: the runs of every width at both regimes' γ.

    Fields (R regimes, A exponents α, M widths):
        regimes: the regimes' names; decays: their γ (R,); alphas (A,); widths (M,).
        loss: the final loss summed over features, as Liu et al. report it (R, A, M).
        represented: the represented features, ‖W_i‖ > 1/2 (R, A, M).
        overlap: the represented features' mean squared overlap (R, A, M).
        left_out: the loss of the features left out alone, E[v²]·Σ_{i not represented} p_i (R, A, M): all that
            a model without interference among its represented features would lose.
        fits: the power law of loss against m, per regime and α (R × A).
        n_features: n.
    """

    regimes: tuple[str, ...]
    decays: np.ndarray
    alphas: np.ndarray
    widths: np.ndarray
    loss: np.ndarray
    represented: np.ndarray
    overlap: np.ndarray
    left_out: np.ndarray
    fits: tuple[tuple[PowerLaw, ...], ...]
    n_features: int


def width_scaling(runs, regimes: dict[str, float], step: int | None = None) -> WidthScaling:
    """Gather the runs of every width (each with every (γ, α) of ``regimes`` × its α) and fit loss ∝ m^(−α_m) over
    all widths, per regime and α: with the final losses, or those at checkpoint ``step`` of every run."""
    runs = sorted(runs, key=lambda run: run.width)
    if len(runs) < 3:
        raise ConfigError(f"a fit over widths needs runs at three widths or more, got {len(runs)}")
    alphas = np.unique(np.round(runs[0].alpha, 6))
    widths = np.array([run.width for run in runs])
    names, decays = tuple(regimes), np.array(list(regimes.values()), dtype=np.float64)
    shape = (len(names), len(alphas), len(widths))
    loss, represented, overlap, left_out = (np.zeros(shape) for _ in range(4))
    for k, run in enumerate(runs):
        densities = run.experiment.densities()
        if step is not None and step not in run.steps:
            raise ConfigError(f"step must be one of the runs' checkpoints {run.steps.tolist()}, got {step!r}")
        at = -1 if step is None else int(np.flatnonzero(run.steps == step)[0])
        for r, decay in enumerate(decays):
            for a, alpha in enumerate(alphas):
                s = run.setting(decay, alpha)
                loss[r, a, k] = run.loss[at, s] * run.experiment.model.n_features
                represented[r, a, k] = run.represented[s].sum()
                overlap[r, a, k] = run.overlap[s]
                left_out[r, a, k] = VALUE_SQUARE * densities[s][~run.represented[s]].sum()
    fits = tuple(tuple(fit_power_law(widths, loss[r, a]) for a in range(len(alphas))) for r in range(len(names)))
    return WidthScaling(
        names, decays, alphas, widths, loss, represented, overlap, left_out, fits, runs[0].experiment.model.n_features
    )


@dataclass(frozen=True)
class DecaySweep:
    """The represented fraction against weight decay at one width.

    Fields: decays (G,), alphas (A,), fraction φ_{1/2} (G, A), loss summed over features (G, A), width m and
    n_features n; norms (G, A, n), each feature's final ‖W_i‖ (for the slider)."""

    decays: np.ndarray
    alphas: np.ndarray
    fraction: np.ndarray
    loss: np.ndarray
    norms: np.ndarray
    width: int
    n_features: int


def decay_sweep(run: ScalingRun) -> DecaySweep:
    """The decay sweep's run as a (γ, α) grid."""
    decays = np.unique(np.round(run.decay, 6))
    alphas = np.unique(np.round(run.alpha, 6))
    index = np.array([[run.setting(g, a) for a in alphas] for g in decays])
    return DecaySweep(
        decays=decays,
        alphas=alphas,
        fraction=run.represented_fraction[index],
        loss=run.summed_loss[index],
        norms=run.norms[index],
        width=run.width,
        n_features=run.experiment.model.n_features,
    )


@dataclass(frozen=True)
class TrainingCurves:
    """Loss over training (R regimes × A exponents α), with t^(−exponent) fitted from ``start`` (the end of the
    warm-up, doubled) to the end.

    Fields: regimes, decays (R,), alphas (A,), steps (T,), loss summed over features (R, A, T), fits (R × A),
    start, width, lr (the constant learning rate after the warm-up), settled (R, A): the first checkpoint from which
    the loss stays within ``SETTLED`` of its final value."""

    regimes: tuple[str, ...]
    decays: np.ndarray
    alphas: np.ndarray
    steps: np.ndarray
    loss: np.ndarray
    fits: tuple[tuple[PowerLaw, ...], ...]
    start: int
    width: int
    lr: float
    settled: np.ndarray


SETTLED = 0.05  # a loss within 5 % of its final value has settled


def settled_step(steps: np.ndarray, loss: np.ndarray) -> int:
    """The first of ``steps`` from which ``loss`` stays within ``SETTLED`` of its last value."""
    inside = np.abs(loss / loss[-1] - 1) <= SETTLED
    outside = np.flatnonzero(~inside)
    return int(steps[outside[-1] + 1]) if outside.size else int(steps[0])


def training_curves(run: ScalingRun, regimes: dict[str, float]) -> TrainingCurves:
    """The loss at the run's checkpoints for each regime and α, and the power law t^(−exponent) fitted over the
    checkpoints from twice the warm-up's length to the end (the warm-up's rising lr is no part of the law)."""
    alphas = np.unique(np.round(run.alpha, 6))
    names, decays = tuple(regimes), np.array(list(regimes.values()), dtype=np.float64)
    start = max(2 * run.experiment.train.warmup_steps, 1)
    loss = np.array(
        [[run.loss[:, run.setting(g, a)] * run.experiment.model.n_features for a in alphas] for g in decays]
    )
    window = run.steps >= start
    if window.sum() < 3:
        raise ConfigError(f"fewer than three checkpoints from step {start}: the run is too short to fit")
    fits = tuple(
        tuple(fit_power_law(run.steps[window], loss[r, a, window]) for a in range(len(alphas)))
        for r in range(len(names))
    )
    settled = np.array([[settled_step(run.steps, loss[r, a]) for a in range(len(alphas))] for r in range(len(names))])
    return TrainingCurves(
        names, decays, alphas, run.steps, loss, fits, start, run.width, run.experiment.train.lr, settled
    )
