"""Closed-form theory: the phase-change candidates, the linear-model loss and the ideal polytopes.

Paper: Elhage et al. 2022, "Toy Models of Superposition": §2 (basic results, the math of the linear
model: feature benefit vs interference), §3 "Superposition as a phase change" (the theoretical phase
diagram, from Wattenberg's companion notebook) and §4 (the ideal geometries behind feature dimensionality).

Data: x_i = 0 with probability 1 − s, else x_i ~ U[0, 1], independently; s is the density (1 − sparsity),
so E[x_i] = s/2 and E[x_i²] = s/3. Models: linear x' = WᵀW x + b, ReLU-output x' = ReLU(WᵀW x + b).
W is (m, n) = (n_hidden, n_features), column W[:, i] is feature i's direction; W may carry a leading
n_instances axis, and then b, importance and density may too.

Every loss here is the EXPECTED loss of ONE sample, SUMMED over features,

    L = E_x Σ_i I_i (x_i − x'_i)²,

whereas the trainer reports the mean over features (n_features times smaller).

Costs of the candidate solutions, per unit importance (a feature of importance I costs I times these):

* dedicated dimension (unit column orthogonal to the others, b_i = 0): 0;
* ignored (zero column, output ReLU(b_i) = b_i, best at b_i = s/2, the mean): s/3 − s²/4;
* one half of an antipodal pair (W = [1, −1] in 1-D): s²/6 with b = 0, the paper's formula, and less
  with the optimal bias (see below).

Correction to the paper's formula (checked by Monte Carlo in tests/test_theory.py): b = 0 is not optimal
for the antipodal pair. When both features are on and x_1 > x_2, feature 1 is read as x_1 − x_2, short by
x_2, and the other is clipped to 0, short by x_2 too: that is where E[min(x, y)²] = 1/6 comes from. A
bias b > 0 gives part of that back and costs b² elsewhere. The slope at b = 0 is −s²/3, so the optimum
is b* > 0 for any s. The loss decouples per feature, so both features share the same b*, whatever their
importances. Per unit importance, for 0 ≤ b ≤ 1 (derivation in ``_antipodal_loss_at``),

    ℓ(b) = s²/6 − s²b/3 + (1 − s)b² + s(1 + s)b³/3 − s²b⁴/6.

b* ≈ s²/6 when sparse (a negligible gain ≈ s⁴/36), but at s = 1 b* ≈ 0.442 and ℓ(b*) = 0.0706, not 1/6. The
antipodal region of the n = 2, m = 1 diagram closes at s = 4/7 for r = 1 with b = 0, and at s ≈ 0.627 with b*.

The candidates keep unit norms. A pair W = [w, −w] with a free w goes lower still when dense (gradient
descent at r = 1, s = 0.6 finds w ≈ 0.87, b ≈ 0.21, loss ≈ 0.0985 against 0.1037 at w = 1). So these
diagrams are upper bounds on each phase's loss, not exact optima.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from .errors import ConfigError
from .validation import as_float64, as_instances
from .vocabulary import polytope

ArrayLike = float | np.ndarray | torch.Tensor | list | tuple
MODEL_KINDS = ("linear", "relu_output")

# Phase-change candidates. Feature order: n = 2 is [regular, extra], n = 3 is [regular, regular, extra].
# The n = 3 names are the paper's: the direction that W ignores (W @ direction = 0).
CANDIDATE_WEIGHTS: dict[str, np.ndarray] = {
    "extra_ignored": np.array([[1.0, 0.0]]),
    "regular_ignored": np.array([[0.0, 1.0]]),
    "antipodal": np.array([[1.0, -1.0]]),
    "perp_001": np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]),  # extra dropped, regulars dedicated
    "perp_100": np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]),  # a regular dropped, the rest dedicated
    "perp_011": np.array([[1.0, 0.0, 0.0], [0.0, 1.0, -1.0]]),  # extra antipodal with a regular
    "perp_110": np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]]),  # regulars antipodal, extra dedicated
}
PHASE_CANDIDATES: dict[int, tuple[str, ...]] = {
    2: ("extra_ignored", "regular_ignored", "antipodal"),
    3: ("perp_001", "perp_100", "perp_011", "perp_110"),
}


# ----------------------------------------------------------------------------------------------------
# Input checks


def _array(name: str, value: ArrayLike) -> np.ndarray:
    array = as_float64(name, value)
    if not np.all(np.isfinite(array)):
        raise ConfigError(f"{name} must be finite numbers, got {value!r}")
    return array


def _density(value: ArrayLike) -> np.ndarray:
    s = _array("density", value)
    if not np.all((s > 0) & (s <= 1)):
        raise ConfigError(f"density must lie in (0, 1], got values from {s.min():g} to {s.max():g}")
    return s


def _nonnegative(name: str, value: ArrayLike) -> np.ndarray:
    array = _array(name, value)
    if not np.all(array >= 0):
        raise ConfigError(f"{name} must be >= 0, got a minimum of {array.min():g}")
    return array


def _per_feature(name: str, array: np.ndarray, n_instances: int, n: int) -> np.ndarray:
    """Broadcast a scalar, (n,) or (n_instances, n) array to (n_instances, n)."""
    if array.shape not in ((), (n,), (n_instances, n)):
        raise ConfigError(f"{name} must be a scalar or have shape ({n},) or ({n_instances}, {n}), got {array.shape}")
    return np.broadcast_to(array, (n_instances, n))


def _n_features(n_features: int) -> tuple[str, ...]:
    if n_features not in PHASE_CANDIDATES:
        raise ConfigError(f"n_features must be 2 (m = 1) or 3 (m = 2) for the phase diagram, got {n_features!r}")
    return PHASE_CANDIDATES[n_features]


# ----------------------------------------------------------------------------------------------------
# Monte Carlo


def expected_loss_monte_carlo(
    W: ArrayLike,
    b: ArrayLike,
    importance: ArrayLike,
    density: ArrayLike,
    n_samples: int = 200_000,
    seed: int = 0,
    kind: str = "relu_output",
    *,
    return_stderr: bool = False,
) -> float | np.ndarray | tuple:
    """Monte Carlo estimate of L = E Σ_i I_i (x_i − x'_i)² for the given W and b.

    W: (m, n) or (n_instances, m, n); b, importance, density: scalar, (n,) or (n_instances, n).
    Returns a float (an (n_instances,) array for batched W); with ``return_stderr`` also its standard error.
    """
    if kind not in MODEL_KINDS:
        raise ConfigError(f"kind must be one of {MODEL_KINDS}, got {kind!r}")
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 2:
        raise ConfigError(f"n_samples must be an integer >= 2, got {n_samples!r}")
    W3, single = as_instances("W", W, finite=True, non_empty=True)
    n_instances, _, n = W3.shape
    b = _per_feature("b", _array("b", b), n_instances, n)
    importance = _per_feature("importance", _nonnegative("importance", importance), n_instances, n)
    density = _per_feature("density", _density(density), n_instances, n)
    gram = np.einsum("imk,imj->ikj", W3, W3)  # WᵀW, symmetric
    rng = np.random.default_rng(seed)
    chunk = max(1, 2**22 // (n_instances * n))
    total, total_sq = np.zeros(n_instances), np.zeros(n_instances)
    for start in range(0, n_samples, chunk):
        size = min(chunk, n_samples - start)
        active = rng.random((size, n_instances, n)) < density
        x = np.where(active, rng.random((size, n_instances, n)), 0.0)
        x_hat = np.einsum("sik,ikj->sij", x, gram) + b
        if kind == "relu_output":
            x_hat = np.maximum(x_hat, 0.0)
        loss = (importance * (x - x_hat) ** 2).sum(-1)  # (size, n_instances)
        total += loss.sum(0)
        total_sq += (loss**2).sum(0)
    mean = total / n_samples
    stderr = np.sqrt(np.maximum(total_sq / n_samples - mean**2, 0.0) / (n_samples - 1))
    if single:
        mean, stderr = float(mean[0]), float(stderr[0])
    return (mean, stderr) if return_stderr else mean


# ----------------------------------------------------------------------------------------------------
# Phase change (§3): per-feature costs, candidates, diagram, boundaries


def ignored_feature_loss(density: ArrayLike) -> np.ndarray:
    """Cost per unit importance of a feature left out, with its bias at the mean s/2: s/3 − s²/4."""
    s = _density(density)
    return s / 3 - s**2 / 4  # E[(x − s/2)²] = E[x²] − E[x]²


def _antipodal_loss_at(b: np.ndarray, s: np.ndarray) -> np.ndarray:
    # One feature of the pair, W = [1, −1], bias b in [0, 1], per unit importance. Cases (x = own, y = partner):
    #   both off (1−s)²: error b²;  own on, partner off s(1−s): b²;
    #   own off, partner on s(1−s): E[(b−y)₊²] = b³/3;
    #   both on   s²: ReLU(x−y+b) is x−y+b (error (y−b)²) when y ≤ x+b, else 0 (error x²); integrating over
    #   the unit square gives 1/6 − b/3 + 2b³/3 − b⁴/6 (1/6 = E[min(x, y)²] at b = 0).
    return s**2 / 6 - s**2 * b / 3 + (1 - s) * b**2 + s * (1 + s) * b**3 / 3 - s**2 * b**4 / 6


def antipodal_optimal_bias(density: ArrayLike) -> np.ndarray:
    """The bias b* minimising the antipodal pair's loss (the same for both features, any importances).

    b ≤ 0 only adds error and b ≥ 1 overshoots, so b* lies in (0, 1), where the loss is a convex quartic
    whose derivative is −s²/3 at 0 and 2 − s at 1: b* is its one root there, found by bisection.
    """
    s = _density(density)
    low, high = np.zeros_like(s), np.ones_like(s)
    for _ in range(60):
        b = (low + high) / 2
        slope = -(s**2) / 3 + 2 * (1 - s) * b + s * (1 + s) * b**2 - 2 * s**2 * b**3 / 3
        low, high = np.where(slope < 0, b, low), np.where(slope < 0, high, b)
    return (low + high) / 2


def antipodal_feature_loss(density: ArrayLike, optimal_bias: bool = True) -> np.ndarray:
    """Cost per unit importance of one feature of an antipodal pair W = [1, −1].

    ``optimal_bias=False``: b = 0, the paper's s²/6. ``True``: b = b*(s), strictly lower (module docstring).
    """
    s = _density(density)
    return _antipodal_loss_at(antipodal_optimal_bias(s) if optimal_bias else np.zeros_like(s), s)


def _roles(W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ignored, antipodal) masks over the columns of a candidate W."""
    gram = W.T @ W
    ignored = np.diag(gram) == 0
    antipodal = (gram - np.diag(np.diag(gram))).min(axis=1) < 0  # has a partner pointing the other way
    return ignored, antipodal


def candidate_solution(name: str, density: float, optimal_bias: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """W (m, n) and b (n,) of a named candidate at density s (names in ``PHASE_CANDIDATES``).

    Ignored features get b = s/2, antipodal ones b = b*(s) (0 with ``optimal_bias=False``), dedicated ones 0.
    """
    if name not in CANDIDATE_WEIGHTS:
        raise ConfigError(f"name must be one of {tuple(CANDIDATE_WEIGHTS)}, got {name!r}")
    s = _density(density)
    if s.ndim != 0:
        raise ConfigError(f"density must be a scalar here, got shape {s.shape}")
    W = CANDIDATE_WEIGHTS[name].copy()
    ignored, antipodal = _roles(W)
    pair_bias = float(antipodal_optimal_bias(s)) if optimal_bias else 0.0
    b = np.where(ignored, float(s) / 2, np.where(antipodal, pair_bias, 0.0))
    return W, b


def candidate_losses(
    n_features: int, relative_importance: ArrayLike, density: ArrayLike, optimal_bias: bool = True
) -> tuple[tuple[str, ...], np.ndarray]:
    """Closed-form loss of each candidate over the outer grid of r and s.

    Regular features have importance 1, the extra (last) one r. Returns the candidate names and losses of
    shape (n_candidates, *r.shape, *s.shape): for 1-D inputs, axis 1 is r and axis 2 is s.
    """
    names = _n_features(n_features)
    s = _density(density)
    r = _nonnegative("relative_importance", relative_importance)
    r = r.reshape(r.shape + (1,) * s.ndim)
    cost = {"ignored": ignored_feature_loss(s), "antipodal": antipodal_feature_loss(s, optimal_bias)}
    grid_shape = r.shape[: r.ndim - s.ndim] + s.shape
    losses = []
    for name in names:
        ignored, antipodal = _roles(CANDIDATE_WEIGHTS[name])
        importances = [1.0] * (n_features - 1) + [r]
        loss = sum(
            I * (cost["ignored"] if ig else cost["antipodal"] if ap else 0.0)
            for I, ig, ap in zip(importances, ignored, antipodal)
        )
        losses.append(np.broadcast_to(loss, grid_shape))
    return names, np.stack(losses)


def phase_diagram(
    n_features: int, relative_importance: ArrayLike, density: ArrayLike, optimal_bias: bool = True
) -> tuple[np.ndarray, tuple[str, ...]]:
    """The theoretical phase diagram: index of the cheapest candidate, shape (*r.shape, *s.shape)
    (rows = relative importance r, columns = density s for 1-D inputs), and the candidate names.
    Exact ties go to the earlier name."""
    names, losses = candidate_losses(n_features, relative_importance, density, optimal_bias)
    return losses.argmin(axis=0), names


def antipodal_window(density: ArrayLike, optimal_bias: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Analytic phase boundaries of the n = 2, m = 1 diagram: antipodal wins for r_low < r < r_high.

    With q = ignored_feature_loss(s) and g = antipodal_feature_loss(s):
    antipodal = extra_ignored at (1 + r) g = r q, i.e. r_low = g / (q − g);
    antipodal = regular_ignored at (1 + r) g = q, i.e. r_high = (q − g) / g = 1 / r_low.
    Where q ≤ 2g the window is empty (both NaN) and the only boundary is r = 1: extra_ignored below it,
    regular_ignored above.
    """
    q, g = ignored_feature_loss(density), antipodal_feature_loss(density, optimal_bias)
    open_ = q > 2 * g
    r_low = np.where(open_, g / np.where(open_, q - g, 1.0), np.nan)
    return r_low, 1 / r_low


# ----------------------------------------------------------------------------------------------------
# Linear model (§2)


class LinearLossTerms(NamedTuple):
    """The paper's §2 terms, L ≈ Σ_i I_i (1 − ‖W_i‖²)² + Σ_{i≠j} I_j (W_j·W_i)².

    feature_benefit[..., i] = I_i (1 − ‖W_i‖²)²: the loss left on feature i by its own norm (0 when
    ‖W_i‖ = 1, I_i when feature i is not represented).
    interference[..., j, i] = I_j (W_j·W_i)² for i ≠ j, 0 on the diagonal: the interference of feature i
    ONTO feature j, weighted by the importance of j (the feature being read). Row sums give the total
    interference each feature receives.
    """

    feature_benefit: np.ndarray
    interference: np.ndarray


def linear_loss_decomposition(W: ArrayLike, importance: ArrayLike) -> LinearLossTerms:
    """Feature benefit (n,) and interference (n, n) of W (batched: (n_instances, n), (n_instances, n, n)).

    The sum of both terms is exactly the linear model's loss for zero-mean, unit-variance independent
    features and b = 0; for this package's data it is the loss up to the variance factor once b absorbs
    the mean (see ``linear_expected_loss``).
    """
    W3, single = as_instances("W", W, finite=True, non_empty=True)
    n_instances, _, n = W3.shape
    importance = _per_feature("importance", _nonnegative("importance", importance), n_instances, n)
    gram = np.einsum("imk,imj->ikj", W3, W3)
    norms_sq = np.diagonal(gram, axis1=1, axis2=2)
    benefit = importance * (1 - norms_sq) ** 2
    interference = importance[:, :, None] * gram**2 * (1 - np.eye(n))
    return LinearLossTerms(benefit[0], interference[0]) if single else LinearLossTerms(benefit, interference)


def linear_expected_loss(W: ArrayLike, b: ArrayLike, importance: ArrayLike, density: ArrayLike) -> float | np.ndarray:
    """Exact E Σ_i I_i (x_i − x'_i)² of the linear model x' = WᵀW x + b (float, or (n_instances,)).

    With A = 1 − WᵀW the error is e = A x − b; independent features with mean μ_k = s_k/2 and variance
    v_k = s_k/3 − s_k²/4 give E e_i² = Σ_k A_ik² v_k + (A μ − b)_i². The paper's formula keeps only the
    variance part with v_k = 1; the mean term (A μ − b)_i² is what the bias is for.
    """
    W3, single = as_instances("W", W, finite=True, non_empty=True)
    n_instances, _, n = W3.shape
    b = _per_feature("b", _array("b", b), n_instances, n)
    importance = _per_feature("importance", _nonnegative("importance", importance), n_instances, n)
    s = _per_feature("density", _density(density), n_instances, n)
    A = np.eye(n) - np.einsum("imk,imj->ikj", W3, W3)
    mean_error = np.einsum("ijk,ik->ij", A, s / 2) - b
    variance_error = np.einsum("ijk,ik->ij", A**2, s / 3 - s**2 / 4)
    loss = (importance * (variance_error + mean_error**2)).sum(-1)
    return float(loss[0]) if single else loss


class LossAccounting(NamedTuple):
    """The §2 terms of trained models, summed over features, next to their measured loss in the same units.

    Each is ``(n_instances,)``. For the linear model with the bias at its optimum, E-loss = Var(x_i) ×
    (feature_benefit + interference) exactly, so ``measured`` (the loss divided by one feature's variance
    s/3 − s²/4) equals their sum; a ReLU-output model's measured loss falls below it where the ReLU and a
    negative bias remove interference.
    """

    density: np.ndarray  # s of each instance
    feature_benefit: np.ndarray  # Σ_i I_i (1 − ‖W_i‖²)²: the benefit not won (Σ_i I_i when nothing is learned)
    interference: np.ndarray  # Σ_{i≠j} I_j (W_j·W_i)²
    measured: np.ndarray  # the model's expected loss, summed over features, / Var(x_i)


def loss_accounting(W: ArrayLike, importance: ArrayLike, density: ArrayLike, loss: ArrayLike) -> LossAccounting:
    """``linear_loss_decomposition`` of batched trained weights W (n_instances, m, n), summed per instance,
    and the measured ``loss`` (n_instances,) in the same units. ``density``: one density per instance
    (n_instances,); ``loss`` is the trainer's, a mean over features (``TrainResult.best_losses``), so it is
    multiplied by n here."""
    W3, _ = as_instances("W", W, finite=True, non_empty=True)
    n_instances, _, n = W3.shape
    s = _density(density)
    if s.shape not in ((), (n_instances,)):
        raise ConfigError(f"density must be a scalar or have shape ({n_instances},), one per instance, got {s.shape}")
    loss = _array("loss", loss)
    if loss.shape != (n_instances,):
        raise ConfigError(f"loss must have shape ({n_instances},), one per instance, got {loss.shape}")
    terms = linear_loss_decomposition(W3, importance)
    variance = ignored_feature_loss(s)  # Var(x_i) = E x² − (E x)² = s/3 − s²/4, the same expression
    return LossAccounting(
        density=np.broadcast_to(s, (n_instances,)).copy(),
        feature_benefit=terms.feature_benefit.sum(-1),
        interference=terms.interference.sum((-2, -1)),
        measured=loss * n / variance,
    )


# ----------------------------------------------------------------------------------------------------
# Ideal geometry (§4): tight frames, whose every feature has dimensionality D_i = d / k


def ideal_polytope(name: str) -> np.ndarray:
    """(d, k) matrix of k unit columns forming a tight frame in d dimensions: the polytope ``name`` of
    :data:`toymodels.vocabulary.POLYTOPES` ("digon", "triangle", "pentagon", "tetrahedron", "square antiprism", …)."""
    return polytope(name).frame()


def tegum_product(*blocks: ArrayLike) -> np.ndarray:
    """Direct sum of polytopes: block-diagonal (Σd, Σk), each block in its own orthogonal subspace."""
    if not blocks:
        raise ConfigError("blocks must contain at least one (d, k) matrix")
    arrays = [_array("blocks", block) for block in blocks]
    if any(a.ndim != 2 for a in arrays):
        raise ConfigError(f"blocks must be 2-D (d, k) matrices, got shapes {[a.shape for a in arrays]}")
    out = np.zeros((sum(a.shape[0] for a in arrays), sum(a.shape[1] for a in arrays)))
    row = col = 0
    for a in arrays:
        out[row : row + a.shape[0], col : col + a.shape[1]] = a
        row, col = row + a.shape[0], col + a.shape[1]
    return out


def welch_bound(n_vectors: int, n_dims: int) -> float:
    """The least possible mean of cos²(v_i, v_j) over the pairs i ≠ j of ``n_vectors`` unit vectors in ``n_dims``
    dimensions (Welch, 1974): (N − m) / (m (N − 1)), reached by a tight frame, and 0 when N <= m (an orthonormal
    set). Random directions have E[cos²] = 1/m: with N ≫ m the best packing is barely better than chance."""
    for name, value in (("n_vectors", n_vectors), ("n_dims", n_dims)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    if n_vectors <= n_dims:
        return 0.0
    return (n_vectors - n_dims) / (n_dims * (n_vectors - 1))
