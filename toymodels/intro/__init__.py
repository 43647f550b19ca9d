"""§1, chapter 1 (five features in two dimensions): what the chapter calls, and the kit's figures it draws
with.
"""

from ..kit.pictures import features_2d_row  # the kit's figures that chapter 1 draws
from ..kit.sliders import sweep_figure
from .analysis import GEOMETRIES, describe, geometry
from .tables import geometry_phases, geometry_table
from .widgets import browser_intro, live_intro

__all__ = [
    "GEOMETRIES",
    "geometry",
    "describe",
    "geometry_table",
    "geometry_phases",
    "live_intro",
    "browser_intro",
    "features_2d_row",
    "sweep_figure",
]
