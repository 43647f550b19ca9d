"""Showing results in a notebook and in the book: the plotly renderer, the chapters' one set-up call, small
tables of the numbers the prose quotes, and live sliders for a running kernel.

Every chapter starts with ``tm.display.setup()``. It makes plotly figures render as an HTML ``<div>`` plus a
script that draws it with a ``Plotly`` already on the page, and the plotly JSON that JupyterLab, Notebook 7
and VS Code draw themselves. The book (Jupyter Book 1) shows the HTML and serves plotly.js once from its own
static files (``book/_ext/toymodels_book.py``), so a notebook never carries the 4.6 MB library, and the page
works offline. Div ids count up from ``figure-1`` in each kernel, so re-executing a chapter writes the same
outputs (the regression check, nbval, compares them exactly); numbers are stored to ``digits`` significant
digits as float32, which is what a reader can see and keeps the notebooks small.

Plotly 7's own default renderer emits only the plotly JSON, which Jupyter Book 1 drops: no figure at all.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import sys
from collections import Counter
from dataclasses import dataclass
from html import escape
from typing import Callable

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import torch
from _plotly_utils.basevalidators import is_typed_array_spec
from _plotly_utils.utils import to_typed_array_spec
from plotly.io._base_renderers import MimetypeRenderer

from . import plots, theory
from .config import ConfigError, Experiment, importance_decay
from .metrics import dimensions_per_feature, feature_dimensionality, feature_norms, runs, superposition
from .theory import LossAccounting
from .train import TrainResult, evaluate, train

RENDERER = "toymodels"
PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"
PLOT_CONFIG = {"responsive": True, "displaylogo": False}


# ----------------------------------------------------------------------------------------------------
# The plotly renderer


def _significant(values: np.ndarray, digits: int) -> np.ndarray:
    """``values`` rounded to ``digits`` significant digits (zeros, infinities and NaN kept)."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values) & (values != 0)
    exponent = np.zeros_like(values)
    exponent[finite] = np.floor(np.log10(np.abs(values[finite])))
    scale = 10.0 ** (digits - 1 - exponent)
    return np.where(finite, np.round(values * scale) / scale, values)


def _compact(value, digits: int):
    """A copy of a figure dict with every float rounded to ``digits`` significant digits, float arrays
    (numpy, or plotly's base64 typed-array specs) stored as float32 typed arrays."""
    if is_typed_array_spec(value) and value["dtype"] in ("f4", "f8"):
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.float32 if value["dtype"] == "f4" else np.float64)
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


class BookRenderer(MimetypeRenderer):
    """Figure → ``text/html`` (no plotly.js, deterministic div id) + the plotly JSON mimetype."""

    def __init__(self, digits: int = 4, prefix: str = "figure"):
        if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
            raise ConfigError(f"digits must be a positive integer, got {digits!r}")
        self.digits, self.prefix = digits, prefix
        self.numbers = itertools.count(1)  # shared with the copies plotly makes of a renderer for each figure

    def to_mimebundle(self, fig_dict):
        number = next(self.numbers)
        figure = _compact(fig_dict, self.digits)
        html = pio.to_html(
            figure, config=PLOT_CONFIG, include_plotlyjs=False, full_html=False, validate=False,
            div_id=f"{self.prefix}-{number}", default_height=_height(figure),
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


# ----------------------------------------------------------------------------------------------------
# Tables of the numbers the prose quotes


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


# The geometries a feature can take part in (PAPER_NOTES §2, §4): its dimensionality D_i, the hidden
# dimensions the geometry needs, and how many features form one (1: any number).
GEOMETRIES = {
    "dedicated": (1.0, 1, 1),
    "tetrahedron": (3 / 4, 3, 4),
    "triangle": (2 / 3, 2, 3),
    "antipodal": (1 / 2, 1, 2),
    "pentagon": (2 / 5, 2, 5),
    "square antiprism": (3 / 8, 3, 8),
    "not learned": (0.0, 0, 1),
}


def geometry(D: float, n_hidden: int | None = None, tolerance: float = 0.03) -> str:
    """The name of the ideal geometry (possible in ``n_hidden`` dimensions) whose dimensionality is within
    ``tolerance`` of ``D``, else "D = …"."""
    candidates = {name: d for name, (d, dims, _) in GEOMETRIES.items() if n_hidden is None or dims <= n_hidden}
    name, value = min(candidates.items(), key=lambda item: abs(item[1] - D))
    return name if abs(value - D) <= tolerance else f"D = {D:.2f}"


def describe(W) -> list[str]:
    """Per instance, what its features do, e.g. "2 dedicated, 3 not learned": counts by geometry name, in the
    order of the features. A name is used only for a whole number of its shapes (pentagons come in fives);
    other features are listed as "other (D = …)"."""
    D = feature_dimensionality(W)
    D = D.unsqueeze(0) if D.ndim == 1 else D
    n_hidden = torch.as_tensor(W).shape[-2]
    descriptions = []
    for row in D.tolist():
        names = [geometry(d, n_hidden) for d in row]
        counts = Counter(name for name in names if name in GEOMETRIES)  # in order of first appearance
        whole = {name for name, count in counts.items() if count % GEOMETRIES[name][2] == 0}
        parts = [f"{count} {name}" for name, count in counts.items() if name in whole]
        others = [f"{d:.2f}" for d, name in zip(row, names) if name not in whole]
        if others:
            parts.append(f"{len(others)} other (D = {', '.join(others)})")
        descriptions.append(", ".join(parts))
    return descriptions


def _fixed(value: float, decimals: int = 2) -> str:
    """``value`` with ``decimals`` decimals, without a minus sign on a value that rounds to zero."""
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _vector(values, decimals: int = 2) -> str:
    return " ".join(_fixed(v, decimals) for v in values)


def sparsity_label(p: float) -> str:
    """Sparsity S = 1 − p as a percentage: "0 %", "80 %", "99.9 %", or one decimal ("34.8 %")."""
    percent = 100 * (1 - float(p))
    for decimals in range(3):
        text = f"{percent:.{decimals}f}"
        if abs(float(text) - percent) < 1e-4:  # densities may come through float32
            return f"{text} %"
    return f"{percent:.1f} %"


def _densities(experiment: Experiment) -> list[float]:
    """One density per setting (the first feature's: these sweeps vary all features together)."""
    return experiment.density_per_setting().tolist()


def geometry_table(result: TrainResult) -> Table:
    """One row per setting of a best-of-K result: sparsity, loss, ‖W_i‖ and D_i of every feature, and the
    geometry they form."""
    best = result.best()
    norms, D = feature_norms(best.W), feature_dimensionality(best.W)
    rows = tuple(
        (sparsity_label(p), f"{loss:.4g}", _vector(norm), _vector(d), text)
        for p, loss, norm, d, text in zip(
            _densities(result.experiment), result.best_losses.tolist(), norms.tolist(), D.tolist(), describe(best.W)
        )
    )
    return Table(("sparsity", "loss", "‖W_i‖ (feature 0 → n−1)", "D_i", "geometry"), rows)


def geometry_phases(result: TrainResult) -> Table:
    """Consecutive settings of a sweep whose features form the same geometry, as ranges of sparsity: where
    the geometry changes."""
    density = _densities(result.experiment)
    rows = tuple(
        (sparsity_label(density[first]) if first == last
         else f"{sparsity_label(density[first])} – {sparsity_label(density[last])}", text)
        for first, last, text in runs(describe(result.best().W))
    )
    return Table(("sparsity", "geometry"), rows)


def sweep_table(results: dict[str, TrainResult], represented: float = 0.5, interfering: float = 0.1) -> Table:
    """One row per setting of sweeps over the same settings, for each named best-of-K result: how many
    features are represented (‖W_i‖ > ``represented``), how many of those are in superposition
    (Σ_{j≠i}(Ŵ_i·W_j)² > ``interfering``), and the most negative bias."""
    columns, cells = ["sparsity"], []
    for name, result in results.items():
        best = result.best()
        kept = feature_norms(best.W) > represented
        crowded = kept & (superposition(best.W) > interfering)
        cells.append(zip(kept.sum(-1).tolist(), crowded.sum(-1).tolist(), best.b.detach().amin(-1).tolist()))
        columns += [f"{name}: represented", f"{name}: in superposition", f"{name}: min b_i"]
    first = next(iter(results.values())).experiment
    rows = tuple(
        (sparsity_label(p),) + tuple(text for k, c, b in triples for text in (str(k), str(c), _fixed(b, 3)))
        for p, *triples in zip(_densities(first), *cells)
    )
    return Table(tuple(columns), rows)


def loss_accounting(results: dict[str, TrainResult], eval_batches: int = 256) -> dict[str, LossAccounting]:
    """``theory.loss_accounting`` of each named best-of-K sweep: the §2 linear-model terms of its trained
    weights, and its loss measured again on ``eval_batches`` fresh batches (the 4 batches that select the
    best fit are too few to compare with the terms at high sparsity, where few features are ever active)."""
    accounting = {}
    for name, result in results.items():
        experiment, best = result.experiment.replace(n_seeds=1), result.best()
        losses = evaluate(best, experiment, n_batches=eval_batches)  # at a fixed thread count: reproducible
        accounting[name] = theory.loss_accounting(
            best.W, experiment.importance_tensor(per="setting"), _densities(experiment), losses
        )
    return accounting


def accounting_table(accounting: dict[str, LossAccounting]) -> Table:
    """One row per setting: each model's feature benefit not won, interference and measured loss."""
    columns, cells = ["sparsity"], []
    for name, terms in accounting.items():
        columns += [f"{name}: 1 − benefit", f"{name}: interference", f"{name}: measured"]
        cells.append(zip(terms.feature_benefit, terms.interference, terms.measured))
    density = next(iter(accounting.values())).density
    rows = tuple(
        (sparsity_label(p),) + tuple(_fixed(value, 3) for triple in triples for value in triple)
        for p, *triples in zip(density.tolist(), *cells)
    )
    return Table(tuple(columns), rows)


# ----------------------------------------------------------------------------------------------------
# Live sliders (need a running kernel; the book shows a plotly slider over precomputed results instead)


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


def live_intro(experiment: Experiment, density: float = 0.1, decay: float = 0.9):
    """The intro's five features in two dimensions, retrained (``experiment``: ``tm.preset("intro_live")``,
    under half a second) for the density and importance decay I_i = decay^i chosen on two sliders."""
    import ipywidgets

    n = experiment.model.n_features

    def draw(density: float, decay: float) -> go.Figure:
        importance = importance_decay(n, decay)
        best = train(experiment.replace(feature_probability=density, importance=importance, progress=False)).best()
        title = f"{experiment.name}: sparsity {sparsity_label(density)}, I<sub>i</sub> = {decay:.2f}<sup>i</sup>"
        return plots.features_2d(best.W[0], importance, title=f"{title}<br>{describe(best.W)[0]}")

    style = dict(continuous_update=False, style={"description_width": "initial"})
    return live_figure(
        draw,
        density=ipywidgets.FloatLogSlider(density, base=10, min=-2, max=0, step=0.05, description="density 1−S",
                                          readout_format=".3f", **style),
        decay=ipywidgets.FloatSlider(decay, min=0.5, max=1.0, step=0.01, description="importance decay", **style),
    )


# ----------------------------------------------------------------------------------------------------
# Phase diagrams (§3)


def phase_agreement_table(diagrams: dict) -> Table:
    """One row per named ``(EmpiricalPhaseDiagram, TheoryPhaseDiagram)``: its grid, how often the trained
    phase is the theory's (most common phase of the kept fits, and the lowest-loss fit's), how pure the grid
    points are, and how many fits took the confused solution or are far (Gram distance > 0.5) from every phase."""
    rows = []
    for name, (empirical, theory_diagram) in diagrams.items():
        R, S, K = empirical.fit_phase.shape
        confused = empirical.names.index("confused") if "confused" in empirical.names else -1
        rows.append((
            name, f"{R} × {S} × {K}",
            f"{empirical.agreement(theory_diagram.on_grid):.1%}",
            f"{empirical.agreement(theory_diagram.on_grid, best=True):.1%}",
            f"{empirical.purity.mean():.1%}",
            str(int((empirical.fit_phase == confused).sum())),
            str(int((empirical.fit_distance > 0.5).sum())),
        ))
    return Table(("setup", "grid (r × density × fits)", "agree: most common phase", "agree: lowest-loss fit",
                  "kept fits in the common phase", "confused fits", "fits far from every phase"), tuple(rows))


def phase_disagreements(empirical, theory_diagram) -> Table:
    """The grid points where the kept fits' most common phase differs from the theory's: the kept fits'
    phases (counts), the lowest-loss fit's phase, and the theory's."""
    from .phase import PHASE_DESCRIPTIONS

    rows = []
    for i, j in np.argwhere(empirical.phase != theory_diagram.on_grid):
        counts = Counter(empirical.names[k] for k in empirical.fit_phase[i, j][empirical.kept[i, j]])
        kept = ", ".join(f"{count} {PHASE_DESCRIPTIONS[name]}" for name, count in counts.most_common())
        rows.append((f"{empirical.relative_importance[i]:.3g}", f"{empirical.density[j]:.3g}", kept,
                     PHASE_DESCRIPTIONS[empirical.names[empirical.best_phase[i, j]]],
                     PHASE_DESCRIPTIONS[empirical.names[theory_diagram.on_grid[i, j]]]))
    return Table(("r", "density", "kept fits", "lowest-loss fit", "theory"), tuple(rows))


def phase_theory_table(densities=(1.0, 0.6, 0.3, 0.1, 0.03, 0.01), n_samples: int = 400_000) -> Table:
    """The closed forms behind the diagrams at a few densities s: the cost q of an ignored feature, the cost
    g of one half of an antipodal pair with b = 0 (the paper's s²/6) and with the optimal bias b*, the
    window r_low < r < 1/r_low where the pair wins for n = 2, and a Monte Carlo estimate of the pair's cost
    (n_samples samples at W = [1, −1], b = b*) with its standard error."""
    rows = []
    for s in densities:
        q, g0, g = (float(v) for v in (theory.ignored_feature_loss(s), theory.antipodal_feature_loss(s, False),
                                       theory.antipodal_feature_loss(s)))
        r_low, _ = theory.antipodal_window(s)
        W, b = theory.candidate_solution("antipodal", s)
        mc, stderr = theory.expected_loss_monte_carlo(W, b, 1.0, s, n_samples=n_samples, return_stderr=True)
        window = "none (q ≤ 2g)" if np.isnan(r_low) else f"{float(r_low):.3g} – {1 / float(r_low):.3g}"
        rows.append((f"{s:g}", f"{q:.3g}", f"{g0:.3g}", f"{float(theory.antipodal_optimal_bias(s)):.3g}",
                     f"{g:.3g}", f"{mc / 2:.3g} ± {stderr / 2:.1g}", window))
    return Table(("density s", "q (ignored)", "g, b = 0", "b*", "g, b = b*", "g, Monte Carlo", "antipodal window in r"),
                 tuple(rows))


def phase_column_slider(result: TrainResult, density: float):
    """A plotly slider along r at the grid density nearest to ``density`` of a trained n = 3, m = 2 phase grid:
    the lowest-loss fit's features in the hidden plane (the extra feature is the last), labelled with its phase."""
    from .phase import PHASE_DESCRIPTIONS, classify, grid_axes, nearest_column, phases

    r, s = grid_axes(result.experiment)
    density_index = nearest_column(s, density)
    if result.experiment.model.n_hidden != 2:
        raise ConfigError("phase_column_slider draws m = 2 models: use the phase_change_3 grid")
    best = result.best().W.detach().numpy().reshape(len(r), len(s), 2, -1)[:, density_index]
    names = [PHASE_DESCRIPTIONS[phases(3)[index]] for index in classify(best)[0]]
    labels = [f"r = {value:.3g}" for value in r]
    titles = [f"1−S = {s[density_index]:.3g}, r = {value:.3g}: {name}" for value, name in zip(r, names)]
    return plots.instance_slider(
        lambda k: plots.features_2d(best[k], [1.0, 1.0, r[k]], title=titles[k]), len(r), labels,
    )


def live_phase_point(experiment: Experiment, relative_importance: float = 1.0, density: float = 0.3):
    """Train one point of the n = 3, m = 2 diagram on demand (``experiment``: ``tm.preset("phase_change_live")``):
    sliders for r and the density; the lowest-loss fit's features, its phase and the theory's."""
    import ipywidgets

    from .phase import PHASE_DESCRIPTIONS, classify

    def draw(relative_importance: float, density: float) -> go.Figure:
        importance = [1.0, 1.0, relative_importance]
        best = train(experiment.replace(feature_probability=density, importance=importance, progress=False)).best()
        found = PHASE_DESCRIPTIONS[theory.PHASE_CANDIDATES[3][int(classify(best.W[0])[0])]]
        predicted = PHASE_DESCRIPTIONS[theory.PHASE_CANDIDATES[3][int(theory.phase_diagram(3, relative_importance, density)[0])]]
        title = f"r = {relative_importance:.3g}, 1−S = {density:.3g}<br>trained: {found}<br>theory: {predicted}"
        return plots.features_2d(best.W[0], importance, title=title)

    style = dict(continuous_update=False, style={"description_width": "initial"})
    return live_figure(
        draw,
        relative_importance=ipywidgets.FloatLogSlider(relative_importance, base=10, min=-1, max=1, step=0.05,
                                                      description="relative importance r", readout_format=".3g", **style),
        density=ipywidgets.FloatLogSlider(density, base=10, min=-2, max=0, step=0.05, description="density 1−S",
                                          readout_format=".3f", **style),
    )


# ----------------------------------------------------------------------------------------------------
# The geometry of superposition (§4): non-uniform superposition, correlated and anticorrelated sets


def non_uniform_table(sweep) -> Table:
    """One row per varied density of a :class:`toymodels.geometry.NonUniformSweep`: how many times sparser than
    the others the varied feature is, how many fits are pentagons / two digons / other, the lowest-loss fit's
    class, the varied feature's room in the lowest-loss pentagon (mean angle to its two neighbours; 72° when
    regular), and the lowest losses of each solution (per sample, summed over features) with the closed form."""
    from .geometry import NON_UNIFORM_CLASSES

    counts = sweep.counts()
    number = lambda value, spec=".5f": "–" if np.isnan(value) else f"{value:{spec}}"  # noqa: E731
    rows = tuple(
        (f"{p:.4g}", f"{sweep.base_density / p:.2f}", " / ".join(map(str, count)), NON_UNIFORM_CLASSES[best],
         number(room, ".1f"), number(pentagon), number(digons), f"{theory_digons:.5f}")
        for p, count, best, room, pentagon, digons, theory_digons in zip(
            sweep.varied_density, counts.tolist(), sweep.best_class, sweep.pentagon_room, sweep.pentagon_loss,
            sweep.digon_loss, sweep.digon_theory)
    )
    return Table(("varied density", "× sparser", "fits: pentagon / digons / other", "lowest-loss fit",
                  "pentagon: room of the varied feature (°)", "pentagon loss", "two digons loss",
                  "two digons, closed form"), rows)


def non_uniform_threshold(sweep) -> Table:
    """The pentagon → two digons threshold of a :class:`toymodels.geometry.NonUniformSweep` next to the paper's:
    where the lowest-loss pentagon and two digons cost the same (trained digons, and the closed form), and
    the grid interval where the lowest-loss fit changes."""
    from .geometry import PAPER_THRESHOLD_RATIO

    base = sweep.base_density
    low, high = sweep.switch
    rows = (
        ("losses cross (trained fits)", f"{sweep.threshold:.4g}", f"{base / sweep.threshold:.2f}"),
        ("losses cross (digons in closed form)", f"{sweep.threshold_theory:.4g}", f"{base / sweep.threshold_theory:.2f}"),
        ("lowest-loss fit turns pentagon between", f"{low:.4g} – {high:.4g}", f"{base / high:.2f} – {base / low:.2f}"),
        ("paper", f"≈ {base / PAPER_THRESHOLD_RATIO:.3g}", f"≈ {PAPER_THRESHOLD_RATIO:g}"),
    )
    return Table(("pentagon → two digons", "varied density", f"× sparser than {base:g}"), rows)


def arrangement_table(sweeps: dict) -> Table:
    """One row per named :class:`toymodels.geometry.SetSweep` of a single setting (or per setting of a sweep):
    the density, each set's arrangement in the lowest-loss fit with its members' cosine, whether every feature
    has an antipodal partner in another set, and how many fits share that arrangement."""
    from .geometry import ANTIPODAL_COS, ARRANGEMENTS

    rows = []
    for name, sweep in sweeps.items():
        for s, p in enumerate(sweep.density):
            names = [ARRANGEMENTS[a] for a in sweep.arrangement[s]]
            same = (sweep.fit_arrangement[s] == sweep.arrangement[s]).all(-1).sum()
            rows.append((
                name, f"{p:.3g}", ", ".join(names), _vector(sweep.cosine[s]),
                "yes" if (sweep.across_cosine[s] <= ANTIPODAL_COS).all() else "no",
                f"{same}/{sweep.fit_arrangement.shape[1]}", f"{sweep.fit_loss[s, sweep.best[s]]:.3g}",
            ))
    return Table(("setup", "1−S per set", "sets (lowest-loss fit)", "cos within sets", "antipodal across sets",
                  "fits alike", "loss"), tuple(rows))


def collapse_bands_table(sweep) -> Table:
    """The collapse bands of the superposition-vs-PCA sweep (a :class:`toymodels.geometry.SetSweep` over
    densities): each run of densities with the same number of collapsed sets in the lowest-loss fit, its
    share of ‖W‖² along the principal components, and the paper's band for that number."""
    from .geometry import PAPER_COLLAPSE_BANDS, collapse_bands

    paper = {0: PAPER_COLLAPSE_BANDS[0][1], 1: PAPER_COLLAPSE_BANDS[1][1], 2: PAPER_COLLAPSE_BANDS[2][1],
             3: f"{PAPER_COLLAPSE_BANDS[3][1]}; most PCA-like for {PAPER_COLLAPSE_BANDS[4][1]}"}
    rows = []
    for band in collapse_bands(sweep.density, sweep.collapsed):
        inside = (sweep.density >= band.low) & (sweep.density <= band.high)
        alignment = sweep.pca_alignment[inside]
        densities = f"{band.low:.3g}" if band.low == band.high else f"{band.low:.3g} – {band.high:.3g}"
        rows.append((str(band.count), densities, f"{alignment.min():.2f} – {alignment.max():.2f}", paper.get(band.count, "–")))
    return Table(("collapsed pairs", "1−S (lowest-loss fit)", "share of ‖W‖² along the principal components", "paper"),
                 tuple(rows))


def block_overlap_table(sweeps: dict) -> Table:
    """Within-set against across-set overlaps of WᵀW (:func:`toymodels.geometry.block_overlaps`) of the lowest-loss
    fit of each named :class:`toymodels.geometry.SetSweep`, at each of its settings, and each feature's cosine
    with its most opposed feature in another set (median and range over the features)."""
    from .geometry import block_overlaps

    rows = []
    for name, sweep in sweeps.items():
        for s, p in enumerate(sweep.density):
            best = block_overlaps(sweep.best_W[s], sweep.set_size)
            opposed = sweep.across_cosine[s]
            rows.append((name, f"{p:.3g}", f"{float(best.within):.3f}", f"{float(best.across):.3f}",
                         f"{float(best.across) / max(float(best.within), 1e-12):.1f}", f"{float(best.across_share):.1%}",
                         f"{np.median(opposed):.2f} ({opposed.min():.2f} – {opposed.max():.2f})"))
    return Table(("setup", "1−S per set", "mean |W_i·W_j| within sets", "across sets", "across / within",
                  "share of Σ(W_i·W_j)² across sets", "cos with the most opposed feature of another set"), tuple(rows))


def _best_fit(experiment: Experiment):
    """Train ``experiment`` (one setting) and return its trained result and the lowest expected-loss fit's index."""
    from . import geometry

    result = train(experiment)
    losses = geometry.fit_losses(result, n_points=512)
    return result, losses, int(losses[0].argmin())


def live_non_uniform(experiment: Experiment, varied_density: float = 0.02):
    """The non-uniform model retrained for the density of feature 0 chosen on a slider (``experiment``:
    ``tm.preset("non_uniform")``, whose other densities are kept): the lowest-loss fit's features (by
    :func:`toymodels.geometry.fit_losses`), its class and loss, and the closed-form loss of two digons.
    The full protocol (10 fits of 10k steps) takes about 3 s per redraw on two cores;
    ``.replace(steps=1500, lr=1e-2, n_seeds=8)`` about 0.6 s, and gave the same lowest-loss class at all 20
    densities of the preset's grid (tests/test_geometry.py checks 0.005 and 0.05)."""
    import ipywidgets

    from . import geometry

    base = experiment.probability_tensor(per="setting")[0].double().numpy()
    names = ["feature 0 (density varied)", f"the others (density {base[1]:g})"]

    def draw(varied_density: float) -> go.Figure:
        probability = base.copy()
        probability[0] = varied_density
        result, losses, k = _best_fit(experiment.replace(feature_probability=[probability.tolist()], progress=False))
        W = result.model.W.detach().numpy()[k]
        found = geometry.NON_UNIFORM_CLASSES[int(geometry.classify_non_uniform(W))]
        closed = float(geometry.digon_loss_theory(varied_density, float(base[1])))
        title = (f"feature 0 at density {varied_density:.3g} ({base[1] / varied_density:.2f}× sparser): {found}<br>"
                 f"loss {losses[0, k]:.5f}; two digons would cost {closed:.5f}")
        return plots.features_2d_groups(W, [0, 1, 1, 1, 1], names, title=title)

    style = dict(continuous_update=False, style={"description_width": "initial"})
    return live_figure(
        draw,
        varied_density=ipywidgets.FloatLogSlider(varied_density, base=10, min=np.log10(0.005), max=np.log10(0.2),
                                                 step=0.02, description="density of feature 0", readout_format=".4f",
                                                 **style),
    )


def live_correlated(experiment: Experiment, density: float = 0.05):
    """A correlated or anticorrelated m = 2 model retrained for the density (each set's 1 − S) chosen on a slider
    (``experiment``: e.g. ``tm.preset("correlated_3_pairs")``): the lowest-loss fit's features coloured by set,
    and each set's arrangement. As for :func:`live_non_uniform`, ``.replace(steps=1500, lr=1e-2, n_seeds=8)``
    redraws in under a second instead of about 3 s; on the ``pca_sweep`` grid it gave the full protocol's number
    of collapsed pairs at 15 of 16 densities (one collapsed instead of none at 0.058)."""
    import ipywidgets

    from . import geometry

    n, k = experiment.model.n_features, experiment.data.set_size
    groups = np.arange(n) // k
    names = [f"set {s + 1}" for s in range(n // k)]

    def draw(density: float) -> go.Figure:
        result, losses, best = _best_fit(experiment.replace(feature_probability=density, progress=False))
        W = result.model.W.detach().numpy()[best]
        sets = ", ".join(geometry.ARRANGEMENTS[a] for a in geometry.classify_sets(W, k))
        title = f"{experiment.name}, 1−S = {density:.3g}<br>sets: {sets}; loss {losses[0, best]:.5f}"
        return plots.features_2d_groups(W, groups, names, title=title)

    style = dict(continuous_update=False, style={"description_width": "initial"})
    return live_figure(
        draw,
        density=ipywidgets.FloatLogSlider(density, base=10, min=-2, max=np.log10(0.8), step=0.05,
                                          description="density 1−S of each set", readout_format=".3f", **style),
    )


# ----------------------------------------------------------------------------------------------------
# Uniform superposition (§4)


def uniform_table(result: TrainResult, represented: float = 0.5, overlap: float = 0.1, tolerance: float = 0.03) -> Table:
    """One row per density of a best-of-K uniform-superposition sweep: 1/(1−S), dimensions per feature D*,
    learned features, Σ_i D_i (≈ m when the features pack the space), the share of learned features whose D_i
    lies within ``tolerance`` of a polytope line, and the features in each kind of component of the geometry
    graph (:func:`toymodels.polytopes.polytope_counts`)."""
    from .polytopes import near_line, polytope_counts

    W = result.best().W.detach()
    m = result.experiment.model.n_hidden
    D = feature_dimensionality(W)
    learned = feature_norms(W) > represented
    columns = zip(_densities(result.experiment), W, dimensions_per_feature(W).tolist(), learned, D)
    rows = []
    for p, W_k, d_star, learned_k, D_k in columns:
        counts = polytope_counts(W_k, represented, overlap)
        shapes = ", ".join(f"{count} {label}" for label, count in sorted(counts.items(), key=lambda kv: -kv[1])
                           if label != "not learned" and count)
        on_line = f"{near_line(D_k[learned_k], tolerance).mean():.0%}" if learned_k.any() else "–"
        rows.append((f"{1 / p:.3g}", f"{d_star:.3f}", str(int(learned_k.sum())), f"{float(D_k.sum()):.1f}", on_line,
                     shapes or "–"))
    return Table(("1/(1−S)", "D*", "learned features", f"Σ D_i (m = {m})", f"D_i within {tolerance} of a line",
                  "features by component"), tuple(rows))


def uniform_training_table(result: TrainResult, represented: float = 0.5, tolerance: float = 0.03) -> Table:
    """How the uniform sweep's geometry sharpens with training, one row per snapshot: learned features over
    all densities, the share of them whose D_i lies within ``tolerance`` of a polytope line (1, 3/4, 2/3, 1/2,
    2/5, 3/8), and the loss summed over densities (the last row's is the evaluation loss)."""
    from .polytopes import near_line

    history = result.history
    if history is None:
        raise ConfigError("result has no snapshots: train with snapshot_every > 0 (the uniform preset does)")
    rows = []
    for step, W, loss in zip(history.steps.tolist(), history.W, history.losses):
        learned = feature_norms(W) > represented
        D = feature_dimensionality(W)[learned]
        share = float(near_line(D, tolerance).mean()) if len(D) else 0.0
        rows.append((f"{step:,}", str(int(learned.sum())), f"{share:.0%}", f"{float(loss.sum()):.4g}"))
    return Table(("step", "learned features (all densities)", f"D_i within {tolerance} of a polytope line", "loss"),
                 tuple(rows))


def uniform_plateaus(result: TrainResult, tolerance: float = 0.03) -> Table:
    """The sweep's sticky plateaus (:func:`toymodels.polytopes.plateaus`): for D* = 1 and 1/2, each run of
    neighbouring densities whose D* lies within ``tolerance`` of it, with its range of 1/(1−S), its number of
    densities and its mean D*; a value never reached shows as "none"."""
    from .polytopes import STICKY, plateaus

    inverse = [1 / p for p in _densities(result.experiment)]
    D_star = dimensions_per_feature(result.best().W.detach())
    found = plateaus(D_star, STICKY, tolerance)
    rows = [(f"{run.value:g}", f"{inverse[run.first]:.3g} to {inverse[run.last]:.3g}", str(run.last - run.first + 1),
             f"{float(D_star[run.first:run.last + 1].mean()):.3f}") for run in found]
    rows += [(f"{value:g}", "none", "0", "–") for value in STICKY if all(run.value != value for run in found)]
    return Table(("D* plateau", "1/(1−S)", "densities", "mean D*"), tuple(rows))


def dimensionality_clusters_table(result: TrainResult, represented: float = 0.5, tolerance: float = 0.03) -> Table:
    """Where the learned features' D_i cluster over a whole sweep (best fit per setting): for each polytope
    line d/k, the features within ``tolerance`` of it and their mean D_i, and the share of all learned features."""
    from .polytopes import POLYTOPE_FRACTIONS, dimensionality_clusters

    W = result.best().W.detach()
    D = feature_dimensionality(W)[feature_norms(W) > represented]
    rows = tuple(
        (name, f"{POLYTOPE_FRACTIONS[name]:.3f}", str(count), "–" if count == 0 else f"{mean:.3f}",
         f"{count / max(len(D), 1):.0%}")
        for name, (count, mean) in dimensionality_clusters(D, tolerance).items()
    )
    return Table(("polytope", "d/k", f"features within {tolerance} (nearest line)", "their mean D_i", "share of learned"), rows)
