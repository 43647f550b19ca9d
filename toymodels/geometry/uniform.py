"""Uniform superposition (paper §4): how many dimensions each feature gets, and the polytopes they form.

For n features of equal importance and density in m dimensions (the paper: n = 400, m = 30), the paper
measures two things:

* **dimensions per feature**, D* = m / ‖W‖_F² (``metrics.dimensions_per_feature``): 1 while every learned
  feature has a dimension of its own, 1/2 over a wide range of sparsity where they pair up antipodally;
* **feature dimensionality**, D_i = ‖W_i‖² / Σ_j (Ŵ_i·W_j)² (``metrics.feature_dimensionality``): the share of
  a dimension feature i gets. Features that form a tight frame of k vectors in d dimensions have D_i = d/k, so
  learned features cluster at the values of :data:`toymodels.vocabulary.POLYTOPES`.

Feature geometry: features interact only with the features they overlap, so the graph whose edges join
features with |W_i·W_j| above a threshold splits into small components, and each component is one polytope
(a tegum product splits into its orthogonal factors, each a component of its own). A component is named by
its size k and the dimension d it spans, when those match a polytope of :data:`toymodels.vocabulary.POLYTOPES`.

"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from ..metrics import runs
from ..validation import as_float64, check_array
from ..vocabulary import POLYTOPES, REPRESENTED_NORM, polytope_lines

_LINES = np.array(list(polytope_lines().values()))
# The values of D* the paper calls "sticky": a dimension per feature, and antipodal pairs.
STICKY = (1.0, 0.5)


def _weights(W) -> np.ndarray:
    return check_array("W", W, shape=(None, None), expected="(n_hidden, n_features) for one model", non_empty=True)


@dataclass(frozen=True)
class Component:
    """One connected group of learned features (a polytope, when ``name`` is not None)."""

    features: tuple[int, ...]
    dimensions: int  # rank of the group's vectors (singular values above 10 % of the largest)
    name: str | None  # the polytope of POLYTOPES with this (k, d), if any, else None

    @property
    def label(self) -> str:
        return self.name or f"{len(self.features)} features in {self.dimensions}-D"


def components(W, represented: float = REPRESENTED_NORM, overlap: float = 0.1) -> list[Component]:
    """The feature-geometry graph of one model W (m, n): features with ‖W_i‖ > ``represented`` are nodes,
    joined where |W_i·W_j| > ``overlap``; returns its connected components, largest first."""
    W = _weights(W)
    norms = np.linalg.norm(W, axis=0)
    learned = np.flatnonzero(norms > represented)
    adjacent = np.abs(W[:, learned].T @ W[:, learned]) > overlap
    label = -np.ones(len(learned), dtype=int)
    for start in range(len(learned)):  # breadth-first search over the small graph
        if label[start] >= 0:
            continue
        label[start], frontier = start, [start]
        while frontier:
            neighbours = np.flatnonzero(adjacent[frontier].any(0) & (label < 0))
            label[neighbours] = start
            frontier = list(neighbours)
    found = []
    for root in np.unique(label):
        members = learned[label == root]
        singular = np.linalg.svd(W[:, members], compute_uv=False)
        d = int((singular > 0.1 * singular[0]).sum())
        shape = (len(members), d)
        name = next((name for name, p in POLYTOPES.items() if (p.features, p.dimensions) == shape), None)
        found.append(Component(tuple(int(i) for i in members), d, name))
    return sorted(found, key=lambda c: (-len(c.features), c.features))


def polytope_counts(W, represented: float = REPRESENTED_NORM, overlap: float = 0.1) -> dict[str, int]:
    """How many features of W (m, n) sit in each kind of component, by label ("digon", "pentagon", …, or
    "k features in d-D" for groups that are no polytope of the list); "not learned" counts the rest."""
    W = _weights(W)
    counts: dict[str, int] = {}
    for component in components(W, represented, overlap):
        counts[component.label] = counts.get(component.label, 0) + len(component.features)
    counts["not learned"] = W.shape[1] - sum(counts.values())
    return counts


def dimensionality_clusters(D, tolerance: float = 0.03) -> dict[str, tuple[int, float]]:
    """For each polytope line d/k (:func:`~toymodels.vocabulary.polytope_lines`): how many of the feature
    dimensionalities ``D`` (any shape; pass the learned features' only) lie within ``tolerance`` of it, and their
    mean (NaN if none).
    A value near two lines (2/5 and 3/8 are 0.025 apart) counts for the nearer one only."""
    D = as_float64("D", D).ravel()
    nearest = _nearest_line(D, tolerance)
    clusters = {}
    for index, name in enumerate(polytope_lines()):
        near = D[nearest == index]
        clusters[name] = (len(near), float(near.mean()) if len(near) else float("nan"))
    return clusters


def near_line(D, tolerance: float = 0.03) -> np.ndarray:
    """Whether each feature dimensionality in ``D`` (any shape) lies within ``tolerance`` of a polytope line
    d/k of :func:`~toymodels.vocabulary.polytope_lines`."""
    return _nearest_line(as_float64("D", D), tolerance) >= 0


def _nearest_line(D: np.ndarray, tolerance: float) -> np.ndarray:
    """Index into :func:`~toymodels.vocabulary.polytope_lines` of the line nearest each value of ``D``, or −1
    where none lies within ``tolerance``."""
    distance = np.abs(D[..., None] - _LINES)
    return np.where(distance.min(-1) <= tolerance, distance.argmin(-1), -1)


@dataclass(frozen=True)
class Plateau:
    """A run of neighbouring settings of a sweep whose D* lies within a tolerance of ``value``."""

    value: float
    first: int  # index of its first setting
    last: int  # index of its last setting


def plateaus(D_star, values=STICKY, tolerance: float = 0.03) -> list[Plateau]:
    """The runs of neighbouring settings where the dimensions per feature ``D_star`` (one per setting, in
    sweep order) stay within ``tolerance`` of one of ``values`` (the paper's sticky 1 and 1/2), longest first
    for each value, in the order of ``values``. A value D* never reaches has no plateau."""
    D_star = as_float64("D_star", D_star)
    if D_star.ndim != 1:
        raise ConfigError(f"D_star must have shape (n_settings,), got {D_star.shape}")
    if not tolerance > 0:
        raise ConfigError(f"tolerance must be > 0, got {tolerance!r}")
    found = []
    for value in values:
        close = runs((np.abs(D_star - value) <= tolerance).tolist())
        found += sorted(
            (Plateau(float(value), first, last) for first, last, near in close if near),
            key=lambda plateau: plateau.first - plateau.last,
        )
    return found
