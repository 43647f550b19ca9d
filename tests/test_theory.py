"""Oracles for toymodels.theory: Monte Carlo for every closed form, hand-derived phase points, ideal frames."""

import numpy as np
import pytest
import torch

from toymodels import theory, vocabulary
from toymodels.errors import ConfigError

MC_SAMPLES = 400_000
SIGMAS = 5  # a closed form must sit within 5 standard errors of its Monte Carlo estimate


def _mc_check(closed_form: float, W, b, importance, density, what: str, hint: str) -> None:
    mc, stderr = theory.expected_loss_monte_carlo(W, b, importance, density, MC_SAMPLES, return_stderr=True)
    assert abs(mc - closed_form) <= SIGMAS * stderr + 1e-12, (
        f"{what}: closed form {closed_form:.6f} vs Monte Carlo {mc:.6f} ± {stderr:.6f}; {hint}"
    )


@pytest.mark.parametrize("optimal_bias", [True, False])
@pytest.mark.parametrize("n_features", [2, 3])
@pytest.mark.parametrize("r, s", [(0.3, 0.1), (2.0, 0.5), (1.0, 1.0), (5.0, 0.03)])
def test_candidate_losses_match_monte_carlo(n_features, r, s, optimal_bias):
    names, losses = theory.candidate_losses(n_features, r, s, optimal_bias)
    importance = [1.0] * (n_features - 1) + [r]
    for name, loss in zip(names, losses):
        W, b = theory.candidate_solution(name, s, optimal_bias)
        _mc_check(
            float(loss),
            W,
            b,
            importance,
            s,
            f"{name} at r={r}, s={s}, optimal_bias={optimal_bias}",
            "an ignored feature costs I(s/3 - s²/4) only with its bias at s/2; the extra feature is the LAST one; "
            "an antipodal pair costs (a+c)s²/6 only at b = 0",
        )


def test_candidate_geometry_matches_its_name():
    for n, names in theory.PHASE_CANDIDATES.items():
        for name in names:
            W, b = theory.candidate_solution(name, 0.2)
            assert W.shape == (n - 1, n) and b.shape == (n,)
            if name.startswith("perp_"):
                ignored_direction = np.array([float(c) for c in name[5:]])
                assert np.allclose(W @ ignored_direction, 0), f"{name}: W must annihilate {ignored_direction}"


def test_antipodal_bias_zero_is_the_papers_formula_but_not_optimal():
    s = 1.0  # both features always on: the bias matters most here
    b_star = float(theory.antipodal_optimal_bias(s))
    # 2b³ - 6b² + 1 = 0 is the hand-derived stationarity condition at s = 1.
    assert abs(2 * b_star**3 - 6 * b_star**2 + 1) < 1e-9 and 0.44 < b_star < 0.445
    W = np.array([[1.0, -1.0]])
    at_zero = theory.expected_loss_monte_carlo(W, [0.0, 0.0], 1.0, s, MC_SAMPLES)
    assert abs(at_zero - 2 / 6) < 3e-3, "W = [1, -1], b = 0 must cost (1 + 1) s²/6 (E[min(x, y)²] = 1/6)"
    # Same seed: common random numbers make the comparison of neighbouring biases precise.
    biases = (b_star - 0.05, b_star, b_star + 0.05)
    around = [theory.expected_loss_monte_carlo(W, [bb, bb], 1.0, s, MC_SAMPLES) for bb in biases]
    assert around[1] < min(around[0], around[2]), f"b* = {b_star:.3f} is not a minimum of the Monte Carlo loss {around}"
    assert around[1] < 0.45 * at_zero, "the optimal bias should cut the dense antipodal loss from 1/3 to about 0.141"
    sparse = 0.01
    assert abs(theory.antipodal_feature_loss(sparse) / (sparse**2 / 6) - 1) < 1e-3, "sparse limit must be s²/6"


@pytest.mark.parametrize("optimal_bias", [True, False])
def test_phase_diagram_at_hand_derived_points(optimal_bias):
    def phase(n, r, s):
        grid, names = theory.phase_diagram(n, r, s, optimal_bias)
        return names[int(grid)]

    # Dense: superposition never pays; drop whichever feature is less important.
    assert phase(2, 0.5, 1.0) == "extra_ignored" and phase(2, 2.0, 1.0) == "regular_ignored"
    assert phase(3, 0.5, 1.0) == "perp_001" and phase(3, 2.0, 1.0) == "perp_100"
    # Very sparse: antipodal pairs cost ~s²/6 per feature against ~s/3 for dropping one.
    assert phase(2, 1.1, 0.01) == "antipodal"
    # n = 3 sparse: the less important of {regular, extra} joins the antipodal pair, the other is dedicated.
    assert phase(3, 0.5, 0.01) == "perp_011" and phase(3, 3.0, 0.01) == "perp_110"
    grid, names = theory.phase_diagram(2, np.geomspace(0.1, 10, 4), np.geomspace(0.01, 1, 5), optimal_bias)
    assert grid.shape == (4, 5), "axis order must be (relative_importance, density)"


@pytest.mark.parametrize("optimal_bias", [True, False])
def test_antipodal_window_agrees_with_argmin(optimal_bias):
    r = np.geomspace(0.1, 10, 80)  # even count: r = 1 exactly (a tie) is not on the grid
    s = np.geomspace(0.01, 1, 60)
    grid, names = theory.phase_diagram(2, r, s, optimal_bias)
    r_low, r_high = theory.antipodal_window(s, optimal_bias)
    R = r[:, None]
    inside = (R > r_low) & (R < r_high)  # NaN compares False: empty window
    outside = np.where(R < 1, names.index("extra_ignored"), names.index("regular_ignored"))
    expected = np.where(inside, names.index("antipodal"), outside)
    near_boundary = (np.abs(np.log(R / r_low)) < 1e-9) | (np.abs(np.log(R / r_high)) < 1e-9)
    mismatch = (grid != expected) & ~near_boundary
    assert not mismatch.any(), f"{mismatch.sum()} grid points disagree with the analytic boundaries"


def test_antipodal_window_closes_at_four_sevenths_with_zero_bias():
    # Hand-derived: at r = 1 the window closes where 2·s²/6 = s/3 - s²/4, i.e. s = 4/7.
    r_low, r_high = theory.antipodal_window([4 / 7 - 1e-3, 4 / 7 + 1e-3], optimal_bias=False)
    assert r_low[0] < 1 < r_high[0] and np.isnan(r_low[1]) and np.isnan(r_high[1])
    assert np.allclose(r_low[0] * r_high[0], 1), "the window is symmetric in log r: r_high = 1 / r_low"
    r_low_opt, _ = theory.antipodal_window(4 / 7 + 1e-3)
    assert r_low_opt < 1, "the optimal bias makes antipodal cheaper, so its window must outlive s = 4/7"


def test_linear_expected_loss_matches_monte_carlo():
    rng = np.random.default_rng(3)
    W = rng.normal(size=(2, 3, 5)) / 2  # two instances
    b = rng.normal(size=(2, 5)) / 4
    importance = rng.uniform(0.2, 2, size=(2, 5))
    density = np.array([0.1, 0.3, 0.5, 0.8, 1.0])
    exact = theory.linear_expected_loss(W, b, importance, density)
    mc, stderr = theory.expected_loss_monte_carlo(
        W, b, importance, density, MC_SAMPLES, kind="linear", return_stderr=True
    )
    assert exact.shape == (2,)
    assert np.all(np.abs(mc - exact) <= SIGMAS * stderr), (
        f"exact {exact} vs Monte Carlo {mc} ± {stderr}: check E[x] = s/2, Var[x] = s/3 - s²/4 and the mean term"
    )
    assert theory.linear_expected_loss(W[0], b[0], importance[0], density) == pytest.approx(exact[0])


def test_decomposition_is_the_centred_linear_loss():
    rng = np.random.default_rng(4)
    W, importance, s = rng.normal(size=(2, 4)), rng.uniform(0.5, 1.5, 4), 0.2
    A = np.eye(4) - W.T @ W
    b = A @ np.full(4, s / 2)  # the bias absorbs the mean error
    terms = theory.linear_loss_decomposition(W, importance)
    variance = s / 3 - s**2 / 4
    assert theory.linear_expected_loss(W, b, importance, s) == pytest.approx(
        variance * (terms.feature_benefit.sum() + terms.interference.sum())
    ), "with b = (1 - WᵀW)E[x] the exact loss is Var[x] times the paper's two terms"


def test_decomposition_of_orthonormal_columns_is_zero():
    Q, _ = np.linalg.qr(np.random.default_rng(5).normal(size=(6, 4)))  # 4 orthonormal columns in 6-D
    terms = theory.linear_loss_decomposition(torch.tensor(Q), np.ones(4))
    assert np.allclose(terms.feature_benefit, 0) and np.allclose(terms.interference, 0)


def test_decomposition_of_antipodal_pair_weights_by_the_reading_feature():
    W = np.array([[[1.0, -1.0, 0.0]], [[0.5, 0.0, 0.0]]])  # batch: antipodal pair + unused; a half-norm feature
    importance = np.array([2.0, 0.5, 1.0])
    benefit, interference = theory.linear_loss_decomposition(W, importance)
    assert benefit.shape == (2, 3) and interference.shape == (2, 3, 3)
    assert np.allclose(benefit[0], [0, 0, 1.0]) and np.allclose(benefit[1], [2 * 0.75**2, 0.5, 1.0])
    # interference[j, i] = I_j (W_j·W_i)²: row = the feature being interfered with, weighted by ITS importance.
    assert np.allclose(interference[0], [[0, 2.0, 0], [0.5, 0, 0], [0, 0, 0]]), (
        f"got {interference[0]}: importance index swapped (I_i instead of I_j) or diagonal not zeroed?"
    )
    assert np.allclose(interference[1], 0)


def _dimensionality(W: np.ndarray) -> np.ndarray:
    # D_i = ‖W_i‖² / Σ_j (Ŵ_i·W_j)², j = i included (paper §4).
    norms = np.linalg.norm(W, axis=0)
    overlaps = (W / norms).T @ W
    return norms**2 / (overlaps**2).sum(axis=1)


@pytest.mark.parametrize("name", list(vocabulary.POLYTOPES))
def test_ideal_polytopes_are_tight_frames(name):
    V = theory.ideal_polytope(name)
    d, k = V.shape
    assert np.allclose(np.linalg.norm(V, axis=0), 1), "columns must be unit vectors"
    assert np.allclose(V @ V.T, k / d * np.eye(d)), f"{name} is not a tight frame: Σ v vᵀ = {V @ V.T}"
    p = vocabulary.POLYTOPES[name]
    assert (d, k) == (p.dimensions, p.features) and np.allclose(_dimensionality(V), p.dimensionality)


def test_regular_polygon_and_tegum_product():
    V = vocabulary.regular_polygon(7)
    assert np.allclose(V @ V.T, 3.5 * np.eye(2)) and np.allclose(_dimensionality(V), 2 / 7)
    bipyramid = theory.tegum_product(theory.ideal_polytope("triangle"), theory.ideal_polytope("digon"))
    assert bipyramid.shape == (3, 5)
    assert np.allclose(_dimensionality(bipyramid), [2 / 3, 2 / 3, 2 / 3, 1 / 2, 1 / 2]), (
        "the blocks must sit in orthogonal subspaces (block-diagonal), not overlap"
    )


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: theory.candidate_losses(2, 1.0, 0.0), "density"),
        (lambda: theory.phase_diagram(2, 1.0, 1.5), "density"),
        (lambda: theory.candidate_losses(2, -1.0, 0.5), "relative_importance"),
        (lambda: theory.candidate_losses(4, 1.0, 0.5), "n_features"),
        (lambda: theory.candidate_solution("triangle", 0.5), "name"),
        (lambda: theory.linear_expected_loss(np.ones((1, 2)), np.zeros(2), [1.0, -0.1], 0.5), "importance"),
        (lambda: theory.linear_expected_loss(np.ones(2), np.zeros(2), 1.0, 0.5), "W"),
        (lambda: theory.linear_expected_loss(np.ones((1, 2)), np.zeros(3), 1.0, 0.5), "b"),
        (lambda: theory.expected_loss_monte_carlo(np.ones((1, 2)), np.zeros(2), 1.0, 0.5, kind="relu"), "kind"),
        (lambda: theory.ideal_polytope("cube"), "square antiprism"),
        (lambda: vocabulary.regular_polygon(2), "k"),
    ],
)
def test_bad_input_raises_config_error(call, match):
    with pytest.raises(ConfigError, match=match):
        call()
