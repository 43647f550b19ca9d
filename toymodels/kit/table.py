"""Small tables of the numbers the prose quotes (rendered as HTML in the book, as text in a terminal), and the
formatting helpers the sections' tables share.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from ..experiment import Experiment


@dataclass(frozen=True)
class Table:
    """Rows of already-formatted cells; prints as aligned text and renders as an HTML table."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    fold: bool = True  # False: show every row however many (a table whose every row the prose reads)

    def __str__(self) -> str:
        cells = [self.columns, *self.rows]
        widths = [max(len(row[k]) for row in cells) for k in range(len(self.columns))]
        return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in cells)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        """The book's HTML: a table of more than ``MAX_COLUMNS`` columns is drawn as several, each led by the first
        (key) column, so that none is wider than the text column; one of more than ``FOLD_ROWS`` rows shows its
        first ``PREVIEW_ROWS`` and folds the whole table behind a "show all rows" switch (unless ``fold`` is
        False)."""
        parts = self._parts()
        if len(self.rows) <= FOLD_ROWS or not self.fold:
            return "".join(_html_table(columns, rows) for columns, rows in parts)
        preview = "".join(_html_table(columns, rows[:PREVIEW_ROWS]) for columns, rows in parts)
        full = "".join(_html_table(columns, rows) for columns, rows in parts)
        return (
            f'{preview}<details class="toymodels-fold"><summary>show all {len(self.rows)} rows</summary>'
            f"{full}</details>"
        )

    def _parts(self) -> list[tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]]:
        """(columns, rows) of each part: the key column, then the next ``MAX_COLUMNS`` − 1 of the others in order
        (so the columns a table puts first stay together, in the first part)."""
        others = list(range(1, len(self.columns)))
        size = MAX_COLUMNS - 1
        chunks = [[0, *others[k : k + size]] for k in range(0, len(others), size)] or [[0]]
        return [
            (tuple(self.columns[k] for k in chunk), tuple(tuple(row[k] for k in chunk) for row in self.rows))
            for chunk in chunks
        ]


MAX_COLUMNS = 7  # columns of one HTML table: more do not fit the book's 688 px text column
FOLD_ROWS = 8  # a table of more rows shows PREVIEW_ROWS and folds the rest away
PREVIEW_ROWS = 5


def _html_table(columns, rows) -> str:
    head = "".join(f"<th>{escape(column)}</th>" for column in columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="toymodels-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def fixed(value: float, decimals: int = 2) -> str:
    """``value`` with ``decimals`` decimals, without a minus sign on a value that rounds to zero."""
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def vector_text(values, decimals: int = 2) -> str:
    return " ".join(fixed(v, decimals) for v in values)


def density_label(p: float) -> str:
    """The density 1 − S, the book's one notation for sparsity, as a decimal of at most 3 significant digits:
    "1", "0.2", "0.001", "0.652" (a float32 density such as 0.1000000015 reads "0.1")."""
    return f"{float(f'{float(p):.3g}'):g}"


def setting_densities(experiment: Experiment) -> list[float]:
    """One density per setting (the first feature's: these sweeps vary all features together)."""
    return experiment.density_per_setting().tolist()
