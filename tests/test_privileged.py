"""Oracles for toymodels.privileged (§8, chapter 7): hand-built W for every regime of the paper read as that regime,
with the monosemantic neurons and represented features it was built with; expected losses match closed forms and
the trainer's own Monte Carlo loss; the tables and figures hold those numbers; a short seeded run is read end to end.
"""

import itertools

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

import toymodels as tm
from toymodels import privileged
from toymodels.errors import ConfigError

N, M = 10, 5
IMPORTANCE = 0.75 ** np.arange(N)


def _codes(codes: dict[int, tuple[int, ...]], weight: float | None = None) -> np.ndarray:
    """(5, 10) W with feature i on the neurons codes[i], each weight 1/√|code| (unit positive norm) unless given."""
    W = np.zeros((M, N))
    for feature, neurons in codes.items():
        W[list(neurons), feature] = weight or 1 / np.sqrt(len(neurons))
    return W


PAIRS = list(itertools.combinations(range(5), 2))
REGIME_MATRICES = {
    # regime: (W, monosemantic neurons, features represented)
    "dedicated neurons": (_codes({i: (i,) for i in range(5)}), 5, 5),
    "binary code": (_codes({0: (0,), 1: (1,), 2: (2,), 3: (3,), 4: (4,), 5: (3, 4)}), 3, 6),
    "5 in 3": (_codes({0: (3,), 1: (4,), 2: (0,), 3: (1,), 4: (2,), 5: (0, 1), 6: (1, 2)}), 2, 7),
    "6 in 4": (_codes({0: (4,), **{1 + k: pair for k, pair in enumerate(itertools.combinations(range(4), 2))}}), 1, 7),
    "8 in 5": (_codes({i: PAIRS[i] for i in range(8)}), 0, 8),
    "neuron pairs": (_codes({i: PAIRS[i] for i in range(10)}), 0, 10),
}


@pytest.mark.parametrize("regime", list(REGIME_MATRICES))
def test_hand_built_regimes_read_as_built(regime):
    W, monosemantic, represented = REGIME_MATRICES[regime]
    reading = privileged.neurons(W)
    assert reading.regime == regime, f"{regime}: read as {reading.regime} (block {reading.block})"
    assert reading.monosemantic == monosemantic
    assert reading.n_represented == represented
    assert reading.monosemantic + reading.polysemantic + reading.dead == M
    # The paper's regime names are exactly these.
    assert regime in privileged.REGIMES


def test_regimes_survive_scaling_noise_and_negative_weights():
    rng = np.random.default_rng(0)
    for regime, (W, monosemantic, represented) in REGIME_MATRICES.items():
        noisy = 1.2 * W + rng.uniform(-0.05, 0.05, W.shape)
        # Negative weights only silence a neuron (inputs are >= 0): they never make it polysemantic.
        noisy[noisy == noisy.min()] = -1.5
        reading = privileged.neurons(noisy)
        assert (reading.regime, reading.monosemantic, reading.n_represented) == (regime, monosemantic, represented)


def test_weak_weights_of_unrepresented_features_do_not_make_a_neuron_polysemantic():
    W, _, _ = REGIME_MATRICES["dedicated neurons"]
    W = W.copy()
    W[0, 7] = 0.3  # feature 7: ‖W⁺‖ = 0.3 < 0.5, not represented
    reading = privileged.neurons(W)
    assert reading.regime == "dedicated neurons" and reading.monosemantic == 5 and not reading.represented[7]


def test_features_sharing_one_code_cannot_be_decoded_and_read_other():
    W = _codes({0: (0,), 1: (0,), 2: (1,)})
    reading = privileged.neurons(W)
    assert reading.regime == "no distinct codes" and not reading.distinct_codes


def test_other_blocks_are_named_by_their_size_and_a_dead_neuron_counts():
    W = _codes({0: (0,), 1: (1,), 2: (2, 3), 3: (3, 4), 4: (2, 4), 5: (2, 3, 4)})  # 4 features in 3 neurons
    reading = privileged.neurons(W)
    assert reading.regime == "4 in 3" and reading.block == (4, 3) and reading.dead == 0
    dead = _codes({0: (0,), 1: (1,)})
    assert privileged.neurons(dead).dead == 3


def test_separator_neuron_is_found():
    W, _, _ = REGIME_MATRICES["6 in 4"]
    W = W.copy()
    assert privileged.separator_neurons(W, IMPORTANCE) == ()
    W[4, 5:7] = -0.8  # neuron 4 (feature 0's) is now silenced by the less important features 5 and 6
    assert privileged.separator_neurons(W, IMPORTANCE) == (4,)
    W[4, 6], W[4, 1] = 0.9, -0.8  # activated by 0 and 6, silenced by 1 and 5: importance on both sides
    assert privileged.separator_neurons(W, IMPORTANCE) == ()
    W = REGIME_MATRICES["6 in 4"][0].copy()
    W[0, 4:7] = 0.7  # neuron 0 activated by the less important 4-6 …
    W[0, 1:4] = -0.7  # … and silenced by the more important 1-3 (as trained at 1 − S = 0.12)
    assert 0 in privileged.separator_neurons(W, IMPORTANCE)


def test_regime_of_is_vectorised_and_bad_input_is_named():
    stack = np.stack([REGIME_MATRICES[r][0] for r in REGIME_MATRICES])
    assert privileged.regime_of(stack).tolist() == list(REGIME_MATRICES)
    with pytest.raises(ConfigError, match="W must"):
        privileged.neurons(np.zeros(5))
    with pytest.raises(ConfigError, match="W must"):
        privileged.neurons(stack)


def test_paper_regimes_at_the_papers_densities():
    found = {p: privileged.paper_regime(p) for p in (0.6, 0.3, 0.15, 0.12, 0.06, 0.03)}
    assert [band.regime for band in found.values()] == list(privileged.REGIMES)
    assert [(band.monosemantic, band.represented) for band in found.values()] == [
        (5, 5), (3, 6), (2, 7), (1, 7), (0, 8), (0, 10)
    ]  # fmt: skip
    assert privileged.paper_regime(0.1) is None  # between the paper's bands


# ----------------------------------------------------------------------------------------------------
# Precise losses


def test_expected_loss_of_the_zero_model_is_p_over_3_per_feature():
    p = np.full(N, 0.2)
    loss = privileged.expected_loss(np.zeros((1, M, N)), np.zeros((1, N)), p, IMPORTANCE, n_points=4096)
    assert loss[0] == pytest.approx((IMPORTANCE * p / 3).sum(), rel=1e-4)


def test_expected_loss_of_dedicated_neurons_is_the_dropped_features_cost():
    W, _, _ = REGIME_MATRICES["dedicated neurons"]  # features 0-4 pass through exactly, 5-9 are dropped
    loss = privileged.expected_loss(W[None], np.zeros((1, N)), 0.3, IMPORTANCE, n_points=4096)
    assert loss[0] == pytest.approx((IMPORTANCE[5:] * 0.3 / 3).sum(), rel=1e-4)


def test_expected_loss_matches_the_trainers_monte_carlo_loss():
    experiment = tm.preset("privileged_basis").replace(
        feature_probability=(0.3, 0.05), n_seeds=3, halving_steps=0, eval_batches=400
    )
    generator = torch.Generator().manual_seed(0)
    model = tm.ToyModel(experiment.model, experiment.n_instances, generator=generator)
    with torch.no_grad():
        model.W.mul_(2.0)
        model.b.uniform_(-0.3, 0.1, generator=generator)
    sampled = tm.evaluate(model, experiment).double().numpy() * N  # mean over features → sum
    probability = experiment.probability_tensor().double().numpy()
    precise = privileged.expected_loss(model.W, model.b, probability, IMPORTANCE)
    assert np.allclose(precise, sampled, rtol=0.03), (precise, sampled)


def test_expected_loss_leaves_out_only_rare_patterns():
    rng = np.random.default_rng(1)
    W, b = rng.normal(size=(2, M, N)), rng.normal(scale=0.1, size=(2, N))
    every = privileged.expected_loss(W, b, 0.03, IMPORTANCE, n_points=256, min_probability=0)
    pruned = privileged.expected_loss(W, b, 0.03, IMPORTANCE, n_points=256)
    assert np.allclose(every, pruned, rtol=1e-5)
    assert len(privileged.patterns(4)) == 16 and privileged.patterns(4).sum(1).tolist() == sorted(
        privileged.patterns(4).sum(1).tolist()
    )
    with pytest.raises(ConfigError, match="probability"):
        privileged.expected_loss(W, b, 1.5)
    with pytest.raises(ConfigError, match="n_points"):
        privileged.expected_loss(W, b, 0.5, n_points=1)


# ----------------------------------------------------------------------------------------------------
# A trained sweep, its tables and figures


@pytest.fixture(scope="module")
def short_run():
    experiment = tm.preset("privileged_basis", fast=True).replace(
        feature_probability=(0.6, 0.03), n_seeds=4, steps=400, halving_steps=0, progress=False
    )
    return privileged.privileged_sweep(tm.train(experiment, workers=1), n_points=128)


def test_sweep_reads_every_fit_and_keeps_the_lowest_precise_loss(short_run):
    sweep = short_run
    assert sweep.loss.shape == sweep.regime.shape == (2, 4)
    assert np.array_equal(sweep.best, sweep.loss.argmin(-1))
    assert np.array_equal(sweep.best_of(4), sweep.best)
    assert sweep.best_of(1).tolist() == [0, 0]
    assert sweep.index(0.031) == 1
    with pytest.raises(ConfigError, match="k must"):
        sweep.best_of(5)


def test_tables_quote_the_sweep(short_run):
    table = privileged.regime_table(short_run)
    assert len(table.rows) == 2 and table.rows[0][2] == "dedicated neurons" and table.rows[1][2] == "neuron pairs"
    assert table.rows[0][1] == short_run.regime[0, short_run.best[0]]
    assert len(privileged.best_of_k_table(short_run, ks=(1, 4, 1000)).rows) == 4
    counts = privileged.regime_counts_table(short_run)
    assert sum(int(row[2]) for row in counts.rows if row[0] == "0.6") == 4
    halving = privileged.halving_table(short_run, short_run)
    assert [row[-1] for row in halving.rows] == ["1 of 4", "1 of 4"]


def test_neuron_figure_stacks_weights_by_sign():
    W, _, _ = REGIME_MATRICES["binary code"]
    W = W.copy()
    W[0, 9] = -0.4
    fig = privileged.neuron_figure(W, IMPORTANCE, title="binary code")
    assert isinstance(fig, go.Figure) and fig.layout.barmode == "relative"
    assert len(fig.data) == N + 1 and fig.data[0].type == "heatmap"
    bars = fig.data[1:]
    assert [bar.name.split(" (")[0] for bar in bars] == [str(i) for i in range(N)]
    assert bars[9].y[0] == pytest.approx(-0.4)  # negative: drawn below the axis by the relative bar mode
    assert "2 feats" in fig.layout.xaxis2.ticktext[3]
    low, high = fig.layout.yaxis2.range  # every stack fits: the largest one-signed sum of a neuron's weights
    assert high == -low >= np.clip(W, 0, None).sum(-1).max() and high >= -np.clip(W, None, 0).sum(-1).min()


def test_density_slider_has_a_step_per_density(short_run):
    fig = privileged.density_slider(short_run.best_W, short_run.density, IMPORTANCE, title="best fits")
    steps = fig.layout.sliders[0].steps
    assert len(steps) == 2 and len(fig.data) == 2 * (N + 1)
    assert steps[1].args[0]["visible"] == [False] * (N + 1) + [True] * (N + 1)
    for step, W in zip(steps, short_run.best_W):  # each step labels the neurons of its own fit
        expected = privileged.neuron_figure(W).layout.xaxis2.ticktext
        shown = step.args[1].get("xaxis2.ticktext", fig.layout.xaxis2.ticktext)
        assert list(shown) == list(expected)


def test_loss_distribution_and_regime_map(short_run):
    fig = privileged.loss_distribution(short_run.loss[1], short_run.regime[1], 0.03, marks={"best of 1": 0.01})
    assert sum(len(trace.x) for trace in fig.data) == 4
    fig = privileged.regime_map(
        short_run.density, short_run.monosemantic[:, 0], short_run.represented[:, 0], short_run.regime[:, 0]
    )
    assert list(fig.data[0].y) == short_run.represented[:, 0].tolist()
    with pytest.raises(ConfigError, match="regimes"):
        privileged.regime_map([0.1, 0.2], [1, 2], [3, 4], ["a"])


def test_live_best_fit_returns_the_lowest_precise_loss_fit():
    experiment = tm.preset("privileged_basis_live").replace(n_seeds=3, steps=200)
    W, b, loss = privileged.best_fit(experiment, 0.3, n_points=64)
    assert W.shape == (M, N) and b.shape == (N,) and np.isfinite(loss)
    again = privileged.best_fit(experiment, 0.3, n_points=64)
    assert np.array_equal(W, again[0]), "same seed, same fit"


def test_ranking_table_compares_four_batches_with_the_precise_loss(short_run):
    assert short_run.four_batch_loss.shape == (2, 4)
    table = privileged.ranking_table(short_run, ks=(2, 4))
    assert len(table.rows) == 4
    for row, (s, k) in zip(table.rows, [(0, 2), (0, 4), (1, 2), (1, 4)]):
        assert row[5] == f"{short_run.loss[s, short_run.best_of(k)[s]]:.5f}"
        assert float(row[3]) >= float(row[5])  # the precise ranking's pick is never worse by the precise loss


def test_independent_draws_rerun_the_protocol_with_other_seeds_and_the_table_counts_the_papers_regime():
    base = tm.preset("privileged_basis", fast=True)
    draws = tm.privileged.independent_draws(base, densities=(0.15, 0.12), draws=3)
    assert [e.train.seed for e in draws] == [1, 2, 3] and len({e.name for e in draws}) == 3
    assert all(e.density_per_setting().tolist() == pytest.approx([0.15, 0.12]) for e in draws)
    with pytest.raises(tm.ConfigError, match="draws"):
        tm.privileged.independent_draws(base, draws=0)
    tiny = [tm.privileged.privileged_sweep(tm.train(e.replace(steps=30, n_seeds=2, progress=False))) for e in draws]
    table = tm.privileged.draws_table(tiny)
    assert [row[0] for row in table.rows] == ["0.15", "0.12"] and all(row[-1].endswith("of 3") for row in table.rows)
    with pytest.raises(tm.ConfigError, match="density 0.06"):
        tm.privileged.draws_table(tiny, densities=(0.06,))
