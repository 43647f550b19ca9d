"""Chapter 10's core option, the output nonlinearity (``ModelConfig.activation``), and its section's analysis."""

import numpy as np
import pytest
import torch

import toymodels as tm
from toymodels import DataConfig, ModelConfig, ToyModel, loss_and_grads, sample_features, target_of
from toymodels.config import ACTIVATIONS
from toymodels.data import Uniforms
from toymodels.models import activation_and_slope
from toymodels.results import result_of

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
    with pytest.raises(tm.ConfigError, match="softmax.*needs target 'argmax'"):
        tm.Experiment(ModelConfig(5, 2, activation="softmax"))
    # The softmax's control: a ReLU output trained on the same one-hot target, by squared error.
    assert tm.Experiment(ModelConfig(5, 2), data=DataConfig(target="argmax")).data.target == "argmax"


def test_default_activation_keeps_the_store_keys_and_other_activations_change_them():
    base = tm.preset("basic_relu")
    assert tm.store.store_key(base) == tm.store.store_key(base.replace(activation="relu"))
    assert "activation" not in tm.store.key_fields(base)["model"]
    assert tm.store.store_key(base) != tm.store.store_key(base.replace(activation="gelu"))
    round_trip = tm.Experiment.from_dict(base.replace(activation="tanh").to_dict())
    assert round_trip.model.activation == "tanh"


def test_none_output_is_the_linear_model_bit_for_bit():
    linear = tm.preset("basic_linear", fast=True).replace(steps=50, progress=False)
    none = linear.replace(kind="relu_output", activation="none")
    a, b = tm.train(linear, workers=1), tm.train(none, workers=1)
    assert torch.equal(a.model.W, b.model.W) and torch.equal(a.losses, b.losses)


# ----------------------------------------------------------------------------------------------------
# tm.nonlinearities: the chapter's measures, on hand-made weights with known answers

from toymodels import nonlinearities as nl  # noqa: E402


def test_represented_and_superposition_are_scale_free():
    # Two orthogonal features, an antipodal pair along a third direction, and an absent feature.
    W = torch.tensor([[[1.0, 0, 0, 0, 0], [0, 1.0, 0, 0, 0], [0, 0, 1.0, -1.0, 0]]])
    for scale in (1.0, 2.25):
        assert nl.represented(W * scale).tolist() == [[True, True, True, True, False]]
        torch.testing.assert_close(nl.relative_superposition(W * scale), torch.tensor([[0, 0, 1.0, 1.0, 0]]).double())
        assert nl.in_superposition(W * scale).tolist() == [[False, False, True, True, False]]
    # A feature at a third of the largest norm is not represented.
    assert nl.represented(torch.tensor([[[1.0, 0.3]]])).tolist() == [[True, False]]
    with pytest.raises(tm.ConfigError, match="threshold"):
        nl.represented(W, threshold=1.5)


def test_decodable_names_the_feature_with_the_largest_logit():
    # A hexagon of norm 3 in the plane: every feature's own logit (9) beats its neighbours' (4.5).
    angles = torch.arange(6) * torch.pi / 3
    W = 3 * torch.stack([angles.cos(), angles.sin()])[None]
    assert nl.decodable(W, torch.zeros(1, 6)).all()
    # A bias that favours feature 0 by more than the gap makes its neighbours read as feature 0.
    b = torch.tensor([[5.0, 0, 0, 0, 0, 0]])
    assert nl.decodable(W, b).tolist() == [[True, False, True, True, True, False]]
    # A ReLU output names a feature only if its logit is also positive (else every output is 0).
    shifted = torch.full((1, 6), -10.0)
    assert nl.decodable(W, shifted).all() and not nl.decodable(W, shifted, softmax=False).any()


def test_shape_phase_names_the_four_shapes_up_to_sign_and_scale():
    W = np.array([[[1.0, 0.02]], [[0.01, -2.0]], [[-2.2, 2.1]], [[0.7, 0.72]], [[-3.0, -2.9]]])
    assert [nl.PHASES[i] for i in nl.shape_phase(W)] == [
        "extra_ignored",
        "regular_ignored",
        "antipodal",
        "confused",
        "confused",
    ]
    with pytest.raises(tm.ConfigError, match="n = 2"):
        nl.shape_phase(np.zeros((3, 2, 3)))


def _fake_result(experiment, W, losses):
    return result_of(experiment, W, losses=losses)


def test_phase_grid_follows_the_protocol_and_finds_the_onset():
    exp = tm.preset("nonlinearity_phase_relu", fast=True)  # 4 × 4 grid, 3 fits
    R, S, K = 4, 4, 3
    W = np.zeros((R, S, K, 1, 2), dtype=np.float32)
    W[..., 0, 0] = 1.0  # extra feature ignored everywhere ...
    W[:, 2:, :, 0, :] = [1.0, -1.0]  # ... antipodal in the two sparsest columns ...
    W[:, 2:, 0, 0, :] = [0.0, 1.0]  # ... but for one fit each, the worst, which the protocol discards
    losses = np.ones((R, S, K))
    losses[:, 2:, 0] = 9.0
    grid = nl.phase_grid(_fake_result(exp, torch.as_tensor(W.reshape(-1, 1, 2)), losses.ravel()))
    assert grid.phase.shape == (R, S)
    assert (grid.phase[:, :2] == nl.PHASES.index("extra_ignored")).all()
    assert (grid.phase[:, 2:] == nl.PHASES.index("antipodal")).all() and (grid.purity == 1).all()
    assert grid.superposition_onset == pytest.approx(grid.density[2])
    assert grid.superposed_share == 0.5
    # Two of five kept fits antipodal is the most common phase but no majority: not counted as superposition.
    split = nl.PhaseGrid("split", grid.relative_importance, grid.density, grid.phase, np.full((R, S), 0.4))
    assert split.superposition_onset is None and split.superposed_share == 0
    # The phase table counts majority phases and places the densest antipodal points (none here: dense is ignored).
    row = nl.phase_table([grid, split]).rows
    assert row[0][1:6] == ("8", "0", "8", "0", "0") and row[0][6] == "–" and row[1][5] == "16"
    dense = nl.PhaseGrid("dense", grid.relative_importance, grid.density, np.full((R, S), 2), np.ones((R, S)))
    assert nl.phase_table([dense]).rows[0][6].startswith("antipodal at the densest: (")


def test_task_control_table_sets_the_three_sweeps_side_by_side():
    def counts(name, represented, named=None):
        k = len(represented)
        z = np.zeros(k)
        return nl.SweepCounts(name, np.array([1.0, 0.1]), np.array(represented), np.array(represented), z, z, z,
                              None if named is None else np.array(named))  # fmt: skip

    table = nl.task_control_table(
        counts("relu", [5, 9]), counts("one-hot", [4, 10], [4, 9]), counts("sm", [5, 13], [6, 14])
    )
    assert table.rows[1] == ("0.1", "9 / 9", "10 / 10", "9", "13 / 13", "14")
    with pytest.raises(tm.ConfigError, match="one-hot"):
        nl.task_control_table(counts("relu", [5, 9]), counts("relu", [5, 9]), counts("sm", [5, 13], [6, 14]))


def test_sweep_counts_and_onset_on_hand_made_fits():
    exp = tm.preset("nonlinearity_gelu", fast=True).replace(feature_probability=(1.0, 0.1), importance=1.0)
    W = torch.zeros(2, 5, 20)
    W[0, :, :5] = torch.eye(5)  # dense: 5 orthogonal features
    W[1, :, :5] = torch.eye(5)
    W[1, 0, 5] = -1.0  # sparse: feature 5 antipodal to feature 0
    counts = nl.sweep_counts({"gelu": _fake_result(exp, W, [0.1, 0.1])})["gelu"]
    assert counts.represented.tolist() == [5, 6] and counts.superposed.tolist() == [0, 2]
    assert counts.onset == pytest.approx(0.1) and counts.most_represented == 6 and counts.decodable is None


def test_nonlinearity_shapes_and_the_conclusion_table():
    shapes = {s.name: s for s in nl.shapes()}
    assert shapes["relu"].floor == 0 and shapes["relu"].dip == 0
    assert shapes["gelu"].dip == pytest.approx(-0.16997, abs=1e-4)  # GELU's minimum, at z ≈ −0.75
    assert shapes["tanh"].floor == pytest.approx(-1.0) and shapes["sigmoid"].at_zero == 0.5
    with pytest.raises(tm.ConfigError, match="elementwise"):
        nl.nonlinearity_shape("softmax")


def test_live_widget_retrains_with_the_chosen_nonlinearity_and_redraws_in_place():
    pytest.importorskip("anywidget")
    widget = tm.nonlinearities.live_nonlinearity(tm.preset("nonlinearity_live", fast=True).replace(steps=50))
    controls, figure = widget.children
    activation, density = controls.children
    traces = figure.data
    assert "gelu output" in figure.layout.title.text
    activation.value = "softmax"  # trains by cross-entropy against the largest active feature
    assert figure.data == traces and all(a is b for a, b in zip(figure.data, traces)), "traces must update in place"
    assert "softmax output" in figure.layout.title.text and "named when alone" in figure.layout.title.text
    density.value = 1.0
    assert "1−S = 1," in figure.layout.title.text
    with pytest.raises(tm.ConfigError, match="activation must be one of relu, gelu"):
        tm.nonlinearities.widgets.fit(tm.preset("nonlinearity_live", fast=True), "swish", 0.1)
