"""The memorization chapter's analysis (toymodels.memorization) on constructed sweeps, and its figures and tables
on a small trained one."""

import numpy as np
import pytest

import toymodels as tm
from toymodels.finite import FiniteExperiment, paper_train
from toymodels.memorization import MemorizationSweep


def constructed(test_loss, sizes=(3, 10, 30, 100, 300), m=2):
    experiments = tuple(
        FiniteExperiment(n_features=20, n_hidden=m, n_examples=T, n_datasets=1, train=paper_train(steps=100))
        for T in sizes
    )
    k = len(sizes)
    loss = np.asarray(test_loss, dtype=float).reshape(k, 1)
    return MemorizationSweep(experiments, np.zeros((k, 1, m, 20)), np.zeros((k, 1, 20)), loss / 2, loss)


def test_the_peak_is_the_largest_interior_local_maximum():
    found = tm.memorization.peak(constructed([1.0, 2.0, 1.5, 3.0, 1.0]))
    assert (found.size, found.loss) == (100, 3.0)
    # symmetric neighbours in log T and log loss: the parabola's vertex is the grid's point itself
    assert tm.memorization.peak(
        constructed([1.0, 2.0, 4.0, 2.0, 1.0], sizes=(1, 10, 100, 1000, 10000))
    ).interpolated == (pytest.approx(100.0))
    assert (
        100
        < tm.memorization.peak(constructed([1.0, 2.0, 4.0, 3.0, 1.0], sizes=(1, 10, 100, 1000, 10000))).interpolated
        < 1000
    )
    assert tm.memorization.peak(constructed([5.0, 2.0, 1.5, 1.2, 1.0])) is None  # falling: the end is no peak
    assert tm.memorization.peak(constructed([1.0, 1.1, 1.2, 1.3, 1.4])) is None  # rising past the grid


def test_the_t_gon_dimensionality():
    assert tm.memorization.tgon_dimensionality(2, 3) == pytest.approx(2 / 3)
    assert tm.memorization.tgon_dimensionality(4, 3) == 1.0  # fewer examples than dimensions: one each


def test_a_regular_t_gon_counts_as_one_and_an_irregular_one_does_not():
    regular = tm.memorization.Regime(3, 0.0, 1.0, 0.66, 0.67, 2 / 3, 0, 0.0)
    skewed = tm.memorization.Regime(3, 0.0, 1.0, 0.50, 0.90, 2 / 3, 0, 0.0)
    assert regular.is_tgon and not skewed.is_tgon


def test_sweeps_must_share_their_model(monkeypatch):
    a = FiniteExperiment(n_features=20, n_hidden=2, n_examples=3)
    with pytest.raises(tm.ConfigError, match="must share n, m"):
        tm.memorization.load_sweep([a, a.replace(n_hidden=3, n_examples=5)])


@pytest.fixture(scope="module")
def trained():
    import os

    previous = os.environ.get("TOYMODELS_STORE")
    os.environ["TOYMODELS_STORE"] = "off"
    try:
        sweeps = [tm.memorization.load_sweep(tm.presets.memorization_sweep(m, fast=True), workers=1) for m in (2, 3)]
        ablation = tm.memorization.load_sweep(tm.presets.weight_decay_ablation(fast=True), workers=1)
    finally:
        if previous is None:
            os.environ.pop("TOYMODELS_STORE")
        else:
            os.environ["TOYMODELS_STORE"] = previous
    return sweeps, ablation


def test_figures_and_tables_of_a_small_sweep(trained):
    sweeps, ablation = trained
    sweep = sweeps[0]
    assert len(tm.memorization.regime_table(sweep).rows) == len(sweep.sizes)
    assert [row[0] for row in tm.memorization.peak_table(sweeps).rows] == ["2", "3"]
    assert len(tm.memorization.cost_table([*sweeps, ablation]).rows) == 3
    assert tm.memorization.peak_table([sweep, ablation]).columns[0] == "m, protocol"
    slider = tm.memorization.hidden_plane_slider(sweep)
    assert len(slider.layout.sliders[0].steps) == len(sweep.sizes)
    for figure in (
        tm.memorization.dimensionality_figure(sweep),
        tm.memorization.loss_figure(sweeps),
        tm.memorization.loss_map(sweeps),
        tm.memorization.ablation_figure(sweep, [ablation]),
    ):
        assert figure.data
    with pytest.raises(tm.ConfigError, match="needs m = 2"):
        tm.memorization.hidden_plane(sweeps[1], 0)


def test_hidden_vectors_are_w_times_the_examples(trained):
    sweep = trained[0][0]
    from toymodels.finite import datasets

    x = datasets(sweep.experiments[1]).dense()[0].double().numpy()  # (T, n)
    assert sweep.hidden(1) == pytest.approx(sweep.W[1, 0] @ x.T)


def test_plane_geometry_finds_a_pentagon_of_features_and_the_examples_angles():
    sweep = constructed([1.0, 2.0, 1.5, 3.0, 1.0])
    W = np.zeros_like(sweep.W)
    W[..., :5] = tm.vocabulary.regular_polygon(5)  # features 0-4: a regular pentagon of norm 1
    W[..., 5:] = 0.01 * np.random.default_rng(0).normal(size=W[..., 5:].shape)
    sweep = MemorizationSweep(sweep.experiments, W, sweep.b, sweep.train_loss, sweep.test_loss)
    for shape in tm.memorization.plane_geometry(sweep):
        assert shape.feature_gaps == pytest.approx((72.0, 72.0)) and shape.feature_norms == pytest.approx((1, 1))
        k = list(sweep.sizes).index(shape.size)
        H = sweep.hidden(k)
        gaps = tm.metrics.angular_gaps(H[:, np.linalg.norm(H, axis=0) > 0])
        assert shape.example_gaps == pytest.approx((gaps.min(), gaps.max()))


def test_live_widget_retrains_on_the_chosen_number_of_examples_and_redraws_in_place():
    pytest.importorskip("anywidget")
    experiment = tm.presets.memorization_live().replace(train=paper_train(steps=200), test_examples=200)
    widget = tm.memorization.live_memorization(experiment, size=5)
    controls, figure = widget.children
    (size,) = controls.children
    traces = figure.data
    assert figure.layout.title.text.startswith("T = 5:")
    size.value = 40
    assert all(a is b for a, b in zip(figure.data, traces)), "traces must update in place"
    assert figure.layout.title.text.startswith("T = 40:") and len(figure.data[3].x) == 40  # the examples' markers
    with pytest.raises(tm.ConfigError, match="needs m = 2"):
        tm.memorization.live_memorization(experiment.replace(n_hidden=3))
