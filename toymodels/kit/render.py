"""The book's plotly renderer and the chapters' one set-up call.

Every chapter starts with ``tm.kit.setup()``. It makes plotly figures render as an HTML ``<div>`` plus a
script that draws it with a ``Plotly`` already on the page, and the plotly JSON that JupyterLab, Notebook 7
and VS Code draw themselves. The book (Jupyter Book 1) shows the HTML and serves plotly.js once from its own
static files (``book/_ext/toymodels_book.py``), so a notebook never carries the 4.6 MB library, and the page
works offline. Div ids count up from ``figure-1`` in each kernel, so re-executing a chapter writes the same
outputs (the regression check, nbval, compares them exactly); numbers are stored to ``digits`` significant
digits as float32, which is what a reader can see and keeps the notebooks small.

Long titles are broken into lines (:func:`wrap_title`) so that they fit the figure's width on a phone too.

Plotly 7's own default renderer emits only the plotly JSON, which Jupyter Book 1 drops: no figure at all.

"""

from __future__ import annotations

import base64
import itertools
import json
import math
import re
import sys

import numpy as np
import plotly.io as pio
from _plotly_utils.basevalidators import is_typed_array_spec
from _plotly_utils.utils import to_typed_array_spec
from plotly.io._base_renderers import MimetypeRenderer

from ..errors import ConfigError

RENDERER = "toymodels"
PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"
PLOT_CONFIG = {"responsive": True, "displaylogo": False}


# Characters per line of a figure's title: a title of more is broken into lines, so that it fits the 600 px a figure
# keeps at least in the book (book/_ext/toymodels.css) instead of running past the figure's edge.
TITLE_LINE = 62
TITLE_LINE_HEIGHT = 24  # px of top margin per title line
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_GLUE = re.compile(r" (?=[=%×])|(?<=[=×]) ")

# In an array, values below this fraction of its largest are shown as 0: they are float64 rounding noise (~1e-16 of
# the scale, from sums that cancel), whose digits depend on the CPU's summation order, and no figure can show them.
NOISE_FLOOR = 1e-12


def _significant(values: np.ndarray, digits: int) -> np.ndarray:
    """``values`` rounded to ``digits`` significant digits (zeros, infinities and NaN kept), those below
    ``NOISE_FLOOR`` of the largest finite one set to 0."""
    values = np.asarray(values, dtype=np.float64)
    magnitudes = np.abs(values[np.isfinite(values)])
    if magnitudes.size:
        values = np.where(np.abs(values) < NOISE_FLOOR * magnitudes.max(), 0.0, values)
    finite = np.isfinite(values) & (values != 0)
    exponent = np.zeros_like(values)
    exponent[finite] = np.floor(np.log10(np.abs(values[finite])))
    scale = 10.0 ** (digits - 1 - exponent)
    return np.where(finite, np.round(values * scale) / scale, values)


def _compact(value, digits: int):
    """A copy of a figure dict with every float rounded to ``digits`` significant digits, float arrays
    (numpy, or plotly's base64 typed-array specs) stored as float32 typed arrays."""
    if is_typed_array_spec(value) and value["dtype"] in ("f4", "f8"):
        array = np.frombuffer(
            base64.b64decode(value["bdata"]), dtype=np.float32 if value["dtype"] == "f4" else np.float64
        )
        shape = tuple(int(size) for size in value.get("shape", str(array.size)).split(","))
        return _compact(array.reshape(shape), digits)
    if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating):
        return to_typed_array_spec(_significant(value, digits).astype(np.float32))
    if isinstance(value, dict):
        return {key: _compact(item, digits) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_compact(item, digits) for item in value]
    if isinstance(value, float) and math.isfinite(value):
        return float(_significant(np.array(value), digits))
    return value


def wrap_title(text: str, width: int = TITLE_LINE) -> str:
    """``text`` broken at spaces (``<br>``) into lines of at most ``width`` visible characters (markup such as
    ``<sub>`` not counted; a single longer word keeps its own line); the breaks already in it are kept."""
    lines = []
    for line in _BREAK.split(text):
        current = ""
        glued = _GLUE.sub("\u00a0", line)  # "1−S = 0.3" and "99.9 %" stay on one line
        for word in glued.split(" "):
            candidate = f"{current} {word}" if current else word
            if current and len(_TAG.sub("", candidate)) > width:
                lines.append(current)
                current = word
            else:
                current = candidate
        lines.append(current)
    return "<br>".join(lines).replace("\u00a0", " ")


def _title_lines(text: str) -> int:
    return len(_BREAK.split(text))


def _wrap_titles(figure: dict) -> dict:
    """The figure with its title, and the titles its sliders' steps set, wrapped by :func:`wrap_title`; the top
    margin grows to hold the lines that wrapping added."""
    layout = figure.get("layout", {})
    texts = []  # (container, key) of every title text
    title = layout.get("title")
    if isinstance(title, dict) and isinstance(title.get("text"), str):
        texts.append((title, "text"))

    def titles_set_by(controls: list) -> None:  # slider steps and menu buttons, and the steps a button gives
        for control in controls:
            for entry in control.get("steps", []) + control.get("buttons", []):
                for arg in entry.get("args", []):
                    if isinstance(arg, dict) and isinstance(arg.get("title.text"), str):
                        texts.append((arg, "title.text"))
                    if isinstance(arg, dict) and isinstance(arg.get("sliders[0].steps"), list):
                        titles_set_by([{"steps": arg["sliders[0].steps"]}])

    titles_set_by(layout.get("sliders", []) + layout.get("updatemenus", []))
    if not texts:
        return figure
    before = max(_title_lines(container[key]) for container, key in texts)
    for container, key in texts:
        container[key] = wrap_title(container[key])
    after = max(_title_lines(container[key]) for container, key in texts)
    if after > before:
        margin = layout.setdefault("margin", {})
        margin["t"] = max(margin.get("t", 100), 40 + TITLE_LINE_HEIGHT * after)
    return figure


class BookRenderer(MimetypeRenderer):
    """Figure → ``text/html`` (no plotly.js, deterministic div id) + the plotly JSON mimetype."""

    def __init__(self, digits: int = 4, prefix: str = "figure"):
        if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
            raise ConfigError(f"digits must be a positive integer, got {digits!r}")
        self.digits, self.prefix = digits, prefix
        self.numbers = itertools.count(1)  # shared with the copies plotly makes of a renderer for each figure

    def to_mimebundle(self, fig_dict):
        number = next(self.numbers)
        figure = _wrap_titles(_compact(fig_dict, self.digits))
        html = pio.to_html(
            figure,
            config=PLOT_CONFIG,
            include_plotlyjs=False,
            full_html=False,
            validate=False,
            div_id=f"{self.prefix}-{number}",
            default_height=_height(figure),
        )
        spec = json.loads(pio.to_json(dict(figure, config=PLOT_CONFIG), validate=False))
        return {"text/html": html, PLOTLY_MIMETYPE: spec}


def _height(figure: dict) -> str:
    height = figure.get("layout", {}).get("height")
    return f"{height}px" if height else "480px"


def in_colab() -> bool:
    return "google.colab" in sys.modules


def setup(digits: int = 4) -> None:
    """The one set-up call of every chapter: registers the book's renderer as plotly's default (a fresh one,
    so div ids restart at ``figure-1``). In Colab, which draws neither, plotly's own default stays."""
    pio.renderers[RENDERER] = BookRenderer(digits)
    if not in_colab():
        pio.renderers.default = RENDERER
