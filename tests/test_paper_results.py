"""Seeded small runs reproduce the paper's qualitative results (§1 intro figure)."""

import pytest
import torch

import toymodels as tm


@pytest.fixture(scope="module")
def intro_models():
    """n=5, m=2, I = 0.9^i at 1−S = 1, 0.2 and 0.1: the best of 5 fits of 10,000 steps each."""
    exp = tm.preset("intro").replace(n_seeds=5, progress=False)
    assert exp.feature_probability == ((1.0,) * 5, (0.2,) * 5, (0.1,) * 5)
    best = tm.train(exp).best()
    return best.W.detach()


def angles_degrees(W):
    return torch.rad2deg(torch.atan2(W[1], W[0]))


def test_dense_two_most_important_features_orthogonal_rest_dropped(intro_models):
    W = intro_models[0]
    norms = tm.feature_norms(W)
    assert torch.all((norms[:2] - 1).abs() < 0.05), f"features 0, 1 should have norm ≈ 1, got {norms}"
    assert torch.all(norms[2:] < 0.1), f"features 2-4 should be dropped when dense, got {norms}"
    cosine = (W[:, 0] @ W[:, 1]) / (norms[0] * norms[1])
    assert abs(cosine) < 0.05, f"the two kept features should be orthogonal, cos = {cosine:.3f}"


def test_80_percent_sparse_two_antipodal_pairs_least_important_dropped(intro_models):
    W = intro_models[1]
    norms = tm.feature_norms(W)
    assert torch.all((norms[:4] - 1).abs() < 0.1), f"features 0-3 should be embedded, got {norms}"
    assert norms[4] < 0.1, f"the least important feature should be dropped, got {norms}"
    unit = W[:, :4] / norms[:4]
    cosines = unit.T @ unit
    partner = cosines.argmin(1)
    assert torch.all(cosines.min(1).values < -0.99), f"each kept feature needs an antipodal partner:\n{cosines}"
    assert torch.equal(partner[partner], torch.arange(4)), "antipodal partners must pair up"
    assert tm.feature_dimensionality(W)[:4] == pytest.approx([0.5] * 4, abs=0.02)


def test_90_percent_sparse_all_five_as_a_pentagon(intro_models):
    W = intro_models[2]
    norms = tm.feature_norms(W)
    assert torch.all(norms > 0.9), f"all five features should be embedded, got {norms}"
    gaps = torch.diff(torch.sort(angles_degrees(W)).values, append=torch.sort(angles_degrees(W)).values[:1] + 360)
    assert gaps == pytest.approx([72.0] * 5, abs=6), f"a pentagon has 72° between neighbours, got {gaps}"
    # Positive interference: neighbours at 72° have positive dot products, so superposition > 0.
    assert torch.all(tm.superposition(W) > 0.5)
    assert tm.feature_dimensionality(W) == pytest.approx([0.4] * 5, abs=0.03)
