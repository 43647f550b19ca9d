"""One module checks what users pass (toymodels.validation): numbers as float64 arrays of the needed shape, else a
ConfigError naming the parameter and what it must be."""

import numpy as np
import pytest
import torch

import toymodels as tm
from toymodels.validation import as_float64, check_array


def test_numbers_of_any_kind_become_float64_arrays():
    for value in (3, [1, 2], np.arange(4, dtype=np.int32), torch.ones(2, 3, dtype=torch.float32)):
        array = as_float64("x", value)
        assert array.dtype == np.float64 and np.array_equal(array, np.asarray(value, dtype=np.float64))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: as_float64("W", "abc"), r"W must be numbers, got 'abc' \(a str\)"),
        (lambda: as_float64("W", [[1, 2], [3]]), "W must be numbers"),
        (lambda: check_array("W", np.ones(3), ndim=2), r"W must have 2 dimensions, got shape \(3,\)"),
        (lambda: check_array("b", np.ones((2, 4)), shape=(2, 3)), r"b must have shape \(2, 3\), got \(2, 4\)"),
        (
            lambda: check_array("W", np.ones((2, 5)), shape=(None, None, None), expected="(n_instances, m, n)"),
            r"W must have shape \(n_instances, m, n\), got \(2, 5\)",
        ),
        (lambda: check_array("W", np.ones((0, 5)), ndim=2, non_empty=True), "W must have 2 dimensions and no empty"),
    ],
)
def test_wrong_input_names_the_parameter_and_what_it_must_be(call, match):
    with pytest.raises(tm.ConfigError, match=match):
        call()


def test_a_matching_array_passes_unchanged():
    W = np.arange(6.0).reshape(2, 3)
    assert check_array("W", W, shape=(2, None)) is not None
    np.testing.assert_array_equal(check_array("W", W, shape=(2, None)), W)
    np.testing.assert_array_equal(check_array("W", torch.as_tensor(W), ndim=2), W)


def test_one_model_or_several_come_back_with_an_instance_axis_and_say_which():
    from toymodels.validation import as_instances

    one, single = as_instances("W", np.ones((2, 3)))
    assert one.shape == (1, 2, 3) and single
    several, single = as_instances("W", np.ones((4, 2, 3)))
    assert several.shape == (4, 2, 3) and not single
    with pytest.raises(tm.ConfigError, match=r"W must have shape \(n_hidden, n_features\) or"):
        as_instances("W", np.ones(3))
    with pytest.raises(tm.ConfigError, match="W must be finite"):
        as_instances("W", [[np.nan, 1.0]], finite=True)
