"""Chapter 10's runs, through the results store (``tm.store.train``; in fast mode, with the store off, trained)."""

from __future__ import annotations

from .. import store
from ..presets import NONLINEARITIES, preset
from ..results import TrainResult
from .analysis import PhaseGrid, Shape, nonlinearity_shape, phase_grid


def sweeps(fast: bool = False) -> dict[str, TrainResult]:
    """The §2 sweep (n=20, m=5) for every nonlinearity of ``NONLINEARITIES``; ReLU's is ``basic_relu``."""
    return {
        name: store.train(preset("basic_relu" if name == "relu" else f"nonlinearity_{name}", fast=fast))
        for name in NONLINEARITIES
    }


def phase_grids(fast: bool = False) -> list[PhaseGrid]:
    """The n = 2, m = 1 diagram of every nonlinearity, by the phase chapter's protocol (:func:`phase_grid`)."""
    return [phase_grid(store.train(preset(f"nonlinearity_phase_{name}", fast=fast)), name) for name in NONLINEARITIES]


def shapes() -> list[Shape]:
    """:func:`nonlinearity_shape` of every nonlinearity of ``NONLINEARITIES``."""
    return [nonlinearity_shape(name) for name in NONLINEARITIES]


def softmax_results(fast: bool = False) -> dict[str, TrainResult]:
    """The softmax task: the §2 setup ("20 → 5") and 6 features of equal importance in 2 dimensions ("6 → 2")."""
    return {
        "20 → 5": store.train(preset("softmax_sweep", fast=fast)),
        "6 → 2": store.train(preset("softmax_geometry", fast=fast)),
    }


def task_control(fast: bool = False) -> TrainResult:
    """The softmax task's control: the ReLU output trained on the same one-hot target by squared error."""
    return store.train(preset("argmax_relu", fast=fast))
