"""Chapter 12's analysis (toymodels.design) on constructed models whose answers are known, and its claims on small
seeded runs."""

import numpy as np
import pytest

import toymodels as tm
from toymodels.losses import fit_losses
from toymodels.results import result_of


def sweep(kind="relu_output", densities=(1.0, 0.1), n=6, m=2, **model):
    return tm.Experiment(
        tm.ModelConfig(n, m, kind=kind, **model),
        feature_probability=densities,
        n_seeds=1,
        train=tm.TrainConfig(steps=10, batch_size=64, eval_batches=2, progress=False),
    )


def frame():
    """Features 0, 1 antipodal on the first axis, 2 alone on the second, 3–5 dropped: (m=2, n=6)."""
    W = np.zeros((2, 6))
    W[0, 0], W[0, 1], W[1, 2] = 1.0, -1.0, 1.0
    return W


def test_decoder_fits_read_a_tied_frame():
    W = np.stack([frame(), frame()])
    fits = tm.design.decoder_fits(result_of(sweep(), W, b=np.full((2, 6), -0.1)), n_batches=2)
    np.testing.assert_allclose(fits.self_term[0], [1, 1, 1, 0, 0, 0])
    assert fits.represented[0].tolist() == [True, True, True, False, False, False]
    np.testing.assert_allclose(fits.cosine[0][:3], 1.0)
    np.testing.assert_allclose(fits.norm_ratio[0][:3], 1.0)
    assert np.isnan(fits.norm_ratio[0][3:]).all()
    assert fits.antipodal_pairs.tolist() == [1, 1]
    np.testing.assert_allclose(fits.asymmetry, 0.0)
    assert fits.positive_interference.tolist() == [0.0, 0.0]  # the only overlap is the antipodal pair's, −1
    assert fits.loss.shape == (2,) and (fits.loss > 0).all()


def test_the_product_is_what_a_free_decoder_is_judged_by():
    """W → A W, W_out → W_out A⁻¹ changes no output: the product, the antipodal pairs and the loss stay, while the
    decoder's cosines and norm ratios move."""
    experiment = sweep("untied_relu_output", densities=(0.1,))
    W, decoder = frame()[None], frame().T[None].copy()
    A = np.array([[2.0, 1.0], [0.0, 0.5]])
    plain = tm.design.decoder_fits(result_of(experiment, W, W_out=decoder), n_batches=2)
    moved = tm.design.decoder_fits(result_of(experiment, A @ W, W_out=decoder @ np.linalg.inv(A)), n_batches=2)
    np.testing.assert_allclose(moved.product, plain.product, atol=1e-6)
    assert moved.antipodal_pairs.tolist() == plain.antipodal_pairs.tolist() == [1]
    np.testing.assert_allclose(moved.loss, plain.loss, rtol=1e-5)
    assert not np.allclose(moved.norm_ratio[0][:3], 1.0)
    # A one-sided product: output 2 reads axis 0 with weight −3, so feature 0 silences it (P₂₀ = −3, cut by the
    # ReLU) and feature 1, opposite, excites it (P₂₁ = +3); features 0 and 1 are untouched by feature 2.
    decoder[0, 2, 0] = -3.0
    one_sided = tm.design.decoder_fits(result_of(experiment, W, W_out=decoder), n_batches=2)
    assert one_sided.asymmetry[0] > 0.5
    assert one_sided.positive_interference[0] == pytest.approx(3.0 / 6)  # one positive of 6 ordered pairs


def test_the_start_is_the_snapshot_at_step_0_or_the_trainers_draw():
    experiment = sweep("untied_relu_output")
    model = tm.Trainer(experiment).model
    drawn = tm.design.initial_weights(result_of(experiment, np.zeros((2, 2, 6)), W_out=np.zeros((2, 6, 2))))
    np.testing.assert_array_equal(drawn["W_out"], model.W_out.detach().double().numpy())
    snapshots = tm.train(experiment.replace(decoder_init="transpose", snapshot_every=5))
    start = tm.design.initial_weights(snapshots)
    np.testing.assert_array_equal(start["W"], drawn["W"])  # the same seeds draw the same encoder
    np.testing.assert_array_equal(start["W_out"], np.swapaxes(start["W"], 1, 2))
    np.testing.assert_array_equal(start["W"], snapshots.history.W[0].double().numpy())


def test_a_hidden_bias_that_the_output_bias_absorbs_has_no_gap():
    W = np.stack([frame(), frame()])
    c = np.array([[0.3, -0.2], [0.1, 0.0]])
    b_plain = np.full((2, 6), -0.05)
    b_with = b_plain - np.einsum("smi,sm->si", W, c)  # so that b + Wᵀc = b_plain
    with_bias = tm.design.decoder_fits(result_of(sweep(hidden_bias=True), W, b=b_with, c=c), n_batches=2)
    plain = tm.design.decoder_fits(result_of(sweep(), W, b=b_plain), n_batches=2)
    effect = tm.design.hidden_bias_effect(with_bias, plain)
    np.testing.assert_allclose(effect.bias_gap, 0.0, atol=1e-6)
    np.testing.assert_allclose(effect.loss_ratio, 1.0, rtol=1e-5)  # the same function
    np.testing.assert_allclose(effect.largest_c, [0.3, 0.1], rtol=1e-6)
    with pytest.raises(tm.ConfigError, match="with_bias must be a tied model with a hidden bias"):
        tm.design.hidden_bias_effect(plain, with_bias)
    with pytest.raises(tm.ConfigError, match="without a hidden bias"):  # the exact losses know no c
        fit_losses(result_of(sweep(hidden_bias=True), W, b=b_with, c=c))


def test_reading_the_gram_picture_names_dedicated_superposed_and_dropped_features():
    W = np.stack([frame(), frame()])
    b = np.array([[0, 0, 0, 0.5, 0.5, 0.5], [-0.1, -0.1, 0, 0.05, 0.05, 0.06]])
    reading = tm.design.gram_reading(result_of(sweep(), W, b=b), (1.0, 0.1))
    assert reading.labels == ("random start", "1−S = 1", "1−S = 0.1")
    for k in (1, 2):
        assert reading.role[k].tolist() == [1, 1, 0, 2, 2, 2]  # an antipodal pair interferes; feature 2 is alone
    assert reading.negative_bias_in_superposition.tolist()[1:] == [0, 2]
    np.testing.assert_allclose(reading.dropped_bias_gap[1:], [0.0, 0.01], atol=1e-6)
    with pytest.raises(tm.ConfigError, match="densities must be among"):
        tm.design.gram_reading(result_of(sweep(), W, b=b), (0.5,))


def test_pairs_are_named_by_their_arrangement_and_scored_across_objectives():
    experiment = tm.presets.importance_pairs("alone", fast=True).replace(n_seeds=1)
    W = np.zeros((1, 5, 20))
    for k in range(5):  # pairs 2k (collapsed, on axis k) and 2k + 5... : pairs 0–4 collapsed, 5–9 antipodal
        W[0, k, 2 * k : 2 * k + 2] = 1.0
        W[0, k, 10 + 2 * k], W[0, k, 11 + 2 * k] = 1.0, -1.0
    result = result_of(experiment, W, b=np.zeros((1, 20)))
    arrangement = tm.design.pair_arrangements(result, n_batches=2)
    assert arrangement.share["collapsed"] == 0.5 and arrangement.share["antipodal"] == 0.5
    assert arrangement.best == ("collapsed",) * 5 + ("antipodal",) * 5
    assert arrangement.mean_cosine == pytest.approx(0.0)
    results = {
        c: result_of(tm.presets.importance_pairs(c, fast=True).replace(n_seeds=1), W)
        for c in ("alone", "anticorrelated")
    }
    cross = tm.design.cross_losses(results, n_batches=2)
    assert cross.shape == (2, 2)
    assert cross[0, 0] == pytest.approx(tm.design.pair_arrangements(results["alone"], n_batches=2).loss)
    # Collapsed partners cost nothing when importance is conditional, but on anticorrelated data the silent
    # partner's output must be 0.
    assert cross[0, 1] > cross[0, 0]


def test_losses_over_training_end_at_the_final_loss():
    experiment = sweep("untied_relu_output", decoder_init="transpose").replace(steps=20, snapshot_every=10, n_seeds=2)
    result = tm.train(experiment)
    steps, loss = tm.design.loss_over_training(result, n_batches=2)
    assert steps.tolist() == [0, 10, 20] and loss.shape == (3, 2)
    np.testing.assert_allclose(loss[-1], tm.design.decoder_fits(result, n_batches=2).loss)
    with pytest.raises(tm.ConfigError, match="at must name snapshot steps"):
        tm.design.loss_over_training(result, at=(15,))


def test_conditional_importance_collapses_partners_and_anticorrelation_does_not():
    """The chapter's finding on short seeded runs (4 fits of 2,000 steps)."""
    shares = {
        c: tm.design.pair_arrangements(tm.train(tm.presets.importance_pairs(c, fast=True)), n_batches=4).share
        for c in ("alone", "anticorrelated")
    }
    assert shares["alone"]["collapsed"] >= 0.3
    assert shares["anticorrelated"]["collapsed"] == 0.0


def test_a_random_decoder_leaves_features_dead_in_sparse_data():
    """The chapter's finding on a short seeded run: at 1−S = 0.003 the features a random free decoder leaves
    unrepresented mostly started with a negative self-term; from Wᵀ, fewer are left out."""
    experiment = tm.presets.decoder_sweep("random", fast=True).replace(feature_probability=0.003, n_seeds=2)
    fits = tm.design.decoder_fits(tm.train(experiment), n_batches=4)
    left_out = ~fits.represented[0]
    assert left_out.sum() >= 4 and (fits.start_self_term[0][left_out] < 0).mean() >= 0.7
    transposed = tm.design.decoder_fits(tm.train(experiment.replace(decoder_init="transpose")), n_batches=4)
    assert transposed.represented[0].sum() > fits.represented[0].sum()


def test_figures_and_tables_build_from_small_results():
    tied = tm.design.decoder_fits(result_of(sweep(), np.stack([frame(), frame()])), n_batches=2)
    free = tm.design.decoder_fits(
        result_of(sweep("untied_relu_output"), np.stack([frame(), frame()]), W_out=np.stack([frame().T] * 2)),
        n_batches=2,
    )
    figure = tm.design.product_slider(tied, free, title="products")
    assert len(figure.layout.sliders[0].steps) == 2
    assert "1−S = 0.1" in figure.layout.sliders[0].steps[1].args[1]["title.text"]
    assert "W<sub>out</sub>W" in figure.layout.coloraxis.colorbar.title.text  # the shared scale names both rows
    ratio = tm.design.loss_ratio_figure({"free": (free.loss, "solid")}, tied.loss, tied.density)
    np.testing.assert_allclose(ratio.data[0].y, free.loss / tied.loss)
    for table in (
        tm.design.decoder_table(tied, free),
        tm.design.alignment_table(free),
        tm.design.dead_start_table(free),
        tm.design.convergence_table({"free": (np.array([10]), free.loss[None])}, tied.loss, tied.density),
    ):
        assert len(table.rows) == 2 and all(len(row) == len(table.columns) for row in table.rows)
    assert tm.design.decoder_table(tied, free).rows[0][1:3] == ("3 / 3", "1 / 1")  # 3 represented, 1 antipodal pair
    with pytest.raises(tm.ConfigError, match="losses must have shape"):
        tm.design.cross_table(["a", "b"], np.zeros((3, 3)))
