"""Oracles for tm.dynamics: jumps on synthetic D_i paths with known jumps, regimes on hand-made weights and on a
rotation sequence with a known end state."""

import numpy as np
import pytest

import toymodels as tm
from toymodels.dynamics import detect_jumps, loss_changes, name_regime, plateaus, regime_sequence


def staircase(levels, lengths, ramp=0, noise=0.0, seed=0):
    """A path that holds each level for its length, moving linearly over ``ramp`` snapshots in between."""
    parts = [np.full(lengths[0], levels[0], dtype=float)]
    for before, after, length in zip(levels, levels[1:], lengths[1:]):
        if ramp:
            parts.append(np.linspace(before, after, ramp + 2)[1:-1])
        parts.append(np.full(length, after, dtype=float))
    path = np.concatenate(parts)
    return path + np.random.default_rng(seed).uniform(-noise, noise, path.size)


def test_known_jumps_are_found_with_their_snapshots_and_levels():
    path = staircase([0.0, 0.5, 1.0], [40, 30, 50], ramp=3, noise=0.01)
    jumps = detect_jumps(path, window=10)
    assert [(j.start, j.stop) for j in jumps] == [(39, 43), (72, 76)]  # plateaus 0–39, 43–72, 76–119
    assert [round(j.before, 1) for j in jumps] == [0.0, 0.5]
    assert [round(j.after, 1) for j in jumps] == [0.5, 1.0]
    assert jumps[0].size == pytest.approx(0.5, abs=0.02)


def test_instant_jump_and_several_features():
    D = np.stack([staircase([0.0, 0.5], [20, 20]), np.full(40, 0.5), staircase([1.0, 2 / 3, 0.5], [10, 15, 15])], 1)
    jumps = detect_jumps(D, window=3)
    assert [(j.feature, j.start, j.stop) for j in jumps] == [(2, 9, 10), (0, 19, 20), (2, 24, 25)]


def test_slow_drift_noise_and_small_steps_are_not_jumps():
    drift = np.linspace(0.0, 1.0, 200)  # moves 1.0 over 200 snapshots: no plateau to jump between
    assert detect_jumps(drift, window=10) == []
    noisy = 0.5 + np.random.default_rng(1).uniform(-0.03, 0.03, 200)
    assert detect_jumps(noisy) == []
    assert len(plateaus(noisy)) == 1
    small = staircase([0.5, 0.55], [30, 30])
    assert detect_jumps(small, min_size=0.1) == []
    slow = staircase([0.0, 0.5], [30, 30], ramp=25)  # a ramp longer than the window
    assert detect_jumps(slow, window=10) == []
    assert len(detect_jumps(slow, window=30)) == 1


def test_loss_change_at_a_jump():
    path = staircase([0.0, 0.5], [20, 20], ramp=2)
    loss = np.concatenate([np.full(21, 2.0), np.full(21, 1.5)])
    (jump,) = detect_jumps(path)
    assert loss_changes(loss, [jump]) == pytest.approx([-0.25])


def test_bad_inputs_name_the_parameter():
    with pytest.raises(tm.ConfigError, match="window"):
        detect_jumps(np.zeros(10), window=0)
    with pytest.raises(tm.ConfigError, match="tolerance"):
        plateaus(np.zeros(10), tolerance=-1)
    with pytest.raises(tm.ConfigError, match="D must"):
        detect_jumps(np.zeros((2, 2, 2)))
    with pytest.raises(tm.ConfigError, match="set_size"):
        name_regime(np.zeros((3, 6)), set_size=4)


def octahedron(across=True):
    """Six unit features in 3-D: three orthogonal antipodal pairs; set A = features 0–2, set B = 3–5."""
    e = np.eye(3)
    if across:  # feature i of set A is antipodal to feature i of set B; a set is an orthonormal basis
        return np.concatenate([e, -e], 1)
    return np.stack([e[0], -e[0], e[1], -e[1], e[2], -e[2]], 1)  # pairs inside the sets


def rotation(axis, angle):
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    K = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * K + (1 - np.cos(angle)) * K @ K


def test_regime_names_of_ideal_geometries():
    assert name_regime(np.zeros((3, 6))) == "not learned"
    u = np.array([1.0, 0, 0])
    collapsed = np.concatenate([np.tile(u[:, None], 3) * 0.6, -np.tile(u[:, None], 3) * 0.6], 1)
    assert name_regime(collapsed) == "PCA-like"
    assert name_regime(octahedron()) == "octahedron (pairs across sets)"
    assert name_regime(octahedron(across=False)) == "octahedron (pairs within sets)"
    R = rotation([1, 2, 3], 0.7)  # a rigid rotation changes no name
    assert name_regime(R @ octahedron()) == "octahedron (pairs across sets)"
    orthogonal_sets = np.concatenate([np.eye(3), R @ np.eye(3)], 1)  # two bases, no antipodes
    assert name_regime(orthogonal_sets) == "orthogonal sets"


def test_rotation_sequence_ends_in_the_octahedron():
    # PCA-like start: set A collapsed on +x, set B on −x; the members of each set then rotate apart, each
    # towards its own axis, growing to unit norm, and the whole picture turns rigidly; end: the octahedron.
    start = np.concatenate([np.tile([[1.0], [0], [0]], 3), np.tile([[-1.0], [0], [0]], 3)], 1) * 0.6
    end = octahedron()
    path = []
    for t in np.linspace(0, 1, 60):
        W = (1 - t) * start + t * end
        path.append(rotation([0, 0, 1], 2 * t) @ W)
    path += [rotation([0, 0, 1], 2.0) @ end] * 10  # settled
    regimes = regime_sequence(np.array(path))
    assert regimes[0].name == "PCA-like" and regimes[0].start == 0
    assert regimes[-1].name == "octahedron (pairs across sets)"
    assert regimes[-1].stop == len(path) - 1
    assert [r.start for r in regimes] == sorted(r.start for r in regimes)


def test_short_transients_are_dropped():
    A, B = octahedron(), octahedron(across=False)
    path = np.array([A] * 5 + [B] * 2 + [A] * 5)
    assert [(r.name, r.start, r.stop) for r in regime_sequence(path)] == [("octahedron (pairs across sets)", 0, 11)]


def test_figures_draw_jumps_loss_and_the_3d_slider():
    from toymodels.dynamics import figures

    D = np.stack([staircase([0.0, 0.5, 1.0], [40, 30, 50], ramp=3), np.full(126, 0.5)], 1)
    steps = np.arange(126) * 50
    loss = np.linspace(1.0, 0.5, 126)
    jumps = detect_jumps(D)
    fig = figures.dimensionality_figure(steps, D, loss, jumps, loss_changes(loss, jumps))
    assert len(fig.data) == 4 and len(fig.data[2].x) == 2  # two features, the jumps, the loss
    assert len(figures.dimensionality_figure(steps, D, loss, jumps, shown=[1]).data) == 3
    path = np.array([octahedron()] * 30)
    regimes = regime_sequence(path)
    slider = figures.training_slider(np.arange(30) * 50, path, regimes, frames=10)
    assert len(slider.layout.sliders[0].steps) == len(slider.data) // 2
    last = slider.layout.sliders[0].steps[-1]
    assert last.label.startswith("step ") and "octahedron" in last.args[1]["title.text"]
    assert len(figures.regime_loss_figure(np.arange(30), np.ones(30), regimes).layout.shapes) == 1
    with pytest.raises(tm.ConfigError, match="W must"):
        figures.features_3d(np.zeros((2, 6)))


def test_energy_levels_of_a_model_that_pairs_up_at_snapshot_30():
    from toymodels.dynamics import energy_levels

    e1, e2 = np.eye(2)
    before = np.stack([e1, e2, 0 * e1], 1)  # features 0 and 1 dedicated, feature 2 not learned
    after = np.stack([e1, -e1, e2], 1)  # 0 and 1 an antipodal pair, 2 dedicated
    W = np.array([before] * 30 + [after] * 30)[:, None]  # (T, 1 fit, m, n)
    noise = 1e-3 * np.sin(np.arange(60))  # a loss that wiggles, then drops by 20 % at the jump
    loss = (np.where(np.arange(60) < 30, 1.0, 0.8) + noise)[:, None]
    levels = energy_levels(np.arange(60) * 50, W, loss)
    jumps = levels.jumps[0]
    assert [(j.feature, j.start, j.stop, round(j.before, 3), round(j.after, 3)) for j in jumps] == [
        (0, 29, 30, 1.0, 0.5),
        (1, 29, 30, 1.0, 0.5),
        (2, 29, 30, 0.0, 1.0),
    ]
    assert levels.between_levels(0) == [0, 1]
    assert levels.changes[0] == pytest.approx([-0.2] * 3, abs=0.01)
    assert levels.dropped[0].all() and levels.learned[0].all()


def test_levels_keep_only_jumps_between_energy_levels():
    path = staircase([0.0, 0.5, 0.2, 2 / 3], [20, 20, 20, 20])  # 0.2 is no level
    assert len(detect_jumps(path)) == 3
    jumps = detect_jumps(path, levels=[0.0, 0.5, 2 / 3])
    assert [(round(j.before, 2), round(j.after, 2)) for j in jumps] == [(0.0, 0.5)]


def test_tables_and_sliders_from_a_short_run():
    result = tm.train(tm.preset("geometric_transformations", fast=True).replace(steps=400, n_seeds=2, progress=False))
    sequences = tm.dynamics.regimes_of(result)
    assert len(sequences) == 2 and all(s for s in sequences)
    table = tm.dynamics.geometry_table(result)
    assert table.rows[0][0] == "final geometry"
    assert len(tm.dynamics.transformation_slider(result, frames=5).layout.sliders[0].steps) <= 5
    levels = tm.dynamics.levels_of(result)
    assert len(tm.dynamics.jump_table(levels).rows) == 2
    assert len(tm.dynamics.jump_slider(levels).layout.sliders[0].steps) == 2
    tm.dynamics.regime_loss(result, 1)
    with pytest.raises(tm.ConfigError, match="snapshot"):
        tm.dynamics.levels_of(
            tm.train(
                tm.preset("geometric_transformations", fast=True).replace(
                    steps=10, snapshot_every=0, n_seeds=1, progress=False
                )
            )
        )


def test_a_jump_on_a_steady_slope_is_not_a_loss_drop():
    from toymodels.dynamics import energy_levels

    e1, e2 = np.eye(2)
    W = np.array([np.stack([e1, e2, 0 * e1], 1)] * 30 + [np.stack([e1, -e1, e2], 1)] * 30)[:, None]
    steady = np.exp(-0.01 * np.arange(60))[:, None]  # falls by the same 1 % per snapshot throughout
    levels = energy_levels(np.arange(60), W, steady)
    assert len(levels.jumps[0]) == 3 and not levels.dropped[0].any()
    assert levels.trends[0] == pytest.approx(levels.changes[0], rel=0.2)


def test_live_widget_trains_once_and_scrubs_the_snapshots():
    experiment = tm.preset("geometric_transformations_live", fast=True).replace(steps=200)
    box = tm.dynamics.live_transformations(experiment)
    seed, snapshot = box.children[0].children
    figure = box.children[1]
    assert snapshot.max == 200 // 50  # snapshots at 0, 50, …, 200
    first = [list(trace.x) for trace in figure.data]
    snapshot.value = snapshot.max
    assert [list(trace.x) for trace in figure.data] != first
    assert "step 200" in figure.layout.title.text


def _two_jump_run():
    """Four features in 2-D: 0 and 1 dedicated, then (snapshot 20) 0 and 1 an antipodal pair and 2 dedicated,
    then (snapshot 60) 2 and 3 a second pair: jumps at 19 → 20 and 59 → 60, every feature learned."""
    e1, e2, zero = *np.eye(2), np.zeros(2)
    shapes = [np.stack([e1, e2, zero, zero], 1), np.stack([e1, -e1, e2, zero], 1), np.stack([e1, -e1, e2, -e2], 1)]
    W = np.array([shapes[0]] * 20 + [shapes[1]] * 40 + [shapes[2]] * 40)[:, None]
    D = tm.feature_dimensionality(W[:, 0]).numpy()[:, None]
    return D, np.ones((1, 4), dtype=bool)


def test_the_control_windows_tell_drops_at_jumps_from_drops_anywhere():
    from toymodels.dynamics import levels_from_paths

    D, learned = _two_jump_run()
    t, wiggle = np.arange(100), 1e-3 * np.sin(np.arange(100))
    at_jumps = (np.where(t < 20, 1.0, np.where(t < 60, 0.8, 0.6)) + wiggle)[:, None]
    levels = levels_from_paths(t * 50, D, at_jumps, learned)
    assert [j.stop for j in levels.jumps[0]] == [20, 20, 20, 60, 60] and levels.dropped[0].all()
    # the control: windows of the jumps' length at every snapshot from 10 before the first jump to 10 after the last
    assert levels.control_windows[0] == 61 and levels.control_drops[0] < 0.5 * 61, "drops at jumps, not everywhere"
    elsewhere = (np.where(t < 40, 1.0, 0.8) + wiggle)[:, None]  # one drop, between the jumps
    levels = levels_from_paths(t * 50, D, elsewhere, learned)
    assert not levels.dropped[0].any() and levels.control_drops[0] >= 1, "the control sees the drop the jumps miss"
    table = tm.dynamics.jump_table(levels)
    assert table.rows[0][2] == "5: 1.00\u00a0→\u00a00.50" and table.rows[0][6].startswith("0\u00a0of\u00a05 / ")
    with pytest.raises(tm.ConfigError, match="learned"):
        levels_from_paths(t, D, elsewhere, learned[:, :2])


def test_energy_level_runs_keep_paths_not_weights_and_verify(tmp_path, monkeypatch):
    """A run through the store's energy-levels kind gives what the weights' snapshots give (to float32), keeps no
    weights, and its reproduce-check sample (to the first snapshot) passes on this machine."""
    from toymodels import store
    from toymodels.dynamics import paths

    monkeypatch.setenv("TOYMODELS_STORE_DIR", str(tmp_path))
    experiment = tm.preset("energy_levels", fast=True).replace(
        n_features=12,
        n_hidden=4,
        feature_probability=0.3,
        importance=1.0,
        steps=300,
        n_seeds=2,
        progress=False,
        name="tiny energy levels",
    )
    stored = tm.dynamics.energy_level_run(experiment)
    direct = tm.dynamics.levels_of(tm.train(experiment))
    assert np.allclose(stored.D, np.where(direct.learned[None], direct.D, 0.0), atol=1e-6)
    assert np.array_equal(stored.loss, direct.loss) and np.array_equal(stored.learned, direct.learned)
    path = store.cached_path(paths.KIND, experiment.name, store.key_fields(experiment))
    _, arrays = store.read_entry(path)
    assert not any(name.startswith("W") for name in arrays) and arrays["D0"].dtype == np.float32
    check = store.recompute_cached(path, sample=True)
    assert check.failed == [] and "first 50" in check.what
    with pytest.raises(tm.ConfigError, match="snapshot"):
        tm.dynamics.energy_level_run(experiment.replace(snapshot_every=0))


def test_the_grid_varies_one_thing_at_a_time_around_the_papers_setting():
    paper, *others = tm.dynamics.energy_level_grid()
    assert (paper.model.n_features, paper.model.n_hidden, paper.model.init, paper.train.batch_size) == (
        400,
        30,
        "xavier",
        1024,
    )
    assert paper.density_per_setting()[0] == pytest.approx(1 / 3, abs=1e-4)
    changed = [
        {
            k
            for k in ("feature_probability", "init", "batch_size")
            if str(getattr_any(e, k)) != str(getattr_any(paper, k))
        }
        for e in others[:-1]
    ]
    assert changed == [{"feature_probability"}] * 2 + [{"batch_size"}, {"init"}, {"init", "batch_size"}]
    assert len({e.name for e in (paper, *others)}) == 7


def getattr_any(experiment, name):
    for owner in (experiment, experiment.model, experiment.train):
        if hasattr(owner, name):
            return getattr(owner, name)
    raise AttributeError(name)
