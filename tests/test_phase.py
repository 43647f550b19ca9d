"""Oracles for toymodels.phase: candidate weights and their symmetries, hand-computed geometry, the closed forms
of toymodels.theory, synthetic fits whose phases and losses are known by construction, Monte Carlo losses of the
theory's candidates, and (for the trainer's instance chunks) the unchunked run, bit for bit."""

import importlib

import numpy as np
import pytest
import torch

import toymodels as tm
from toymodels import phase, presets, theory
from toymodels.errors import ConfigError
from toymodels.models import ToyModel
from toymodels.results import TrainResult, result_of

train_module = importlib.import_module("toymodels.train")  # `toymodels.train` itself is the function


def _orthogonal(m: int, rng: np.random.Generator) -> np.ndarray:
    """A random m×m orthogonal matrix (Haar: rotations and reflections; ±1 for m = 1)."""
    q, r = np.linalg.qr(rng.standard_normal((m, m)))
    return q * np.sign(np.diag(r))


def _name(n: int, W) -> str:
    index, _ = phase.classify(W)
    return phase.phases(n)[int(index)]


# ----------------------------------------------------------------------------------------------------
# classify


@pytest.mark.parametrize("n", [2, 3])
def test_every_candidate_classifies_as_itself_at_distance_zero(n):
    """Oracle: the candidate weights themselves; n = 2 includes the confused solution."""
    names = phase.phases(n)
    assert names[: len(theory.PHASE_CANDIDATES[n])] == theory.PHASE_CANDIDATES[n], "the theory's candidates come first"
    assert ("confused" in names) == (n == 2)
    for expected, name in enumerate(names):
        index, distance = phase.classify(phase.PHASE_WEIGHTS[name])
        assert int(index) == expected, f"{name} classified as {names[int(index)]}"
        assert float(distance) < 1e-12


@pytest.mark.parametrize("n", [2, 3])
def test_classify_is_invariant_under_orthogonal_maps_of_the_hidden_space(n):
    """Oracle: WᵀW is unchanged by W → QW (a sign flip for m = 1), so the phase is too."""
    rng = np.random.default_rng(0)
    for name in phase.phases(n):
        for _ in range(5):
            Q = _orthogonal(n - 1, rng)
            index, distance = phase.classify(Q @ phase.PHASE_WEIGHTS[name])
            assert phase.phases(n)[int(index)] == name and float(distance) < 1e-9
    assert _name(2, -phase.PHASE_WEIGHTS["antipodal"]) == "antipodal"
    assert _name(2, [[-1.0, 0.0]]) == "extra_ignored" and _name(2, [[0.0, -1.0]]) == "regular_ignored"


def test_classify_treats_the_two_regular_features_of_n3_alike_but_not_the_extra_one():
    """Oracle: the paper's names with the two regular features swapped (W ⊥ [0,1,0] drops a regular feature too)."""
    assert _name(3, [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]) == "perp_100"  # W ⊥ [0, 1, 0]
    assert _name(3, [[0.0, 1.0, 0.0], [1.0, 0.0, -1.0]]) == "perp_011"  # W ⊥ [1, 0, 1]
    for name in phase.phases(3):
        swapped = phase.PHASE_WEIGHTS[name][:, [1, 0, 2]]
        assert _name(3, swapped) == name
    # The extra feature is not interchangeable: for n = 2 swapping the two features swaps the phase.
    assert _name(2, phase.PHASE_WEIGHTS["extra_ignored"][:, ::-1]) == "regular_ignored"
    # Nor for n = 3: ignoring the extra feature is not ignoring a regular one.
    assert _name(3, phase.PHASE_WEIGHTS["perp_001"][:, [2, 1, 0]]) == "perp_100"


@pytest.mark.parametrize("n", [2, 3])
def test_small_perturbations_keep_the_phase_and_the_distance_is_the_gram_distance(n):
    """Oracle: the candidate under a small perturbation; the distance is ‖WᵀW − W_cᵀW_c‖_F computed by hand."""
    rng = np.random.default_rng(1)
    for name in phase.phases(n):
        for _ in range(5):
            W = _orthogonal(n - 1, rng) @ phase.PHASE_WEIGHTS[name] + 0.03 * rng.standard_normal((n - 1, n))
            index, distance = phase.classify(W)
            assert phase.phases(n)[int(index)] == name
            candidate = phase.PHASE_WEIGHTS[name]
            by_hand = min(
                np.linalg.norm(W.T @ W - C.T @ C)
                for C in ([candidate] if n == 2 else [candidate, candidate[:, [1, 0, 2]]])
            )
            assert float(distance) == pytest.approx(by_hand, rel=1e-9, abs=1e-12) and 0 < by_hand < 0.3
    # Hand values: [0.9, 0] is 1 − 0.81 from [1, 0]; [0.7, 0.7] is 4 × 0.01² under the Frobenius norm from 1/√2.
    index, distance = phase.classify([[0.9, 0.0]])
    assert phase.phases(2)[int(index)] == "extra_ignored" and float(distance) == pytest.approx(0.19)
    index, distance = phase.classify([[0.7, 0.7]])
    assert phase.phases(2)[int(index)] == "confused" and float(distance) == pytest.approx(0.02)


@pytest.mark.parametrize("n", [2, 3])
def test_classify_batched_shapes_match_one_by_one(n):
    """Oracle: classifying each fit on its own; a torch tensor gives the same as a numpy array."""
    rng = np.random.default_rng(2)
    W = rng.standard_normal((4, 3, 2, n - 1, n))
    index, distance = phase.classify(W)
    assert index.shape == distance.shape == (4, 3, 2)
    for where in np.ndindex(4, 3, 2):
        one_index, one_distance = phase.classify(W[where])
        assert index[where] == one_index and distance[where] == pytest.approx(float(one_distance))
    torch_index, torch_distance = phase.classify(torch.tensor(W, dtype=torch.float64))
    assert np.array_equal(torch_index, index) and np.allclose(torch_distance, distance)


@pytest.mark.parametrize("shape", [(2, 2), (3, 4), (3, 2), (1, 3), (2,), (5, 2, 4), (1, 4), (3, 3)])
def test_classify_rejects_shapes_other_than_1x2_and_2x3(shape):
    with pytest.raises(ConfigError, match="W must have shape"):
        phase.classify(np.ones(shape))
    with pytest.raises(ConfigError, match="W must have shape"):
        phase.extra_feature_geometry(np.ones(shape))


# ----------------------------------------------------------------------------------------------------
# extra_feature_geometry


def test_extra_feature_geometry_by_hand():
    """Oracle: ‖W_e‖ and Σ_{j≠e} (Ŵ_e·W_j)² computed by hand for a few weights."""
    cases = [
        (phase.PHASE_WEIGHTS["antipodal"], 1.0, 1.0),
        (phase.PHASE_WEIGHTS["extra_ignored"], 0.0, 0.0),  # zero column: no NaN
        (phase.PHASE_WEIGHTS["regular_ignored"], 1.0, 0.0),
        (phase.PHASE_WEIGHTS["confused"], 2**-0.5, 0.5),
        (phase.PHASE_WEIGHTS["perp_110"], 1.0, 0.0),
        (phase.PHASE_WEIGHTS["perp_011"], 1.0, 1.0),
        (phase.PHASE_WEIGHTS["perp_001"], 0.0, 0.0),
        (np.array([[0.6, -0.3]]), 0.3, 0.36),
        (np.array([[1.0, 0.0, 0.3], [0.0, 1.0, 0.4]]), 0.5, 0.36 + 0.64),  # Ŵ_e = [0.6, 0.8]
        (np.array([[0.5, 0.0, 0.0], [0.0, 2.0, 1e-30]]), 1e-30, 0.0),
    ]
    for W, norm, superposition in cases:
        got_norm, got_superposition = phase.extra_feature_geometry(W)
        assert np.isfinite(got_norm) and np.isfinite(got_superposition), W
        assert float(got_norm) == pytest.approx(norm, abs=1e-12), W
        assert float(got_superposition) == pytest.approx(superposition, abs=1e-12), W
    norm, superposition = phase.extra_feature_geometry(np.stack([cases[0][0], cases[1][0], cases[2][0]]))
    assert norm.shape == superposition.shape == (3,)
    assert np.allclose(norm, [1, 0, 1]) and np.allclose(superposition, [1, 0, 0])


# ----------------------------------------------------------------------------------------------------
# critical_density and theory_boundaries


def test_critical_density_closed_form_without_the_optimal_bias():
    """Oracle: s/3 − s²/4 = 2·s²/6 has the one positive root s = 4/7."""
    assert phase.critical_density(optimal_bias=False) == pytest.approx(4 / 7, abs=1e-12)


def test_critical_density_with_the_optimal_bias_solves_q_equals_2g():
    """Oracle: the residual q − 2g at s_c, and its sign on either side (antipodal pays off only below s_c)."""
    s_c = phase.critical_density()
    gap = lambda s: float(theory.ignored_feature_loss(s) - 2 * theory.antipodal_feature_loss(s))  # noqa: E731
    assert abs(gap(s_c)) < 1e-12
    assert gap(s_c - 1e-4) > 0 > gap(s_c + 1e-4)
    assert 4 / 7 < s_c < 1 and s_c == pytest.approx(0.627, abs=1e-3)


def _phase_at(n, r, s, optimal_bias=True) -> str:
    grid, names = theory.phase_diagram(n, r, s, optimal_bias)
    return names[int(grid)]


DENSITIES = np.geomspace(0.01, 1.0, 120)
EPS = 1e-7


@pytest.mark.parametrize("optimal_bias", [True, False])
def test_n2_boundaries_separate_the_phases_of_the_theory(optimal_bias):
    """Oracle: theory.phase_diagram just inside and just outside each curve, at every density of a fine grid."""
    bounds = phase.theory_boundaries(2, DENSITIES, optimal_bias=optimal_bias)
    assert set(bounds) == {"r_low", "r_high", "r_one"}
    s, r_low = bounds["r_low"]
    _, r_high = bounds["r_high"]
    _, r_one = bounds["r_one"]
    assert np.allclose(s, DENSITIES) and np.allclose(bounds["r_high"][0], DENSITIES)
    np.testing.assert_allclose(r_high, 1 / r_low, rtol=1e-12, equal_nan=True)
    s_c = phase.critical_density(optimal_bias)
    window = np.isfinite(r_low)
    assert np.array_equal(window, DENSITIES < s_c), "the antipodal window must exist exactly below s_c"
    assert np.array_equal(np.isnan(r_one), window) and np.all(r_one[~window] == 1.0)
    assert window.sum() > 20 and (~window).sum() > 5, "the grid must sample both regimes"
    for s_value, low, high in zip(DENSITIES[window], r_low[window], r_high[window]):
        assert 0 < low < 1 < high
        assert _phase_at(2, low * (1 - EPS), s_value, optimal_bias) == "extra_ignored"
        assert _phase_at(2, low * (1 + EPS), s_value, optimal_bias) == "antipodal"
        assert _phase_at(2, 1.0, s_value, optimal_bias) == "antipodal"
        assert _phase_at(2, high * (1 - EPS), s_value, optimal_bias) == "antipodal"
        assert _phase_at(2, high * (1 + EPS), s_value, optimal_bias) == "regular_ignored"
    for s_value in DENSITIES[~window]:
        assert _phase_at(2, 1 - EPS, s_value, optimal_bias) == "extra_ignored"
        assert _phase_at(2, 1 + EPS, s_value, optimal_bias) == "regular_ignored"
        grid, names = theory.phase_diagram(2, np.geomspace(0.01, 100, 201), s_value, optimal_bias)
        assert "antipodal" not in {names[i] for i in grid}, f"antipodal wins somewhere at s = {s_value} ≥ s_c"


@pytest.mark.parametrize("optimal_bias", [True, False])
def test_n3_boundaries_separate_the_phases_of_the_theory(optimal_bias):
    """Oracle: theory.phase_diagram(3, ...) on either side of r_low (r < 1), of r = 1 and of s = s_c (r > 1)."""
    bounds = phase.theory_boundaries(3, DENSITIES, r_max=7.0, optimal_bias=optimal_bias)
    assert set(bounds) == {"r_low", "r_one", "s_critical"}
    _, r_low = bounds["r_low"]
    window_low, _ = theory.antipodal_window(DENSITIES, optimal_bias)
    below_one = np.isfinite(window_low) & (window_low < 1)
    np.testing.assert_allclose(r_low, np.where(below_one, window_low, np.nan), equal_nan=True)
    assert below_one.sum() > 20
    for s_value, low in zip(DENSITIES, r_low):
        if np.isfinite(low):
            assert _phase_at(3, low * (1 - EPS), s_value, optimal_bias) == "perp_001"
            assert _phase_at(3, low * (1 + EPS), s_value, optimal_bias) == "perp_011"
        else:  # no boundary below r = 1: the extra feature is dropped all the way up to it
            for r in np.geomspace(0.01, 1 - EPS, 20):
                assert _phase_at(3, r, s_value, optimal_bias) == "perp_001"
        # r = 1 separates dropping (or pairing) the extra feature from dropping (or pairing) a regular one.
        assert _phase_at(3, 1 - EPS, s_value, optimal_bias) in ("perp_001", "perp_011")
        assert _phase_at(3, 1 + EPS, s_value, optimal_bias) in ("perp_100", "perp_110")
    _, r_one = bounds["r_one"]
    assert np.all(r_one == 1.0)
    s_line, r_line = bounds["s_critical"]
    s_c = phase.critical_density(optimal_bias)
    assert np.allclose(s_line, s_c) and np.allclose(r_line, [1.0, 7.0])
    for r in (1 + 1e-3, 1.5, 3.0, 10.0, 100.0):  # vertical: the same s_c whatever r > 1
        assert _phase_at(3, r, s_c * (1 - 1e-6), optimal_bias) == "perp_110"
        assert _phase_at(3, r, s_c * (1 + 1e-6), optimal_bias) == "perp_100"


@pytest.mark.parametrize("n", [1, 4, 5])
def test_boundaries_reject_other_feature_counts(n):
    with pytest.raises(ConfigError, match="n_features"):
        phase.theory_boundaries(n, DENSITIES)
    with pytest.raises(ConfigError, match="n_features"):
        phase.phases(n)


# ----------------------------------------------------------------------------------------------------
# grid_axes


@pytest.mark.parametrize("name", ["phase_change_2", "phase_change_3"])
def test_grid_axes_recover_the_preset_grid(name):
    """Oracle: the values the preset is built from (r ascending, densities dense first)."""
    for fast, size in ((True, 8), (False, 16)):
        r, s = phase.grid_axes(tm.preset(name, fast=fast))
        np.testing.assert_allclose(r, np.geomspace(0.1, 10, size), rtol=1e-6)
        np.testing.assert_allclose(s, np.geomspace(1.0, 0.01, size), rtol=1e-6)
    # Seeds do not change the grid.
    r, s = phase.grid_axes(tm.preset(name, fast=True).replace(n_seeds=1))
    assert len(r) == len(s) == 8


def _reordered(exp, order):
    probability, importance = np.array(exp.feature_probability), np.array(exp.importance)
    return exp.replace(feature_probability=probability[order], importance=importance[order])


def test_grid_axes_reject_experiments_that_are_not_the_r_major_grid():
    exp = tm.preset("phase_change_2", fast=True)
    phase.grid_axes(_reordered(exp, np.arange(64)))  # control: rebuilding the same settings is fine
    with pytest.raises(ConfigError, match="n_features"):
        phase.grid_axes(tm.preset("intro"))
    with pytest.raises(ConfigError, match="phase-change grid"):
        phase.grid_axes(_reordered(exp, np.arange(64).reshape(8, 8).T.ravel()))  # density-major
    with pytest.raises(ConfigError, match="phase-change grid"):
        phase.grid_axes(_reordered(exp, np.random.default_rng(0).permutation(64)))
    with pytest.raises(ConfigError, match="phase-change grid"):
        phase.grid_axes(_reordered(exp, np.arange(63)))  # a missing grid point
    probability, importance = np.array(exp.feature_probability), np.array(exp.importance)
    importance[:, 0] = 2.0
    with pytest.raises(ConfigError, match="phase-change grid"):
        phase.grid_axes(exp.replace(importance=importance))  # the regular feature must have importance 1
    probability[:, 0] = np.minimum(2 * probability[:, 0], 1.0)
    with pytest.raises(ConfigError, match="phase-change grid"):
        phase.grid_axes(exp.replace(feature_probability=probability))  # one density for all features


# ----------------------------------------------------------------------------------------------------
# empirical_phase_diagram, on synthetic fits whose phases and losses are known


def _result(exp, W: np.ndarray, loss: np.ndarray, b: np.ndarray | None = None) -> TrainResult:
    m, n = exp.model.n_hidden, exp.model.n_features
    b = None if b is None else b.reshape(exp.n_instances, n)
    return result_of(exp, W.reshape(exp.n_instances, m, n), b, loss.ravel())


def _fit(name: str, rng: np.random.Generator, noise: float = 0.02) -> np.ndarray:
    """Candidate ``name`` in a random frame of the hidden space (regular features swapped at random), perturbed."""
    W = phase.PHASE_WEIGHTS[name]
    if W.shape[1] == 3 and rng.random() < 0.5:
        W = W[:, [1, 0, 2]]
    W = _orthogonal(W.shape[0], rng) @ W
    return W + noise * rng.standard_normal(W.shape)


def _protocol_case(n: int, seed: int = 0):
    """Five fits per point, by increasing loss: phases c (the best), a, a, b and b (the worst, discarded), with
    b before a in the names. Kept: a twice, b and c once each, so the protocol's phase is a; counting all five
    fits would tie a with b and give b."""
    rng = np.random.default_rng(seed)
    k = 5
    exp = presets.phase_change(n, fast=True).replace(n_seeds=k)
    rows, cols = 8, 8
    names = phase.phases(n)
    W = np.empty((rows, cols, k, n - 1, n))
    loss = np.empty((rows, cols, k))
    fit_phase = np.empty((rows, cols, k), dtype=int)
    worst = np.empty((rows, cols), dtype=int)
    expected = {key: np.empty((rows, cols), dtype=int) for key in ("phase", "best_phase", "all_five")}
    for i, j in np.ndindex(rows, cols):
        b, a = np.sort(rng.choice(len(names), 2, replace=False))
        c = rng.choice([p for p in range(len(names)) if p not in (a, b)])
        roles = [c, a, a, b, b]
        losses = np.sort(rng.uniform(0.01, 1.0, k))
        slots = rng.permutation(k)
        for rank, slot in enumerate(slots):
            fit_phase[i, j, slot] = roles[rank]
            loss[i, j, slot] = losses[rank]
            W[i, j, slot] = _fit(names[roles[rank]], rng)
        worst[i, j] = slots[-1]
        expected["phase"][i, j], expected["best_phase"][i, j], expected["all_five"][i, j] = a, c, b
    return exp, W, loss, fit_phase, worst, expected


@pytest.mark.parametrize("n", [2, 3])
def test_empirical_diagram_follows_the_papers_protocol(n):
    """Oracle: synthetic fits with phases and losses chosen by construction (see _protocol_case)."""
    exp, W, loss, fit_phase, worst, expected = _protocol_case(n)
    diagram = phase.empirical_phase_diagram(_result(exp, W, loss))
    r, s = phase.grid_axes(exp)
    assert diagram.n_features == n and diagram.names == phase.phases(n)
    assert np.array_equal(diagram.relative_importance, r) and np.array_equal(diagram.density, s)
    assert diagram.fit_phase.shape == diagram.kept.shape == diagram.fit_loss.shape == (8, 8, 5)
    assert np.array_equal(diagram.fit_phase, fit_phase), "every perturbed candidate must classify as itself"
    assert np.all(diagram.fit_distance < 0.2)
    np.testing.assert_allclose(diagram.fit_loss, loss, rtol=1e-6)
    # The highest-loss fit, and only it, is discarded.
    assert np.all(diagram.kept.sum(-1) == 4)
    assert not np.any(np.take_along_axis(diagram.kept, worst[..., None], -1))
    assert np.array_equal(diagram.phase, expected["phase"]), "phase must be the majority among the KEPT fits"
    assert not np.any(diagram.phase == expected["all_five"])
    assert np.array_equal(diagram.best_phase, expected["best_phase"]), "best_phase must be the lowest-loss fit's"
    assert np.allclose(diagram.purity, 0.5)
    # Colours: means over the kept fits only.
    norm = np.linalg.norm(W[..., :, -1], axis=-1)
    assert np.allclose(diagram.fit_extra_norm, norm, atol=1e-6)
    kept = np.ones(loss.shape, dtype=bool)
    np.put_along_axis(kept, worst[..., None], False, -1)
    np.testing.assert_allclose(diagram.extra_norm, (norm * kept).sum(-1) / 4, atol=1e-6)
    _, superposition = phase.extra_feature_geometry(W)
    np.testing.assert_allclose(diagram.extra_superposition, (superposition * kept).sum(-1) / 4, atol=1e-5)
    assert not np.allclose(diagram.extra_norm, norm.mean(-1), atol=1e-3), "the case must tell the two means apart"


def test_empirical_diagram_discard_count_ties_and_purity():
    """Oracle: hand-made points of three fits: discarding 0, 1 or 2 fits, a 1–1 tie, and a pure point."""
    exp = presets.phase_change(2, fast=True).replace(n_seeds=3)
    names = phase.phases(2)
    W = np.empty((8, 8, 3, 1, 2))
    loss = np.empty((8, 8, 3))
    rng = np.random.default_rng(3)
    for i, j in np.ndindex(8, 8):
        # By increasing loss: confused, antipodal, extra_ignored; stored in the order
        # [antipodal, extra_ignored, confused].
        W[i, j] = [_fit(name, rng) for name in ("antipodal", "extra_ignored", "confused")]
        loss[i, j] = [0.2, 0.3, 0.1]
    W[0, 0] = [_fit("regular_ignored", rng) for _ in range(3)]  # one pure point
    result = _result(exp, W, loss)
    one = phase.empirical_phase_diagram(result)
    assert np.array_equal(one.kept[1, 1], [True, False, True])
    # Kept: antipodal and confused, one each: a tie goes to the earlier name.
    assert one.phase[1, 1] == names.index("antipodal") and one.purity[1, 1] == 0.5
    assert one.best_phase[1, 1] == names.index("confused")
    assert one.phase[0, 0] == one.best_phase[0, 0] == names.index("regular_ignored") and one.purity[0, 0] == 1.0
    none = phase.empirical_phase_diagram(result, discard_worst=0)
    assert (
        none.kept.all()
        and none.phase[1, 1] == names.index("extra_ignored")
        and none.purity[1, 1] == pytest.approx(1 / 3)
    )
    two = phase.empirical_phase_diagram(result, discard_worst=2)
    assert np.array_equal(two.kept.sum(-1), np.ones((8, 8))) and np.array_equal(two.kept[1, 1], [False, False, True])
    assert np.all(two.phase[1:, 1:] == names.index("confused")) and np.all(two.purity == 1.0)
    norm = np.abs(W[..., 0, 1])
    assert two.extra_norm[1, 1] == pytest.approx(norm[1, 1, 2], abs=1e-6)
    assert none.extra_norm[1, 1] == pytest.approx(norm[1, 1].mean(), abs=1e-6)
    assert np.array_equal(two.best_phase, one.best_phase) and np.array_equal(none.best_phase, one.best_phase)
    for bad in (3, 4, -1, 1.0, "1"):
        with pytest.raises(ConfigError, match="discard_worst"):
            phase.empirical_phase_diagram(result, discard_worst=bad)


def test_empirical_diagram_rejects_experiments_that_are_not_a_phase_grid():
    exp = tm.preset("intro", fast=True)
    model = ToyModel(exp.model, exp.n_instances)
    with pytest.raises(ConfigError):
        phase.empirical_phase_diagram(TrainResult(exp, model, torch.zeros(exp.n_instances)))


def test_agreement_counts_matching_points():
    """Oracle: counting by hand after changing a known number of grid points."""
    exp, W, loss, _, _, expected = _protocol_case(2, seed=4)
    diagram = phase.empirical_phase_diagram(_result(exp, W, loss))
    assert diagram.agreement(expected["phase"]) == 1.0
    assert diagram.agreement(expected["best_phase"], best=True) == 1.0
    assert diagram.agreement(expected["best_phase"]) == 0.0  # c ≠ a at every point
    assert diagram.agreement(expected["phase"], best=True) == 0.0
    changed = expected["phase"].copy()
    changed[:2, :5] = (changed[:2, :5] + 1) % 4
    assert diagram.agreement(changed) == pytest.approx(1 - 10 / 64)
    assert diagram.agreement(changed.tolist()) == pytest.approx(1 - 10 / 64)
    for shape in ((8,), (8, 7), (64,), (8, 8, 1)):
        with pytest.raises(ConfigError, match="theory_phase"):
            diagram.agreement(np.zeros(shape, dtype=int))


# ----------------------------------------------------------------------------------------------------
# theory_phase_diagram and loss_slice


@pytest.mark.parametrize("optimal_bias", [True, False])
@pytest.mark.parametrize("n", [2, 3])
def test_theory_diagram_on_the_grid_and_on_a_fine_grid_spanning_its_cells(n, optimal_bias):
    """Oracle: theory.phase_diagram on the coarse grid and on the fine one (densities clipped to 1)."""
    exp, W, loss, *_ = _protocol_case(n, seed=5)
    empirical = phase.empirical_phase_diagram(_result(exp, W, loss))
    r, s = empirical.relative_importance, empirical.density
    points = 65  # 8 cells of 8 steps: every coarse point is also a fine one (at 8i + 4)
    diagram = phase.theory_phase_diagram(empirical, points=points, optimal_bias=optimal_bias)
    assert np.array_equal(diagram.on_grid, theory.phase_diagram(n, r, s, optimal_bias)[0])
    fine_r, fine_s = diagram.relative_importance, diagram.density
    assert fine_r.shape == fine_s.shape == (points,) and diagram.phase.shape == (points, points)
    assert np.all(np.diff(fine_r) > 0) and np.all(np.diff(fine_s) < 0), "r ascending, densities dense first"
    # The end points lie half a (logarithmic) cell beyond the coarse ones.
    r_cell, s_cell = np.log(r[1] / r[0]), np.log(s[0] / s[1])
    assert np.log(r[0] / fine_r[0]) == pytest.approx(r_cell / 2) and np.log(fine_r[-1] / r[-1]) == pytest.approx(
        r_cell / 2
    )
    assert np.log(fine_s[0] / s[0]) == pytest.approx(s_cell / 2) and np.log(s[-1] / fine_s[-1]) == pytest.approx(
        s_cell / 2
    )
    assert fine_s[0] > 1, "the densest cell reaches past density 1"
    expected, _ = theory.phase_diagram(n, fine_r, np.minimum(fine_s, 1.0), optimal_bias)
    assert np.array_equal(diagram.phase, expected)
    at_one, _ = theory.phase_diagram(n, fine_r, 1.0, optimal_bias)
    for column in np.flatnonzero(fine_s > 1):
        assert np.array_equal(diagram.phase[:, column], at_one)
    # Coarse and fine diagrams agree where a fine point is (close to) a coarse one.
    np.testing.assert_allclose(fine_r[4::8], r, rtol=1e-6)
    np.testing.assert_allclose(fine_s[4::8], s, rtol=1e-6)
    assert np.array_equal(diagram.phase[4::8, 4::8], diagram.on_grid)
    inside = fine_s[fine_s <= 1]
    boundaries = phase.theory_boundaries(n, inside, r_max=fine_r.max(), optimal_bias=optimal_bias)
    assert diagram.boundaries.keys() == boundaries.keys()
    for key, (x, y) in boundaries.items():
        np.testing.assert_array_equal(diagram.boundaries[key][0], x)
        np.testing.assert_array_equal(diagram.boundaries[key][1], y)
    # The theory's names index the same list as the empirical phases (the candidates come first).
    assert theory.phase_diagram(n, 1.0, 1.0)[1] == empirical.names[: len(theory.PHASE_CANDIDATES[n])]


def test_nearest_column_on_a_log_scale():
    """Oracle: the grid's own densities, and points a little off them on either side in log space."""
    densities = np.geomspace(1.0, 0.01, 8)
    for index, s in enumerate(densities):
        assert phase.nearest_column(densities, float(s)) == index
        assert phase.nearest_column(densities, np.float64(s)) == index
        if index:
            assert phase.nearest_column(densities, float(s * 1.3)) == index  # a cell is a factor 1.93 wide
        assert phase.nearest_column(densities, float(s / 1.3)) == index
    assert phase.nearest_column(densities, 0.001) == 7 and phase.nearest_column(densities, 1) == 0
    # Between 0.139 and 0.268 the log midpoint is 0.193, the linear one 0.204: 0.198 is nearer 0.268 in log only.
    assert phase.nearest_column(densities, 0.198) == 2 and phase.nearest_column(densities, 0.19) == 3
    for bad in (0, 0.0, -0.1, 1.5, True, "0.5", None, float("nan")):
        with pytest.raises(ConfigError, match="density"):
            phase.nearest_column(densities, bad)


@pytest.mark.parametrize("n", [2, 3])
def test_loss_slice_matches_the_theory_and_the_fits(n):
    """Oracle: theory.candidate_losses at the slice's density; the diagram's own columns."""
    exp, W, loss, *_ = _protocol_case(n, seed=6)
    empirical = phase.empirical_phase_diagram(_result(exp, W, loss))
    for density, index in ((1.0, 0), (0.14, 3), (np.float64(0.0105), 7), (0.3, 2)):
        part = phase.loss_slice(empirical, density, points=50)
        s = float(empirical.density[index])
        assert part.density == s, f"density {density} must select the column of s = {s}"
        names, losses = theory.candidate_losses(n, part.relative_importance, s)
        assert part.names == names and part.fit_names == empirical.names
        np.testing.assert_allclose(part.candidate_losses, losses, rtol=1e-12)
        assert part.candidate_losses.shape == (len(names), 50)
        np.testing.assert_allclose(
            part.relative_importance, phase.theory_phase_diagram(empirical, 50).relative_importance
        )
        np.testing.assert_allclose(part.fit_relative_importance, empirical.relative_importance)
        np.testing.assert_allclose(part.fit_loss, empirical.fit_loss[:, index] * n)
        np.testing.assert_allclose(part.fit_loss, loss[:, index] * n, rtol=1e-6)
        assert np.array_equal(part.fit_phase, empirical.fit_phase[:, index])
        assert np.array_equal(part.kept, empirical.kept[:, index])
        np.testing.assert_allclose(part.fit_extra_norm, empirical.fit_extra_norm[:, index])
    names, losses = theory.candidate_losses(n, part.relative_importance, s, optimal_bias=False)
    np.testing.assert_allclose(phase.loss_slice(empirical, 0.3, 50, optimal_bias=False).candidate_losses, losses)
    for bad in (0, -1.0, 1.5, True, "0.5", None):
        with pytest.raises(ConfigError, match="density"):
            phase.loss_slice(empirical, bad)


@pytest.mark.parametrize("n", [2, 3])
def test_loss_slice_puts_trained_losses_and_theory_in_the_same_units(n):
    """Oracle: the trainer's evaluation (Monte Carlo) of the theory's candidate solutions, one fit per candidate,
    must match theory.candidate_losses once loss_slice multiplies by n (a missing factor would be off by 2 or 3)."""
    candidates = theory.PHASE_CANDIDATES[n]
    exp = presets.phase_change(n, fast=True).replace(n_seeds=len(candidates))
    r, s = phase.grid_axes(exp)
    W = np.empty((8, 8, len(candidates), n - 1, n))
    b = np.empty((8, 8, len(candidates), n))
    for i, j, k in np.ndindex(8, 8, len(candidates)):
        W[i, j, k], b[i, j, k] = theory.candidate_solution(candidates[k], s[j])
    result = _result(exp, W, np.zeros(W.shape[:3]), b)
    result = TrainResult(exp, result.model, tm.evaluate(result.model, exp, n_batches=32))
    empirical = phase.empirical_phase_diagram(result, discard_worst=0)
    for index in (0, 1, 2):
        part = phase.loss_slice(empirical, float(s[index]))
        assert part.density == s[index]
        assert np.array_equal(part.fit_phase, np.broadcast_to(np.arange(len(candidates)), (8, len(candidates))))
        _, expected = theory.candidate_losses(n, r, s[index])  # (candidates, R)
        np.testing.assert_allclose(part.fit_loss, expected.T, rtol=0.1, atol=1e-4)
