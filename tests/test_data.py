import pytest
import torch

from toymodels import ConfigError, DataConfig, sample_features, target_of
from toymodels.data import Uniforms

BATCH = 200_000


def draw(probabilities, data=DataConfig(), seed=0, batch=BATCH):
    return sample_features(torch.tensor(probabilities), batch, data, Uniforms(seed))


def binomial_tolerance(p, n):
    return 5 * (p * (1 - p) / n) ** 0.5 + 1e-9


def test_active_rate_matches_density_per_instance_and_feature():
    p = [[1.0, 0.5, 0.1, 0.01], [0.3, 0.3, 0.003, 1.0]]
    x = draw(p)
    assert x.shape == (2, BATCH, 4)
    rate = (x != 0).float().mean(1)
    for k in range(2):
        for i in range(4):
            assert abs(rate[k, i] - p[k][i]) < binomial_tolerance(p[k][i], BATCH), (
                f"active rate {rate[k, i]:.4f} for p={p[k][i]}: is the mask compared the wrong way (u > p)?"
            )


def test_active_values_are_uniform_on_unit_interval():
    x = draw([[0.2, 0.01]])
    for i in range(2):
        values = x[0, :, i][x[0, :, i] != 0]
        assert values.min() > 0 and values.max() <= 1
        # Decile counts of U[0,1] are equal; a value rescaling mistake (u instead of u/p) piles them low.
        counts = torch.histc(values, bins=10, min=0, max=1)
        expected = len(values) / 10
        assert torch.all((counts - expected).abs() < 6 * expected**0.5), counts
        assert values.mean() == pytest.approx(0.5, abs=0.02)
        assert values.var() == pytest.approx(1 / 12, abs=0.01)


def test_signed_values_are_uniform_on_symmetric_interval_and_abs_target():
    data = DataConfig(signed=True, target="abs")
    x = draw([[0.5, 0.5]], data)
    values = x[x != 0]
    assert values.min() >= -1 and values.max() <= 1
    assert values.mean() == pytest.approx(0.0, abs=0.01)
    assert values.var() == pytest.approx(1 / 3, abs=0.01)
    assert torch.equal(target_of(x, data), x.abs())
    assert torch.equal(target_of(x), x)


def test_correlated_sets_share_their_mask_and_have_independent_values():
    data = DataConfig(correlation="correlated", set_size=3)
    x = draw([[0.2] * 3 + [0.05] * 3], data)
    active = (x != 0).view(1, BATCH, 2, 3)
    assert torch.equal(active[..., 0], active[..., 1]) and torch.equal(active[..., 0], active[..., 2])
    rate = active[..., 0].float().mean(1)[0]
    assert abs(rate[0] - 0.2) < binomial_tolerance(0.2, BATCH) and abs(rate[1] - 0.05) < binomial_tolerance(0.05, BATCH)
    # Values within an active set are independent, not copies.
    both = active[0, :, 0, 0]
    a, b = x[0, both, 0], x[0, both, 1]
    assert abs(torch.corrcoef(torch.stack([a, b]))[0, 1]) < 0.02
    # The two sets are independent of each other.
    joint = (active[0, :, 0, 0] & active[0, :, 1, 0]).float().mean()
    assert joint == pytest.approx(0.2 * 0.05, abs=5e-4)


@pytest.mark.parametrize("convention, per_feature", [("paper", lambda p, k: p / k), ("arena", lambda p, k: p)])
def test_anticorrelated_features_are_never_coactive(convention, per_feature):
    k, p = 2, 0.3
    data = DataConfig(correlation="anticorrelated", set_size=k, anticorrelated_convention=convention)
    x = draw([[p] * 4], data)
    active = (x != 0).view(BATCH, 2, k)
    assert active.sum(-1).max() <= 1, "two features of an anticorrelated set fired together"
    rate = (x != 0).float().mean(1)[0]
    expected = per_feature(p, k)
    assert torch.all((rate - expected).abs() < binomial_tolerance(expected, BATCH)), rate
    values = x[x != 0]
    assert values.mean() == pytest.approx(0.5, abs=0.01) and values.var() == pytest.approx(1 / 12, abs=0.01)


def test_same_seed_same_batch_different_seed_different_batch():
    assert torch.equal(draw([[0.1] * 5], seed=3, batch=64), draw([[0.1] * 5], seed=3, batch=64))
    assert not torch.equal(draw([[0.1] * 5], seed=3, batch=64), draw([[0.1] * 5], seed=4, batch=64))


def test_bad_shapes_and_sizes_are_rejected():
    with pytest.raises(ConfigError, match="probability"):
        sample_features(torch.full((5,), 0.1), 10)
    with pytest.raises(ConfigError, match="batch_size"):
        sample_features(torch.full((1, 5), 0.1), 0)
