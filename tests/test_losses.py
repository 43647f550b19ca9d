"""The core's precise expected losses (toymodels.losses): the activity patterns and their probabilities against
what the data sampler draws, the forward passes against ToyModel's, and the whole estimate against brute-force
Monte Carlo of tm.evaluate for every model kind and data correlation."""

import numpy as np
import pytest
import torch

import toymodels as tm
from toymodels import losses
from toymodels.config import DataConfig
from toymodels.data import Uniforms
from toymodels.errors import ConfigError
from toymodels.results import result_of

DATA = {
    "independent": DataConfig(),
    "correlated pairs": DataConfig("correlated", 2),
    "anticorrelated pairs (paper)": DataConfig("anticorrelated", 2),
    "anticorrelated triples (arena)": DataConfig("anticorrelated", 3, "arena"),
}
N_FEATURES = 6  # a multiple of every set size above


def _experiment(kind: str, data: DataConfig, density=(0.3, 0.12), n_seeds: int = 3) -> tm.Experiment:
    return tm.Experiment(
        tm.ModelConfig(N_FEATURES, 3, kind=kind),
        feature_probability=density,
        importance=tm.importance_decay(N_FEATURES, 0.8),
        data=data,
        n_seeds=n_seeds,
    )


def _random_result(experiment: tm.Experiment, seed: int = 0) -> tm.TrainResult:
    """Random weights whose outputs are often clipped by the ReLUs (biases of both signs), held as the trainer
    holds a result: float32, setting-major."""
    rng = np.random.default_rng(seed)
    count, m, n = experiment.n_instances, experiment.model.n_hidden, experiment.model.n_features
    W, b = rng.normal(scale=0.7, size=(count, m, n)), rng.normal(scale=0.2, size=(count, n))
    return result_of(experiment, W, b)


def _monte_carlo(result: tm.TrainResult, runs: int = 16, n_batches: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Per-instance loss summed over features (n times tm.evaluate's mean), and its standard error, from
    ``runs`` independently seeded evaluations of ``n_batches`` batches of 1024."""
    n = result.experiment.model.n_features
    draws = np.stack(
        [
            tm.evaluate(result.model, result.experiment, n_batches, seed=100 + run, dtype=torch.float64).numpy() * n
            for run in range(runs)
        ]
    )
    return draws.mean(0), draws.std(0, ddof=1) / np.sqrt(runs)


# ----------------------------------------------------------------------------------------------------
# Patterns and their probabilities


@pytest.mark.parametrize("name", DATA)
def test_pattern_probabilities_sum_to_one_and_give_each_feature_its_density(name):
    """Oracle: the patterns are disjoint events covering every outcome, so their probabilities sum to 1; and
    a feature is active in the patterns whose probabilities sum to its own density (the set's p for correlated
    data, p / k for the paper's anticorrelated sets, p for ARENA's)."""
    data = DATA[name]
    k = data.set_size
    rng = np.random.default_rng(3)
    p = np.repeat(rng.uniform(0.02, 1 / k, size=(5, N_FEATURES // k)), k, axis=1)  # one density per set
    masks = losses.patterns(N_FEATURES, data)
    probability = losses.pattern_probabilities(masks, p, data)
    assert masks.shape == (losses.n_patterns(N_FEATURES, data), N_FEATURES)
    assert len({row.tobytes() for row in masks}) == len(masks), "every pattern once"
    assert probability.shape == (5, len(masks)) and (probability >= 0).all()
    np.testing.assert_allclose(probability.sum(1), 1.0, rtol=0, atol=1e-12)
    own = p / k if data.correlation == "anticorrelated" and data.anticorrelated_convention == "paper" else p
    np.testing.assert_allclose(probability @ masks, own, rtol=1e-12)


def test_patterns_follow_the_sets():
    assert losses.patterns(4).tolist()[:2] == [[False] * 4, [False, False, False, True]]
    assert np.diff(losses.patterns(5).sum(1)).min() >= 0, "ordered by how many features are active"
    correlated = losses.patterns(6, DataConfig("correlated", 2)).reshape(-1, 3, 2)
    assert len(correlated) == 8 and (correlated[..., 0] == correlated[..., 1]).all(), "a set is on or off whole"
    anti = losses.patterns(6, DataConfig("anticorrelated", 3)).reshape(-1, 2, 3)
    assert len(anti) == 16 and anti.sum(-1).max() == 1, "at most one feature of a set"
    with pytest.raises(ConfigError, match="multiple of set_size"):
        losses.patterns(5, DataConfig("correlated", 2))


def test_pattern_probabilities_match_the_frequencies_the_sampler_draws():
    """Oracle: tm.sample_features' own draws, each sorted into its pattern of active features."""
    data = DataConfig("anticorrelated", 2)
    experiment = _experiment("relu_output", data, density=0.4, n_seeds=1)
    x = tm.sample_features(experiment.probability_tensor(), 200_000, data, Uniforms(0))
    active = x[0].numpy() > 0
    masks = losses.patterns(N_FEATURES, data)
    index = {row.tobytes(): i for i, row in enumerate(masks)}
    counts = np.bincount([index[row.tobytes()] for row in active], minlength=len(masks)) / len(active)
    expected = losses.pattern_probabilities(masks, np.full((1, N_FEATURES), 0.4), data)[0]
    stderr = np.sqrt(expected * (1 - expected) / len(active))
    assert np.all(np.abs(counts - expected) < 5 * stderr + 1e-12), f"{(counts - expected) / stderr} standard errors"


# ----------------------------------------------------------------------------------------------------
# Forward passes and the whole estimate


@pytest.mark.parametrize("kind", losses.FORWARDS)
def test_each_forward_pass_is_the_models(kind):
    experiment = _experiment(kind, DataConfig(), n_seeds=2)
    model = _random_result(experiment).model.double()
    x = torch.rand(7, N_FEATURES, dtype=torch.float64)
    with torch.no_grad():
        expected = model(x.expand(model.n_instances, -1, -1))
        found = losses.FORWARDS[kind](x, model.W, model.b)
    torch.testing.assert_close(found, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", DATA)
@pytest.mark.parametrize("kind", losses.FORWARDS)
def test_expected_loss_agrees_with_brute_force_monte_carlo(kind, name):
    """Oracle: tm.evaluate on the trainer's own sampler, 16 independent runs of 16,384 samples. The estimate must
    lie within 5 standard errors for every instance, and the same test must reject the loss of another kind or
    of independent data (so that it can tell a wrong forward pass or wrong patterns)."""
    experiment = _experiment(kind, DATA[name])
    result = _random_result(experiment)
    exact = losses.fit_losses(result).ravel()
    mc, stderr = _monte_carlo(result)
    assert np.all(np.abs(exact - mc) < 5 * stderr), f"{(exact - mc) / stderr} standard errors apart"
    W, b = result.model.W, result.model.b
    p, importance = experiment.probability_tensor().double(), experiment.importance_tensor().double()
    for other in set(losses.FORWARDS) - {kind}:
        wrong = losses.expected_loss(W, b, p, importance, DATA[name], other)
        assert np.any(np.abs(wrong - mc) > 5 * stderr), f"the check cannot tell {kind} from {other}"
    if name != "independent":
        wrong = losses.expected_loss(W, b, p, importance, DataConfig(), kind)
        assert np.any(np.abs(wrong - mc) > 5 * stderr), "the check cannot tell the data from independent features"


def test_every_instance_sees_the_same_points_and_a_result_its_own_kind():
    result = _random_result(_experiment("relu_hidden", DataConfig(), n_seeds=2))
    W, b = result.model.W.double()[:1], result.model.b.double()[:1]
    twins = losses.expected_loss(torch.cat([W, W]), torch.cat([b, b]), 0.3, kind="relu_hidden", n_points=256)
    assert twins[0] == twins[1]
    np.testing.assert_array_equal(
        losses.fit_losses(result, n_points=256).ravel(),
        losses.expected_loss(
            result.model.W,
            result.model.b,
            np.repeat([0.3, 0.12], 2)[:, None],
            tm.importance_decay(N_FEATURES, 0.8),
            kind="relu_hidden",
            n_points=256,
        ),
    )


def test_left_out_patterns_are_only_rare_ones():
    result = _random_result(_experiment("relu_hidden", DataConfig(), density=0.03, n_seeds=2))
    every = losses.fit_losses(result, n_points=256)
    pruned = losses.fit_losses(result, n_points=256, min_probability=1e-6)
    assert not np.array_equal(every, pruned), "some pattern of 6 features at density 0.03 is rarer than 1e-6"
    np.testing.assert_allclose(pruned, every, rtol=1e-4)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: losses.expected_loss(np.zeros((1, 2, 4)), 0.0, 0.1, kind="untied_relu_hidden"), "kind"),
        (lambda: losses.expected_loss(np.zeros((1, 2, 4)), 0.0, 0.1, data=DataConfig(signed=True)), "signed"),
        (lambda: losses.expected_loss(np.zeros((2, 4)), 0.0, 0.1), "W must have shape"),
        (lambda: losses.expected_loss(np.zeros((1, 2, 4)), np.zeros(3), 0.1), "broadcast"),
        (lambda: losses.expected_loss(np.zeros((1, 2, 4)), 0.0, 0.0), "probability"),
        (lambda: losses.expected_loss(np.zeros((1, 2, 4)), 0.0, 0.1, n_points=1), "n_points"),
        (lambda: losses.expected_loss(np.zeros((1, 2, 4)), 0.0, 0.1, min_probability=1.0), "min_probability"),
        (lambda: losses.expected_loss(np.zeros((1, 2, 4)), 0.0, 0.1, max_patterns=8), "max_patterns=8"),
        (
            lambda: losses.expected_loss(np.zeros((1, 2, 4)), 0.0, 0.6, data=DataConfig("anticorrelated", 2, "arena")),
            "activation probability",
        ),
    ],
)
def test_expected_loss_rejects_what_it_cannot_compute(call, message):
    with pytest.raises(ConfigError, match=message):
        call()


def test_fit_losses_rejects_another_output_nonlinearity():
    experiment = _experiment("relu_output", DataConfig(), n_seeds=1)
    result = _random_result(experiment.replace(activation="gelu"))
    with pytest.raises(ConfigError, match="activation"):
        losses.fit_losses(result)
