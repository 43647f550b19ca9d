"""The presentation kit every section draws with: the book's plotly renderer and set-up (:mod:`.render`),
``Table`` (:mod:`.table`), figure building blocks (:mod:`.panels`), the live-slider helper of a kernel
(:mod:`.live`) and the live fits of the static book, trained in the reader's browser (:mod:`.browser`).
It knows no chapter.
"""

from .browser import BrowserLive, Slider
from .live import live_figure
from .panels import (
    DIVERGING,
    IMPORTANCE_COLORS,
    OUTLINE,
    PANEL_GAP,
    SUPERPOSITION_COLORS,
    feature_norms_bar,
    norm_axis_end,
    summary_figure,
    weights_heatmap,
)
from .pictures import GROUP_COLORS, features_2d, features_2d_groups, features_2d_row
from .render import PLOT_CONFIG, PLOTLY_MIMETYPE, RENDERER, BookRenderer, in_colab, setup
from .sliders import SWEEP_KINDS, instance_slider, sweep_figure
from .table import Table, density_label

__all__ = [
    "RENDERER",
    "PLOTLY_MIMETYPE",
    "PLOT_CONFIG",
    "BookRenderer",
    "in_colab",
    "setup",
    "Table",
    "density_label",
    "DIVERGING",
    "SUPERPOSITION_COLORS",
    "IMPORTANCE_COLORS",
    "OUTLINE",
    "PANEL_GAP",
    "SWEEP_KINDS",
    "weights_heatmap",
    "feature_norms_bar",
    "norm_axis_end",
    "summary_figure",
    "features_2d",
    "instance_slider",
    "sweep_figure",
    "features_2d_row",
    "GROUP_COLORS",
    "features_2d_groups",
    "live_figure",
    "BrowserLive",
    "Slider",
]
