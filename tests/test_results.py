"""A result built by hand (toymodels.results.result_of) reads as a trained one: setting-major instances, the best
fit of each setting by its loss, float32 weights."""

import numpy as np
import pytest
import torch

import toymodels as tm
from toymodels.results import result_of


def test_a_hand_built_result_picks_each_settings_lowest_loss():
    exp = tm.Experiment(tm.ModelConfig(3, 2), feature_probability=(1.0, 0.1), n_seeds=2)
    W = np.arange(4 * 2 * 3, dtype=float).reshape(4, 2, 3)
    result = result_of(exp, W, losses=[0.5, 0.2, 0.1, 0.3])
    assert result.model.W.dtype == torch.float32 and result.fits_per_setting == 2
    assert result.best_index.tolist() == [1, 2]
    np.testing.assert_array_equal(result.best().W.detach().numpy(), W[[1, 2]])
    assert torch.equal(result.model.b, torch.zeros(4, 3))


def test_an_untied_result_holds_its_output_weights():
    exp = tm.Experiment(tm.ModelConfig(2, 4, kind="untied_relu_hidden"), data=tm.DataConfig(signed=True, target="abs"))
    W, W_out = np.ones((1, 4, 2)), np.full((1, 2, 4), 0.5)
    assert torch.equal(result_of(exp, W, W_out=W_out).model.W_out, torch.full((1, 2, 4), 0.5))


@pytest.mark.parametrize(
    "W, losses, match",
    [
        (np.ones((3, 2, 3)), None, "a multiple of the experiment's 2 settings"),
        (np.ones((2, 3)), None, r"W must have shape \(n_instances, n_hidden, n_features\)"),
        (np.ones((2, 2, 3)), [0.1], "one loss per instance"),
    ],
)
def test_wrong_weights_or_losses_name_what_they_must_be(W, losses, match):
    exp = tm.Experiment(tm.ModelConfig(3, 2), feature_probability=(1.0, 0.1))
    with pytest.raises(tm.ConfigError, match=match):
        result_of(exp, W, losses=losses)
