"""The phase-diagram figures and tables (§3) show what the diagrams hold: built from synthetic fits whose
phases are known, so every count and colour has an oracle."""

import numpy as np
import plotly.graph_objects as go
import pytest

import toymodels as tm
from toymodels import phase, theory
from toymodels.errors import ConfigError
from toymodels.models import ToyModel
from toymodels.results import TrainResult


def _synthetic(n_features: int = 2, fits: int = 3, seed: int = 0):
    """A small phase grid whose fits sit exactly on the theory's phase, except fit 0 of point (0, 0), which is
    the worst and takes another phase (the protocol discards it)."""
    experiment = tm.preset(f"phase_change_{n_features}", fast=True).replace(n_seeds=fits)
    r, s = phase.grid_axes(experiment)
    truth, names = theory.phase_diagram(n_features, r, s)
    W = np.stack([phase.PHASE_WEIGHTS[names[k]] for k in truth.ravel() for _ in range(fits)])
    losses = np.random.default_rng(seed).uniform(0.1, 0.2, size=len(W))
    other = names[(truth[0, 0] + 1) % len(names)]
    W[0], losses[0] = phase.PHASE_WEIGHTS[other], 1.0
    model = ToyModel(experiment.model, experiment.n_instances)
    model.W.data = tm.ToyModel(experiment.model, 1).W.data.new_tensor(W)
    result = TrainResult(experiment, model, model.W.data.new_tensor(losses))
    empirical = phase.empirical_phase_diagram(result)
    return result, empirical, phase.theory_phase_diagram(empirical)


@pytest.mark.parametrize("n_features", [2, 3])
def test_phase_diagrams_show_the_grid_the_theory_and_crosses_only_where_they_differ(n_features):
    _, empirical, theory_diagram = _synthetic(n_features)
    assert empirical.agreement(theory_diagram.on_grid) == 1.0
    fig = tm.phase.phase_diagrams(empirical, theory_diagram, title="t")
    image = next(trace for trace in fig.data if trace.type == "image")
    heatmaps = [trace for trace in fig.data if trace.type == "heatmap"]
    R, S = empirical.phase.shape
    assert np.asarray(image.z).shape == (R, S, 3)
    np.testing.assert_array_equal(np.asarray(heatmaps[0].z), empirical.phase)
    np.testing.assert_array_equal(np.asarray(heatmaps[1].z), theory_diagram.phase)
    crosses = next(trace for trace in fig.data if trace.name == "differs from the theory")
    assert len(crosses.x) == 0  # every point agrees
    # Legend entries: one per phase, in the phase colours.
    legend = {trace.name for trace in fig.data if trace.type == "scatter" and trace.marker.symbol == "square"}
    assert legend == {phase.PHASE_DESCRIPTIONS[name] for name in empirical.names}


def test_paper_colours_are_white_blue_red_for_not_learned_dedicated_superposed():
    colours = tm.phase.paper_phase_colors([0.0, 1.0, 1.0, 2.0], [0.0, 0.0, 1.0, 5.0])
    np.testing.assert_array_equal(colours[0], [255, 255, 255])
    np.testing.assert_array_equal(colours[1], [33, 102, 172])
    np.testing.assert_array_equal(colours[2], [178, 24, 43])
    np.testing.assert_array_equal(colours[3], colours[2])  # clipped to [0, 1]


def test_a_disagreeing_point_gets_a_cross_and_a_table_row():
    _, empirical, theory_diagram = _synthetic(2, fits=3)
    flipped = theory_diagram.on_grid.copy()
    flipped[2, 3] = (flipped[2, 3] + 1) % 3
    changed = phase.TheoryPhaseDiagram(
        flipped,
        theory_diagram.relative_importance,
        theory_diagram.density,
        theory_diagram.phase,
        theory_diagram.boundaries,
    )
    fig = tm.phase.phase_diagrams(empirical, changed)
    crosses = next(trace for trace in fig.data if trace.name == "differs from the theory")
    assert len(crosses.x) == 1
    assert crosses.x[0] == pytest.approx(np.log10(empirical.density[3]))
    assert crosses.y[0] == pytest.approx(np.log10(empirical.relative_importance[2]))
    table = tm.phase.phase_disagreements(empirical, changed)
    assert len(table.rows) == 1 and table.rows[0][0] == f"{empirical.relative_importance[2]:.3g}"


def test_agreement_table_counts_points_and_fits():
    _, empirical, theory_diagram = _synthetic(2, fits=3)
    table = tm.phase.phase_agreement_table({"n = 2": (empirical, theory_diagram)})
    row = dict(zip(table.columns, table.rows[0]))
    R, S, K = empirical.fit_phase.shape
    assert row["grid (r × density × fits)"] == f"{R} × {S} × {K}"
    assert row["agree: most common phase"] == "100.0%"
    assert row["agree: lowest-loss fit"] == "100.0%"
    assert row["confused fits"] == str(int((empirical.fit_phase == 3).sum()))


def test_loss_slice_figure_draws_every_candidate_and_every_fit():
    _, empirical, _ = _synthetic(2, fits=3)
    cut = phase.loss_slice(empirical, density=0.1)
    fig = tm.phase.phase_slice(cut, title="slice")
    curves = [trace for trace in fig.data if trace.mode == "lines"]
    assert [trace.name for trace in curves] == [f"theory: {phase.PHASE_DESCRIPTIONS[n]}" for n in cut.names]
    loss_markers = [trace for trace in fig.data if trace.mode == "markers" and trace.yaxis == "y"]
    assert sum(len(trace.x) for trace in loss_markers) == cut.fit_loss.size
    assert fig.layout.yaxis.type == "log"


def test_column_slider_steps_through_r_at_the_nearest_density():
    result, empirical, _ = _synthetic(3, fits=2)
    fig = tm.phase.phase_column_slider(result, density=0.1)
    assert len(fig.layout.sliders[0].steps) == len(empirical.relative_importance)
    column = phase.nearest_column(empirical.density, 0.1)
    assert fig.layout.title.text.startswith(f"1−S = {empirical.density[column]:.3g}, r = ")
    with pytest.raises(ConfigError, match="density"):
        tm.phase.phase_column_slider(result, density=0.0)
    two_features, _, _ = _synthetic(2, fits=2)
    with pytest.raises(ConfigError, match="phase_change_3"):
        tm.phase.phase_column_slider(two_features, density=0.1)


def test_theory_table_matches_the_closed_forms():
    table = tm.phase.phase_theory_table(densities=(0.3,), n_samples=20_000)
    row = dict(zip(table.columns, table.rows[0]))
    assert row["q (ignored)"] == f"{0.3 / 3 - 0.3**2 / 4:.3g}"
    assert row["g, b = 0"] == f"{0.3**2 / 6:.3g}"
    r_low, r_high = theory.antipodal_window(0.3)
    assert row["antipodal window in r"] == f"{float(r_low):.3g} – {float(r_high):.3g}"


def test_live_phase_point_redraws_in_place():
    pytest.importorskip("anywidget")
    widget = tm.phase.live_phase_point(tm.preset("phase_change_live", fast=True).replace(steps=50))
    controls, figure = widget.children[0].children, widget.children[1]
    assert isinstance(figure, go.FigureWidget)
    before = figure.layout.title.text
    controls[0].value = 5.0
    assert figure.layout.title.text != before and "r = 5" in figure.layout.title.text
