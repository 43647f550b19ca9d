"""Chapter 10 (beyond the paper): which output nonlinearities let superposition pay, measured on the paper's own
setups, and the softmax task.

The measures are the paper's, made independent of the weights' scale, because a nonlinearity other than the
ReLU may need pre-activations of another size (a sigmoid must reach far below 0 to output 0, so its fits have
‖W_i‖ ≈ 2): a feature is **represented** when ‖W_i‖ > ½ max_j ‖W_j‖ (for ReLU fits, whose largest norm is ≈ 1,
this is the paper's ‖W_i‖ > ½), and it is **in superposition** when its *relative* superposition
Σ_{j≠i} (Ŵ_i·W_j)² / ‖W_i‖² exceeds 0.1 (the paper's measure in units of the feature's own ‖W_i‖², the same
for features of norm 1). In the n = 2, m = 1 diagrams a fit's phase is named by the shape of W = [w_1, w_e]
divided by its larger entry: the nearest of [1, 0] (extra feature not learned), [0, 1] (extra feature
dedicated), [1, −1] (antipodal: superposition) and [1, 1] (both on one same-sign direction, "confused"),
up to a sign. The protocol is the phase chapter's: the highest-loss fit of each point discarded, the rest's
most common phase kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..config import ACTIVATIONS
from ..errors import ConfigError
from ..experiment import Experiment
from ..grids import check_discard_worst, grid_axes
from ..kit.table import setting_densities
from ..metrics import feature_dimensionality, feature_norms
from ..models import activate
from ..results import TrainResult
from ..validation import as_float64, check_array
from ..vocabulary import INTERFERING, REPRESENTED_SHARE, ZERO_NORM


def _weights(W) -> torch.Tensor:
    return torch.as_tensor(check_array("W", W, ndim=3, expected="(n_instances, n_hidden, n_features)"))


def represented(W, threshold: float = REPRESENTED_SHARE) -> torch.Tensor:
    """Whether each feature is represented, ‖W_i‖ > threshold × max_j ‖W_j‖: bool (instance, feature)."""
    if not 0 < threshold < 1:
        raise ConfigError(f"threshold must lie in (0, 1), got {threshold!r}")
    norms = feature_norms(_weights(W))
    return (norms > threshold * norms.amax(-1, keepdim=True)) & (norms > ZERO_NORM)


def relative_superposition(W) -> torch.Tensor:
    """Σ_{j≠i} (Ŵ_i·W_j)² / ‖W_i‖² for every feature (0 for a feature with W_i = 0): (instance, feature). For
    unit-norm features it is the paper's superposition; it does not change when W is scaled."""
    W = _weights(W)
    gram = torch.einsum("khi,khj->kij", W, W)
    squared = gram.diagonal(dim1=-2, dim2=-1)
    off = gram.square().sum(-1) - squared.square()
    return torch.where(squared > ZERO_NORM**2, off.clamp_min(0) / squared.clamp_min(ZERO_NORM**2).square(), 0.0)


def in_superposition(W, threshold: float = INTERFERING) -> torch.Tensor:
    """Represented features whose relative superposition exceeds ``threshold``: bool (instance, feature)."""
    return represented(W) & (relative_superposition(W) > threshold)


def decodable(W, b, softmax: bool = True) -> torch.Tensor:
    """For the one-hot task (``target="argmax"``): whether feature i, alone at its largest value 1, gets the
    largest logit, argmax_j (WᵀW e_i + b)_j = i — the model names it; for an output other than the softmax (a
    ReLU trained by squared error) that logit must also be positive, or every output is 0 and names nothing.
    bool (instance, feature)."""
    W = _weights(W)
    b = torch.as_tensor(as_float64("b", b))
    if b.shape != (W.shape[0], W.shape[2]):
        raise ConfigError(f"b must have shape (n_instances, n_features) = {(W.shape[0], W.shape[2])}, got {b.shape}")
    logits = torch.einsum("khi,khj->kij", W, W) + b.unsqueeze(-1)  # column i: the logits for x = e_i
    named = logits.argmax(-2) == torch.arange(W.shape[2])
    return named if softmax else named & (logits.diagonal(dim1=-2, dim2=-1) > 0)


@dataclass(frozen=True)
class SweepCounts:
    """One nonlinearity's best-of-K fits over a sparsity sweep (arrays of one entry per setting)."""

    name: str
    density: np.ndarray  # 1 − S
    represented: np.ndarray  # features represented
    superposed: np.ndarray  # of those, in superposition
    min_bias: np.ndarray  # most negative b_i
    loss: np.ndarray  # the best fit's evaluation loss
    dimensionality: np.ndarray  # mean D_i of the represented features
    decodable: np.ndarray | None = None  # one-hot task only: features the model names when alone

    @property
    def onset(self) -> float | None:
        """The densest density at which some represented feature is in superposition (None: never)."""
        found = np.flatnonzero(self.superposed > 0)
        return float(self.density[found].max()) if found.size else None

    @property
    def most_represented(self) -> int:
        return int(self.represented.max())


def _mean_dimensionality(W: torch.Tensor) -> np.ndarray:
    kept = represented(W)
    D = feature_dimensionality(W).double()
    return ((D * kept).sum(-1) / kept.sum(-1).clamp_min(1)).numpy()


def sweep_counts(results: dict[str, TrainResult]) -> dict[str, SweepCounts]:
    """:class:`SweepCounts` of each named sparsity sweep's best-of-K fits."""
    counts = {}
    for name, result in results.items():
        if not isinstance(result, TrainResult):
            raise ConfigError(f"results[{name!r}] must be a TrainResult (tm.store.train), got {type(result).__name__}")
        best = result.best()
        W, b = best.W.detach(), best.b.detach()
        softmax = result.experiment.model.activation == "softmax"
        one_hot = result.experiment.data.target == "argmax"
        counts[name] = SweepCounts(
            name=name,
            density=np.array(setting_densities(result.experiment)),
            represented=represented(W).sum(-1).numpy(),
            superposed=in_superposition(W).sum(-1).numpy(),
            min_bias=b.amin(-1).numpy().astype(np.float64),
            loss=result.best_losses.detach().numpy().astype(np.float64),
            dimensionality=_mean_dimensionality(W),
            decodable=decodable(W, b, softmax).sum(-1).numpy() if one_hot else None,
        )
    return counts


# The n = 2, m = 1 phases, by the shape of W / max|W|, up to a sign: [w_regular, w_extra].
PHASES = ("extra_ignored", "regular_ignored", "antipodal", "confused")
PHASE_SHAPES = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
PHASE_DESCRIPTIONS = {
    "extra_ignored": "extra feature not learned",
    "regular_ignored": "extra feature dedicated",
    "antipodal": "superposition (antipodal)",
    "confused": "same-sign pair (confused)",
}


def shape_phase(W) -> np.ndarray:
    """Phase index (into ``PHASES``) of each n = 2, m = 1 fit, W (..., 1, 2), by the nearest shape up to a
    sign after dividing W by its largest entry (scale-free, so fits of any nonlinearity compare)."""
    W = as_float64("W", W)
    if W.ndim < 2 or W.shape[-2:] != (1, 2):
        raise ConfigError(f"W must have shape (..., 1, 2) (n = 2 features, m = 1), got {W.shape}")
    w = W[..., 0, :]
    w = w / np.maximum(np.abs(w).max(-1, keepdims=True), 1e-12)
    distance = np.minimum(
        np.linalg.norm(w[..., None, :] - PHASE_SHAPES, axis=-1), np.linalg.norm(w[..., None, :] + PHASE_SHAPES, axis=-1)
    )
    return distance.argmin(-1)


@dataclass(frozen=True)
class PhaseGrid:
    """One nonlinearity's n = 2, m = 1 diagram: (R, S) arrays over r (rows) and density (columns, dense first).

    A point counts as **in superposition** when more than half of its kept fits are antipodal: the most common
    phase alone can be a plurality of 2 of 5 fits, as on the r = 1 row, where the two features are
    interchangeable and fits split between dropping one or the other."""

    name: str
    relative_importance: np.ndarray  # (R,)
    density: np.ndarray  # (S,)
    phase: np.ndarray  # most common phase of the kept fits
    purity: np.ndarray  # share of the kept fits in it

    @property
    def superposed(self) -> np.ndarray:
        """(R, S) bool: most kept fits antipodal (more than half)."""
        return (self.phase == PHASES.index("antipodal")) & (self.purity > 0.5)

    @property
    def superposition_onset(self) -> float | None:
        """The densest density at which some point of the grid is in superposition (None: none is)."""
        found = np.flatnonzero(self.superposed.any(0))
        return float(self.density[found].max()) if found.size else None

    @property
    def superposed_share(self) -> float:
        """Share of the grid's points in superposition."""
        return float(self.superposed.mean())


def _grid_axes(experiment: Experiment) -> tuple[np.ndarray, np.ndarray]:
    """The phase chapter's (r, s) axes of an n = 2 grid (:func:`toymodels.phase.grid_axes`)."""
    if experiment.model.n_features != 2:
        raise ConfigError(
            f"result must be an n = 2 phase-change grid (tm.preset('nonlinearity_phase_relu')), got n = "
            f"{experiment.model.n_features}"
        )
    return grid_axes(experiment)


def phase_grid(result: TrainResult, name: str | None = None, discard_worst: int = 1) -> PhaseGrid:
    """The phase chapter's protocol on a trained n = 2, m = 1 grid: at each point discard the ``discard_worst``
    highest-loss fits and keep the most common :func:`shape_phase` of the rest (ties: the earlier phase)."""
    r, s = _grid_axes(result.experiment)
    k = result.fits_per_setting
    check_discard_worst(discard_worst, k)
    shape = (len(r), len(s), k)
    fit_phase = shape_phase(result.model.W.detach().numpy().reshape(shape + (1, 2)))
    loss = result.losses.detach().numpy().reshape(shape)
    kept = np.zeros(shape, dtype=bool)
    np.put_along_axis(kept, np.argsort(loss, axis=-1, kind="stable")[..., : k - discard_worst], True, axis=-1)
    counts = np.stack([(kept & (fit_phase == index)).sum(-1) for index in range(len(PHASES))], axis=-1)
    return PhaseGrid(
        name=name or result.experiment.model.activation,
        relative_importance=r,
        density=s,
        phase=counts.argmax(-1),
        purity=counts.max(-1) / kept.sum(-1),
    )


@dataclass(frozen=True)
class Shape:
    """What a nonlinearity does to negative pre-activations, read off its values on z ∈ [−20, 20]."""

    name: str
    at_zero: float  # act(0)
    floor: float  # act(−20): the value that large negative interference is pushed to
    dip: float  # min_z act(z) − act(−20): how far below that floor it dips on the way (0 when monotone)


def nonlinearity_shape(name: str) -> Shape:
    """:class:`Shape` of the output nonlinearity ``name`` (an elementwise one of ``config.ACTIVATIONS``)."""
    if name not in ACTIVATIONS or name == "softmax":
        raise ConfigError(f"name must be an elementwise activation, one of {ACTIVATIONS[:-1]}; got {name!r}")
    z = torch.linspace(-20, 20, 40_001, dtype=torch.float64)
    values = activate(z, name)
    floor = float(values[0])
    return Shape(name, float(activate(torch.zeros(1, dtype=torch.float64), name)), floor, float(values.min()) - floor)
