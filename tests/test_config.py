import numpy as np
import pytest
import torch

import toymodels as tm
from toymodels import ConfigError, DataConfig, Experiment, ModelConfig, TrainConfig


@pytest.mark.parametrize(
    "build, parameter",
    [
        (lambda: ModelConfig(0, 2), "n_features"),
        (lambda: ModelConfig(5, -1), "n_hidden"),
        (lambda: ModelConfig(5, 2, kind="sigmoid"), "kind"),
        (lambda: ModelConfig(5, 2, l1_penalty=-1.0), "l1_penalty"),
        (lambda: TrainConfig(steps=0), "steps"),
        (lambda: TrainConfig(batch_size=0), "batch_size"),
        (lambda: TrainConfig(lr=0.0), "lr"),
        (lambda: TrainConfig(lr=float("nan")), "lr"),
        (lambda: TrainConfig(weight_decay=float("nan")), "weight_decay"),
        (lambda: TrainConfig(lr_schedule="step"), "lr_schedule"),
        (lambda: TrainConfig(device="gpu9"), "device"),
        (lambda: DataConfig(correlation="weird"), "correlation"),
        (lambda: DataConfig(set_size=3), "set_size"),
        (lambda: Experiment(ModelConfig(5, 2), feature_probability=0.0), "feature_probability"),
        (lambda: Experiment(ModelConfig(5, 2), feature_probability=1.5), "feature_probability"),
        (lambda: Experiment(ModelConfig(5, 2), feature_probability=[0.5, -0.1]), "feature_probability"),
        (lambda: Experiment(ModelConfig(5, 2), importance=[1, 1, 1, -1, 1]), "importance"),
        (lambda: Experiment(ModelConfig(5, 2), importance=[1, 1]), "importance"),
        (lambda: Experiment(ModelConfig(5, 2), feature_probability=[0.1, 0.2], importance=[[1] * 5] * 3), "settings"),
        (lambda: Experiment(ModelConfig(5, 2), n_seeds=0), "n_seeds"),
        (lambda: Experiment(ModelConfig(5, 2), data=DataConfig("correlated", 2)), "set_size"),
        (lambda: Experiment(ModelConfig(4, 2), data=DataConfig(target="abs")), "signed"),
        (
            lambda: Experiment(
                ModelConfig(4, 2), feature_probability=0.6, data=DataConfig("anticorrelated", 2, "arena")
            ),
            "set_size",
        ),
        (lambda: Experiment(ModelConfig(4, 2), setting_labels=("a", "b")), "setting_labels"),
        (lambda: tm.preset("no-such-preset"), "preset"),
        (lambda: tm.importance_decay(5, -0.9), "base"),
        (lambda: Experiment(ModelConfig(4, 2)).replace(colour="red"), "colour"),
    ],
)
def test_bad_input_names_the_parameter(build, parameter):
    with pytest.raises(ConfigError, match=parameter):
        build()


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


def test_broadcasting_of_probability_and_importance():
    exp = Experiment(ModelConfig(3, 2), feature_probability=[1.0, 0.1], importance=[1.0, 0.9, 0.81], n_seeds=2)
    assert exp.n_settings == 2 and exp.n_instances == 4
    p = exp.probability_tensor()
    assert p.shape == (4, 3)
    # Seeds of one setting are adjacent: instance = setting * n_seeds + seed.
    assert torch.equal(p[:, 0], torch.tensor([1.0, 1.0, 0.1, 0.1]))
    assert torch.allclose(exp.importance_tensor(per="setting"), torch.tensor([[1.0, 0.9, 0.81]] * 2))
    assert exp.setting_labels == ("1−S = 1", "1−S = 0.1")


def test_density_per_setting_is_the_first_features_density_of_each_setting():
    exp = Experiment(ModelConfig(3, 2), feature_probability=[[0.5, 0.2, 0.2], [0.1, 0.3, 0.3]], n_seeds=3)
    assert torch.equal(exp.density_per_setting(), torch.tensor([0.5, 0.1]))
    sweep = Experiment(ModelConfig(4, 2), feature_probability=tm.log_densities(1.0, 0.01, 5))
    assert torch.equal(sweep.density_per_setting(), torch.tensor(tm.log_densities(1.0, 0.01, 5), dtype=torch.float32))


def test_replace_routes_fields_and_rederives_labels():
    exp = tm.preset("intro", fast=True)
    changed = exp.replace(steps=7, n_hidden=3, feature_probability=[0.5, 0.25], signed=True)
    assert changed.train.steps == 7 and changed.model.n_hidden == 3 and changed.data.signed
    assert changed.n_settings == 2 and changed.setting_labels == ("1−S = 0.5", "1−S = 0.25")
    assert exp.train.steps != 7  # frozen: the original is untouched


def test_every_preset_builds_in_both_modes_and_fast_is_smaller():
    for name in tm.PRESETS:
        full, fast = tm.preset(name), tm.preset(name, fast=True)
        assert fast.model == full.model, f"{name}: the fast mode must keep the paper's model"
        assert fast.train.steps * fast.n_instances <= full.train.steps * full.n_instances, name


def test_paper_parameters_of_key_presets():
    intro = tm.preset("intro")
    assert (intro.model.n_features, intro.model.n_hidden) == (5, 2)
    assert intro.importance[0] == pytest.approx(tuple(0.9**i for i in range(5)))
    privileged = tm.preset("privileged_basis")
    assert privileged.model.kind == "relu_hidden" and privileged.n_seeds == 1000
    assert privileged.importance[0] == pytest.approx(tuple(0.75**i for i in range(10)))
    phase = tm.preset("phase_change_2")
    assert phase.n_seeds == 10 and phase.n_settings >= 144
    assert min(r[-1] for r in phase.importance) == pytest.approx(0.1)
    assert max(r[-1] for r in phase.importance) == pytest.approx(10)


def test_as_float64_converts_tensors_and_sequences_and_names_bad_input():
    from toymodels.validation import as_float64

    assert as_float64("W", torch.ones(2, 3, dtype=torch.float32)).dtype == np.float64
    np.testing.assert_array_equal(as_float64("D", [[1, 2]]), [[1.0, 2.0]])
    with pytest.raises(ConfigError, match="D_star must be numbers"):
        as_float64("D_star", ["a", "b"])


def test_every_field_of_the_public_classes_is_documented_in_help():
    """help(tm.TrainConfig) and the like show what each field means (comments beside a field do not)."""
    import dataclasses

    for cls in (tm.ModelConfig, tm.DataConfig, tm.TrainConfig, tm.Experiment, tm.TrainResult, tm.History):
        doc = cls.__doc__
        for field in dataclasses.fields(cls):
            assert f"    {field.name}: " in doc, f"{cls.__name__}.{field.name} is not documented in its docstring"
