"""The chapters' figures: the intro's row of 2-D pictures, models compared over one slider, and the §2 loss
accounting. Each figure must hold the numbers it claims to show."""

import numpy as np
import pytest

import toymodels as tm
from toymodels import theory
from toymodels.basic import compare_sweeps, loss_decomposition
from toymodels.errors import ConfigError
from toymodels.kit import features_2d_row


def _visible(fig, step: int) -> list[int]:
    args = fig.layout.sliders[0].steps[step].args[0]["visible"]
    return [i for i, shown in enumerate(args) if shown]


def test_features_2d_row_draws_one_panel_per_instance():
    W = np.stack([theory.ideal_polytope("pentagon"), np.eye(2, 5)])
    fig = features_2d_row(W, [1.0, 0.9, 0.81, 0.73, 0.66], labels=["a", "b"], title="intro")
    tips = [trace for trace in fig.data if trace.mode == "markers"]
    assert [(trace.xaxis, trace.yaxis) for trace in tips] == [("x", "y"), ("x2", "y2")]
    for tip, w in zip(tips, W):
        np.testing.assert_allclose(np.array(tip.x), w[0]), np.testing.assert_allclose(np.array(tip.y), w[1])
    assert fig.layout.yaxis2.scaleanchor == "x2", "each panel must keep an equal aspect ratio"
    assert fig.layout.xaxis.domain[1] <= fig.layout.xaxis2.domain[0], "panels must not overlap"
    assert [a.text for a in fig.layout.annotations] == ["a", "b"]


def test_features_2d_row_rejects_wrong_shapes():
    with pytest.raises(ConfigError, match="n_instances, 2, n_features"):
        features_2d_row(np.zeros((2, 3, 5)))
    with pytest.raises(ConfigError, match="one label per instance"):
        features_2d_row(np.zeros((2, 2, 5)), labels=["only one"])


def _sweeps():
    exp = tm.Experiment(
        tm.ModelConfig(4, 2, kind="linear"),
        feature_probability=[1.0, 0.1, 0.01],
        importance=tm.importance_decay(4, 0.7),
        name="linear",
    )
    relu = exp.replace(kind="relu_output", name="ReLU")
    rng = np.random.default_rng(0)
    return [(rng.normal(size=(3, 2, 4)), rng.normal(size=(3, 4)), e) for e in (exp, relu)]


def test_compare_sweeps_moves_every_model_to_the_same_setting():
    sweeps = _sweeps()
    fig = compare_sweeps(sweeps, title="compare")
    assert len(fig.layout.sliders[0].steps) == 3
    for step in range(3):
        shown = [fig.data[i] for i in _visible(fig, step)]
        heatmaps = [trace for trace in shown if trace.type == "heatmap" and len(trace.z) == 4 and len(trace.z[0]) == 4]
        assert len(heatmaps) == 2, "one WᵀW per model at every step"
        for heatmap, (W, _, _) in zip(heatmaps, sweeps):
            np.testing.assert_allclose(np.array(heatmap.z), W[step].T @ W[step], rtol=1e-6)
        assert len({trace.yaxis for trace in shown}) == 2, "each model gets its own row"
    rows = sorted([fig.layout.yaxis.domain, fig.layout.yaxis2.domain])
    assert rows[0][1] <= rows[1][0], "rows must not overlap"
    assert [a.text for a in fig.layout.annotations] == ["<b>linear</b>", "<b>ReLU</b>"]


def test_compare_sweeps_needs_the_same_settings():
    sweeps = _sweeps()
    W, b, exp = sweeps[1]
    with pytest.raises(ConfigError, match="share the settings"):
        compare_sweeps([sweeps[0], (W, b, exp.replace(feature_probability=[1.0, 0.5, 0.01]))])


def test_loss_decomposition_plots_the_accounting_it_is_given():
    W = np.stack([np.eye(2, 4), theory.tegum_product(theory.ideal_polytope("digon"), theory.ideal_polytope("digon"))])
    importance = np.array(tm.importance_decay(4, 0.7))
    accounting = theory.loss_accounting(W, importance, [1.0, 0.1], [0.1, 0.05])
    fig = loss_decomposition({"model": accounting})
    assert [trace.name for trace in fig.data] == [
        "model: 1 − feature benefit",
        "model: interference",
        "model: measured loss",
    ]
    np.testing.assert_allclose(fig.data[0].x, [1.0, 10.0])
    np.testing.assert_allclose(fig.data[0].y, [importance[2:].sum(), 0.0])
    np.testing.assert_allclose(fig.data[1].y, [0.0, importance.sum()], err_msg="antipodal pairs: (W_j·W_i)² = 1")
    assert fig.layout.xaxis.type == "log"


def test_loss_accounting_checks_shapes():
    with pytest.raises(ConfigError, match="one per instance"):
        theory.loss_accounting(np.zeros((2, 2, 4)), 1.0, [1.0, 0.5, 0.1], [0.1, 0.1])
    with pytest.raises(ConfigError, match="loss must have shape"):
        theory.loss_accounting(np.zeros((2, 2, 4)), 1.0, [1.0, 0.5], [0.1])
