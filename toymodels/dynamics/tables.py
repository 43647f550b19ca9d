"""Chapter 5's tables and the glue from a training result with snapshots to the analyses and figures."""

from __future__ import annotations

from collections import Counter

import numpy as np
import plotly.graph_objects as go
import torch

from ..errors import ConfigError
from ..kit.sliders import instance_slider
from ..kit.table import Table, density_label
from ..models import ToyModel
from ..results import TrainResult
from ..train import evaluate
from .analysis import EnergyLevels, Regime, energy_levels, regime_sequence
from .figures import dimensionality_figure, regime_loss_figure, training_slider


def _history(result: TrainResult):
    if result.history is None:
        raise ConfigError(f"{result.experiment.name!r} kept no snapshots: train it with snapshot_every > 0")
    h = result.history
    return h.steps.double().numpy(), h.W.double().numpy(), h.losses.double().numpy()


EVAL_SEED = 20221214  # the fixed evaluation samples of every snapshot (never a training seed)


def snapshot_losses(result: TrainResult, n_batches: int = 4, batch_size: int = 1024) -> np.ndarray:
    """The loss of every snapshot of every fit, (n_snapshots, n_fits), on the same ``n_batches`` × ``batch_size``
    samples for every snapshot: the training batch's loss the trainer records is one small batch (64 samples
    for ``energy_levels``), whose noise hides the drops; on common samples a change of the loss between
    snapshots is a change of the weights."""
    steps, W, _ = _history(result)
    experiment = result.experiment.replace(batch_size=batch_size)
    b = result.history.b.double().numpy()
    return np.stack(
        [
            evaluate(
                ToyModel.from_arrays(experiment.model, W[t], b[t]), experiment, n_batches, EVAL_SEED, torch.float64
            ).numpy()
            for t in range(steps.size)
        ]
    )


def levels_of(result: TrainResult, **options) -> EnergyLevels:
    """:func:`energy_levels` of every fit of ``result`` (a run with snapshots), with the loss of every snapshot
    on common samples (:func:`snapshot_losses`); ``options`` go to :func:`energy_levels`."""
    steps, W, _ = _history(result)
    return energy_levels(steps, W, snapshot_losses(result), **options)


NB = "\u00a0"  # a non-breaking space: a value never wraps inside a table cell


def _percent(value: float) -> str:
    return f"{100 * value:+.2f}{NB}%"


def jump_table(levels: EnergyLevels) -> Table:
    """One row per fit: its learned features and their final D (median); its jumps between energy levels and the
    median levels before and after; the relative loss change at the first and second jump (by end step; jumps
    ending at the same snapshot share it); the median change across its jumps beside the median change over the
    windows just before them (the trend); the noise floor; how many jumps the drop test passes, beside the same
    test at windows of the same length across the jumps' stretch (the control); and the steps of the first and
    last jump. Values do not break across lines (non-breaking spaces)."""
    rows = []
    for f, jumps in enumerate(levels.jumps):
        learned = levels.learned[f]
        final = np.median(levels.D[-1, f, learned]) if learned.any() else float("nan")
        ends = sorted({j.stop for j in jumps})
        change_at = {j.stop: c for j, c in zip(jumps, levels.changes[f])}
        windows = int(levels.control_windows[f])
        before, after = (np.median([getattr(j, side) for j in jumps]) if jumps else 0.0 for side in ("before", "after"))
        levels_text = f"{before:.2f}{NB}→{NB}{after:.2f}"
        rows.append(
            (
                str(f),
                f"{int(learned.sum())}, {final:.3f}",
                "0" if not jumps else f"{len(jumps)}: {levels_text}",
                ", ".join(_percent(change_at[e]) for e in ends[:2]) or "–",
                "–"
                if not jumps
                else f"{_percent(np.median(levels.changes[f]))} / {_percent(np.median(levels.trends[f]))}",
                f"{100 * levels.typical[f]:.3f}{NB}%",
                f"{int(levels.dropped[f].sum())}{NB}of{NB}{len(jumps)} / "
                + ("–" if not windows else f"{int(levels.control_drops[f])}{NB}of{NB}{windows}"),
                "–" if not jumps else f"{int(levels.steps[ends[0]])}{NB}–{NB}{int(levels.steps[ends[-1]])}",
            )
        )
    return Table(
        (
            "seed",
            "learned, final Dᵢ",
            "jumps: Dᵢ before → after",
            "loss change: 1st, 2nd jump",
            "median loss change: jumps / before",
            "noise floor",
            "loss drops: at jumps / control",
            "steps",
        ),
        tuple(rows),
    )


def grid_table(experiments, runs: list[EnergyLevels]) -> Table:
    """One row per setting of :func:`~toymodels.dynamics.energy_level_grid` (``runs``: their
    :func:`~toymodels.dynamics.energy_level_run`): size, density, initialisation and batch; the fits' final D
    (median over learned features); their jumps; the share of jumps the drop test passes; and the share of the
    control windows (the jumps' length, anywhere in their stretch) it passes."""
    rows = []
    for e, levels in zip(experiments, runs):
        jumps = sum(len(j) for j in levels.jumps)
        drops = sum(int(d.sum()) for d in levels.dropped)
        windows, control = int(levels.control_windows.sum()), int(levels.control_drops.sum())
        final = np.median(levels.D[-1][levels.learned]) if levels.learned.any() else float("nan")
        rows.append(
            (
                f"{e.model.n_features},{NB}{e.model.n_hidden}",
                density_label(e.density_per_setting()[0]),
                "Xavier × 0.1" if e.model.init == "small" else "Xavier",
                str(e.train.batch_size),
                str(levels.D.shape[1]),
                f"{final:.3f}",
                str(jumps),
                "–" if not jumps else f"{drops} ({100 * drops / jumps:.0f}{NB}%)",
                "–" if not windows else f"{control}{NB}of{NB}{windows} ({100 * control / windows:.0f}{NB}%)",
            )
        )
    columns = ("n, m", "1−S", "init", "batch", "fits", "final Dᵢ", "jumps", "with a loss drop", "control windows")
    return Table(columns, tuple(rows))


def jump_slider(levels: EnergyLevels, title: str | None = None) -> go.Figure:
    """:func:`dimensionality_figure` of every fit's learned features, with a slider over the fits (no kernel
    needed)."""
    fits = levels.D.shape[1]

    def build(f: int) -> go.Figure:
        return dimensionality_figure(
            levels.steps,
            levels.D[:, f],
            levels.loss[:, f],
            list(levels.jumps[f]),
            levels.changes[f],
            shown=np.flatnonzero(levels.learned[f]),
        )

    return instance_slider(build, fits, [f"seed {f}" for f in range(fits)], title=title)


def regimes_of(result: TrainResult, min_length: int = 3) -> list[list[Regime]]:
    """The named regimes of every fit of a correlated-sets run with snapshots (:func:`regime_sequence`)."""
    set_size = result.experiment.data.set_size
    _, W, _ = _history(result)
    return [regime_sequence(W[:, f], set_size, min_length) for f in range(W.shape[1])]


def _path_name(regimes: list[Regime]) -> str:
    return " → ".join(r.name for r in regimes) if regimes else "–"


def geometry_table(result: TrainResult, min_length: int = 3) -> Table:
    """How often each final geometry occurs over the fits, and how often each path (sequence of regimes)."""
    sequences = regimes_of(result, min_length)
    n = len(sequences)
    ends = Counter(s[-1].name if s else "–" for s in sequences)
    starts = Counter(s[0].name if s else "–" for s in sequences)
    rows = [("final geometry", name, f"{count} of {n}") for name, count in ends.most_common()]
    rows += [("first regime", name, f"{count} of {n}") for name, count in starts.most_common()]
    paths = Counter(_path_name(s) for s in sequences)
    rows += [("path", name, f"{count} of {n}") for name, count in paths.most_common()]
    return Table(("", "regimes", "fits"), tuple(rows))


def transformation_slider(result: TrainResult, fit: int = 0, frames: int = 40) -> go.Figure:
    """Fit ``fit``'s six feature vectors in 3-D, with a slider over training time labelled by regime."""
    steps, W, _ = _history(result)
    regimes = regime_sequence(W[:, fit], result.experiment.data.set_size)
    return training_slider(steps, W[:, fit], regimes, result.experiment.data.set_size, frames, title=f"seed {fit}")


def regime_loss(result: TrainResult, fit: int = 0) -> go.Figure:
    """Fit ``fit``'s training loss with its regimes shaded."""
    steps, W, loss = _history(result)
    regimes = regime_sequence(W[:, fit], result.experiment.data.set_size)
    end = regimes[-1].name if regimes else "–"
    title = f"seed {fit}: {len(regimes)} regimes,<br>ending as {end}"
    return regime_loss_figure(steps, loss[:, fit], regimes, title=title)
