"""What the memorization chapter measures on its stored sweeps (float64, from the stored weights).

A :class:`MemorizationSweep` is one m over the dataset sizes T: every instance's weights and its training and test
losses. Losses are reported per example, L·n: the squared error summed over the features and averaged over the
examples, on which outputting 0 scores exactly 1 (every example has unit norm).

The two dimensionalities are the paper's one formula (chapter 4's D_i, :func:`toymodels.feature_dimensionality`)
applied to two sets of vectors in the hidden space: the features' columns W_i, and the training examples' hidden
vectors h_t = W x_t (*data dimensionality*). T examples stored as a regular T-gon in m dimensions each get
D_t = m / T (1 when T ≤ m: each its own direction).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import ConfigError
from ..finite import FiniteExperiment, SparseExamples, datasets, hidden_vectors, train_stored
from ..metrics import angular_gaps, feature_dimensionality
from ..vocabulary import REPRESENTED_NORM

# A data dimensionality within this share of min(1, m / T) counts as the T-gon's (the target: 10 %).
TGON_TOLERANCE = 0.1


@dataclass(frozen=True)
class MemorizationSweep:
    """One m trained at every T of ``experiments`` (same n, density, datasets and fits).

    Fields:
        experiments: one :class:`~toymodels.finite.FiniteExperiment` per T, in increasing T.
        W: ``(n_sizes, n_instances, m, n)`` float64; b: ``(n_sizes, n_instances, n)``.
        train_loss, test_loss: ``(n_sizes, n_instances)`` per example (L·n; 1 = the zero output's).
    """

    experiments: tuple[FiniteExperiment, ...]
    W: np.ndarray
    b: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray

    @property
    def sizes(self) -> np.ndarray:
        return np.array([e.n_examples for e in self.experiments])

    @property
    def n_hidden(self) -> int:
        return self.experiments[0].n_hidden

    @property
    def n_features(self) -> int:
        return self.experiments[0].n_features

    def mean_test_loss(self) -> np.ndarray:
        """Test loss per example averaged over the datasets (the paper's average over 4), ``(n_sizes,)``."""
        return self.test_loss.mean(axis=1)

    def mean_train_loss(self) -> np.ndarray:
        return self.train_loss.mean(axis=1)

    def hidden(self, size_index: int, instance: int = 0) -> np.ndarray:
        """The hidden vectors h_t = W x_t of instance ``instance``'s training examples at T = sizes[size_index],
        ``(m, T)`` float64."""
        experiment = self.experiments[size_index]
        examples = datasets(experiment)
        chosen = SparseExamples(
            examples.index[instance : instance + 1],
            examples.value[instance : instance + 1].double(),
            examples.n_features,
        )
        W = torch.as_tensor(self.W[size_index, instance : instance + 1])
        return hidden_vectors(W, chosen)[0].T.numpy()

    def data_dimensionality(self, size_index: int, instance: int = 0) -> np.ndarray:
        """D_t of every training example of one instance that has an active feature (an empty example's h_t is 0:
        it is stored nowhere), ``(T,)`` or fewer."""
        H = self.hidden(size_index, instance)
        return feature_dimensionality(torch.as_tensor(H[:, np.linalg.norm(H, axis=0) > 0])).numpy()

    def feature_dimensionality(self, size_index: int, instance: int = 0) -> np.ndarray:
        """D_i of every feature of one instance, ``(n,)``."""
        return feature_dimensionality(torch.as_tensor(self.W[size_index, instance])).numpy()


def load_sweep(experiments: Sequence[FiniteExperiment], workers: int | None = None) -> MemorizationSweep:
    """The stored (or, as the store's mode allows, trained) results of ``experiments``, one per T of one m."""
    experiments = tuple(sorted(experiments, key=lambda e: e.n_examples))
    if not experiments:
        raise ConfigError("experiments must hold at least one FiniteExperiment")
    first = experiments[0]
    for e in experiments:
        same = (e.n_features, e.n_hidden, e.density, e.n_datasets, e.fits_per_dataset) == (
            first.n_features,
            first.n_hidden,
            first.density,
            first.n_datasets,
            first.fits_per_dataset,
        )
        if not same:
            raise ConfigError(
                f"experiments must share n, m, density, datasets and fits; {e.name!r} differs from {first.name!r}"
            )
    arrays = train_stored(experiments, workers=workers)
    n = first.n_features
    return MemorizationSweep(
        experiments,
        np.stack([a["W"] for a in arrays]).astype(np.float64),
        np.stack([a["b"] for a in arrays]).astype(np.float64),
        np.stack([a["train_loss"] for a in arrays]) * n,
        np.stack([a["test_loss"] for a in arrays]) * n,
    )


def tgon_dimensionality(n_hidden: int, size: int) -> float:
    """D_t of T = ``size`` examples stored as a regular T-gon (an orthogonal set when T ≤ m): min(1, m / T)."""
    return min(1.0, n_hidden / size)


@dataclass(frozen=True)
class Regime:
    """What one T of a sweep does (instance 0 for the dimensionalities, every dataset for the losses)."""

    size: int
    train_loss: float  # mean over datasets, per example
    test_loss: float
    data_low: float  # smallest and largest D_t of instance 0's training examples
    data_high: float
    tgon: float  # min(1, m / T)
    represented: int  # features with ‖W_i‖ > REPRESENTED_NORM (instance 0)
    feature_high: float  # largest D_i of a represented feature (0 if none)

    @property
    def is_tgon(self) -> bool:
        """Every example's D_t within TGON_TOLERANCE of the T-gon's."""
        return max(abs(self.data_low - self.tgon), abs(self.data_high - self.tgon)) <= TGON_TOLERANCE * self.tgon


def regimes(sweep: MemorizationSweep) -> list[Regime]:
    """One :class:`Regime` per T of ``sweep``."""
    out = []
    for k, T in enumerate(sweep.sizes):
        data = sweep.data_dimensionality(k)
        norms = np.linalg.norm(sweep.W[k, 0], axis=0)
        chosen = norms > REPRESENTED_NORM
        features = sweep.feature_dimensionality(k)[chosen]
        out.append(
            Regime(
                size=int(T),
                train_loss=float(sweep.mean_train_loss()[k]),
                test_loss=float(sweep.mean_test_loss()[k]),
                data_low=float(data.min()),
                data_high=float(data.max()),
                tgon=tgon_dimensionality(sweep.n_hidden, int(T)),
                represented=int(chosen.sum()),
                feature_high=float(features.max()) if features.size else 0.0,
            )
        )
    return out


@dataclass(frozen=True)
class Peak:
    """The bump of double descent in one sweep: the grid's T of the largest interior local maximum of the mean test
    loss, that loss, and T* between the grid's points: the vertex of the parabola through the maximum and its two
    neighbours in (log T, log loss)."""

    size: int
    loss: float
    interpolated: float


@dataclass(frozen=True)
class PlaneGeometry:
    """For m = 2, the shapes in the hidden plane at one T (instance 0): the angular gaps between neighbouring
    examples' hidden vectors (a regular T-gon: all 360°/T) and between the ``k`` longest features (a regular
    k-gon: all 360°/k), with those features' norms."""

    size: int
    example_gaps: tuple[float, float]  # smallest and largest gap, degrees
    feature_gaps: tuple[float, float]
    feature_norms: tuple[float, float]  # smallest and largest norm of the k longest features
    k: int


def plane_geometry(sweep: MemorizationSweep, k: int = 5) -> list[PlaneGeometry]:
    """One :class:`PlaneGeometry` per T of an m = 2 sweep (zero hidden vectors, of examples with no active feature,
    are left out)."""
    if sweep.n_hidden != 2:
        raise ConfigError(f"plane_geometry needs m = 2, got m = {sweep.n_hidden}")
    out = []
    for index, T in enumerate(sweep.sizes):
        H = sweep.hidden(index)
        H = H[:, np.linalg.norm(H, axis=0) > 0]
        W = sweep.W[index, 0]
        norms = np.linalg.norm(W, axis=0)
        longest = np.argsort(-norms)[:k]
        examples, features = angular_gaps(H), angular_gaps(W[:, longest])
        out.append(
            PlaneGeometry(
                int(T),
                (float(examples.min()), float(examples.max())),
                (float(features.min()), float(features.max())),
                (float(norms[longest].min()), float(norms[longest].max())),
                k,
            )
        )
    return out


def peak(sweep: MemorizationSweep) -> Peak | None:
    """The :class:`Peak` of ``sweep``'s mean test loss over T, or None if the loss has no interior local maximum
    (an end of the grid may cut a slope, so it is never a peak)."""
    loss = sweep.mean_test_loss()
    inside = [k for k in range(1, len(loss) - 1) if loss[k] > loss[k - 1] and loss[k] > loss[k + 1]]
    if not inside:
        return None
    k = max(inside, key=lambda k: loss[k])
    x, y = np.log(sweep.sizes[k - 1 : k + 2].astype(float)), np.log(loss[k - 1 : k + 2])
    a, b, _ = np.polyfit(x, y, 2)  # a < 0: the middle point is the largest
    return Peak(int(sweep.sizes[k]), float(loss[k]), float(np.exp(-b / (2 * a))))


__all__ = [
    "TGON_TOLERANCE",
    "MemorizationSweep",
    "load_sweep",
    "tgon_dimensionality",
    "Regime",
    "regimes",
    "PlaneGeometry",
    "plane_geometry",
    "Peak",
    "peak",
]
