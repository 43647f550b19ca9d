"""Oracles for toymodels.geometry (§4: non-uniform superposition, correlated and anticorrelated sets) and its
figures and tables: ideal weights classify as what they are, expected losses match closed forms, Monte Carlo and
the trainer's own sampler, thresholds and bands computed on synthetic results are the ones built in, figures hold
those numbers, and short seeded runs reproduce the paper's qualitative results."""

import numpy as np
import plotly.graph_objects as go
import pytest

import toymodels as tm
from toymodels import geometry, kit, theory
from toymodels.config import DataConfig
from toymodels.errors import ConfigError
from toymodels.results import result_of

PENTAGON = theory.ideal_polytope("pentagon")  # (2, 5), unit columns 72° apart
E0, E1 = np.array([1.0, 0.0]), np.array([0.0, 1.0])


def _digons(dropped: int = 0) -> np.ndarray:
    """Two orthogonal antipodal pairs in 2-D, feature ``dropped`` at zero."""
    others = [i for i in range(5) if i != dropped]
    W = np.zeros((2, 5))
    W[:, others] = np.stack([E0, -E0, E1, -E1], axis=1)
    return W


def _at(angles_degrees, norms=1.0) -> np.ndarray:
    """(2, n) columns at the given angles and norms."""
    angles = np.radians(np.asarray(angles_degrees, dtype=float))
    return np.stack([np.cos(angles), np.sin(angles)]) * np.asarray(norms, dtype=float)


def _rotation(degrees: float) -> np.ndarray:
    t = np.radians(degrees)
    return np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])


def _result(experiment, W, b=None, losses=None) -> tm.TrainResult:
    """A TrainResult holding given weights W (n_instances, m, n), laid out setting-major as the trainer does."""
    return result_of(experiment, np.asarray(W, dtype=float), b, losses)


# ----------------------------------------------------------------------------------------------------
# Non-uniform superposition: classification


def test_ideal_pentagons_in_any_orientation_and_scale_classify_as_pentagons():
    names = geometry.NON_UNIFORM_CLASSES
    for W in (
        PENTAGON,
        1.13 * PENTAGON,
        _rotation(17) @ PENTAGON,
        np.diag([1.0, -1.0]) @ PENTAGON,
        PENTAGON[:, [3, 0, 4, 1, 2]],
    ):
        assert names[int(geometry.classify_non_uniform(W))] == "pentagon"
    np.testing.assert_allclose(geometry.angular_gaps(PENTAGON), 72.0, err_msg="a regular pentagon has 72° gaps")
    np.testing.assert_allclose(geometry.room(PENTAGON, 3), 72.0)


def test_a_deformed_pentagon_is_still_a_pentagon_and_its_room_is_measured():
    """The varied feature taking less room (50° to each neighbour) keeps the pentagon; room() reads it back."""
    W = _at([0, 50, 50 + 260 / 3, 50 + 520 / 3, 310])  # feature 0 between 310° and 50°
    assert geometry.NON_UNIFORM_CLASSES[int(geometry.classify_non_uniform(W))] == "pentagon"
    np.testing.assert_allclose(geometry.room(W, 0), 50.0)
    np.testing.assert_allclose(geometry.angular_gaps(W).sum(), 360.0)


def test_two_digons_need_the_varied_feature_dropped():
    classify = lambda W, varied=0: geometry.NON_UNIFORM_CLASSES[int(geometry.classify_non_uniform(W, varied))]  # noqa: E731
    assert classify(_digons(0)) == "two digons"
    assert classify(_rotation(40) @ _digons(0)) == "two digons"
    assert classify(_digons(3)) == "other", "a base feature dropped is not the paper's two digons"
    assert classify(_digons(3), varied=3) == "two digons", "the varied index must be honoured"
    parked = _digons(0)
    parked[:, 0] = 0.4 * parked[:, 1]  # half-learned on top of a digon (seen at high varied density)
    assert classify(parked) == "other"
    tilted = _digons(0)
    tilted[:, 2] = _at([150])[:, 0]  # the partner of feature 1 at 150°: not antipodal
    assert classify(tilted) == "other"


@pytest.mark.parametrize("angles", [[0, 72, 144, 216, 220], [0, 40, 80, 120, 160]])
def test_merged_features_or_a_half_plane_fan_are_not_pentagons(angles):
    assert geometry.NON_UNIFORM_CLASSES[int(geometry.classify_non_uniform(_at(angles)))] == "other"


def test_classify_non_uniform_rejects_other_shapes():
    with pytest.raises(ConfigError, match="W"):
        geometry.classify_non_uniform(np.zeros((3, 5)))
    with pytest.raises(ConfigError, match="varied"):
        geometry.classify_non_uniform(PENTAGON, varied=5)


# ----------------------------------------------------------------------------------------------------
# Expected losses


@pytest.mark.parametrize(
    "correlation, convention, per_feature",
    [
        ("none", "paper", 1.0),
        ("correlated", "paper", 1.0),
        ("anticorrelated", "paper", 0.5),
        ("anticorrelated", "arena", 1.0),
    ],
)
def test_expected_loss_of_the_zero_model_is_the_second_moment_under_each_sampling_convention(
    correlation, convention, per_feature
):
    """Oracle: W = 0, b = 0 outputs 0, so L = Σ_i E[x_i²] = Σ_i p_i/3 with each feature's own density p_i:
    p for independent and correlated features, p/k for the paper's anticorrelated sets (one feature of the set
    fires), p for ARENA's convention."""
    data = DataConfig(correlation, 1 if correlation == "none" else 2, convention)
    loss = geometry.expected_loss(np.zeros((1, 2, 4)), 0.0, 0.3, data=data)
    np.testing.assert_allclose(loss, 4 * per_feature * 0.3 / 3, rtol=1e-3)


def test_an_antipodal_pair_costs_what_its_data_lets_it():
    """Oracle: W = [1, −1] in 1-D, b = 0 errs only when both features are on (error 2·min(x, y)², mean 1/3):
    p²/3 for independent features, p/3 for a correlated pair, exactly 0 for an anticorrelated one."""
    W, p = np.array([[[1.0, -1.0]]]), 0.2
    for correlation, expected in (("none", p**2 / 3), ("correlated", p / 3), ("anticorrelated", 0.0)):
        data = DataConfig(correlation, 1 if correlation == "none" else 2)
        np.testing.assert_allclose(
            geometry.expected_loss(W, 0.0, p, data=data),
            expected,
            rtol=2e-3,
            atol=1e-12,
            err_msg=f"{correlation}: wrong activity patterns or probabilities",
        )


def test_expected_loss_agrees_with_monte_carlo_and_uses_common_points():
    rng = np.random.default_rng(1)
    W, b = rng.normal(size=(6, 2, 5)) * 0.8, rng.normal(size=(6, 5)) * 0.1
    p = rng.uniform(0.02, 0.5, size=(6, 5))
    exact = geometry.expected_loss(W, b, p)
    mc, stderr = theory.expected_loss_monte_carlo(W, b, 1.0, p, n_samples=400_000, seed=3, return_stderr=True)
    assert np.all(np.abs(exact - mc) < 4 * stderr), f"{(exact - mc) / stderr} standard errors apart"
    twins = geometry.expected_loss(np.stack([W[0], W[0]]), np.stack([b[0], b[0]]), p[0])
    assert twins[0] == twins[1], "every instance must be averaged over the same points"


@pytest.mark.parametrize("correlation", ["correlated", "anticorrelated"])
def test_expected_loss_matches_the_trainer_on_its_own_sampler(correlation):
    """The enumeration must describe the data that toymodels.data draws: compare with tm.evaluate (n times
    its mean over features) on 300 fresh batches."""
    experiment = tm.Experiment(tm.ModelConfig(4, 2), feature_probability=0.3, data=DataConfig(correlation, 2))
    rng = np.random.default_rng(2)
    W, b = rng.normal(size=(1, 2, 4)), rng.normal(size=(1, 4)) * 0.1
    result = _result(experiment, W, b)
    sampled = float(tm.evaluate(result.model, experiment, n_batches=300)[0]) * 4
    np.testing.assert_allclose(geometry.fit_losses(result)[0, 0], sampled, rtol=0.02)


def test_the_two_digon_closed_form_is_the_loss_of_ideal_digons():
    p_varied, base = 0.013, 0.05
    b = np.array([p_varied / 2] + [float(theory.antipodal_optimal_bias(base))] * 4)
    density = np.array([p_varied] + [base] * 4)
    exact = geometry.expected_loss(_digons(0)[None], b, density)
    np.testing.assert_allclose(exact, geometry.digon_loss_theory(p_varied, base), rtol=1e-3)
    with pytest.raises(ConfigError, match="n_features"):
        geometry.digon_loss_theory(0.01, n_features=4)


def test_expected_loss_rejects_what_it_cannot_compute():
    with pytest.raises(ConfigError, match="kind"):
        geometry.expected_loss(np.zeros((1, 2, 3)), 0.0, 0.1, kind="relu_hidden")
    with pytest.raises(ConfigError, match="signed"):
        geometry.expected_loss(np.zeros((1, 2, 3)), 0.0, 0.1, data=DataConfig(signed=True))
    with pytest.raises(ConfigError, match="MAX_PATTERNS"):
        geometry.expected_loss(np.zeros((1, 2, 13)), 0.0, 0.1)


# ----------------------------------------------------------------------------------------------------
# Thresholds on synthetic results


def test_crossings_interpolate_in_log_density_and_skip_missing_points():
    x = np.geomspace(0.005, 0.2, 9)
    np.testing.assert_allclose(geometry.crossings(x, np.log(x / 0.03)), [0.03])
    gappy = np.log(x / 0.03)
    gappy[[3, 4]] = np.nan
    np.testing.assert_allclose(geometry.crossings(x, gappy), [0.03])
    assert geometry.crossings(x, np.ones_like(x)).size == 0
    with pytest.raises(ConfigError, match="increasing"):
        geometry.crossings(x[::-1], np.ones_like(x))


def _synthetic_non_uniform(threshold: float = 0.01):
    """The fast non-uniform grid with two fits per density: a pentagon (fit 0) and two digons (fit 1), and
    losses that cross at ``threshold``: the digons cost 1 + log(p/threshold), the pentagon 1."""
    experiment = tm.preset("non_uniform", fast=True).replace(n_seeds=2)
    p = np.array(experiment.feature_probability)[:, 0]
    W = np.stack([np.stack([PENTAGON, _digons(0)]) for _ in p]).reshape(-1, 2, 5)
    losses = np.stack([np.ones_like(p), 1 + np.log(p / threshold)], axis=1)
    return _result(experiment, W), losses, p


def test_the_threshold_is_where_the_lowest_pentagon_and_digon_losses_cross():
    result, losses, p = _synthetic_non_uniform(0.01)
    sweep = geometry.non_uniform_sweep(result, losses=losses)
    np.testing.assert_allclose(sweep.threshold, 0.01, rtol=1e-9)
    np.testing.assert_allclose(sweep.ratio, 5.0, rtol=1e-9, err_msg="ratio = base density / threshold")
    below = p < 0.01
    assert list(sweep.best_class) == [1 if b else 0 for b in below], "digons must win below the threshold"
    assert sweep.switch == (p[below].max(), p[~below].min())
    np.testing.assert_array_equal(sweep.counts(), np.tile([1, 1, 0], (len(p), 1)))
    np.testing.assert_allclose(sweep.pentagon_room, 72.0)
    np.testing.assert_allclose(sweep.digon_theory, geometry.digon_loss_theory(p, 0.05))
    np.testing.assert_allclose(sweep.best_W[0], _digons(0), atol=1e-6)
    np.testing.assert_allclose(sweep.best_W[-1], PENTAGON, atol=1e-6)


def test_non_uniform_sweep_rejects_other_experiments():
    with pytest.raises(ConfigError, match="non-uniform"):
        geometry.non_uniform_sweep(_result(tm.preset("intro").replace(n_seeds=1), np.zeros((3, 2, 5))))


# ----------------------------------------------------------------------------------------------------
# Correlated and anticorrelated sets


def _names(W, set_size=2):
    return [geometry.ARRANGEMENTS[a] for a in geometry.classify_sets(W, set_size)]


def test_ideal_set_arrangements_classify_as_themselves_in_any_orientation():
    s = 2**-0.5
    cases = {
        "orthogonal": np.stack([E0, E1, -E0, -E1], axis=1),  # two local orthogonal bases sharing the plane
        "antipodal": np.stack([E0, -E0, E1, -E1], axis=1),
        "collapsed": np.stack([s * E0, s * E0, -s * E0, -s * E0], axis=1),
        "side by side": _at([0, 60, 180, 240]),
        "obtuse": _at([0, 120, 180, 300]),
    }
    for expected, W in cases.items():
        for Q in (np.eye(2), _rotation(33), np.diag([1.0, -1.0])):
            assert _names(Q @ W) == [expected, expected], f"{expected} classified as {_names(Q @ W)}"
    unlearned = cases["orthogonal"].copy()
    unlearned[:, 3] = 0.0
    assert _names(unlearned) == ["orthogonal", "not learned"]
    mixed = np.stack([E0, E0, E1], axis=1)  # a set of three: one pair collapsed, the others orthogonal
    assert _names(mixed, 3) == ["mixed"]


def test_pca_alignment_and_across_set_cosines_read_the_ideal_arrangements():
    s = 2**-0.5
    collapsed = np.stack([s * E0, s * E0, s * E1, s * E1], axis=1)
    orthogonal = np.stack([E0, E1, -E0, -E1], axis=1)
    np.testing.assert_allclose(geometry.pca_alignment(collapsed, 2), 1.0)
    np.testing.assert_allclose(geometry.pca_alignment(orthogonal, 2), 0.5)
    np.testing.assert_allclose(geometry.pca_alignment(np.stack([E0, -E0, E1, -E1], axis=1), 2), 0.0, atol=1e-12)
    np.testing.assert_allclose(
        geometry.across_cosines(orthogonal, 2), -1.0, err_msg="each feature opposes one of the other set"
    )
    np.testing.assert_allclose(geometry.across_cosines(collapsed, 2), 0.0, atol=1e-12)


def test_block_overlaps_separate_local_orthogonal_bases_from_mixed_ones():
    """Oracle: two orthonormal bases of R^10 (identity and a random rotation) are local orthogonal bases:
    within-set overlaps 0, all interference across sets. Interleaving them across the sets breaks that."""
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(10, 10)))
    W = np.concatenate([np.eye(10), Q], axis=1)
    overlaps = geometry.block_overlaps(W, 10)
    np.testing.assert_allclose(overlaps.within, 0.0, atol=1e-12)
    np.testing.assert_allclose(overlaps.across, np.abs(Q).mean())
    np.testing.assert_allclose(overlaps.across_share, 1.0)
    mixed = geometry.block_overlaps(W[:, np.r_[0:5, 10:15, 5:10, 15:20]], 10)
    assert mixed.within > 0.05 and mixed.across_share < 0.9
    with pytest.raises(ConfigError, match="set_size"):
        geometry.block_overlaps(W, 20)
    with pytest.raises(ConfigError, match="set_size"):
        geometry.block_overlaps(W, 3)


def test_collapse_bands_are_runs_and_the_paper_bands_are_as_stated():
    density = np.array([0.01, 0.03, 0.07, 0.1, 0.18, 0.3, 0.6])
    bands = geometry.collapse_bands(density, [0, 0, 1, 1, 2, 3, 3])
    assert bands == ((0, 0.01, 0.03), (1, 0.07, 0.1), (2, 0.18, 0.18), (3, 0.3, 0.6))
    np.testing.assert_array_equal(
        geometry.paper_collapsed([0.01, 0.05, 0.06, 0.15, 0.2, 0.22, 0.3, 0.7]), [0, 0, 1, 2, 2, -1, 3, 3]
    )
    with pytest.raises(ConfigError, match="counts"):
        geometry.collapse_bands(density, [0, 1])


def _synthetic_pca_sweep(collapse_from: int = 3):
    """The fast PCA grid (8 densities) with two fits per density: three pairs side by side on a hexagon (fit 0)
    and three collapsed pairs on a triangle (fit 1); the collapsed fit has the lower loss from setting
    ``collapse_from`` on."""
    experiment = tm.preset("pca_sweep", fast=True).replace(n_seeds=2)
    hexagon = _at([0, 60, 120, 180, 240, 300])
    triangle = _at([0, 0, 120, 120, 240, 240], 2**-0.5)
    S = experiment.n_settings
    W = np.stack([np.stack([hexagon, triangle]) for _ in range(S)]).reshape(-1, 2, 6)
    losses = np.where(np.arange(S)[:, None] < collapse_from, [[0.0, 1.0]], [[1.0, 0.0]])
    return _result(experiment, W), losses


def test_set_sweep_picks_the_lowest_loss_fit_and_counts_its_collapsed_pairs():
    result, losses = _synthetic_pca_sweep(3)
    sweep = geometry.set_sweep(result, losses=losses)
    np.testing.assert_array_equal(sweep.collapsed, [0, 0, 0, 3, 3, 3, 3, 3])
    np.testing.assert_array_equal(sweep.fit_collapsed, np.tile([0, 3], (8, 1)))
    assert sweep.names(0) == ("side by side",) * 3 and sweep.names(7) == ("collapsed",) * 3
    np.testing.assert_allclose(sweep.cosine[0], 0.5)
    np.testing.assert_allclose(sweep.pca_alignment[[0, 7]], [0.75, 1.0])
    np.testing.assert_allclose(
        sweep.across_cosine[0], -1.0, err_msg="on a hexagon every feature opposes another pair's"
    )
    bands = geometry.collapse_bands(sweep.density, sweep.collapsed)
    assert [band.count for band in bands] == [0, 3] and bands[1].low == pytest.approx(sweep.density[3])
    with pytest.raises(ConfigError, match="correlated"):
        geometry.set_sweep(_result(tm.preset("intro").replace(n_seeds=1), np.zeros((3, 2, 5))))


# ----------------------------------------------------------------------------------------------------
# Figures hold the numbers


def test_non_uniform_losses_plot_every_fit_and_mark_the_threshold():
    result, losses, p = _synthetic_non_uniform(0.01)
    sweep = geometry.non_uniform_sweep(result, losses=losses)
    fig = geometry.non_uniform_losses(sweep, title="non-uniform")
    by_name = {}
    for trace in fig.data:
        by_name.setdefault(trace.name, []).append(trace)
    top, bottom = by_name["fit: two digons"]
    np.testing.assert_allclose(top.y, losses[:, 1])
    np.testing.assert_allclose(top.x, p)
    np.testing.assert_allclose(bottom.y, losses[:, 1] / sweep.digon_theory, err_msg="row 2: loss ÷ the closed form")
    np.testing.assert_allclose(by_name["lowest-loss pentagon"][0].y, 1.0)
    np.testing.assert_allclose(by_name["two digons, closed form"][1].y, 1.0)
    lines = [shape.x0 for shape in fig.layout.shapes]
    assert lines == pytest.approx([0.01, 0.01, 0.02, 0.02]), "dotted lines in both rows: measured, then the paper's"
    texts = " ".join(annotation.text for annotation in fig.layout.annotations)
    assert "0.01 (5.00× sparser)" in texts and "2.5× sparser" in texts
    assert fig.layout.title.text == "non-uniform" and fig.layout.xaxis.type == "log"


def test_non_uniform_slider_shows_the_lowest_loss_fit_with_the_varied_feature_apart():
    result, losses, p = _synthetic_non_uniform(0.01)
    sweep = geometry.non_uniform_sweep(result, losses=losses)
    fig = geometry.non_uniform_slider(sweep, title="slider")
    steps = fig.layout.sliders[0].steps
    assert len(steps) == len(p) and steps[0].label == "1−S = 0.005"
    assert steps[0].args[1]["title.text"].endswith("two digons") and steps[-1].args[1]["title.text"].endswith(
        "pentagon"
    )
    per_step = len(fig.data) // len(p)
    assert per_step == 5 + 2, "five feature lines and two marker groups (varied feature, the others)"
    varied, others = fig.data[5], fig.data[6]
    np.testing.assert_allclose([varied.x[0], varied.y[0]], [0.0, 0.0], atol=1e-6, err_msg="the dropped varied feature")
    assert len(others.x) == 4 and "density varied" in varied.name


def test_collapse_figure_draws_the_lowest_loss_counts_the_paper_and_the_pca_share():
    result, losses = _synthetic_pca_sweep(3)
    sweep = geometry.set_sweep(result, losses=losses)
    fig = geometry.collapse_figure(sweep, title="pca")
    traces = {trace.name: trace for trace in fig.data}
    np.testing.assert_array_equal(traces["lowest-loss fit"].y, sweep.collapsed)
    paper = traces["paper"]
    expected = geometry.paper_collapsed(np.array(paper.x)).astype(float)
    np.testing.assert_array_equal(np.array(paper.y, dtype=float), np.where(expected >= 0, expected, np.nan))
    every = traces["every fit (size: how many)"]
    assert sorted(zip(every.x, every.y, every.customdata)) == sorted(
        [(p, c, 1) for p in sweep.density for c in (0, 3)]
    ), "one marker per (density, count), sized by the fits"
    np.testing.assert_allclose(traces["share of ‖W‖² along the principal components"].y, sweep.pca_alignment)


def test_set_sweep_slider_and_correlated_row_colour_features_by_set():
    result, losses = _synthetic_pca_sweep(3)
    sweep = geometry.set_sweep(result, losses=losses)
    slider = geometry.set_sweep_slider(sweep, title="sets")
    assert [step.label for step in slider.layout.sliders[0].steps][3].endswith("3 collapsed")
    row = geometry.correlated_row(
        [(sweep.best_W[0], 2, "side by side"), (np.stack([E0, E1, -E0, -E1], axis=1), 2, "2 × 2")]
    )
    legend = [trace.name for trace in row.data if trace.showlegend]
    assert legend == ["set 1", "set 2", "set 3"], "one legend entry per set, across panels"
    set_3 = [trace for trace in row.data if trace.name == "set 3"][0]
    np.testing.assert_allclose(set_3.x, sweep.best_W[0][0, 4:6], atol=1e-6)
    assert [annotation.text for annotation in row.layout.annotations] == ["side by side", "2 × 2"]
    with pytest.raises(ConfigError, match="panels"):
        geometry.correlated_row([])


def test_features_2d_groups_has_a_fixed_trace_layout_and_checks_its_groups():
    fig = kit.features_2d_groups(PENTAGON, [0, 1, 1, 0, 1], ["a", "b"], title="groups")
    assert len(fig.data) == 5 + 2
    np.testing.assert_allclose(fig.data[5].x, PENTAGON[0, [0, 3]])
    np.testing.assert_allclose(fig.data[6].y, PENTAGON[1, [1, 2, 4]])
    assert fig.data[0].line.color == fig.data[5].marker.color
    with pytest.raises(ConfigError, match="groups"):
        kit.features_2d_groups(PENTAGON, [0, 1, 2, 0, 1], ["a", "b"])
    with pytest.raises(ConfigError, match="n_hidden = 2"):
        kit.features_2d_groups(np.zeros((3, 5)), [0] * 5, ["a"])


def test_block_gram_shows_the_gram_matrix_and_the_overlaps_in_its_title():
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(10, 10)))
    W = np.concatenate([np.eye(10), Q], axis=1)
    fig = geometry.block_gram(W, 10)
    np.testing.assert_allclose(np.array(fig.data[0].z), W.T @ W)
    assert len(fig.layout.shapes) == 2, "one outline per set"
    assert f"within sets 0.000, across {np.abs(Q).mean():.3f}" in fig.layout.title.text
    assert (fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax) == (-1, 1)


# ----------------------------------------------------------------------------------------------------
# Tables and live widgets


def test_tables_print_the_numbers_the_chapter_quotes():
    result, losses, p = _synthetic_non_uniform(0.01)
    sweep = geometry.non_uniform_sweep(result, losses=losses)
    threshold = geometry.non_uniform_threshold(sweep)
    assert threshold.rows[0][1:] == ("0.01", "5.00")
    assert threshold.rows[-1][1:] == ("≈ 0.02", "≈ 2.5")
    table = geometry.non_uniform_table(sweep)
    assert len(table.rows) == len(p) and table.rows[0][3] == "two digons" and table.rows[0][2] == "1 / 1 / 0"
    pca, pca_losses = _synthetic_pca_sweep(3)
    bands = geometry.collapse_bands_table(geometry.set_sweep(pca, losses=pca_losses))
    assert [row[0] for row in bands.rows] == ["0", "3"] and bands.rows[0][3] == "p ≤ 0.05"
    experiment = tm.preset("correlated", fast=True).replace(n_seeds=1)
    two_by_two = geometry.set_sweep(_result(experiment, np.stack([E0, E1, -E0, -E1], axis=1)[None]))
    arrangements = geometry.arrangement_table({"correlated": two_by_two})
    assert arrangements.rows[0][2:5] == ("orthogonal, orthogonal", "0.00 0.00", "yes")
    blocks = geometry.block_overlap_table({"2 × 2": two_by_two})
    assert blocks.rows[0][2:4] == ("0.000", "0.500"), "across sets: W_0·W_2 = W_1·W_3 = −1, the other two 0"


def test_live_widgets_redraw_the_same_figure_in_place():
    pytest.importorskip("anywidget")
    widget = geometry.live_non_uniform(tm.preset("non_uniform", fast=True).replace(steps=50, n_seeds=2))
    controls, figure = widget.children
    (slider,) = controls.children
    assert isinstance(figure, go.FigureWidget)
    traces = figure.data
    slider.value = 0.1
    assert all(a is b for a, b in zip(figure.data, traces)), "traces must update in place"
    assert "density 0.1 " in figure.layout.title.text
    widget = geometry.live_correlated(tm.preset("correlated_3_pairs", fast=True).replace(steps=50, n_seeds=2))
    controls, figure = widget.children
    (slider,) = controls.children
    slider.value = 0.3
    assert "1−S = 0.3" in figure.layout.title.text and "sets:" in figure.layout.title.text


# ----------------------------------------------------------------------------------------------------
# Presets and short seeded runs of the paper's qualitative results

QUICK = dict(steps=1500, lr=1e-2, n_seeds=8, progress=False)  # a few seconds; the chapter's protocol is 10k steps


def test_presets_follow_the_paper_protocol():
    experiment = tm.preset("non_uniform")
    p = experiment.probability_tensor(per="setting").numpy()
    assert np.allclose(p[:, 1:], 0.05) and np.all(np.diff(p[:, 0]) > 0)
    assert p[0, 0] < 0.05 / 5 and p[-1, 0] > 0.05 * 2, (
        "the varied density must bracket the paper's 2.5× threshold widely"
    )
    assert experiment.n_seeds >= 5, "the paper fits several times and keeps the lowest loss"
    pca = tm.preset("pca_sweep")
    density = pca.probability_tensor(per="setting")[:, 0].numpy()
    assert density.min() <= 0.02 and 0.5 <= density.max() < 1, "the sweep must reach 'PCA-like' but stop short of 1"
    for name in ("correlated", "anticorrelated", "correlated_3_pairs", "local_orthogonal_bases", "pca_sweep"):
        assert tm.preset(name).data.anticorrelated_convention == "paper"
        fast = tm.preset(name, fast=True)
        assert fast.n_instances * fast.train.steps <= 50_000, f"{name}: the fast variant must stay small"


def test_correlated_sets_are_orthogonal_and_anticorrelated_sets_antipodal():
    """Paper: correlated features prefer to be orthogonal (local orthogonal bases); anticorrelated ones antipodal."""
    names = {}
    for name in ("correlated", "anticorrelated"):
        names[name] = geometry.set_sweep(tm.train(tm.preset(name).replace(**QUICK)), n_points=512).names()
    assert names == {"correlated": ("orthogonal", "orthogonal"), "anticorrelated": ("antipodal", "antipodal")}


def test_a_much_sparser_varied_feature_is_dropped_and_dense_correlated_pairs_collapse():
    """Paper: at 10× sparser the pentagon has become two digons, at equal density it is a pentagon; three
    correlated pairs in 2-D: none collapsed when sparse (0.02), all collapsed when dense (0.6)."""
    probability = np.full((2, 5), 0.05)
    probability[:, 0] = [0.005, 0.05]
    sweep = geometry.non_uniform_sweep(
        tm.train(tm.preset("non_uniform").replace(feature_probability=probability, **QUICK)), n_points=512
    )
    assert [geometry.NON_UNIFORM_CLASSES[c] for c in sweep.best_class] == ["two digons", "pentagon"]
    pairs = geometry.set_sweep(
        tm.train(tm.preset("pca_sweep").replace(feature_probability=[0.02, 0.6], **QUICK)), n_points=512
    )
    assert list(pairs.collapsed) == [0, 3]
