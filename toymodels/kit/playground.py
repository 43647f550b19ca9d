"""The playground: the whole toy model set by the reader and trained in the page, with no kernel.

A playground is a live widget (:class:`.browser.BrowserLive`, kind "playground") whose configuration holds a
*state*: n, m, the model kind and output nonlinearity, the importances and densities (one number, or one per
feature), correlated or anticorrelated sets, and the training protocol (best of K, steps, batch, lr, weight
decay, seed). ``static/toymodels-playground.js`` draws its controls, trains with the live trainer
(``static/toymodels-live.js``) and draws W (arrows in 1 to 3 dimensions, a heat map above), WᵀW, each feature's
dimensionality D_i against the polytopes' and the loss as it trains. With ``url=True`` the state lives in the
page's address (``#n=5&m=2&…``), so a configuration can be shared; presets are states with a label.

:func:`state_of` writes an experiment's setting as a state, so presets come from the package's own presets.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..experiment import Experiment
from ..vocabulary import FEATURE_GEOMETRIES, INTERFERING, POLYTOPES, REPRESENTED_SHARE, ZERO_NORM
from .browser import LIVE_ACTIVATIONS, LIVE_KINDS, LIVE_LABEL, BrowserLive, colorscale, model_options, protocol
from .panels import DIVERGING

PLAYGROUND_SCRIPT = Path(__file__).with_name("static") / "toymodels-playground.js"
PLAYGROUND_KIND = "playground"  # its BrowserLive kind: the book's extension serves the playground's script for it
DRAW_MS = 50  # the figures redrawn at most this often while it trains: 20 frames a second
NOTE = (
    "Playground: in the built book, this toy model is trained in your browser as you change its settings "
    "(JavaScript served with the book, no kernel)."
)
# The ranges the controls and a shared address may take (the JavaScript checks a state against these).
LIMITS = dict(
    n=(2, 32),
    m=(1, 6),
    setSize=(1, 8),  # features per correlated set (1: independent features)
    fits=(1, 8),
    steps=(100, 20_000),
    batchSize=(16, 2048),
    lr=(1e-4, 0.1),
    weightDecay=(0.0, 0.1),
    evalBatches=(1, 64),
    seed=(0, 999_999),
    importance=(0.01, 100.0),  # each feature's importance; one number is a decay r, I_i = r^i, within (0, 1]
    density=(0.001, 1.0),  # each feature's density 1 − S
)
CONTROLS = ("n", "m", "importance", "density", "correlation", "activation", "kind", "fits", "steps", "lr")
CHOICES = dict(kind=LIVE_KINDS, activation=LIVE_ACTIVATIONS, correlation=("none", "correlated", "anticorrelated"))


def _number(value: float) -> str:
    return f"{float(value):.6g}"


def _values_text(values: np.ndarray, decay: bool) -> str:
    """Per-feature values as a state writes them: one number when all are equal, for importances (``decay``) also
    when they are r^i (the number r), else a comma-separated list."""
    values = np.asarray(values, dtype=np.float64)
    if np.allclose(values, values[0], rtol=1e-6) and not (decay and values[0] != 1):
        return _number(values[0])
    if decay and values[0] == 1 and np.allclose(values, values[1] ** np.arange(values.size), rtol=1e-6):
        return _number(values[1])
    return ",".join(_number(v) for v in values)


def state_of(experiment: Experiment, setting: int = 0) -> dict:
    """The playground's state for one setting of ``experiment``: its model, data and training protocol (which the
    JavaScript must implement: :func:`.browser.protocol`)."""
    if not (isinstance(setting, int) and 0 <= setting < experiment.n_settings):
        raise ConfigError(f"setting must be an integer in [0, {experiment.n_settings - 1}], got {setting!r}")
    importance = experiment.importance_tensor(per="setting")[setting].double().numpy()
    probability = experiment.probability_tensor(per="setting")[setting].double().numpy()
    state = dict(
        model_options(experiment),
        **protocol(experiment),
        importance=_values_text(importance, decay=True),
        density=_values_text(probability, decay=False),
    )
    check_state(state)
    return state


def _per_feature(text: str, n: int, name: str) -> list[float]:
    low, high = LIMITS[name]
    try:
        values = [float(part) for part in str(text).split(",")]
    except ValueError as error:
        raise ConfigError(f"{name} must be one number or {n} comma-separated numbers, got {text!r}") from error
    if len(values) not in (1, n) or not all(low <= v <= high for v in values):
        raise ConfigError(f"{name} must be one number or {n} numbers, each in [{low}, {high}], got {text!r}")
    return values


def check_state(state: dict) -> None:
    """A ConfigError naming the field and its allowed range for the first field of ``state`` outside
    :data:`LIMITS` or :data:`CHOICES` (the JavaScript checks a shared address the same way)."""
    for name, (low, high) in LIMITS.items():
        if name in ("importance", "density"):
            continue
        value = state.get(name)
        integral = isinstance(low, int) and isinstance(high, int)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (integral and value != int(value)):
            raise ConfigError(f"state[{name!r}] must be {'an integer' if integral else 'a number'}, got {value!r}")
        if not (math.isfinite(value) and low <= value <= high):
            raise ConfigError(f"state[{name!r}] must be in [{low}, {high}], got {value!r}")
    for name, choices in CHOICES.items():
        if state.get(name) not in choices:
            raise ConfigError(f"state[{name!r}] must be one of {', '.join(choices)}, got {state.get(name)!r}")
    n = state["n"]
    if state["correlation"] != "none" and n % state["setSize"]:
        raise ConfigError(f"state['setSize'] must divide n={n}, got {state['setSize']}")
    importance = _per_feature(state.get("importance"), n, "importance")
    if len(importance) == 1 and not 0 < importance[0] <= 1:
        raise ConfigError(f"importance as one number is a decay r (I_i = r^i) in (0, 1], got {importance[0]}")
    _per_feature(state.get("density"), n, "density")


def playground_widget(
    state: dict,
    presets: dict[str, dict] | None = None,
    controls: tuple[str, ...] = CONTROLS,
    url: bool = True,
    heading: str = "",
    fold: str | None = None,
) -> BrowserLive:
    """A playground starting at ``state`` (:func:`state_of`), with one button per preset (label → state), the
    ``controls`` shown (a subset of :data:`CONTROLS`; the others stay at the state's values) and, with ``url``,
    the state kept in the page's address; ``fold``: shown folded behind a switch with this text."""
    presets = presets or {}
    for state_ in (state, *presets.values()):
        check_state(state_)
    unknown = set(controls) - set(CONTROLS)
    if unknown:
        raise ConfigError(f"controls must be among {', '.join(CONTROLS)}, got {', '.join(sorted(unknown))}")
    config = dict(
        state=state,
        presets=[dict(label=label, state=preset) for label, preset in presets.items()],
        controls=list(controls),
        url=url,
        heading=heading,
        limits={name: list(limit) for name, limit in LIMITS.items()},
        choices={name: list(choices) for name, choices in CHOICES.items()},
        geometries=[[name, D, dims, size] for name, (D, dims, size) in FEATURE_GEOMETRIES.items()],
        polytopes=[[p.name, p.dimensionality, p.dimensions] for p in POLYTOPES.values()],
        colorscale=colorscale(),
        diverging=colorscale(DIVERGING),
        statusPrefix=LIVE_LABEL,
        measures=dict(representedShare=REPRESENTED_SHARE, interfering=INTERFERING, zeroNorm=ZERO_NORM),
    )
    widget = BrowserLive(PLAYGROUND_KIND, config, note=NOTE, fold=fold)
    widget.config["drawMs"] = DRAW_MS
    return widget
