"""Live fits in the reader's browser: a slider retrains the model in JavaScript, with no kernel and no server.

The static book cannot run Python, so the live widgets of the static pages train in JavaScript
(``static/toymodels-live.js``, dependency-free): the tied models' loss (every output nonlinearity but the softmax,
with or without the hidden ReLU) and hand-derived gradients,
AdamW as torch defines it, the one-draw sparse sampler and best-of-K, with this package's conventions (W is
hidden × feature, importance indexed from 0). ``tests/js`` checks its loss and gradients against this package's
on a fixed batch (``tools/export_live_fixture.py``). Its random draws are not PyTorch's, so a live fit is a
fresh fit of the same model, labelled as such; the precomputed figures stay the book's record.

A section builds a widget's configuration (sliders, protocol, an initial plotly figure from ``kit.panels``) and
returns :class:`BrowserLive`; a notebook cell displays it as a ``<div class="toymodels-live">`` holding that
configuration as JSON. No script is inlined: the book's Sphinx extension (``book/_ext/toymodels_book.py``) serves
the JavaScript and plotly.js on pages with such a div, and the script starts every widget it finds (also from a
``file://`` address: no worker, nothing fetched). In JupyterLab the div shows a note instead; the kernel
sliders (:mod:`.live`) are the live form there.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from html import escape
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.colors import get_colorscale

from ..errors import ConfigError
from ..experiment import Experiment
from .panels import IMPORTANCE_COLORS
from .render import PLOT_CONFIG

SCRIPT = Path(__file__).with_name("static") / "toymodels-live.js"
LIVE_CLASS = "toymodels-live"  # the book's extension serves the script on pages with this class
NOTE = (
    "Live fit: in the built book, this model is trained in your browser as you move the sliders (JavaScript "
    "served with the book, no kernel). In a running kernel, the slider cell below retrains it in PyTorch."
)
# Shown above every live figure: what it is, and why it differs from the precomputed fits.
LIVE_LABEL = "Live fit, trained in your browser (JavaScript; its random draws are not PyTorch's): "
SLICE_MS = 25  # JavaScript work between two yields to the page (it stays responsive while it trains)
DRAW_MS = 100  # the leading fit redrawn at most this often while it trains (a redraw costs 10-20 ms)
CHUNK_STEPS = 25  # steps per fit between two looks at the clock


@dataclass(frozen=True)
class Slider:
    """A slider over ``count + 1`` values: min + k·step (``log``: 10 to that power), starting nearest ``value``."""

    name: str
    label: str
    minimum: float
    maximum: float
    step: float
    value: float
    log: bool = False
    digits: int = 3

    def __post_init__(self) -> None:
        if not (np.isfinite([self.minimum, self.maximum, self.step]).all() and self.step > 0):
            raise ConfigError(f"slider {self.name!r}: minimum, maximum and step must be finite, step > 0")
        if self.maximum <= self.minimum:
            raise ConfigError(f"slider {self.name!r}: maximum must exceed minimum, got {self.minimum}..{self.maximum}")
        values = self.values()
        if not (isinstance(self.value, (int, float)) and values[0] <= self.value <= values[-1]):
            raise ConfigError(
                f"{self.name} must be a number within the slider's range [{values[0]:.3g}, {values[-1]:.3g}], "
                f"got {self.value!r}"
            )

    @property
    def count(self) -> int:
        return round((self.maximum - self.minimum) / self.step)

    def values(self) -> np.ndarray:
        """Every value the slider can take, as the JavaScript computes them."""
        raw = self.minimum + np.arange(self.count + 1) * self.step
        return 10.0**raw if self.log else raw

    @property
    def index(self) -> int:
        """The position nearest ``value`` (on the log scale for a log slider)."""
        values = self.values()
        distance = np.abs(np.log10(values) - np.log10(self.value)) if self.log else np.abs(values - self.value)
        return int(distance.argmin())

    def spec(self) -> dict:
        return dict(
            name=self.name,
            label=self.label,
            min=self.minimum,
            max=self.maximum,
            step=self.step,
            log=self.log,
            digits=self.digits,
            index=self.index,
        )


# What the JavaScript trains (its ACTIVATIONS and KINDS): every output nonlinearity but the softmax (whose
# cross-entropy and argmax task it does not have), with or without the hidden ReLU, tied weights.
LIVE_ACTIVATIONS = ("relu", "gelu", "silu", "softplus", "sigmoid", "tanh", "none")
LIVE_KINDS = ("relu_output", "relu_hidden")


def protocol(experiment: Experiment) -> dict:
    """The JavaScript trainer's options from an experiment's model and training fields: K = n_seeds fits,
    steps, batch size, lr, weight decay, evaluation batches and seed. Only what the JavaScript implements is
    accepted (:func:`model_options`), with a constant learning rate and AdamW's decay of every parameter."""
    model_options(experiment)
    train = experiment.train
    if train.lr_schedule != "constant":
        raise ConfigError(f"experiment must have a constant lr for the browser's trainer, got {train.lr_schedule!r}")
    if not isinstance(train.weight_decay, float) or train.weight_decay < 0 or not train.decay_biases:
        raise ConfigError(
            f"the browser's trainer has AdamW's decay of every parameter, one weight_decay >= 0 "
            f"with decay_biases=True; got weight_decay={train.weight_decay!r}, decay_biases={train.decay_biases!r}"
        )
    return dict(
        fits=experiment.n_seeds,
        steps=train.steps,
        batchSize=train.batch_size,
        lr=train.lr,
        weightDecay=train.weight_decay,
        evalBatches=train.eval_batches,
        seed=train.seed,
    )


def model_options(experiment: Experiment) -> dict:
    """The JavaScript's model and data options (n, m, kind, activation, correlation, setSize) of an experiment,
    or a ConfigError naming what it cannot train: the tied models (``LIVE_KINDS``) with Xavier initialisation
    and no L1 penalty or hidden bias, an output nonlinearity of ``LIVE_ACTIVATIONS``, and non-negative features
    reconstructed as they are (independent, or in sets of the paper's sampling convention)."""
    model, data = experiment.model, experiment.data
    if model.kind not in LIVE_KINDS or model.l1_penalty or model.hidden_bias or model.init != "xavier":
        raise ConfigError(
            f"experiment.model must be a tied model of kind {' or '.join(LIVE_KINDS)} (Xavier init, no L1 penalty "
            f"or hidden bias) for the browser's trainer, got {model}"
        )
    if model.activation not in LIVE_ACTIVATIONS:
        raise ConfigError(
            f"experiment.model.activation must be one of {', '.join(LIVE_ACTIVATIONS)} for the browser's trainer, "
            f"got {model.activation!r}"
        )
    if data.signed or data.target != "identity" or data.importance_when != "always":
        raise ConfigError("experiment must reconstruct unsigned features, importance always, for the browser's trainer")
    if data.correlation == "anticorrelated" and data.anticorrelated_convention != "paper":
        raise ConfigError("anticorrelated sets must follow the paper's convention for the browser's trainer")
    return dict(
        n=model.n_features,
        m=model.n_hidden,
        kind=model.kind,
        activation=model.activation,
        correlation=data.correlation,
        setSize=data.set_size if data.correlation != "none" else 1,
    )


def trace_groups(figure: go.Figure, n_features: int, panels: int) -> list[dict]:
    """Which traces of a row of ``features_2d`` panels the script updates: per panel, n line traces then the
    tips (``kit.panels.features_2d`` builds them in that order)."""
    per = n_features + 1
    if len(figure.data) != per * panels:
        raise ConfigError(f"figure must hold {panels} features_2d panels of {n_features} features")
    return [dict(lines=list(range(p * per, p * per + n_features)), tips=p * per + n_features) for p in range(panels)]


def colorscale(name: str = IMPORTANCE_COLORS) -> list:
    """A plotly colour scale as [[t, colour], ...], which the script samples as plotly does."""
    return [[float(t), color] for t, color in get_colorscale(name)]


def _plain(value):
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def plain_figure(figure: go.Figure) -> dict:
    """The figure's data and layout (with its template, as the book's other figures) as plain JSON values: no
    typed arrays, which the script's updates would mix with plain ones."""
    return _plain(figure.to_plotly_json())


class BrowserLive:
    """A live widget of the static book: displays as a ``<div class="toymodels-live">`` with its configuration
    (JSON, no script) for the book's JavaScript; see the module docstring."""

    def __init__(self, kind: str, config: dict, note: str = NOTE, fold: str | None = None) -> None:
        """``fold``: the widget shown folded behind a switch with this text (it trains once opened), for a page
        that has no room for it open."""
        self.kind, self.note, self.fold = kind, note, fold
        self.config = dict(
            config, kind=kind, sliceMs=SLICE_MS, drawMs=DRAW_MS, chunkSteps=CHUNK_STEPS, plotConfig=PLOT_CONFIG
        )

    def to_json(self) -> str:
        return json.dumps(self.config, separators=(",", ":"), sort_keys=True, allow_nan=False)

    @property
    def id(self) -> str:
        """Deterministic (nbval compares outputs exactly): derived from the configuration."""
        return f"live-{self.kind}-{hashlib.sha256(self.to_json().encode()).hexdigest()[:10]}"

    def _repr_html_(self) -> str:
        data = self.to_json().replace("</", "<\\/")  # nothing in the JSON can close the script element
        html = (
            f'<div class="{LIVE_CLASS}" id="{self.id}">'
            f'<p class="toymodels-live-fallback">{escape(self.note)}</p>'
            f'<script type="application/json" class="toymodels-live-config">{data}</script></div>'
        )
        if self.fold:  # the tables' fold (toymodels.css)
            return f'<details class="toymodels-fold"><summary>{escape(self.fold)}</summary>{html}</details>'
        return html

    def __repr__(self) -> str:
        return f"<live {self.kind} fit: trains in the built book's JavaScript ({SCRIPT.name})>"
