"""Live sliders for a running kernel: ipywidgets controls that recompute a figure and redraw it in place."""

from __future__ import annotations

from collections.abc import Callable

import plotly.graph_objects as go


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
