import pytest
import torch

import toymodels as tm
from toymodels import ModelConfig, ToyModel
from toymodels.data import Uniforms


def model_with(W, kind="linear"):
    W = torch.as_tensor(W, dtype=torch.float32)
    model = ToyModel(ModelConfig(W.shape[-1], W.shape[-2], kind=kind), n_instances=1)
    with torch.no_grad():
        model.W.copy_(W.unsqueeze(0))
        model.b.zero_()
    return model


def data(n, p=0.3, batch=4096, seed=0):
    x = tm.sample_features(torch.full((1, n), p), batch, uniforms=Uniforms(seed))
    return x, x


def test_attack_on_orthogonal_features_matches_closed_form():
    # W keeps features 0 and 1 in their own dimensions. The attack along (WᵀW)_i = e_i shifts output i by λ,
    # so the loss (mean over n features) rises by exactly I_i λ² / n: the most important kept feature is hit.
    n = 4
    model = model_with([[1, 0, 0, 0], [0, 1, 0, 0]])
    importance = torch.tensor([[0.5, 0.9, 1.0, 1.0]])
    x, target = data(n)
    attack = tm.adversarial.analytic_attack(model, x, target, importance, fraction=0.1)
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
    ratio = tm.adversarial.relative_vulnerability(
        model_with(pentagon, "relu_output"), model_with(orthogonal, "relu_output"), x, target, importance
    )
    assert ratio.item() > 1.5, f"a pentagon should be more vulnerable than orthogonal features, got {ratio.item():.2f}"


def test_the_model_without_superposition_dedicates_the_most_important_features_and_takes_lambda_squared():
    # Oracle: W_i = e_i for the m most important features, bias p/2 for the others. Only a kept feature's attack
    # direction is non-zero (e_i), and it raises that output by λ: the damage is max_kept I_i · λ² / n.
    exp = tm.Experiment(tm.ModelConfig(6, 2), feature_probability=[0.5, 0.1], importance=[0.2, 1, 0.9, 0.1, 0.5, 0.3])
    model = tm.adversarial.no_superposition_model(exp)
    W, b = model.W.detach(), model.b.detach()
    assert torch.equal(W[:, :, [1, 2]], torch.eye(2).expand(2, 2, 2))
    assert W[:, :, [0, 3, 4, 5]].abs().sum() == 0
    torch.testing.assert_close(b[:, 0], torch.tensor([0.25, 0.05]))
    assert b[:, [1, 2]].abs().sum() == 0
    x, target = tm.adversarial.evaluation_batch(exp)
    attack = tm.adversarial.analytic_attack(model, x, target, exp.importance_tensor(per="setting"), fraction=0.2)
    lam = 0.2 * x.norm(dim=-1).mean(-1)
    assert attack.feature.tolist() == [1, 1]
    torch.testing.assert_close(attack.damage, 1.0 * lam**2 / 6, rtol=1e-3, atol=1e-7)


def test_pgd_finds_the_best_attack_where_gradients_inform_and_nothing_where_they_vanish():
    # A linear model with one dedicated feature and output bias −c on it: output 0 is x_0 − c + δ_0, so an attack
    # δ raises the loss by I_0 (δ_0² − 2 c δ_0) / n, whatever the input. The best δ of norm λ is −λ e_0, damage
    # I_0 (λ² + 2cλ) / n, for one δ shared by the batch and for one per input alike. The analytic attack pushes
    # the other way (+λ e_0) and gets only I_0 (λ² − 2cλ) / n.
    n, c = 4, 0.1
    model = model_with([[1, 0, 0, 0]])
    with torch.no_grad():
        model.b[0, 0] = -c
    importance = torch.tensor([[0.9, 0.5, 1.0, 1.0]])
    x = tm.sample_features(torch.full((1, n), 0.3), 4096, uniforms=Uniforms(0))
    lam = (0.1 * x.norm(dim=-1).mean()).item()
    best = 0.9 * (lam**2 + 2 * c * lam) / n
    pgd = tm.adversarial.gradient_attack(model, x, x, importance, fraction=0.1, steps=20)
    assert pgd.damage.item() == pytest.approx(best, rel=1e-3)
    assert pgd.delta.norm().item() == pytest.approx(lam, rel=1e-5), "PGD must stay within the attack's norm"
    per_input = tm.adversarial.gradient_attack(model, x, x, importance, fraction=0.1, steps=20, per_input=True)
    assert per_input.delta.shape == x.shape
    assert per_input.delta.norm(dim=-1).max().item() <= lam * (1 + 1e-5)
    assert per_input.damage.item() == pytest.approx(best, rel=1e-3)
    analytic = tm.adversarial.analytic_attack(model, x, x, importance, fraction=0.1)
    assert analytic.damage.item() < pgd.damage.item()
    # With a perfect fit (c = 0) the loss is at a minimum in δ: the gradient is zero and so are FGSM and PGD,
    # while the analytic attack still does I λ² / n. This is why the paper attacks analytically.
    with torch.no_grad():
        model.b.zero_()
    for steps in (1, 20):
        for per_input in (False, True):
            attack = tm.adversarial.gradient_attack(model, x, x, importance, steps=steps, per_input=per_input)
            assert attack.damage.item() == 0.0
    assert tm.adversarial.analytic_attack(model, x, x, importance).damage.item() > 0


def test_inactive_outputs_counts_the_output_relus_that_are_off():
    model = model_with([[1.0, 0, 0], [0, 1.0, 0]], "relu_output")
    x = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]])
    # pre-activations: [1, 0, 0] and [0, 0, 0]: one of six is > 0
    assert tm.adversarial.inactive_outputs(model, x).item() == pytest.approx(5 / 6)


def test_attacked_inputs_move_each_input_along_its_features_interference_row():
    W = torch.randn(2, 3, 7, generator=torch.Generator().manual_seed(0))
    x = tm.sample_features(torch.full((2, 7), 0.4), 64, uniforms=Uniforms(1))
    features = torch.randint(7, (2, 64), generator=torch.Generator().manual_seed(2))
    fraction = torch.tensor([0.0, 0.5])
    moved = tm.models.attacked_inputs(W, x, features, fraction)
    assert torch.equal(moved[0], x[0]), "attack size 0 leaves the inputs alone"
    delta = moved[1] - x[1]
    lam = 0.5 * x[1].norm(dim=-1).mean()
    torch.testing.assert_close(delta.norm(dim=-1), lam.expand(64), rtol=1e-5, atol=1e-6)
    gram = W[1].T @ W[1]
    expected = gram[features[1]] / gram[features[1]].norm(dim=-1, keepdim=True)
    torch.testing.assert_close(delta / lam, expected, rtol=1e-4, atol=1e-5)


def test_attack_fraction_is_per_setting_validated_and_leaves_stored_keys_alone():
    base = tm.Experiment(tm.ModelConfig(5, 2), feature_probability=0.1)
    attacked = base.replace(attack_fraction=[0.0, 0.5, 1.0])
    assert attacked.n_settings == 3 and attacked.setting_labels == ("attack 0", "attack 0.5", "attack 1")
    assert tm.Experiment.from_dict(attacked.to_dict()) == attacked
    assert tm.store.store_key(base) == tm.store.store_key(base.replace(attack_fraction=0.0))
    assert tm.store.store_key(base) != tm.store.store_key(base.replace(attack_fraction=0.5))
    old_entry = base.to_dict()
    del old_entry["attack_fraction"]  # written before the field existed
    assert tm.Experiment.from_dict(old_entry) == base
    with pytest.raises(tm.ConfigError, match="attack_fraction must be finite and >= 0"):
        base.replace(attack_fraction=-0.1)
    with pytest.raises(tm.ConfigError, match="attack_fraction"):
        tm.Experiment(tm.ModelConfig(5, 2), feature_probability=[0.1, 0.2], attack_fraction=[0.1, 0.2, 0.3])


def test_adversarial_training_reduces_superposition():
    # The paper: training under attack reduces superposition (it needed attacks of ~80 % of the input norm to
    # remove it). A small seeded run: n=20, m=5 at 1−S = 0.05, without attack and under an attack of 100 %.
    exp = tm.Experiment(
        tm.ModelConfig(20, 5),
        feature_probability=0.05,
        attack_fraction=[0.0, 1.0],
        train=tm.TrainConfig(steps=3000, progress=False),
    )
    training = tm.adversarial.adversarial_training(tm.train(exp))
    plain, defended = training.features_per_dimension
    assert plain > 1.5, f"without attack the model should be in superposition, got {plain:.2f} features/dim"
    assert defended < 0.75 * plain, f"training under attack should reduce it: {plain:.2f} → {defended:.2f}"
    assert training.vulnerability[1] < training.vulnerability[0]
    # The anatomy of the damage: the shares of all outputs add up to the damage itself.
    model = tm.train(exp).best().double()
    x, target = (t.double() for t in tm.adversarial.analysis.evaluation_batch(exp))
    attack = tm.adversarial.analytic_attack(model, x, target, exp.importance_tensor(per="setting").double(), 0.1)
    with torch.no_grad():
        change = (model(x + attack.delta[:, None, :]) - target) ** 2 - (model(x) - target) ** 2
    per_output = change.mean(1) / exp.model.n_features
    assert per_output.sum(1).numpy() == pytest.approx(attack.damage.numpy(), rel=1e-9)
    own = per_output[torch.arange(2), attack.feature] / attack.damage
    assert training.own_share == pytest.approx(own.numpy(), rel=1e-6)
    assert training.top_other_share.shape == training.attacked_norm.shape == (2,)
    assert len(tm.adversarial.attack_anatomy_table(training).rows) == 2


def test_vulnerability_rises_with_superposition_on_a_small_sweep():
    exp = tm.Experiment(
        tm.ModelConfig(20, 5), feature_probability=[1.0, 0.1, 0.02], train=tm.TrainConfig(steps=3000, progress=False)
    )
    v = tm.adversarial.vulnerability(tm.train(exp), pgd_steps=5)
    assert v.features_per_dimension[0] < 1.1 < v.features_per_dimension[-1]
    assert v.vulnerability[-1] > 1.5 * v.vulnerability[0], f"vulnerability across the sweep: {v.vulnerability}"
    assert v.inactive[-1] > 0.9, "at high sparsity nearly every output ReLU is off"


def test_per_input_analytic_attack_picks_each_inputs_worst_feature_and_beats_the_shared_one():
    angles = torch.arange(5) * 2 * torch.pi / 5
    model = model_with(torch.stack([angles.cos(), angles.sin()]), "relu_output")
    with torch.no_grad():
        model.b.fill_(-0.2)
    x, target = data(5, p=0.1, batch=512)
    importance = torch.ones(1, 5)
    shared = tm.adversarial.analytic_attack(model, x, target, importance)
    each = tm.adversarial.analytic_attack(model, x, target, importance, per_input=True)
    assert each.delta.shape == x.shape and each.feature.shape == (1, 512)
    assert each.damage.item() >= shared.damage.item()
    # each input is hit by the feature whose δ_i hurts it most: check one input against all n attacks by hand
    b = int(x[0].sum(-1).argmax())
    lam = 0.1 * x.norm(dim=-1).mean()
    gram = model.W[0].detach().T @ model.W[0].detach()
    by_feature = [
        (model(x[:, b : b + 1] + lam * gram[i] / gram[i].norm()) - target[:, b : b + 1]).square().mean().item()
        for i in range(5)
    ]
    assert each.feature[0, b].item() == max(range(5), key=by_feature.__getitem__)


def test_zero_gradient_inputs_are_those_with_every_output_off_or_exact():
    model = model_with([[1.0, 0, 0], [0, 1.0, 0]], "relu_output")
    with torch.no_grad():
        model.b.fill_(-0.5)
    # input 0 is zero: every output is off and exact → zero gradient; input 1 has feature 0 at 0.9: output 0 is
    # on (0.4) and wrong → a gradient
    x = torch.tensor([[[0.0, 0.0, 0.0], [0.9, 0.0, 0.0]]])
    share = tm.adversarial.zero_gradient_inputs(model, x, x, torch.ones(1, 3))
    assert share.item() == pytest.approx(0.5)


@pytest.mark.parametrize("kind", ["relu_output", "linear"])
def test_the_attack_shortcut_is_the_attacked_forward_pass(kind):
    """With a linear hidden layer, x + δ_i shifts the output's preactivation by D W δ_i: the losses computed that
    way are those of the model run on the attacked inputs."""
    from toymodels.adversarial.analysis import _attacked_losses, _per_input_loss

    model = tm.ToyModel(tm.ModelConfig(7, 3, kind=kind), 2, generator=torch.Generator().manual_seed(0)).double()
    x = tm.sample_features(torch.full((2, 7), 0.4), 64, uniforms=Uniforms(1)).double()
    importance = torch.rand(2, 7, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    deltas = 0.1 * torch.randn(2, 7, 7, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    direct = torch.stack(
        [_per_input_loss(model, x + deltas[:, i].unsqueeze(1), x, importance) for i in range(7)], dim=-1
    )
    torch.testing.assert_close(_attacked_losses(model, x, x, importance, deltas), direct, rtol=1e-12, atol=1e-15)
