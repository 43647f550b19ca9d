import pytest
import torch

from toymodels import (
    ConfigError,
    DataConfig,
    ModelConfig,
    ToyModel,
    loss_and_grads,
    sample_features,
    target_of,
)
from toymodels.data import Uniforms, loss_weights

KINDS = ["linear", "relu_output", "relu_hidden", "untied_relu_hidden", "untied_relu_output"]


def batch_for(model, p=0.3, signed=False, batch=64, seed=1):
    probability = torch.full((model.n_instances, model.config.n_features), p)
    data = DataConfig(signed=signed, target="abs" if signed else "identity")
    x = sample_features(probability, batch, data, Uniforms(seed))
    return x.double(), target_of(x, data).double()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("l1_penalty", [0.0, 0.05])
@pytest.mark.parametrize("n_features", [8, 16])  # 2n ≤ 5m takes the Gram-matrix shortcut, 2n > 5m the thin products
@pytest.mark.parametrize("hidden_bias", [False, True])
@pytest.mark.parametrize("importance_when", ["always", "alone"])  # "alone": per-sample weights
def test_hand_derived_gradients_match_autograd(kind, l1_penalty, n_features, hidden_bias, importance_when):
    config = ModelConfig(n_features=n_features, n_hidden=3, kind=kind, l1_penalty=l1_penalty, hidden_bias=hidden_bias)
    model = ToyModel(config, n_instances=4, generator=torch.Generator().manual_seed(0)).double()
    with torch.no_grad():
        model.b.normal_(0, 0.3, generator=torch.Generator().manual_seed(2))  # exercise both ReLU sides
        if hidden_bias:
            model.c.normal_(0, 0.3, generator=torch.Generator().manual_seed(4))
    x, target = batch_for(model, signed=kind == "untied_relu_hidden")
    importance = torch.rand(4, n_features, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    if importance_when == "alone":
        importance = loss_weights(x, importance, DataConfig(importance_when="alone", set_size=2))
        assert importance.shape == x.shape and 0 < (importance == 0).double().mean() < 1

    model.zero_grad()
    autograd_loss = model.loss(x, target, importance)
    autograd_loss.sum().backward()
    loss, grads = loss_and_grads(model, x, target, importance)

    torch.testing.assert_close(loss, autograd_loss.detach(), rtol=1e-10, atol=1e-12)
    # The same batch in two chunks: the contributions add up to the whole batch's loss and gradients.
    halves = [
        loss_and_grads(
            model,
            x[:, part],
            target[:, part],
            importance[:, part] if importance.ndim == 3 else importance,
            total_batch=x.shape[1],
        )
        for part in (slice(0, 40), slice(40, None))
    ]
    torch.testing.assert_close(halves[0][0] + halves[1][0], loss)
    for name in grads:
        torch.testing.assert_close(halves[0][1][name] + halves[1][1][name], grads[name])
    expected_names = (
        {"W", "b"} | ({"W_out"} if kind.startswith("untied") else set()) | ({"c"} if hidden_bias else set())
    )
    assert set(grads) == expected_names
    for name, grad in grads.items():
        torch.testing.assert_close(
            grad,
            getattr(model, name).grad,
            rtol=1e-9,
            atol=1e-12,
            msg=lambda m, name=name: f"∂L/∂{name} for {kind}: {m} (a missing tied-decoder term or ReLU mask?)",
        )


@pytest.mark.parametrize("kind", KINDS)
def test_forward_shapes_and_architecture(kind):
    config = ModelConfig(n_features=5, n_hidden=2, kind=kind)
    model = ToyModel(config, n_instances=3)
    assert model.W.shape == (3, 2, 5) and model.b.shape == (3, 5)
    assert (model.W_out is None) == (not kind.startswith("untied"))
    x = torch.rand(3, 8, 5)
    out = model(x)
    assert out.shape == (3, 8, 5)
    if kind == "linear":
        # x' = WᵀW x + b, written out for instance 1 and sample 0.
        W = model.W[1]
        torch.testing.assert_close(out[1, 0], W.T @ W @ x[1, 0] + model.b[1])
    else:
        assert out.min() >= 0


def test_models_reject_wrong_input_shapes():
    model = ToyModel(ModelConfig(5, 2), n_instances=3)
    with pytest.raises(ConfigError, match="x must have shape"):
        model(torch.rand(2, 8, 5))
    with pytest.raises(ConfigError, match="x must have shape"):
        model(torch.rand(3, 8, 4))
    with pytest.raises(ConfigError, match="n_instances"):
        ToyModel(ModelConfig(5, 2), n_instances=0)


def test_init_scales():
    n, m, instances = 400, 30, 50
    xavier = ToyModel(ModelConfig(n, m), instances, generator=torch.Generator().manual_seed(0))
    notebook = ToyModel(ModelConfig(n, m, init="notebook"), instances, generator=torch.Generator().manual_seed(0))
    assert xavier.W.std().item() == pytest.approx((2 / (n + m)) ** 0.5, rel=0.02)
    # The notebook's Xavier on a 3-D tensor: its scale depends on the number of instances.
    assert notebook.W.std().item() == pytest.approx((2 / (m * (n + instances))) ** 0.5, rel=0.02)
    small = ToyModel(ModelConfig(n, m, init="small"), instances, generator=torch.Generator().manual_seed(0))
    assert small.W.std().item() == pytest.approx(0.1 * (2 / (n + m)) ** 0.5, rel=0.02)


def test_select_copies_the_chosen_instances():
    model = ToyModel(ModelConfig(4, 2, kind="untied_relu_hidden", hidden_bias=True), n_instances=5)
    chosen = model.select([3, 0])
    for name, value in chosen.weights().items():
        assert torch.equal(value, model.weights()[name][[3, 0]]), name
    with torch.no_grad():
        chosen.W.zero_()
    assert model.W.abs().sum() > 0, "select must copy, not alias"


def test_hidden_bias_is_a_bias_of_the_hidden_layer():
    model = ToyModel(ModelConfig(5, 2, hidden_bias=True), n_instances=3)
    assert list(model.weights()) == ["W", "c", "b"] and model.c.shape == (3, 2) and not model.c.any()
    with torch.no_grad():
        model.c.fill_(0.5)
    x = torch.rand(3, 4, 5)
    torch.testing.assert_close(model.hidden(x), torch.bmm(x, model.W.transpose(1, 2)) + 0.5)
    # Without a hidden nonlinearity it is an output bias in disguise: Wᵀ(W x + c) + b = WᵀW x + (Wᵀc + b).
    plain = ToyModel.from_arrays(ModelConfig(5, 2), model.W, model.b + torch.einsum("khi,kh->ki", model.W, model.c))
    torch.testing.assert_close(model(x), plain(x))


def test_decoder_init_transpose_starts_untied_models_at_the_tied_one():
    generator = lambda: torch.Generator().manual_seed(7)  # noqa: E731
    tied = ToyModel(ModelConfig(6, 2), 3, generator=generator())
    untied = ToyModel(ModelConfig(6, 2, kind="untied_relu_output", decoder_init="transpose"), 3, generator=generator())
    assert torch.equal(untied.W, tied.W) and torch.equal(untied.W_out, tied.W.transpose(1, 2))
    assert untied.W_out.is_contiguous(), "the fused optimiser needs W_out laid out as its gradient"
    x = torch.rand(3, 4, 6)
    torch.testing.assert_close(untied(x), tied(x))
    with pytest.raises(ConfigError, match="decoder_init applies to the untied kinds"):
        ModelConfig(6, 2, decoder_init="transpose")


def test_conditional_importance_weighs_a_feature_only_when_its_set_mates_are_silent():
    data = DataConfig(importance_when="alone", set_size=2)
    x = torch.tensor([[[1.0, 0.0, 0.5, 0.2], [0.3, 0.4, 0.0, 0.0], [0.0, 0.0, 0.0, 0.7]]])  # (1 instance, 3, 4)
    importance = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    expected = torch.tensor([[[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 3.0, 4.0], [1.0, 2.0, 0.0, 4.0]]])
    torch.testing.assert_close(loss_weights(x.transpose(1, 2).contiguous().transpose(1, 2), importance, data), expected)
    assert loss_weights(x, importance, DataConfig()) is importance
    with pytest.raises(ConfigError, match="importance_when='alone' needs independent features"):
        DataConfig(importance_when="alone", correlation="anticorrelated", set_size=2)
    with pytest.raises(ConfigError, match="set_size >= 2"):
        DataConfig(importance_when="alone")
