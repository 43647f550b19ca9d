"""Figures hold the numbers they claim to show, sliders toggle exactly one instance, and nothing global changes."""

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
import torch

from toymodels.config import ModelConfig
from toymodels.errors import ConfigError
from toymodels.experiment import Experiment, importance_decay
from toymodels.kit import feature_norms_bar, features_2d, instance_slider, summary_figure, sweep_figure, weights_heatmap
from toymodels.kit.sliders import menu_slider

# Features 0 and 1 form an antipodal pair (superposition 1 each); feature 2 is orthogonal to both (0).
ANTIPODAL_PLUS_ORTHOGONAL = np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]])
PENTAGON = np.stack([np.cos(2 * np.pi * np.arange(5) / 5), np.sin(2 * np.pi * np.arange(5) / 5)])


def _trace(fig: go.Figure, kind: str, index: int = 0):
    return [trace for trace in fig.data if trace.type == kind][index]


def _example_experiment() -> Experiment:
    return Experiment(
        ModelConfig(n_features=5, n_hidden=2),
        feature_probability=[1.0, 0.1, 0.01],
        importance=importance_decay(5, 0.9),
        name="intro: 5 features in 2-D",
    )


def test_weights_heatmap_shows_gram_matrix_and_bias_on_a_fixed_range():
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(3, 6)), rng.normal(size=6)
    fig = weights_heatmap(torch.tensor(W), torch.tensor(b), title="weights")
    gram, bias = _trace(fig, "heatmap", 0), _trace(fig, "heatmap", 1)
    np.testing.assert_allclose(np.array(gram.z), W.T @ W, err_msg="the heatmap must be WᵀW (n×n), not WWᵀ")
    np.testing.assert_allclose(np.array(bias.z), b[:, None], err_msg="b must be drawn as an n×1 column")
    assert (fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax) == (-1, 1), "colour range must be fixed, not fitted"
    assert gram.coloraxis == bias.coloraxis == "coloraxis", "WᵀW and b must share one colour scale"
    assert tuple(fig.layout.yaxis.range) == (5.5, -0.5), "feature 0 must be on top"
    assert fig.layout.xaxis.scaleanchor == "y" and fig.layout.xaxis2.scaleanchor == "y", "cells must be square"
    assert fig.layout.title.text == "weights"


def test_feature_norms_bar_is_coloured_by_superposition_on_zero_to_one():
    fig = feature_norms_bar(ANTIPODAL_PLUS_ORTHOGONAL, importance=[1.0, 0.9, 0.81])
    bars = _trace(fig, "bar")
    assert bars.orientation == "h"
    np.testing.assert_allclose(bars.x, [1.0, 1.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(
        bars.marker.color, [1.0, 1.0, 0.0], atol=1e-6, err_msg="antipodal pair → 1, orthogonal → 0"
    )
    np.testing.assert_allclose(bars.customdata, [1.0, 0.9, 0.81])
    axis = fig.layout[bars.marker.coloraxis]
    assert (axis.cmin, axis.cmax) == (0, 1)
    assert "√" not in axis.colorbar.title.text and "Σ" in axis.colorbar.title.text
    assert tuple(fig.layout.yaxis.range) == (2.5, -0.5), "feature 0 must be on top"


def test_sqrt_superposition_is_plotted_and_labelled_as_such():
    W = np.array([[1.0, -0.5], [0.0, 0.0]])  # superposition: (Ŵ0·W1)² = 0.25, (Ŵ1·W0)² = 1
    plain = _trace(feature_norms_bar(W), "bar").marker.color
    fig = feature_norms_bar(W, sqrt_superposition=True)
    np.testing.assert_allclose(plain, [0.25, 1.0], atol=1e-6)
    np.testing.assert_allclose(_trace(fig, "bar").marker.color, [0.5, 1.0], atol=1e-6)
    assert "√" in fig.layout.coloraxis2.colorbar.title.text, "the colour bar must say the square root is plotted"


def test_features_2d_draws_each_feature_from_the_origin_to_its_column():
    importance = 0.9 ** np.arange(5)
    fig = features_2d(PENTAGON, importance=importance)
    lines, tips = fig.data[:-1], fig.data[-1]
    np.testing.assert_allclose(tips.x, PENTAGON[0])
    np.testing.assert_allclose(tips.y, PENTAGON[1])
    np.testing.assert_allclose(tips.marker.color, importance)
    assert len(lines) == 5
    for i, line in enumerate(lines):
        np.testing.assert_allclose([line.x, line.y], [[0, PENTAGON[0, i]], [0, PENTAGON[1, i]]])
    assert tuple(fig.layout.xaxis.range) == tuple(fig.layout.yaxis.range) == (-1.5, 1.5)
    assert fig.layout.yaxis.scaleanchor == "x", "2-D pictures need equal aspect"
    assert fig.layout.coloraxis.colorbar.title.text == "importance"


def test_features_2d_without_importance_is_uniform_grey_without_colour_bar():
    fig = features_2d(torch.tensor(PENTAGON), title="pentagon")
    assert fig.data[-1].marker.color == "grey" and fig.layout.coloraxis.colorscale is None
    assert fig.layout.title.text == "pentagon"


def test_features_2d_needs_two_hidden_dimensions():
    with pytest.raises(ConfigError, match="n_hidden = 2"):
        features_2d(np.ones((3, 5)))


def test_summary_figure_aligns_heatmaps_and_bars_on_one_feature_axis():
    W, b = ANTIPODAL_PLUS_ORTHOGONAL, np.array([0.0, 0.0, -0.1])
    fig = summary_figure(W, b, importance=[1, 1, 1], title="summary")
    assert [trace.type for trace in fig.data] == ["heatmap", "heatmap", "bar"]
    assert {trace.yaxis for trace in fig.data} == {"y"}, "all panels must share the feature axis"
    assert len({trace.xaxis for trace in fig.data}) == 3
    np.testing.assert_allclose(np.array(fig.data[0].z), W.T @ W)
    np.testing.assert_allclose(fig.data[2].marker.color, [1.0, 1.0, 0.0], atol=1e-6)


def _slider_example(title="sweep"):
    rng = np.random.default_rng(1)
    W, b = rng.normal(size=(3, 2, 4)), rng.normal(size=(3, 4))
    fig = instance_slider(lambda k: summary_figure(W[k], b[k]), 3, ["a", "b", "c"], title=title)
    return fig, W


def test_instance_slider_steps_show_exactly_one_instance():
    fig, W = _slider_example()
    steps = fig.layout.sliders[0].steps
    assert len(steps) == 3 and len(fig.data) == 9
    for k, step in enumerate(steps):
        assert step.method == "update"
        assert step.args[0]["visible"] == [i // 3 == k for i in range(9)], (
            f"step {k} must show instance {k}'s traces only"
        )
        assert step.args[1] == {"title.text": f"sweep — {'abc'[k]}"}, "plotly.js ignores a plain 'title' in slider args"
    assert [trace.visible for trace in fig.data] == [True] * 3 + [False] * 6, "initially instance 0 only"
    np.testing.assert_allclose(np.array(fig.data[3].z), W[1].T @ W[1], err_msg="instance 1's traces come second")
    assert fig.layout.title.text == "sweep — a"
    assert fig.layout.coloraxis.cmax == 1, "layout (colour axes) is taken from build(0)"


def test_instance_slider_without_title_leaves_titles_alone():
    fig, _ = _slider_example(title=None)
    assert all(step.args[1] == {} for step in fig.layout.sliders[0].steps)


def test_instance_slider_steps_carry_each_frames_own_labels():
    """A frame whose title, tick labels or annotations differ from the first's sets them when its step is chosen."""

    def build(k):
        fig = go.Figure(go.Bar(x=[0, 1], y=[k, 1]), layout=dict(title_text=f"r = {k}: {'pair' if k else 'dropped'}"))
        fig.add_annotation(text=f"frame {k}", x=0, y=0, showarrow=False)
        return fig.update_xaxes(tickvals=[0, 1], ticktext=["a", "mono" if k else "dead"])

    steps = instance_slider(build, 2, ["first", "second"]).layout.sliders[0].steps
    assert steps[0].args[1] == {}, "the first frame's text is the layout's own"
    assert steps[1].args[1]["title.text"] == "r = 1: pair"
    assert steps[1].args[1]["xaxis.ticktext"] == ["a", "mono"]
    assert [note["text"] for note in steps[1].args[1]["annotations"]] == ["frame 1"]


def test_instance_slider_keeps_labels_short_and_titles_long():
    """plotly writes every label under the slider, so a step's longer text goes to its title as a heading."""
    fig = instance_slider(lambda k: go.Figure(go.Scatter(y=[k])), 2, ["a", "b"], "T", headings=["a: long", "b: long"])
    assert [step.label for step in fig.layout.sliders[0].steps] == ["a", "b"]
    assert (
        fig.layout.title.text == "T — a: long" and fig.layout.sliders[0].steps[1].args[1]["title.text"] == "T — b: long"
    )
    assert instance_slider(lambda k: go.Figure(), 1, ["a"], "", headings=["only"]).layout.title.text == "only"
    with pytest.raises(ConfigError, match="headings must have one heading per instance"):
        instance_slider(lambda k: go.Figure(), 2, ["a", "b"], "T", headings=["one"])


def test_menu_slider_buttons_pick_a_choice_and_the_slider_a_step():
    def build(i, k):
        return go.Figure(go.Scatter(x=[0, 1], y=[i, k]))

    fig = menu_slider(build, ["relu", "gelu"], ["dense", "sparse", "sparsest"], title="W")
    assert len(fig.data) == 6 and [trace.visible for trace in fig.data] == [True] + [False] * 5
    owner = [(trace.y[0], trace.y[1]) for trace in fig.data]  # (choice, step) of each trace
    buttons = fig.layout.updatemenus[0].buttons
    assert [button.label for button in buttons] == ["relu", "gelu"]
    visible, layout = buttons[1].args
    assert visible["visible"] == [o == (1, 0) for o in owner], "a button shows its choice at the first step"
    assert layout["title.text"] == "W — gelu, dense"
    steps = layout["sliders[0].steps"]  # ... and gives the slider that choice's steps
    assert [step["args"][0]["visible"] for step in steps] == [[o == (1, k) for o in owner] for k in range(3)]
    assert [step.label for step in fig.layout.sliders[0].steps] == ["dense", "sparse", "sparsest"]
    with pytest.raises(ConfigError, match="choices"):
        menu_slider(build, [], ["a"])


def test_instance_slider_checks_labels():
    with pytest.raises(ConfigError, match="labels"):
        instance_slider(lambda k: go.Figure(), 3, ["only one"])


def test_slider_serialises_to_static_html():
    fig, _ = _slider_example()
    assert '"sliders"' in fig.to_json()
    html = fig.to_html(include_plotlyjs=False, full_html=False)
    assert '"sliders"' in html and "title.text" in html


def test_sweep_figure_takes_title_and_labels_from_the_experiment():
    experiment = _example_experiment()
    W, b = torch.randn(3, 2, 5), torch.randn(3, 5)
    fig = sweep_figure(W, b, experiment)
    steps = fig.layout.sliders[0].steps
    assert [step.label for step in steps] == list(experiment.setting_labels)
    assert fig.layout.title.text == f"{experiment.name} — {experiment.setting_labels[0]}"
    np.testing.assert_allclose(fig.data[2].customdata, experiment.importance[0], rtol=1e-6)
    assert len(sweep_figure(W, b, experiment, kind="features_2d").data) == 3 * 6


def test_norm_axis_ends_at_one_or_the_largest_norm_for_every_frame():
    """A model that learned nothing keeps short bars (no autoscaling of 10⁻⁴ norms across the panel), and every
    frame of a sweep shares one end, that of its largest norm."""
    assert feature_norms_bar(1e-4 * torch.ones(2, 5)).layout.xaxis.range == (0, 1.05)
    assert feature_norms_bar(torch.tensor([[1.3, 0.0]])).layout.xaxis.range == pytest.approx((0, 1.365))
    experiment = _example_experiment()
    W = torch.zeros(3, 2, 5)
    W[2, 0, 0] = 2.0  # the last setting's norm sets the end for all three
    fig = sweep_figure(W, torch.zeros(3, 5), experiment, kind="norms")
    assert fig.layout.xaxis.range == pytest.approx((0, 2.1))


def test_plotting_leaves_plotly_global_state_alone():
    before = (pio.templates.default, pio.renderers.default)
    _slider_example()[0].to_html(include_plotlyjs=False)
    weights_heatmap(np.eye(2), np.zeros(2))
    features_2d(PENTAGON)
    assert (pio.templates.default, pio.renderers.default) == before


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: weights_heatmap(np.ones(3), np.zeros(3)), "W"),
        (lambda: weights_heatmap(np.ones((2, 3)), np.zeros(4)), "b"),
        (lambda: feature_norms_bar(np.ones((2, 3)), importance=[1, 1]), "importance"),
        (lambda: summary_figure(np.ones((1, 2, 3)), np.zeros(3)), "W"),
        (lambda: sweep_figure(np.ones((2, 2, 5)), np.zeros((3, 5)), _example_experiment()), "W"),
        (lambda: sweep_figure(np.ones((3, 2, 5)), np.zeros((3, 4)), _example_experiment()), "b"),
        (lambda: sweep_figure(np.ones((3, 2, 5)), np.zeros((3, 5)), _example_experiment(), kind="pie"), "kind"),
    ],
)
def test_bad_inputs_raise_config_error_naming_the_parameter(call, name):
    with pytest.raises(ConfigError, match=rf"^{name} must"):
        call()
