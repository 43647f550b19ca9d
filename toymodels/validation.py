"""Checking what a user passes, in one place (in the spirit of scikit-learn's ``check_array``): numbers as float64
arrays of the shape a function needs, else a :class:`~toymodels.errors.ConfigError` that names the parameter and
what it must be."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .errors import ConfigError


def require(condition: bool, message: str) -> None:
    """A :class:`ConfigError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise ConfigError(message)


def described(value) -> str:
    return f"{value!r} (a {type(value).__name__})"


def positive_int(name: str, value) -> None:
    require(
        isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1,
        f"{name} must be a positive integer (>= 1), got {value!r}",
    )


def one_of(name: str, value, allowed: Sequence[str]) -> None:
    require(value in allowed, f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")


def as_float64(name: str, value) -> np.ndarray:
    """``value`` (a tensor, array or nested sequence of numbers) as a float64 NumPy array, else a ConfigError
    naming ``name``. :func:`check_array` also checks the shape."""
    try:
        if isinstance(value, torch.Tensor):
            return value.detach().cpu().numpy().astype(np.float64)
        require(np.asarray(value).dtype.kind in "biuf", f"{name} must be numbers, got {described(value)}")
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        if isinstance(error, ConfigError):
            raise
        raise ConfigError(f"{name} must be numbers, got {value!r}") from error


def check_array(
    name: str,
    value,
    ndim: int | None = None,
    shape: tuple[int | None, ...] | None = None,
    expected: str | None = None,
    non_empty: bool = False,
) -> np.ndarray:
    """``value`` as a float64 NumPy array (:func:`as_float64`) with ``ndim`` dimensions, or of ``shape`` (None
    matches any size), and no axis of size 0 when ``non_empty``; else a :class:`ConfigError` naming ``name`` and
    what it must be (``expected``, e.g. "(n_hidden, n_features) for one model", else the shape or ndim)."""
    array = as_float64(name, value)
    if shape is not None:
        ndim = len(shape)
    wrong = (ndim is not None and array.ndim != ndim) or (
        shape is not None and any(want not in (None, got) for want, got in zip(shape, array.shape))
    )
    if wrong or (non_empty and 0 in array.shape):
        empty = " and no empty axis" if non_empty else ""
        if expected is None and shape is None:
            raise ConfigError(f"{name} must have {ndim} dimensions{empty}, got shape {array.shape}")
        raise ConfigError(f"{name} must have shape {expected or shape}{empty}, got {array.shape}")
    return array


def as_instances(name: str, value, finite: bool = False, non_empty: bool = False) -> tuple[np.ndarray, bool]:
    """Weights of one model (m, n) or of several (n_instances, m, n) as float64 (n_instances, m, n), and
    ``single``: whether one model was given (the caller then returns its result without the instance axis).
    ``finite``: NaN and infinities are an error too; ``non_empty``: so is an axis of size 0."""
    array = as_float64(name, value)
    if array.ndim not in (2, 3) or (non_empty and 0 in array.shape):
        raise ConfigError(
            f"{name} must have shape (n_hidden, n_features) or (n_instances, n_hidden, n_features), got {array.shape}"
        )
    if finite and not np.all(np.isfinite(array)):
        raise ConfigError(f"{name} must be finite numbers, got {value!r}")
    return (array[None], True) if array.ndim == 2 else (array, False)


__all__ = ["require", "described", "positive_int", "one_of", "as_float64", "check_array", "as_instances"]
