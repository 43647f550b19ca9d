"""Uniform superposition's analysis (§4): the geometry graph finds ideal polytopes, tegum products split into
their factors, and the figures hold the numbers (oracles: theory.ideal_polytope and tegum_product)."""

import numpy as np
import pytest
import torch

import toymodels as tm
from toymodels import geometry, theory, vocabulary
from toymodels.errors import ConfigError
from toymodels.results import result_of


def _rotated(W: np.ndarray, m: int, seed: int = 0) -> np.ndarray:
    """W (d, k) embedded in m dimensions by a random orthogonal map (the geometry is unchanged)."""
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(m, m)))
    return q[:, : W.shape[0]] @ W


@pytest.mark.parametrize("name", [name for name in vocabulary.POLYTOPES if name != "dedicated"])
def test_each_ideal_polytope_is_one_named_component(name):
    W = _rotated(theory.ideal_polytope(name), m=6)
    (component,) = geometry.components(W)
    p = vocabulary.POLYTOPES[name]
    assert component.name == name and len(component.features) == p.features and component.dimensions == p.dimensions


def test_a_tegum_product_splits_into_its_factors():
    W = _rotated(
        theory.tegum_product(theory.ideal_polytope("triangle"), theory.ideal_polytope("digon"), np.eye(1)), m=8, seed=1
    )
    found = geometry.components(W)
    assert [c.label for c in found] == ["triangle", "digon", "dedicated"]
    assert found[0].features == (0, 1, 2) and found[1].features == (3, 4) and found[2].features == (5,)
    counts = geometry.polytope_counts(np.concatenate([W, np.zeros((8, 2))], axis=1))
    assert counts == {"triangle": 3, "digon": 2, "dedicated": 1, "not learned": 2}


def test_an_unnamed_group_is_labelled_by_size_and_dimension():
    W = vocabulary.regular_polygon(7)  # 7 features in 2-D: no polytope of the list
    (component,) = geometry.components(W)
    assert component.name is None and component.label == "7 features in 2-D"


def test_thresholds_decide_nodes_and_edges():
    W = np.array([[1.0, 0.05, 0.3], [0.0, 1.0, 0.0]])  # |W_0·W_1| = 0.05, feature 2 has norm 0.3
    assert [c.features for c in geometry.components(W)] == [(0,), (1,)]
    assert [c.features for c in geometry.components(W, overlap=0.01)] == [(0, 1)]
    assert geometry.polytope_counts(W)["not learned"] == 1


def test_components_need_one_model():
    with pytest.raises(ConfigError, match="W must have shape"):
        geometry.components(np.zeros((2, 3, 4)))


def test_fractions_are_the_papers_lines():
    assert vocabulary.polytope_lines() == pytest.approx(
        {
            "dedicated": 1,
            "tetrahedron": 3 / 4,
            "triangle": 2 / 3,
            "digon": 1 / 2,
            "pentagon": 2 / 5,
            "square antiprism": 3 / 8,
        }
    )


def test_feature_dimensionality_figure_holds_every_learned_feature_and_d_star():
    W = np.stack(
        [
            _rotated(theory.tegum_product(theory.ideal_polytope("pentagon"), np.eye(2)), m=5),
            np.concatenate([np.eye(5)[:, :4], np.zeros((5, 3))], axis=1),
        ]
    )  # 7 features; 4 learned in the 2nd
    fig = tm.geometry.feature_dimensionality_figure([0.1, 1.0], W)
    points, line = fig.data[0], fig.data[1]
    assert len(points.y) == 7 + 4
    np.testing.assert_allclose(sorted(points.y), sorted([0.4] * 5 + [1.0] * 6), atol=1e-6)
    np.testing.assert_allclose(line.x, [10.0, 1.0])
    np.testing.assert_allclose(line.y, tm.dimensions_per_feature(torch.tensor(W)).numpy(), rtol=1e-6)
    assert fig.layout.xaxis.type == "log"


def test_geometry_graph_colours_nodes_by_polytope_and_draws_edges_within_components():
    W = _rotated(theory.tegum_product(theory.ideal_polytope("pentagon"), theory.ideal_polytope("digon")), m=4)
    fig = tm.geometry.geometry_graph(W)
    nodes = {trace.name: trace for trace in fig.data if trace.mode == "markers"}
    assert set(nodes) == {"pentagon (5 features)", "digon (2 features)"}
    edges = [trace for trace in fig.data if trace.mode == "lines"]
    segments = sum(len(trace.x) // 3 for trace in edges)
    assert segments == 10 + 1  # every pair of the pentagon overlaps (cos 72° and 144°), the digon's one pair
    widest = max(edges, key=lambda trace: trace.line.width)
    assert len(widest.x) // 3 == 5 + 1  # above 0.7: the pentagon's |cos 144°| = 0.81 pairs and the digon's 1
    empty = tm.geometry.geometry_graph(np.zeros((2, 3)))
    assert "no feature" in empty.layout.annotations[0].text


def test_over_training_slider_has_one_step_per_snapshot():
    W = np.stack([np.eye(3, 4), np.eye(3, 4) * 0.9])[:, None]  # 2 snapshots of one setting
    fig = tm.geometry.feature_dimensionality_over_training([0.5], W, [0, 100])
    assert [step.label for step in fig.layout.sliders[0].steps] == ["step 0", "step 100"]
    with pytest.raises(ConfigError, match="steps"):
        tm.geometry.feature_dimensionality_over_training([0.5], W, [0])


def test_dimensionality_clusters_count_features_near_each_line():
    clusters = geometry.dimensionality_clusters([1.0, 0.99, 0.5, 0.52, 0.40, 0.2])
    assert clusters["dedicated"] == (2, pytest.approx(0.995))
    assert clusters["digon"] == (2, pytest.approx(0.51))
    assert clusters["pentagon"] == (1, pytest.approx(0.40)) and clusters["square antiprism"][0] == 0  # the nearer line
    close_pair = geometry.dimensionality_clusters([0.39, 0.385])  # both within 0.03 of 2/5 and of 3/8
    assert close_pair["pentagon"] == (1, pytest.approx(0.39)) and close_pair["square antiprism"] == (
        1,
        pytest.approx(0.385),
    )
    assert clusters["triangle"][0] == 0 and np.isnan(clusters["triangle"][1])


def test_geometry_graph_draws_large_components_without_edges():
    W = vocabulary.regular_polygon(20)  # one component of 20 features in 2-D
    fig = tm.geometry.geometry_graph(W, max_ring=12)
    assert sum(len(trace.x) for trace in fig.data if trace.mode == "lines") == 0
    (nodes,) = [trace for trace in fig.data if trace.mode == "markers"]
    assert nodes.name == "20 features in 2-D (20 features)" and len(nodes.x) == 20


def test_geometry_graph_sweep_has_one_step_per_density_showing_that_models_graph():
    pentagon = _rotated(theory.ideal_polytope("pentagon"), m=3)
    two_digons = theory.tegum_product(theory.ideal_polytope("digon"), theory.ideal_polytope("digon"))
    digons = _rotated(np.concatenate([two_digons, np.zeros((2, 1))], axis=1), m=3)  # and one feature not learned
    fig = tm.geometry.geometry_graph_sweep([0.5, 0.05], np.stack([pentagon, digons]))
    assert [step.label for step in fig.layout.sliders[0].steps] == ["1/(1−S) = 2", "1/(1−S) = 20"]
    visible = fig.layout.sliders[0].steps[1].args[0]["visible"]
    shown = {trace.name for trace, on in zip(fig.data, visible) if on and trace.mode == "markers"}
    assert shown == {"digon (4 features)"}
    with pytest.raises(ConfigError, match="W must"):
        tm.geometry.geometry_graph_sweep([0.5], np.stack([pentagon, digons]))


def test_near_line_marks_dimensionalities_on_a_polytope_line():
    np.testing.assert_array_equal(geometry.near_line([0.5, 0.45, 0.66, 0.2, 1.02]), [True, False, True, False, True])
    assert geometry.near_line(np.full((2, 3), 0.375)).shape == (2, 3)


def test_plateaus_are_runs_of_neighbouring_settings_near_each_value():
    found = geometry.plateaus([1.0, 0.99, 0.7, 0.5, 0.51, 0.8, 0.5])
    assert found == [geometry.Plateau(1.0, 0, 1), geometry.Plateau(0.5, 3, 4), geometry.Plateau(0.5, 6, 6)]
    assert geometry.plateaus([0.3, 0.2]) == []
    with pytest.raises(ConfigError, match="D_star"):
        geometry.plateaus(np.ones((2, 2)))
    with pytest.raises(ConfigError, match="tolerance"):
        geometry.plateaus([1.0], tolerance=0)


def _uniform_result(models: list[np.ndarray], densities: list[float]) -> tm.TrainResult:
    """A trained-looking sweep of one model per density, with the given weights (m, n)."""
    m, n = models[0].shape
    exp = tm.Experiment(tm.ModelConfig(n, m), feature_probability=densities, train=tm.TrainConfig(steps=1))
    return result_of(exp, np.stack(models))


def test_uniform_tables_report_plateaus_and_features_on_the_lines():
    dedicated = np.hstack([np.eye(4), np.zeros((4, 4))])  # 4 features with a dimension each, 4 not learned
    digons = np.kron(np.eye(4), [[1.0, -1.0]])  # 8 features in 4 antipodal pairs
    blur = np.random.default_rng(0).normal(size=(4, 8))
    blur *= np.sqrt(0.75) / np.linalg.norm(blur, axis=0)  # 8 features at random, D* = 4/6: D_i off the lines
    result = _uniform_result([dedicated, digons, digons, blur], [1.0, 0.4, 0.2, 0.05])
    plateaus = tm.geometry.uniform_plateaus(result)
    assert plateaus.rows == (("1", "1 to 1", "1", "1.000"), ("0.5", "2.5 to 5", "2", "0.500"))
    table = tm.geometry.uniform_table(result)
    on_line = [row[4] for row in table.rows]
    assert on_line[:3] == ["100%", "100%", "100%"] and on_line[3] != "100%"
    assert [row[2] for row in table.rows] == ["4", "8", "8", "8"]
    assert table.rows[1][5] == "8 digon"
