"""Chapter 13 (superposition and scaling laws): the power-law fit, the overlap and its Welch bound against
constructed frames, the store's scaling-run kind against the trainer, and the paper's two regimes at a small size."""

import numpy as np
import pytest

import toymodels as tm
from toymodels import store
from toymodels.scaling import analysis

FAST_WIDTHS = tm.presets.scaling_widths(fast=True)


def test_the_power_law_fit_recovers_an_exact_law_and_measures_its_scatter():
    x = np.array([8.0, 16, 32, 64, 128])
    exact = tm.scaling.fit_power_law(x, 3.0 * x**-1.25)
    assert exact.exponent == pytest.approx(1.25) and exact.prefactor == pytest.approx(3.0)
    assert exact.stderr == pytest.approx(0, abs=1e-12) and exact.r2 == pytest.approx(1.0)
    noisy = tm.scaling.fit_power_law(x, 3.0 * x**-1.25 * np.array([1.1, 0.9, 1.05, 0.95, 1.0]))
    assert noisy.stderr > 0.01 and noisy.r2 < 1
    # the slope's standard error is numpy's least-squares one
    slope, cov = np.polyfit(np.log(x), np.log(3.0 * x**-1.25 * np.array([1.1, 0.9, 1.05, 0.95, 1.0])), 1, cov=True)
    assert noisy.exponent == pytest.approx(-slope[0]) and noisy.stderr == pytest.approx(np.sqrt(cov[0, 0]))
    with pytest.raises(tm.ConfigError, match="positive x and y"):
        tm.scaling.fit_power_law(x, -x)
    with pytest.raises(tm.ConfigError, match="length >= 3"):
        tm.scaling.fit_power_law(x[:2], x[:2])


@pytest.mark.parametrize("m", [2, 3, 7])
def test_a_simplex_reaches_the_welch_bound_and_random_directions_sit_near_one_over_m(m):
    """Oracle: the m + 1 vertices of a regular simplex in m dimensions have cos = −1/m, the least possible mean cos²
    for m + 1 vectors; orthonormal vectors overlap 0; random ones average 1/m, above the bound."""
    simplex = np.eye(m + 1) - 1 / (m + 1)  # centred, in the m-dimensional plane Σ = 0 of R^(m+1)
    assert analysis._mean_square_overlap(simplex, np.ones(m + 1, bool)) == pytest.approx(1 / m**2)
    assert tm.theory.welch_bound(m + 1, m) == pytest.approx(1 / m**2)
    assert tm.theory.welch_bound(m, m) == 0 and analysis._mean_square_overlap(np.eye(m), np.ones(m, bool)) == 0
    random = np.random.default_rng(0).standard_normal((m, 2000))
    overlap = analysis._mean_square_overlap(random, np.ones(2000, bool))
    assert overlap == pytest.approx(1 / m, rel=0.05) and overlap > tm.theory.welch_bound(2000, m)
    with pytest.raises(tm.ConfigError, match="n_dims must be a positive integer"):
        tm.theory.welch_bound(10, 0)


def test_the_weak_prediction_is_alpha_minus_one_above_one():
    assert tm.scaling.weak_exponent(1.5) == 0.5 and tm.scaling.weak_exponent(2.0) == 1.0
    assert tm.scaling.weak_exponent(1.0) is None and tm.scaling.weak_exponent(0.5) is None
    assert [tm.scaling.strong_exponent(a) for a in (0.5, 1.0, 1.5, 2.0)] == [1.0, 1.0, 1.0, 2.0]


def test_the_presets_sweep_power_laws_with_one_decay_per_setting():
    exp = tm.presets.scaling_width(32)
    assert exp.model.n_features == 1000 and exp.n_settings == 8 and exp.n_seeds == 1
    assert exp.train.weight_decay == (-1.0,) * 4 + (1.0,) * 4 and not exp.train.decay_biases
    densities = exp.densities()
    assert np.allclose(densities.sum(axis=1), 1.0)
    alphas = [tm.scaling.power_law_alpha(p) for p in densities]
    assert alphas == pytest.approx(list(tm.presets.SCALING_ALPHAS) * 2)
    assert exp.train.lr_schedule == "half_cosine" and exp.train.min_lr_fraction == 0.05
    assert tm.presets.scaling_dynamics().train.lr_schedule == "constant"
    assert tm.presets.scaling_decay_sweep().n_settings == len(tm.presets.DECAY_SWEEP) * len(tm.presets.SCALING_ALPHAS)


@pytest.fixture
def fast_store(tmp_path, monkeypatch):
    monkeypatch.setenv("TOYMODELS_STORE", "update")
    monkeypatch.setattr(store.directories, "_DIRECTORY", tmp_path)
    monkeypatch.setattr(store.directories, "_REMOTE", None)
    return tmp_path


def test_a_run_keeps_the_trainers_own_final_loss_and_norms(fast_store):
    exp = tm.presets.scaling_width(8, fast=True)
    run = tm.scaling.scaling_run(exp)
    assert run.steps[-1] == exp.train.steps and run.loss.shape == (len(run.steps), exp.n_settings)
    result = tm.train(exp, workers=1)
    assert np.array_equal(run.loss[-1], result.losses.double().numpy())
    norms = result.model.W.detach().double().norm(dim=1).numpy()
    assert np.allclose(run.norms, norms, atol=1e-6)
    # the second call reads the store
    assert np.array_equal(tm.scaling.scaling_run(exp).loss, run.loss)
    (entry,) = (fast_store / tm.scaling.KIND).glob("*.npz")
    check = store.recompute_cached(entry, sample=True)
    assert not check.failed and check.mode == "bit for bit" and "block 0" in check.what, check.summary()


def test_the_two_regimes_at_a_small_size(fast_store):
    """The paper's picture at n = 100, 300 steps: a negative decay represents more features than a positive one at
    every width and α, and the represented fraction falls as γ rises."""
    runs = [tm.scaling.scaling_run(tm.presets.scaling_width(m, fast=True)) for m in FAST_WIDTHS]
    scaling = tm.scaling.width_scaling(runs, tm.presets.REGIMES)
    strong, weak = scaling.regimes.index("strong"), scaling.regimes.index("weak")
    assert np.all(scaling.represented[strong] > scaling.represented[weak])
    assert np.all(np.diff(scaling.loss[strong], axis=-1) < 0), "the strong regime's loss falls with width"
    sweep = tm.scaling.decay_sweep(tm.scaling.scaling_run(tm.presets.scaling_decay_sweep(fast=True)))
    assert np.all(np.diff(sweep.fraction, axis=0) <= 0) and sweep.fraction[-1].min() < sweep.fraction[0].min()
    curves = tm.scaling.training_curves(
        tm.scaling.scaling_run(tm.presets.scaling_dynamics(fast=True)), tm.presets.REGIMES
    )
    assert curves.start == 2 * tm.presets.scaling_dynamics(fast=True).train.warmup_steps and curves.lr == 1e-3
    assert np.all(curves.settled <= curves.steps[-1])
    assert all(fit.exponent > 0 for fits in curves.fits for fit in fits), "the loss falls over training"
    # the tables and figures draw from these
    assert len(tm.scaling.exponent_table(scaling).rows) == len(scaling.alphas)
    assert len(tm.scaling.weak_table(scaling).rows) == len(FAST_WIDTHS)
    assert len(tm.scaling.norms_slider(sweep).data) == sweep.norms.shape[0] * sweep.norms.shape[1]
    assert len(tm.scaling.width_figure(scaling).data) == 2 * (2 * len(scaling.alphas) + 1)


def test_a_run_refuses_several_fits_per_setting():
    with pytest.raises(tm.ConfigError, match="n_seeds=1"):
        tm.scaling.scaling_run(tm.presets.scaling_width(8, fast=True).replace(n_seeds=2))


def test_a_diverging_run_is_refused_not_stored(fast_store):
    exp = tm.presets.scaling_width(8, fast=True).replace(lr=1e6, name="diverging")
    with pytest.raises((tm.ConfigError, tm.errors.TrainingDiverged)):
        tm.scaling.scaling_run(exp)
    assert not list(fast_store.glob("*/*diverging*"))


def test_the_settled_step_is_where_the_loss_last_enters_its_band():
    steps = np.array([10, 20, 40, 80, 160])
    assert tm.scaling.analysis.settled_step(steps, np.array([5.0, 2.0, 1.2, 1.0, 1.0])) == 80
    assert tm.scaling.analysis.settled_step(steps, np.array([1.0, 1.2, 1.01, 1.0, 1.0])) == 40
    assert tm.scaling.analysis.settled_step(steps, np.ones(5)) == 10


def test_the_live_widget_retrains_when_a_slider_moves():
    widget = tm.scaling.live_scaling(tm.presets.scaling_live().replace(steps=50, warmup_steps=5))
    controls, figure = widget.children
    before = figure.layout.title.text
    controls.children[1].value = 1.0  # γ: from strong to weak
    assert figure.layout.title.text != before and "γ = 1" in figure.layout.title.text


def test_a_kind_that_keeps_losses_alone_is_judged_by_them_on_another_machine():
    """The scaling-run kind keeps no weights: on another machine its sample is judged by each fit's loss (the
    store's loss tolerance), not passed on its shapes alone."""
    stored = {"loss": np.array([[0.30, 0.20, 0.10, 0.05]])}  # (fits, checkpoints), as the sample compares them
    elsewhere = {"machine": {"cpu": "another CPU"}}
    close = store.checks.compare(elsewhere, stored, {"loss": stored["loss"] * (1 + 1e-4)})
    assert not close.failed and close.mode == "to tolerance" and close.measured["losses"] < 1e-3
    apart = store.checks.compare(elsewhere, stored, {"loss": stored["loss"] * np.array([1.0, 1.0, 1.05, 1.0])})
    assert apart.failed and "beyond the tolerance" in apart.failed[0]


def test_the_ported_reference_loop_checks_at_its_checkpoint_with_the_full_runs_draws(fast_store):
    run = dict(n=30, m=4, alpha=1.0, decay=-1.0, steps=40, batch=16, values=2.0, init="theirs")
    full = tm.scaling.reference_run(**run)
    assert full["norms"].shape == (30,) and np.isfinite(full["loss"])
    assert tm.scaling.reference_run(**run, checkpoint_only=True)["checkpoint_loss"] == full["checkpoint_loss"]
    with pytest.raises(tm.ConfigError, match="init must be one of"):
        tm.scaling.reference_run(**dict(run, init="xavier"))
    runs = tm.presets.liu_reference(fast=True)
    reference = tm.scaling.reference_runs(runs)
    assert reference["fraction"].shape == (3,)
    knob = tm.scaling.scaling_run(tm.presets.scaling_decay_sweep(fast=True))
    table = tm.scaling.reference_table([(runs, reference)], knob)
    assert len(table.rows) == 4 and table.rows[-1][0] == "the book's training"
    (entry,) = (fast_store / tm.scaling.reference.KIND).glob("*.npz")
    check = store.recompute_cached(entry, sample=True)
    assert not check.failed and "checkpoint" in check.what, check.summary()
