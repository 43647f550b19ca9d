"""Live sliders for a running kernel: ipywidgets controls that recompute a figure and redraw it in place."""

from __future__ import annotations

import math
from collections.abc import Callable

import plotly.graph_objects as go

# Sliders act when released (a retrain per drag position would queue dozens), with room for their labels.
_CONTROL_STYLE = dict(continuous_update=False, style={"description_width": "initial"})


def log_slider(value: float, low: float, high: float, description: str, step: float = 0.05, readout_format=".3f"):
    """A base-10 log slider from ``low`` to ``high`` (``step`` in decades), e.g. for a density 1 − S."""
    import ipywidgets

    return ipywidgets.FloatLogSlider(
        value,
        base=10,
        min=math.log10(low),
        max=math.log10(high),
        step=step,
        description=description,
        readout_format=readout_format,
        **_CONTROL_STYLE,
    )


def slider(value: float, low: float, high: float, step: float, description: str, readout_format=".2f"):
    """A linear slider from ``low`` to ``high``."""
    import ipywidgets

    return ipywidgets.FloatSlider(
        value, min=low, max=high, step=step, description=description, readout_format=readout_format, **_CONTROL_STYLE
    )


def dropdown(value: str, options, description: str):
    """A choice among ``options`` (names), e.g. a nonlinearity."""
    import ipywidgets

    style = _CONTROL_STYLE["style"]  # a dropdown acts on choice: it has no continuous_update
    return ipywidgets.Dropdown(value=value, options=list(options), description=description, style=style)


def int_slider(value: int, low: int, high: int, description: str, step: int = 1):
    """An integer slider from ``low`` to ``high``, e.g. a seed, a snapshot or a dictionary size."""
    import ipywidgets

    return ipywidgets.IntSlider(value, min=low, max=high, step=step, description=description, **_CONTROL_STYLE)


def live_figure(draw: Callable[..., go.Figure], **controls):
    """Sliders above a figure that ``draw(**values)`` redraws whenever a slider is released.

    ``controls`` maps ``draw``'s keyword arguments to ipywidgets. The figure is a ``go.FigureWidget`` updated
    in place (its traces keep their identity), so it does not flicker or grow the notebook; ``draw`` must
    return figures with the same traces in the same order for every value.
    """
    import ipywidgets

    def values() -> dict:
        return {name: control.value for name, control in controls.items()}

    figure = go.FigureWidget(draw(**values()))

    def redraw(_change=None) -> None:
        fresh = draw(**values())
        with figure.batch_update():
            for trace, new in zip(figure.data, fresh.data):
                trace.update(new.to_plotly_json())
            figure.layout.title = fresh.layout.title
            figure.layout.coloraxis = fresh.layout.coloraxis

    for control in controls.values():
        control.observe(redraw, names="value")
    return ipywidgets.VBox([ipywidgets.HBox(list(controls.values())), figure])
