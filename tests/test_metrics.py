import pytest
import torch

import toymodels as tm
from toymodels import theory


@pytest.mark.parametrize(
    "name, expected",
    [
        ("digon", 1 / 2),
        ("triangle", 2 / 3),
        ("pentagon", 2 / 5),
        ("tetrahedron", 3 / 4),
        ("square antiprism", 3 / 8),
    ],
)
def test_ideal_polytopes_have_their_known_dimensionality(name, expected):
    W = torch.tensor(theory.ideal_polytope(name), dtype=torch.float32)
    D = tm.feature_dimensionality(W)
    assert D == pytest.approx([expected] * W.shape[1], abs=1e-5), f"{name}: D_i should be d/k = {expected}"
    # Σ_i D_i = d: a tight frame packs its dimensions fully.
    assert D.sum().item() == pytest.approx(W.shape[0], abs=1e-4)


def test_tegum_product_splits_dimensionalities():
    W = torch.tensor(theory.tegum_product(theory.ideal_polytope("triangle"), theory.ideal_polytope("digon")))
    assert tm.feature_dimensionality(W) == pytest.approx([2 / 3] * 3 + [1 / 2] * 2, abs=1e-5)


def test_orthonormal_and_zero_columns():
    W = torch.zeros(3, 5)
    W[0, 0], W[1, 1], W[2, 3] = 1.0, -1.0, 1.0  # features 2 and 4 are not learned
    assert tm.feature_dimensionality(W).tolist() == pytest.approx([1, 1, 0, 1, 0])
    assert not torch.isnan(tm.feature_dimensionality(W)).any(), "a zero column must give 0, not NaN"
    assert tm.superposition(W).tolist() == pytest.approx([0] * 5)
    assert tm.feature_norms(W).tolist() == pytest.approx([1, 1, 0, 1, 0])
    assert tm.count_represented(W).item() == 3
    assert tm.dimensions_per_feature(W).item() == pytest.approx(1.0)  # m / ‖W‖_F² = 3 / 3


def test_superposition_of_an_antipodal_pair_and_a_scaled_partner():
    W = torch.tensor([[1.0, -0.5, 0.0], [0.0, 0.0, 1.0]])
    # Ŵ_0·W_1 = -0.5 → 0.25; Ŵ_1·W_0 = -1 → 1; feature 2 is orthogonal to both.
    assert tm.superposition(W).tolist() == pytest.approx([0.25, 1.0, 0.0])
    assert tm.superposition(W, sqrt=True).tolist() == pytest.approx([0.5, 1.0, 0.0])


def test_metrics_are_batched_over_instances():
    pentagon = torch.tensor(theory.ideal_polytope("pentagon"), dtype=torch.float32)
    W = torch.stack([pentagon, 2 * pentagon])
    D = tm.feature_dimensionality(W)
    assert D.dtype == torch.float64, "metrics compute in float64: the same digits on any CPU"
    assert D.shape == (2, 5) and torch.allclose(D, torch.full((2, 5), 0.4, dtype=torch.float64), atol=1e-5)
    assert torch.allclose(tm.dimensions_per_feature(W), torch.tensor([2 / 5, 2 / 20], dtype=torch.float64))
    with pytest.raises(tm.ConfigError, match="W must have shape"):
        tm.feature_norms(torch.zeros(5))


def test_neuron_counts_for_a_privileged_basis():
    # Neuron 0 reads feature 0 only; neuron 1 reads features 1 and 2 (a binary code); neuron 2 is dead.
    W = torch.tensor([[1.0, 0.05, 0.0], [0.0, 0.8, -0.7], [0.01, 0.0, 0.0]])
    counts = tm.neuron_counts(W)
    assert (counts["monosemantic"].item(), counts["polysemantic"].item(), counts["dead"].item()) == (1, 1, 1)
    with pytest.raises(tm.ConfigError, match="relative_threshold"):
        tm.neuron_features(W, relative_threshold=0)


def test_runs_group_neighbouring_equal_values_in_order():
    assert tm.metrics.runs([0, 0, 1, 1, 1, 0]) == [(0, 1, 0), (2, 4, 1), (5, 5, 0)]
    assert tm.metrics.runs(["a"]) == [(0, 0, "a")] and tm.metrics.runs([]) == []
