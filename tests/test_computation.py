"""Oracles for toymodels.computation (§10: computing |x| in superposition): hand-built weights whose neurons,
features and motifs are known — the paper's two-neuron |x|, its asymmetric superposition example, and models
where the motif must not be found — the 1-sparse answers checked against the model itself, the figures and
tables holding those numbers, and a short seeded run of the paper's n = 3 result."""

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

import toymodels as tm
from toymodels import computation
from toymodels.results import result_of

C = computation


def _abs_model(n: int = 3):
    """The paper's n = 3 solution: neuron 2i reads ReLU(x_i), neuron 2i+1 ReLU(−x_i), both write 1 to y_i."""
    W1 = np.zeros((2 * n, n))
    W2 = np.zeros((n, 2 * n))
    for i in range(n):
        W1[2 * i, i], W1[2 * i + 1, i] = 1.0, -1.0
        W2[i, 2 * i] = W2[i, 2 * i + 1] = 1.0
    return W1, W2, np.zeros(n)


def _motif_model(inhibition: float = -4.0):
    """The paper's asymmetric superposition example completed into a four-neuron |x| (computation.paper_example:
    neuron 0 stores x0 with W₁ 2 and x1 with −½, writes ½ to y0 and 2 to y1; neuron 1 fires on +x0 and writes
    ``inhibition`` to y1; neurons 2 and 3 are ReLU(−x0) and ReLU(+x1))."""
    return C.paper_example(inhibition)


def _forward(W1, W2, b, x):
    """The package's own model (autograd forward) on inputs x (batch, n)."""
    config = tm.ModelConfig(W1.shape[1], W1.shape[0], kind="untied_relu_hidden")
    model = tm.ToyModel.from_arrays(config, W1[None], b[None], W2[None])
    with torch.no_grad():
        return model(torch.as_tensor(x, dtype=torch.float32)[None]).double().numpy()[0]


def _result(W1, W2, b, density=(1.0,), n_seeds=1, losses=None):
    """A TrainResult holding given weights, (n_instances, m, n) etc., laid out setting-major as the trainer does."""
    W1, W2, b = (np.asarray(w, dtype=float) for w in (W1, W2, b))
    exp = tm.Experiment(
        tm.ModelConfig(W1.shape[2], W1.shape[1], kind="untied_relu_hidden"),
        feature_probability=density,
        n_seeds=n_seeds,
        data=tm.DataConfig(signed=True, target="abs"),
    )
    return result_of(exp, W1, b, losses, W_out=W2)


# ----------------------------------------------------------------------------------------------------
# Neurons


def test_rescaling_sets_each_neurons_largest_weight_to_one_and_keeps_zero_rows():
    W1 = np.array([[2.0, -4.0, 1.0], [0.0, 0.0, 0.0], [0.5, 0.1, -0.2]])
    scaled = C.rescaled(W1)
    assert np.allclose(scaled[0], [0.5, -1.0, 0.25]) and np.allclose(scaled[2], [1.0, 0.2, -0.4])
    assert np.array_equal(scaled[1], np.zeros(3)), "a dead neuron must stay 0, not NaN"
    assert np.allclose(np.abs(C.rescaled(np.random.default_rng(0).normal(size=(4, 7, 5)))).max(-1), 1.0)


def test_neurons_classify_as_monosemantic_polysemantic_or_dead():
    W1, _, _ = _abs_model(3)
    counts = C.classify_neurons(W1).counts()
    assert (counts["monosemantic"], counts["polysemantic"], counts["dead"]) == (6, 0, 0)
    W1 = np.array([[1.0, 0.5, 0.0], [1.0, 0.2, 0.0], [0.05, 0.0, 0.01], [0.0, -0.3, 0.3]])
    classes = C.classify_neurons(W1)
    assert classes.kind.tolist() == [1, 0, 2, 1], "0.5 ≥ 0.25 shares the neuron, 0.2 does not; max 0.05 is dead"
    assert classes.share[1] == pytest.approx(0.04 / 1.04), "0.2² of 1 + 0.2² lies off the main feature"
    assert classes.share[0] == pytest.approx(0.2) and classes.share[2] == 0
    assert classes.responds[3].tolist() == [False, True, True]


def test_neurons_are_ordered_by_main_feature_then_sign_then_purity_dead_last():
    W1 = np.array(
        [
            [0.0, 1.0, 0.0],  # feature 1, +
            [0.0, 0.0, 0.0],  # dead
            [-1.0, 0.0, 0.0],  # feature 0, −
            [1.0, 0.5, 0.0],  # feature 0, +, polysemantic
            [1.0, 0.0, 0.0],  # feature 0, +, pure
            [0.0, 0.0, -2.0],  # feature 2, −
        ]
    )
    assert C.neuron_order(W1).tolist() == [4, 3, 2, 0, 5, 1]


# ----------------------------------------------------------------------------------------------------
# What the model computes


def test_one_sparse_answers_are_the_models_own_outputs():
    rng = np.random.default_rng(1)
    W1, W2, b = rng.normal(size=(5, 4)), rng.normal(size=(4, 5)), rng.normal(size=4) * 0.1
    t = np.linspace(-1, 1, 9)
    answers = C.one_sparse_answers(W1, W2, b, t)  # (n, T)
    for i in range(4):
        x = np.zeros((t.size, 4))
        x[:, i] = t
        assert np.allclose(answers[i], _forward(W1, W2, b, x)[:, i], atol=1e-5)


def test_side_gains_tell_computed_one_sided_and_ignored_features_apart():
    W1, W2, b = _abs_model(4)
    assert np.allclose(C.feature_errors(W1, W2, b), 0.0), "the two-neuron |x| is exact"
    assert np.allclose(C.side_gains(W1, W2, b), 1.0)
    W2[1, 3] = 0.0  # feature 1 keeps only ReLU(+x1), as the ReLU-output model computes it
    W2[2, 4:6] = 0.0  # feature 2 is ignored, with output 0 ...
    W2[3, 6:] = 0.0
    b[3] = 0.5  # ... and feature 3 is ignored with the cheapest dense constant, p/2
    assert C.feature_errors(W1, W2, b)[1:3] == pytest.approx([0.5, 1.0])
    assert np.allclose(C.side_gains(W1, W2, b)[1:], [[1, 0], [0, 0], [0, 0]])
    assert C.classify_features(W1, W2, b).tolist() == [0, 1, 2, 2]
    W1[0] *= 0.5  # half the gain on the positive side of feature 0: still counts
    assert C.side_gains(W1, W2, b)[0] == pytest.approx([0.5, 1.0]) and C.classify_features(W1, W2, b)[0] == 0


# ----------------------------------------------------------------------------------------------------
# The asymmetric superposition motif


def test_the_hand_built_motif_computes_abs_for_each_feature_alone():
    W1, W2, b = _motif_model()
    t = np.linspace(-1, 1, 21)
    for i in range(2):
        x = np.zeros((t.size, 2))
        x[:, i] = t
        y = _forward(W1, W2, b, x)
        if i == 0:  # feature 0 alone: exact |x0|, and nothing leaks into y1 (the inhibitor cancels it)
            assert np.allclose(y[:, 0], np.abs(t), atol=1e-6) and np.allclose(y[:, 1], 0, atol=1e-6)
        else:  # feature 1 alone: exact |x1|; −x1 leaks ¼|x1| into y0, the weak side the motif leaves
            assert np.allclose(y[:, 1], np.abs(t), atol=1e-6)
            assert np.allclose(y[:, 0], 0.25 * np.maximum(-t, 0), atol=1e-6)


def test_the_detector_finds_the_papers_example_with_its_weights():
    W1, W2, _ = _motif_model()
    (motif,) = C.find_motifs(W1, W2)
    assert (motif.neuron, motif.strong, motif.weak, motif.inhibitor) == (0, 0, 1, 1)
    assert motif.W1 == (2.0, -0.5) and motif.W2 == (0.5, 2.0)
    assert motif.interference == pytest.approx(4.0) and motif.net == pytest.approx(0.0)
    assert "neuron 1 fires on +x0" in motif.describe()


def test_the_detector_does_not_depend_on_the_order_of_neurons_and_features():
    W1, W2, _ = _motif_model()
    neurons, features = np.array([2, 3, 0, 1]), np.array([1, 0])
    (motif,) = C.find_motifs(W1[neurons][:, features], W2[features][:, neurons])
    assert (motif.neuron, motif.strong, motif.weak, motif.inhibitor) == (2, 1, 0, 3)


def test_mirrored_motif_is_found_on_the_negative_side():
    W1, W2, _ = _motif_model()
    W1 = W1.copy()
    W1[:, 0] *= -1  # feature 0 read with the opposite sign everywhere: the same motif, for −x0
    (motif,) = C.find_motifs(W1, W2)
    assert motif.W1[0] == -2.0 and "fires on −x0" in motif.describe()


@pytest.mark.parametrize(
    "case",
    [
        "monosemantic |x|",
        "no inhibitor",
        "inhibitor too weak",
        "equal weights",
        "unequal input weights only",
        "inhibitor on the other sign",
    ],
)
def test_the_detector_finds_nothing_where_there_is_no_motif(case):
    if case == "monosemantic |x|":
        W1, W2, _ = _abs_model(4)
    elif case == "no inhibitor":
        W1, W2, _ = _motif_model(inhibition=0.0)
    elif case == "inhibitor too weak":
        W1, W2, _ = _motif_model(inhibition=-3.0)  # net leak 4 − 3 = 1 > 0: still positive interference
    elif case == "equal weights":  # symmetric superposition: W₁ = [1, −1], W₂ = [1, 1]
        W1, W2, _ = _motif_model()
        W1[0], W2[:, 0] = [1.0, -1.0], [1.0, 1.0]
    elif case == "unequal input weights only":  # W₂ not reciprocal: gains 2 and ½
        W1, W2, _ = _motif_model()
        W2[:, 0] = [1.0, 1.0]
    else:  # neuron 1 fires on −x0, so it cannot cancel what neuron 0 leaks on +x0
        W1, W2, _ = _motif_model()
        W1[1, 0] = -1.0
    assert C.find_motifs(W1, W2) == []


def _weak_pattern_model():
    """The motif's weights at a quarter strength: neuron 0 stores x0 (W₁ 1.44) and x1 (−0.36) with W₂ 0.17 and
    0.68, path gains 0.245 each, its leak into y1 cancelled by neuron 1; neurons 4 and 5 do the rest of the work
    (gain 0.755 each on +x0 and −x1), neurons 2 and 3 the other sides. Every feature is computed, but not by
    the motif neuron."""
    W1 = np.zeros((6, 2))
    W2 = np.zeros((2, 6))
    W1[0], W2[:, 0] = [1.44, -0.36], [0.17, 0.68]
    W1[1, 0], W2[1, 1] = 1.0, -1.0  # a little more than the leak 1.44 · 0.68, so float32 rounding keeps it negative
    W1[2, 0], W2[0, 2] = -1.0, 1.0
    W1[3, 1], W2[1, 3] = 1.0, 1.0
    W1[4, 0], W2[0, 4] = 1.0, 1 - 1.44 * 0.17
    W1[5, 1], W2[1, 5] = -1.0, 1 - 0.36 * 0.68
    return W1, W2, np.zeros(2)


def test_motif_effect_tells_a_working_motif_from_a_weak_pattern_of_weights():
    W1, W2, b = _motif_model()
    (motif,) = C.find_motifs(W1, W2)
    effect = C.motif_effect(W1, W2, b, motif)
    assert effect.strong_share == pytest.approx(1.0) and effect.weak_share == pytest.approx(1.0)
    assert effect.leak_removed == pytest.approx(2.0, abs=0.03) and effect.works  # 4·E[t] over t ∈ (0, 1]
    W1, W2, b = _weak_pattern_model()
    assert (C.side_gains(W1, W2, b) > 0.99).all(), "the weak pattern's model computes |x| for both features"
    assert C.find_motifs(W1, W2) == [], "path gains of 0.245 are under the default threshold"
    (pattern,) = C.find_motifs(W1, W2, min_gain=0.1)
    effect = C.motif_effect(W1, W2, b, pattern)
    assert effect.strong_share == pytest.approx(0.245, abs=0.01) and not effect.works


def test_motif_precision_counts_found_and_working_motifs_per_threshold():
    motif, pattern = _motif_model(), _weak_pattern_model()
    pad = lambda w1, w2: (np.pad(w1, ((0, 2), (0, 0))), np.pad(w2, ((0, 0), (0, 2))))  # noqa: E731 - 6 neurons
    (W1a, W2a), (W1b, W2b) = pad(*motif[:2]), (pattern[0], pattern[1])
    result = _result(np.stack([W1a, W1b]), np.stack([W2a, W2b]), np.zeros((2, 2)), density=(1.0,), n_seeds=2)
    precision = C.motif_precision(result, thresholds=(0.1, 0.5), name="two models")
    assert precision.found == (2, 1) and precision.working == (1, 1)
    rows = C.motif_precision_table([precision]).rows
    assert rows[0] == ("two models", "0.1", "2", "1", "50 %") and rows[1][-1] == "100 %"


def test_search_covers_every_fit_of_every_setting():
    with_motif, without = _motif_model(), _motif_model(inhibition=0.0)
    W1, W2, b = (np.stack([w1, w2, w3]) for w1, w2, w3 in zip(with_motif, without, with_motif))
    search = C.search_motifs(_result(W1, W2, b, density=(1.0,), n_seeds=3))
    assert search.counts.tolist() == [[1, 0, 1]] and search.densities == (1.0,)
    assert [(s, j) for s, j, _ in search.instances()] == [(0, 0), (0, 2)]
    table = C.motif_table(search)
    assert table.rows == (("1", "1 0 1", "2 of 3", "2"),)
    assert [row[:3] for row in C.motif_list(search).rows] == [("1", "0", "0"), ("1", "2", "0")]


def test_motif_list_of_one_model_names_its_motifs_or_none():
    (motif,) = C.find_motifs(*_motif_model()[:2])
    (row,) = C.motif_list([motif]).rows
    assert row[0] == str(motif.neuron) and row[-1] == f"{motif.interference:.2f} → {motif.net:.2f}"
    assert C.motif_list(C.find_motifs(*_motif_model(inhibition=0.0)[:2])).rows[0][0] == "none found"


def test_bad_input_names_the_parameter():
    W1, W2, b = _motif_model()
    with pytest.raises(tm.ConfigError, match=r"W2 must have shape \(2, 4\)"):
        C.find_motifs(W1, W2.T)
    with pytest.raises(tm.ConfigError, match="asymmetry must be > 1"):
        C.find_motifs(W1, W2, asymmetry=1.0)
    with pytest.raises(tm.ConfigError, match="responds must lie in"):
        C.classify_neurons(W1, responds=0)
    with pytest.raises(tm.ConfigError, match="b must have shape"):
        C.feature_errors(W1, W2, np.zeros(3))
    tied = tm.train(tm.Experiment(tm.ModelConfig(3, 2), feature_probability=0.5).replace(steps=2, progress=False))
    with pytest.raises(tm.ConfigError, match="untied model"):
        C.search_motifs(tied)


# ----------------------------------------------------------------------------------------------------
# Figures and tables hold those numbers


def test_stacked_neuron_weights_hold_the_rescaled_weights_in_sorted_order():
    W1 = np.array([[0.0, 2.0, -1.0], [-1.0, 0.0, 0.0], [3.0, 0.0, 0.03]])  # rescaled: 0.03/3 = 0.01 is not shown
    fig = C.neuron_weights(W1, title="t")
    assert fig.layout.barmode == "relative"
    order = C.neuron_order(W1).tolist()
    assert order == [2, 1, 0]
    per_neuron = {}
    for trace in fig.data:
        for x, y, feature in zip(trace.x, trace.y, trace.marker.color):
            per_neuron.setdefault(x, {})[feature] = y
    assert per_neuron == {0: {0: 1.0}, 1: {0: -1.0}, 2: {1: 1.0, 2: -0.5}}


def test_sweep_slider_has_one_step_per_density_with_counts_in_the_title():
    W1 = np.stack([_abs_model(2)[0], np.array([[1.0, 0.6], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])])
    W2 = np.stack([_abs_model(2)[1]] * 2)
    result = _result(W1, W2, np.zeros((2, 2)), density=(1.0, 0.1))
    fig = C.neuron_weights_slider(result, title="sweep")
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == ["1−S = 1", "1−S = 0.1"]
    assert steps[1].args[1]["title.text"] == "sweep — 1−S = 0.1: 3 mono, 1 poly"


def test_learned_function_and_motif_graph_draw_the_weights():
    W1, W2, b = _abs_model(3)
    fig = C.learned_function(W1, W2, b)
    assert len(fig.data) == 4 and np.allclose(fig.data[2].y, np.abs(fig.data[0].x))
    assert len(C.function_and_weights(W1, W2, b).data) == 6
    (motif,) = C.find_motifs(*_motif_model()[:2])
    graph = C.motif_graph(motif)
    assert len(graph.data) == 8
    assert sorted(graph.data[-1].text) == sorted(["2.00", "-0.50", "1.00", "0.50", "2.00", "-4.00"])
    assert [t.line.color for t in graph.data[:6]].count(C.figures.NEGATIVE) == 2


def test_motif_graphs_say_when_nothing_was_found():
    W1, W2, b = (w[None] for w in _motif_model(inhibition=0.0))
    empty = C.motif_graphs(C.search_motifs(_result(W1, W2, b)))
    assert "no instance found" in empty.layout.title.text and not empty.data
    W1, W2, b = (w[None] for w in _motif_model())
    one = C.motif_graphs(C.search_motifs(_result(W1, W2, b)))
    assert len(one.layout.sliders[0].steps) == 1 and "1 found" in one.layout.title.text
    assert isinstance(C.motif_counts_figure(C.search_motifs(_result(W1, W2, b))), go.Figure)


def test_neuron_table_names_what_each_neuron_computes():
    W1, W2, b = (w[None] for w in _abs_model(2))
    table = C.neuron_table(_result(W1, W2, b))
    assert [row[1] for row in table.rows] == ["ReLU(+x0)", "ReLU(−x0)", "ReLU(+x1)", "ReLU(−x1)"]
    assert all(row[2] == "monosemantic" and row[5] == "1.00" for row in table.rows)


def test_duplicated_neurons_count_second_readers_of_a_side():
    W1 = _abs_model(2)[0]  # one neuron per side of each feature: no duplicate
    assert C.duplicated_neurons(W1) == 0
    doubled = np.concatenate([W1, 0.5 * W1[:1], 2 * W1[:1], -W1[2:3], [[0.7, 0.7]], [[0.0, 0.0]]])
    # two more readers of +x0 and one of −x1; the polysemantic and the dead neuron are no duplicates
    assert C.duplicated_neurons(doubled) == 3
    fewer = doubled.copy()
    fewer[4:6] = 0  # the two extra readers of +x0 die
    np.testing.assert_array_equal(C.duplicated_neurons(np.stack([fewer, doubled])), [1, 3])


def test_census_counts_neurons_and_features():
    W1 = np.array([[1.0, 0.6], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    W2 = _abs_model(2)[1]
    table = C.census_table(_result(W1[None], W2[None], np.zeros((1, 2)), losses=[0.01]))
    (row,) = table.rows
    assert row[3:6] == ("3", "1", "0") and row[10] == "0", "feature 0 and 1 share neuron 0; the first is 0"


# ----------------------------------------------------------------------------------------------------
# A short seeded run of the paper's result and the live widget


def test_dense_n3_model_learns_abs_with_a_relu_pair_per_feature():
    exp = tm.preset("absolute_value").replace(steps=3000, lr=1e-2, progress=False)
    result = tm.train(exp)
    W1, W2, b = (w[0] for w in C.weights_of(result))
    assert (C.classify_features(W1, W2, b) == 0).all(), f"errors {C.feature_errors(W1, W2, b)}"
    classes = C.classify_neurons(W1)
    assert classes.counts()["monosemantic"] == 6
    signs = {(int(i), bool(W1[k, i] > 0)) for k, i in enumerate(classes.main)}
    assert len(signs) == 6, "each feature gets one ReLU(x) and one ReLU(−x) neuron"
    assert C.test_error(result)[0] < 1e-3


def test_live_widget_redraws_the_same_figure_in_place():
    pytest.importorskip("anywidget")
    widget = C.live_absolute_value(tm.preset("absolute_value", fast=True).replace(steps=50))
    controls, figure = widget.children
    (slider,) = controls.children
    traces = figure.data
    slider.value = 0.1
    assert all(a is b for a, b in zip(figure.data, traces)), "traces must update in place"
    assert "1−S = 0.1" in figure.layout.title.text


def test_monosemantic_baseline_is_the_loss_of_the_model_it_describes():
    p, importance = 0.3, [1.0, 0.8, 0.6, 0.4]
    exp = tm.Experiment(
        tm.ModelConfig(4, 4, kind="untied_relu_hidden"),
        feature_probability=p,
        importance=importance,
        data=tm.DataConfig(signed=True, target="abs"),
    )
    W1, W2, _ = _abs_model(2)  # |x| for the two most important features, with all four neurons
    W1 = np.concatenate([W1, np.zeros((4, 2))], axis=1)
    W2 = np.concatenate([W2, np.zeros((2, 4))], axis=0)
    b = np.array([0.0, 0.0, p / 2, p / 2])  # the cheapest constant for the others
    model = tm.ToyModel.from_arrays(exp.model, W1[None], b[None], W2[None])
    measured = tm.evaluate(model, exp, n_batches=200).item()
    expected = C.monosemantic_baseline(exp)[0]
    assert expected == pytest.approx((0.6 + 0.4) * (p / 3 - p**2 / 4) / 4)
    assert measured == pytest.approx(expected, rel=0.02), "the closed form must match the sampled loss"
    b[2] = p  # any other constant costs more
    worse = tm.evaluate(tm.ToyModel.from_arrays(exp.model, W1[None], b[None], W2[None]), exp, n_batches=200).item()
    assert worse > measured


# ----------------------------------------------------------------------------------------------------
# One sweep under several protocols


def _two_of_three():
    """|x| for features 0 and 1 with four neurons; feature 2 answered by the constant 1/2 (the dense optimum)."""
    W1, W2, _ = _abs_model(2)
    return np.pad(W1, ((0, 0), (0, 1))), np.pad(W2, ((0, 1), (0, 0))), np.array([0.0, 0.0, 0.5])


def test_protocol_sweep_keeps_each_settings_best_protocol_measured_on_shared_samples():
    good, silent = _two_of_three(), tuple(np.zeros_like(w) for w in _two_of_three())
    first = _result(*(np.stack([g, s]) for g, s in zip(good, silent)), density=(1.0, 0.3))  # good at 1 only
    second = _result(*(np.stack([s, g]) for g, s in zip(good, silent)), density=(1.0, 0.3))  # good at 0.3 only
    sweep = C.protocol_sweep([first, second], ["A", "B"])
    assert sweep.test_losses.shape == (2, 2) and sweep.test_losses.dtype == np.float64
    assert sweep.best_protocol.tolist() == [0, 1]
    assert (sweep.test_losses[[0, 1], [0, 1]] < sweep.test_losses[[1, 0], [0, 1]]).all()
    np.testing.assert_array_equal(C.weights_of(sweep)[0], np.stack([good[0], good[0]]))
    np.testing.assert_array_equal(sweep.best_losses.numpy(), sweep.test_losses.min(0))
    table = C.protocol_table(sweep)
    ratios = sweep.test_losses / C.monosemantic_baseline(first.experiment)
    assert [row[:2] for row in table.rows] == [("1", "A"), ("1", "B"), ("0.3", "A"), ("0.3", "B")]
    assert [row[2] for row in table.rows] == [f"{r:.2f}" for r in ratios.T.ravel()]
    assert [row[3] for row in table.rows] == ["2", "0", "0", "2"] and [row[5] for row in table.rows] == [
        "✓",
        "",
        "",
        "✓",
    ]
    assert ratios[0, 0] == pytest.approx(1, abs=0.03), "the dense model is the baseline's own circuit"
    assert C.census_table(sweep).rows[1][7] == "2", "the census reads the kept models: two features computed"


def test_protocol_sweep_refuses_results_of_other_settings():
    exact = [w[None] for w in _two_of_three()]
    with pytest.raises(tm.ConfigError, match="protocol 'B' differs"):
        C.protocol_sweep([_result(*exact), _result(*exact, density=(0.5,))], ["A", "B"])
    with pytest.raises(tm.ConfigError, match="of one length"):
        C.protocol_sweep([_result(*exact)], ["A", "B"])
    with pytest.raises(tm.ConfigError, match="protocol must be one of"):
        tm.presets.computation_sweep("fast")


@pytest.mark.parametrize("p", [1.0, 0.3, 0.05])
def test_a_lone_neuron_costs_more_than_half_the_constant_so_pairs_win(p):
    def cost(c, w):  # E(y' − |x|)² for y' = ReLU(w ReLU(x) + c), c >= 0, w >= 0, exactly
        u = w - 1
        return (1 - p) * c**2 + p / 2 * (u**2 / 3 + u * c + c**2) + p / 2 * (c**2 - c + 1 / 3)

    c = p / (4 - 1.5 * p)  # the docstring's best lone neuron
    best = p / 6 - p**2 / (16 - 6 * p)
    assert cost(c, 1 - 1.5 * c) == pytest.approx(best)
    grid_c, grid_w = np.meshgrid(np.linspace(0, 1, 401), np.linspace(0, 2, 801))
    assert cost(grid_c, grid_w).min() >= best - 1e-12, "no other constant or slope does better"
    exp = tm.Experiment(
        tm.ModelConfig(1, 1, kind="untied_relu_hidden"),
        feature_probability=p,
        data=tm.DataConfig(signed=True, target="abs"),
    )
    lone = tm.ToyModel.from_arrays(exp.model, np.ones((1, 1, 1)), np.array([[c]]), np.array([[[1 - 1.5 * c]]]))
    sampled = tm.evaluate(lone, exp, n_batches=400, dtype=torch.float64).item()
    assert sampled == pytest.approx(best, rel=0.03), "the package's model computes what the closed form describes"
    assert best > (p / 3 - p**2 / 4) / 2, "two lone neurons on two features gain less than a pair on one"
