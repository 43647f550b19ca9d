"""Chapter 10's core option, the output nonlinearity (``ModelConfig.activation``), and its section's analysis."""

import numpy as np
import pytest
import torch

import toymodels as tm
from toymodels import DataConfig, ModelConfig, ToyModel, Uniforms, loss_and_grads, sample_features, target_of
from toymodels.config import ACTIVATIONS
from toymodels.models import activation_and_slope

ELEMENTWISE = [a for a in ACTIVATIONS if a != "softmax"]


def batch_for(model, target="identity", p=0.3, batch=64, seed=1):
    probability = torch.full((model.n_instances, model.config.n_features), p)
    signed = model.config.kind == "untied_relu_hidden" and target != "argmax"
    data = DataConfig(signed=signed, target="abs" if signed else target)
    x = sample_features(probability, batch, data, Uniforms(seed))
    return x.double(), target_of(x, data).double()


@pytest.mark.parametrize("activation", ELEMENTWISE)
def test_each_slope_is_the_derivative_autograd_finds(activation):
    z = torch.linspace(-25, 25, 2001, dtype=torch.float64, requires_grad=True)
    out, slope = activation_and_slope(z.detach(), activation)
    expected = tm.models.activate(z, activation)
    expected.sum().backward()
    torch.testing.assert_close(out, expected.detach(), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(slope, z.grad, rtol=1e-10, atol=1e-12, msg=lambda m: f"{activation}'(z): {m}")


@pytest.mark.parametrize("kind", ["relu_output", "relu_hidden", "untied_relu_hidden"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("n_features", [7, 16])  # 2n ≤ 5m takes the Gram-matrix shortcut, 2n > 5m the thin products
def test_hand_derived_gradients_match_autograd_for_every_nonlinearity(kind, activation, n_features):
    config = ModelConfig(n_features=n_features, n_hidden=3, kind=kind, activation=activation)
    model = ToyModel(config, n_instances=4, generator=torch.Generator().manual_seed(0)).double()
    with torch.no_grad():
        model.b.normal_(0, 0.3, generator=torch.Generator().manual_seed(2))
    x, target = batch_for(model, target="argmax" if activation == "softmax" else "identity")
    importance = torch.rand(4, n_features, generator=torch.Generator().manual_seed(3), dtype=torch.float64)

    model.zero_grad()
    autograd_loss = model.loss(x, target, importance)
    autograd_loss.sum().backward()
    loss, grads = loss_and_grads(model, x, target, importance)
    torch.testing.assert_close(loss, autograd_loss.detach(), rtol=1e-10, atol=1e-12)
    halves = [
        loss_and_grads(model, x[:, part], target[:, part], importance, total_batch=x.shape[1])
        for part in (slice(0, 40), slice(40, None))
    ]
    torch.testing.assert_close(halves[0][0] + halves[1][0], loss)
    for name, grad in grads.items():
        torch.testing.assert_close(halves[0][1][name] + halves[1][1][name], grad)
        torch.testing.assert_close(
            grad,
            getattr(model, name).grad,
            rtol=1e-9,
            atol=1e-12,
            msg=lambda m, name=name: f"∂L/∂{name} with activation {activation}: {m} (a wrong act' or CE term?)",
        )


def test_softmax_cross_entropy_by_hand():
    # One instance, W = I (m = n = 2), b = 0: the logits are x; a sample with feature 0 active at 1 has target
    # [1, 0] and costs −log(e¹ / (e¹ + e⁰)); an empty sample costs nothing.
    config = ModelConfig(2, 2, activation="softmax")
    model = ToyModel.from_arrays(config, torch.eye(2)[None], torch.zeros(1, 2)).double()
    x = torch.tensor([[[1.0, 0.0], [0.0, 0.0]]], dtype=torch.float64)
    target = target_of(x, DataConfig(target="argmax"))
    assert target.tolist() == [[[1.0, 0.0], [0.0, 0.0]]]
    expected = -np.log(np.e / (np.e + 1)) / 2
    loss, _ = loss_and_grads(model, x, target, torch.ones(1, 2, dtype=torch.float64))
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    assert model.loss(x, target, torch.ones(1, 2, dtype=torch.float64)).item() == pytest.approx(expected, rel=1e-12)


def test_argmax_target_is_the_largest_active_feature():
    x = torch.tensor([[[0.2, 0.7, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.4]]])
    assert target_of(x, DataConfig(target="argmax")).tolist() == [[[0, 1, 0], [0, 0, 0], [0, 0, 1]]]


def test_activation_is_validated_and_names_the_known_ones():
    with pytest.raises(tm.ConfigError, match="activation must be one of 'relu', 'gelu'.*'softmax'"):
        ModelConfig(5, 2, activation="swish")
    with pytest.raises(tm.ConfigError, match="kind='linear' has none"):
        ModelConfig(5, 2, kind="linear", activation="gelu")
    with pytest.raises(tm.ConfigError, match="go together"):
        tm.Experiment(ModelConfig(5, 2, activation="softmax"))
    with pytest.raises(tm.ConfigError, match="go together"):
        tm.Experiment(ModelConfig(5, 2), data=DataConfig(target="argmax"))


def test_default_activation_keeps_the_store_keys_and_other_activations_change_them():
    base = tm.preset("basic_relu")
    assert tm.store.store_key(base) == tm.store.store_key(base.replace(activation="relu"))
    assert "activation" not in tm.store._key_fields(base)["model"]
    assert tm.store.store_key(base) != tm.store.store_key(base.replace(activation="gelu"))
    round_trip = tm.Experiment.from_dict(base.replace(activation="tanh").to_dict())
    assert round_trip.model.activation == "tanh"


def test_none_output_is_the_linear_model_bit_for_bit():
    linear = tm.preset("basic_linear", fast=True).replace(steps=50, progress=False)
    none = linear.replace(kind="relu_output", activation="none")
    a, b = tm.train(linear, workers=1), tm.train(none, workers=1)
    assert torch.equal(a.model.W, b.model.W) and torch.equal(a.losses, b.losses)
