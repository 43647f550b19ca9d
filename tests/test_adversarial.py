import pytest
import torch

import toymodels as tm
from toymodels import ModelConfig, ToyModel


def model_with(W, kind="linear"):
    W = torch.as_tensor(W, dtype=torch.float32)
    model = ToyModel(ModelConfig(W.shape[-1], W.shape[-2], kind=kind), n_instances=1)
    with torch.no_grad():
        model.W.copy_(W.unsqueeze(0))
        model.b.zero_()
    return model


def data(n, p=0.3, batch=4096, seed=0):
    x = tm.sample_features(torch.full((1, n), p), batch, uniforms=tm.Uniforms(seed))
    return x, x


def test_attack_on_orthogonal_features_matches_closed_form():
    # W keeps features 0 and 1 in their own dimensions. The attack along (WᵀW)_i = e_i shifts output i by λ,
    # so the loss (mean over n features) rises by exactly I_i λ² / n: the most important kept feature is hit.
    n = 4
    model = model_with([[1, 0, 0, 0], [0, 1, 0, 0]])
    importance = torch.tensor([[0.5, 0.9, 1.0, 1.0]])
    x, target = data(n)
    attack = tm.analytic_attack(model, x, target, importance, fraction=0.1)
    lam = 0.1 * x.norm(dim=-1).mean()
    assert attack.feature.item() == 1
    assert torch.allclose(attack.delta[0], torch.tensor([0, lam, 0, 0]), atol=1e-6)
    assert attack.attacked_loss - attack.clean_loss == pytest.approx(0.9 * lam.item() ** 2 / n, rel=1e-3)


def test_superposition_makes_a_model_more_vulnerable():
    angles = torch.arange(5) * 2 * torch.pi / 5
    pentagon = torch.stack([angles.cos(), angles.sin()])
    orthogonal = torch.tensor([[1.0, 0, 0, 0, 0], [0, 1.0, 0, 0, 0]])
    x, target = data(5, p=0.05)
    importance = torch.ones(1, 5)
    ratio = tm.relative_vulnerability(
        model_with(pentagon, "relu_output"), model_with(orthogonal, "relu_output"), x, target, importance
    )
    assert ratio.item() > 1.5, f"a pentagon should be more vulnerable than orthogonal features, got {ratio.item():.2f}"
