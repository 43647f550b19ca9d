"""The playground page: the toy model set up by the reader and trained in the page (``toymodels.kit.playground``),
starting from presets that are the book's own experiments."""

from .page import PRESETS, playground, preset_states

__all__ = ["PRESETS", "playground", "preset_states"]
