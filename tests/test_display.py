"""The book's renderer writes the same bytes on every run and no JavaScript library; the tables name the ideal
geometries right; the live sliders redraw one figure in place, and their short protocol finds the paper's
three intro geometries."""

import json
import re

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
import torch

import toymodels as tm
from toymodels import basic, intro, kit, theory
from toymodels.intro import describe, geometry
from toymodels.kit import PLOTLY_MIMETYPE, BookRenderer, Table, density_label
from toymodels.results import result_of


@pytest.fixture
def restore_plotly_renderer():
    default = pio.renderers.default
    yield
    pio.renderers.default = default


def _figure() -> go.Figure:
    rng = np.random.default_rng(0)
    fig = go.Figure(go.Heatmap(z=rng.normal(size=(6, 6))))
    return fig.add_scatter(x=[0.0, 0.123456789], y=[0.0, 1 / 3])


def _decode(spec: dict) -> np.ndarray:
    return np.frombuffer(__import__("base64").b64decode(spec["bdata"]), np.float32)


def test_renderer_emits_html_without_plotly_js_and_the_plotly_json():
    bundle = BookRenderer().to_mimebundle(_figure().to_dict())
    html = bundle["text/html"]
    assert set(bundle) == {"text/html", PLOTLY_MIMETYPE}
    assert len(html) < 20_000, "the 4.6 MB plotly.js must not be inlined: the book serves it once"
    assert "<script src" not in html and "cdn" not in html.lower(), "no CDN: the book must read offline"
    assert 'id="figure-1"' in html and "Plotly.newPlot(" in html
    json.dumps(bundle[PLOTLY_MIMETYPE])  # a notebook stores it as JSON


def test_renderer_ids_count_up_and_restart_with_a_fresh_renderer():
    renderer = BookRenderer()
    first, second = (renderer.to_mimebundle(_figure().to_dict()) for _ in range(2))
    assert 'id="figure-1"' in first["text/html"] and 'id="figure-2"' in second["text/html"]
    again = BookRenderer().to_mimebundle(_figure().to_dict())
    assert again == first, "re-executing a chapter must write identical outputs (nbval compares them exactly)"


def test_renderer_rounds_to_significant_digits_as_float32():
    data = BookRenderer(digits=4).to_mimebundle(_figure().to_dict())[PLOTLY_MIMETYPE]["data"]
    heatmap, line = data
    assert heatmap["z"]["dtype"] == "f4" and heatmap["z"]["shape"] == "6, 6"
    z = _decode(heatmap["z"]).reshape(6, 6)
    expected = np.random.default_rng(0).normal(size=(6, 6))
    np.testing.assert_allclose(z, expected, rtol=6e-4)
    assert line["x"] == [0.0, 0.1235] and line["y"] == [0.0, 0.3333]


def test_significant_digits_keep_zero_nan_and_magnitude():
    values = np.array([0.0, 123456.0, -0.000123456, np.nan, np.inf])
    rounded = kit.render._significant(values, 3)
    np.testing.assert_array_equal(rounded[:3], [0.0, 123000.0, -0.000123])
    assert np.isnan(rounded[3]) and np.isinf(rounded[4])


def test_float_noise_far_below_an_arrays_scale_is_shown_as_zero():
    """A value of ~1e-16 of its array's scale is float64 rounding noise whose digits depend on the CPU: shown as 0,
    while a small value that is not noise keeps its digits, and so does a lone small number."""
    rounded = kit.render._significant(np.array([1.0, 3.4e-17, -2e-15, 1.23456e-9]), 3)
    np.testing.assert_array_equal(rounded, [1.0, 0.0, 0.0, 1.23e-9])
    assert kit.render._significant(np.array(3.4e-17), 3) == 3.4e-17


def test_setup_makes_the_book_renderer_the_default(restore_plotly_renderer):
    kit.setup()
    assert pio.renderers.default == kit.RENDERER
    first, second = _figure()._repr_mimebundle_(), _figure()._repr_mimebundle_()
    assert 'id="figure-1"' in first["text/html"], "setup() must start a fresh count for each chapter"
    assert 'id="figure-2"' in second["text/html"], "plotly copies the renderer for each figure: share the count"


@pytest.mark.parametrize(
    "W, expected",
    [
        (theory.ideal_polytope("pentagon"), "5 pentagon"),
        (np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), "2 dedicated, 1 not learned"),
        (theory.tegum_product(theory.ideal_polytope("digon"), np.eye(1)), "2 antipodal, 1 dedicated"),
        (theory.ideal_polytope("tetrahedron"), "4 tetrahedron"),
        (theory.ideal_polytope("square antiprism"), "8 square antiprism"),
    ],
)
def test_describe_names_ideal_geometries(W, expected):
    assert describe(torch.tensor(W, dtype=torch.float32)) == [expected]


def test_geometry_only_names_what_fits_in_the_hidden_dimensions():
    assert geometry(0.75) == "tetrahedron"
    assert geometry(0.75, n_hidden=2) == "D = 0.75", "a tetrahedron needs 3 dimensions"
    assert geometry(0.45) == "D = 0.45"


def test_describe_names_only_whole_shapes():
    c = np.sqrt(0.5)  # two unit vectors at 45°: D = 2/3 each, like a triangle's, but two are no triangle
    assert describe(torch.tensor([[1.0, c], [0.0, c]])) == ["2 other (D = 0.67, 0.67)"]
    triangle_and_pair = theory.tegum_product(theory.ideal_polytope("triangle"), theory.ideal_polytope("digon"))
    assert describe(torch.tensor(triangle_and_pair, dtype=torch.float32)) == ["3 triangle, 2 antipodal"]


def test_describe_lists_unnamed_features_with_their_dimensionality():
    W = torch.tensor([[1.0, 0.6], [0.0, 0.8]])  # two unit vectors at 53°: D = 1/(1 + 0.36) = 0.74 each
    assert describe(W) == ["2 other (D = 0.74, 0.74)"]


@pytest.mark.parametrize(
    "p, label",
    [(1.0, "1"), (0.2, "0.2"), (0.001, "0.001"), (0.003, "0.003"), (0.65249, "0.652"), (np.float32(0.1), "0.1")],
)
def test_density_label(p, label):
    assert density_label(p) == label


def test_table_prints_aligned_text_and_renders_html():
    table = Table(("a", "long name"), (("1", "x"), ("22", "-0.5")))
    assert str(table).splitlines() == ["a   long name", "1   x", "22  -0.5"]
    assert table._repr_html_().count("<tr>") == 3


def test_a_wide_table_renders_as_parts_led_by_its_key_column():
    from toymodels.kit.table import MAX_COLUMNS

    columns = ("key", *(f"c{k}" for k in range(1, 15)))  # 15 columns: three parts of the key and 6, 6, 2 others
    html = Table(columns, (tuple(str(k) for k in range(15)),))._repr_html_()
    heads = [re.findall(r"<th>(.*?)</th>", part) for part in html.split("</table>")[:-1]]
    assert heads == [["key", *(f"c{k}" for k in range(a, b))] for a, b in ((1, 7), (7, 13), (13, 15))]
    assert all(len(head) <= MAX_COLUMNS for head in heads)
    assert "<details" not in html, "a short table is not folded"


def test_a_long_table_shows_its_first_rows_and_folds_the_whole():
    from toymodels.kit.table import FOLD_ROWS, PREVIEW_ROWS

    rows = tuple((str(k), f"v{k}") for k in range(FOLD_ROWS + 1))
    html = Table(("k", "value"), rows)._repr_html_()
    preview, folded = html.split("<details")
    assert preview.count("<tr>") == PREVIEW_ROWS + 1 and f"show all {FOLD_ROWS + 1} rows" in folded
    assert folded.count("<tr>") == FOLD_ROWS + 2, "the fold holds the whole table"
    unfolded = Table(("k", "value"), rows, fold=False)._repr_html_()
    assert "<details" not in unfolded and unfolded.count("<tr>") == FOLD_ROWS + 2


def _result(W, b, experiment, losses) -> tm.TrainResult:
    """A TrainResult holding given weights (one fit per setting)."""
    return result_of(experiment, W, b, losses)


def _intro_like_result():
    exp = tm.preset("intro")  # 3 settings; one fit each here
    exp = exp.replace(n_seeds=1)
    dense = np.array([[1.0, 0, 0, 0, 0], [0, 1.0, 0, 0, 0]])
    pairs = np.array([[1.0, -1.0, 0, 0, 0], [0, 0, 1.0, -1.0, 0]])
    pentagon = theory.ideal_polytope("pentagon")
    bias = np.array([[0, 0, 0.5, 0.5, 0.5], [0, 0, 0, 0, 0.1], [-0.1] * 5])
    return _result(np.stack([dense, pairs, pentagon]), bias, exp, [0.03, 0.01, 0.004])


def test_geometry_table_rows_follow_the_settings():
    table = intro.geometry_table(_intro_like_result())
    assert [row[0] for row in table.rows] == ["1", "0.2", "0.1"]
    assert [row[-1] for row in table.rows] == ["2 dedicated, 3 not learned", "4 antipodal, 1 not learned", "5 pentagon"]
    assert table.rows[0][2] == "1.00 1.00 0.00 0.00 0.00" and table.rows[1][1] == "0.01"


def test_geometry_phases_groups_neighbouring_settings():
    exp = tm.preset("intro").replace(feature_probability=(1.0, 0.5, 0.2, 0.1), n_seeds=1)
    dense = np.array([[1.0, 0, 0, 0, 0], [0, 1.0, 0, 0, 0]])
    pentagon = theory.ideal_polytope("pentagon")
    result = _result(np.stack([dense, dense, pentagon, pentagon]), np.zeros((4, 5)), exp, [0.1] * 4)
    rows = intro.geometry_phases(result).rows
    assert rows == (("1 – 0.5", "2 dedicated, 3 not learned"), ("0.2 – 0.1", "5 pentagon"))


def test_sweep_table_counts_represented_and_superposed_features():
    result = _intro_like_result()
    table = basic.sweep_table({"ReLU": result})
    assert table.columns == ("1−S", "ReLU: represented", "ReLU: in superposition", "ReLU: min bᵢ")
    assert [row[1:] for row in table.rows] == [("2", "0", "0.000"), ("4", "4", "0.000"), ("5", "5", "-0.100")]


def test_loss_accounting_of_an_orthonormal_linear_model():
    exp = tm.preset("basic_linear").replace(n_seeds=1, feature_probability=(1.0, 0.1))
    W = np.zeros((2, 5, 20))
    W[:, :, :5] = np.eye(5)
    importance = np.array(tm.importance_decay(20, 0.7))
    mean = np.array([1.0, 0.1])[:, None] / 2 * np.ones(20)
    b = np.where(np.arange(20) < 5, 0.0, mean)  # the optimal bias: the mean of every dropped feature
    accounting = basic.loss_accounting({"linear": _result(W, b, exp, [np.nan, np.nan])})["linear"]
    np.testing.assert_allclose(accounting.feature_benefit, importance[5:].sum(), rtol=1e-6)
    np.testing.assert_allclose(accounting.interference, 0.0, atol=1e-9)
    np.testing.assert_allclose(
        accounting.measured,
        accounting.feature_benefit + accounting.interference,
        rtol=0.01,
        err_msg="with the optimal bias, loss / Var(x) is benefit + interference (re-measured "
        "on 256 fresh batches: within 1 %)",
    )
    np.testing.assert_allclose(accounting.density, [1.0, 0.1])
    table = basic.accounting_table({"linear": accounting})
    assert table.rows[0][1:3] == ("0.558", "0.000")


def test_live_intro_redraws_the_same_figure_in_place():
    pytest.importorskip("anywidget")
    widget = intro.live_intro(tm.preset("intro_live").replace(steps=50, n_seeds=2))
    controls, figure = widget.children
    density, decay = controls.children
    assert isinstance(figure, go.FigureWidget)
    traces, before = figure.data, [np.array(trace.x) for trace in figure.data]
    density.value = 1.0
    assert figure.data == traces and all(a is b for a, b in zip(figure.data, traces)), "traces must update in place"
    assert any(not np.allclose(old, np.array(trace.x)) for old, trace in zip(before, figure.data))
    assert "1−S = 1," in figure.layout.title.text
    decay.value = 0.5
    assert "0.50" in figure.layout.title.text


def test_log_slider_spans_the_decades_between_its_bounds_and_acts_on_release():
    pytest.importorskip("ipywidgets")
    control = tm.kit.live.log_slider(0.05, 0.001, 1.0, "density 1−S", step=0.1)
    assert (control.base, control.min, control.max, control.step) == (10, -3.0, 0.0, 0.1)
    assert control.value == pytest.approx(0.05) and control.description == "density 1−S"
    assert control.continuous_update is False, "a retrain per drag position would queue dozens"
    assert tm.kit.live.int_slider(3, 0, 9, "seed").max == 9


@pytest.mark.parametrize(
    "density, expected",
    [
        (1.0, "2 dedicated, 3 not learned"),
        (0.2, "4 antipodal, 1 not learned"),
        (0.1, "5 pentagon"),
    ],
)
def test_live_protocol_finds_the_paper_intro_geometries(density, expected):
    """The live slider's short protocol (1,500 steps of batch 256 at lr 1e-2, best of 8, selected on 64 evaluation
    batches)
    must reach the full protocol's geometry; with 3 fits and 4 evaluation batches it picked the pentagon at
    80 % sparsity, or dropped the wrong feature."""
    best = tm.train(tm.preset("intro_live").replace(feature_probability=density)).best()
    assert describe(best.W) == [expected]
