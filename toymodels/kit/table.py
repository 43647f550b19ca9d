"""Small tables of the numbers the prose quotes (rendered as HTML in the book, as text in a terminal), and the
formatting helpers the sections' tables share.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from ..config import Experiment


@dataclass(frozen=True)
class Table:
    """Rows of already-formatted cells; prints as aligned text and renders as an HTML table."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def __str__(self) -> str:
        cells = [self.columns, *self.rows]
        widths = [max(len(row[k]) for row in cells) for k in range(len(self.columns))]
        return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in cells)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{escape(column)}</th>" for column in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in self.rows)
        return f'<table class="toymodels-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def fixed(value: float, decimals: int = 2) -> str:
    """``value`` with ``decimals`` decimals, without a minus sign on a value that rounds to zero."""
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def vector_text(values, decimals: int = 2) -> str:
    return " ".join(fixed(v, decimals) for v in values)


def sparsity_label(p: float) -> str:
    """Sparsity S = 1 − p as a percentage: "0 %", "80 %", "99.9 %", or one decimal ("34.8 %")."""
    percent = 100 * (1 - float(p))
    for decimals in range(3):
        text = f"{percent:.{decimals}f}"
        if abs(float(text) - percent) < 1e-4:  # densities may come through float32
            return f"{text} %"
    return f"{percent:.1f} %"


def setting_densities(experiment: Experiment) -> list[float]:
    """One density per setting (the first feature's: these sweeps vary all features together)."""
    return experiment.density_per_setting().tolist()
