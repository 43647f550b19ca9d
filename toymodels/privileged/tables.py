"""§8 (chapter 7): the privileged-basis tables: the regime of each density against the paper's, best-of-K for
K = 1, 10, 100, 1000, the regimes among all K fits, and successive halving against training every fit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from ..errors import ConfigError
from ..kit.table import Table
from .analysis import paper_regime, separator_neurons
from .sweep import PrivilegedSweep


def _paper(density: float) -> tuple[str, str, str]:
    band = paper_regime(density)
    if band is None:
        return "–", "–", "–"
    return band.regime, str(band.monosemantic), str(band.represented)


def regime_table(sweep: PrivilegedSweep) -> Table:
    """One row per density: the lowest-loss fit's monosemantic, polysemantic and dead neurons, features
    represented, its regime and separator neurons (:func:`separator_neurons`), against the paper's regime,
    monosemantic neurons and features."""
    rows = []
    for s, p in enumerate(sweep.density):
        reading = sweep.best_neurons(s)
        paper = _paper(p)
        rows.append(
            (
                f"{p:.3g}",
                reading.regime,
                paper[0],
                str(reading.monosemantic),
                paper[1],
                str(reading.n_represented),
                paper[2],
                str(reading.polysemantic),
                str(reading.dead),
                " ".join(map(str, separator_neurons(sweep.best_W[s], sweep.importance))) or "–",
                f"{sweep.best_loss[s]:.5f}",
            )
        )
    return Table(  # ours beside the paper's first: the book shows the first seven columns as one table
        (
            "1−S",
            "regime",
            "paper: regime",
            "monosemantic",
            "paper: monosemantic",
            "features represented",
            "paper: features",
            "polysemantic",
            "dead",
            "separator neurons",
            "loss",
        ),
        tuple(rows),
    )


def best_of_k_table(sweep: PrivilegedSweep, ks=(1, 10, 100, 1000), halved: PrivilegedSweep | None = None) -> Table:
    """Best-of-K from one run that trained every fit: for each density and K, the lowest-loss fit among seeds
    0…K−1, its loss, regime, features represented and monosemantic neurons. With ``halved`` (a run by successive
    halving at the same densities), its winner closes each density's rows, as best of its n_seeds."""
    ks = [k for k in ks if k <= sweep.n_seeds]
    if not ks:
        raise ConfigError(f"ks must hold at least one K <= n_seeds = {sweep.n_seeds}")
    rows = []
    for s, p in enumerate(sweep.density):
        picks = [(str(k), sweep, s, sweep.best_of(k)[s]) for k in ks]
        if halved is not None:
            h = halved.index(p)
            label = f"{halved.n_seeds}" + (" (halving)" if halved.halving else " (another run)")
            picks.append((label, halved, h, halved.best[h]))
        for label, run, i, j in picks:
            rows.append(
                (
                    f"{p:.3g}",
                    label,
                    f"{run.loss[i, j]:.5f}",
                    run.regime[i, j],
                    str(run.represented[i, j]),
                    str(run.monosemantic[i, j]),
                    _paper(p)[0],
                )
            )
    return Table(("1−S", "K", "loss", "regime", "features", "monosemantic", "paper"), tuple(rows))


def regime_counts_table(sweep: PrivilegedSweep, top: int = 6) -> Table:
    """The regimes among all fits of each density, most frequent first: how many fits end in each, and the
    lowest loss among them (the ``top`` most frequent; the rest summed in one row)."""
    rows = []
    for s, p in enumerate(sweep.density):
        counts = Counter(sweep.regime[s])
        for rank, (regime, count) in enumerate(counts.most_common()):
            if rank == top:
                rest = sum(c for _, c in counts.most_common()[top:])
                rarer = f"{len(counts) - top} rarer regime{'s' if len(counts) - top > 1 else ''}"
                rows.append((f"{p:.3g}", rarer, str(rest), f"{100 * rest / len(sweep.regime[s]):.1f} %", "–", "–"))
                break
            chosen = sweep.regime[s] == regime
            rows.append(
                (
                    f"{p:.3g}",
                    regime,
                    str(count),
                    f"{100 * count / len(sweep.regime[s]):.1f} %",
                    f"{sweep.loss[s][chosen].min():.5f}",
                    "yes" if regime == sweep.regime[s, sweep.best[s]] else "",
                )
            )
    return Table(("1−S", "regime", "fits", "share", "lowest loss", "the winner's"), tuple(rows))


def halving_table(halved: PrivilegedSweep, full: PrivilegedSweep) -> Table:
    """Successive halving against training every fit, at the densities ``full`` holds: each protocol's winner
    (precise loss, regime, features), and where the halving winner's loss ranks among the fully trained fits."""
    rows = []
    for s, p in enumerate(full.density):
        h = halved.index(p)
        if not np.isclose(halved.density[h], p):
            raise ConfigError(f"the halving run has no density {p:g} (it has {halved.density.tolist()})")
        winner = halved.best_loss[h]
        rank = int((full.loss[s] < winner).sum()) + 1
        rows.append(
            (
                f"{p:.3g}",
                f"{full.n_seeds} / {halved.n_seeds}",
                f"{full.best_loss[s]:.5f}",
                full.regime[s, full.best[s]],
                str(full.represented[s, full.best[s]]),
                f"{winner:.5f}",
                halved.regime[h, halved.best[h]],
                str(halved.represented[h, halved.best[h]]),
                f"{rank} of {full.loss.shape[1]}",
            )
        )
    return Table(
        (
            "1−S",
            "fits (all trained / halving)",
            "all trained: loss",
            "regime",
            "features",
            "halving: loss",
            "regime",
            "features",
            "halving winner's rank among all trained",
        ),
        tuple(rows),
    )


def ranking_table(sweep: PrivilegedSweep, ks=(10, 100, 1000)) -> Table:
    """Best-of-K ranked two ways, from a run that trained every fit: by 4 fresh batches (how the trainer ranks by
    default) and by the precise loss. For each density and K: each ranking's pick, its precise loss and regime."""
    if sweep.four_batch_loss is None:
        raise ConfigError("ranking_table needs a run that trained every fit (halving_steps=0)")
    rows = []
    for s, p in enumerate(sweep.density):
        for k in [k for k in ks if k <= sweep.n_seeds]:
            chosen = sweep.seeds[s] < k
            by_batches = int(np.where(chosen, sweep.four_batch_loss[s], np.inf).argmin())
            by_precise = int(sweep.best_of(k)[s])
            rows.append(
                (
                    f"{p:.3g}",
                    str(k),
                    sweep.regime[s, by_batches],
                    f"{sweep.loss[s, by_batches]:.5f}",
                    sweep.regime[s, by_precise],
                    f"{sweep.loss[s, by_precise]:.5f}",
                )
            )
    return Table(
        ("1−S", "K", "ranked on 4 batches: regime", "its precise loss", "ranked precisely: regime", "its loss"),
        tuple(rows),
    )


def draws_table(sweeps: Sequence[PrivilegedSweep], densities=(0.15, 0.12)) -> Table:
    """Per density: the paper's regime, the winner (lowest precise loss) of each independent draw of the protocol
    (``sweeps``: the chapter's run first, then :func:`~toymodels.privileged.independent_draws`), and how many
    draws the paper's regime wins."""
    rows = []
    for p in densities:
        winners = []
        for sweep in sweeps:
            s = sweep.index(p)
            if not np.isclose(sweep.density[s], p, rtol=1e-3):
                raise ConfigError(f"every sweep must hold density {p}; {sweep.name!r} has {sweep.density.tolist()}")
            winners.append(sweep.regime[s, sweep.best[s]])
        paper = _paper(p)[0]
        shown = " · ".join(w.replace(" ", "\u00a0") for w in winners)  # a regime's name never breaks
        rows.append((f"{p:.3g}", paper, shown, f"{winners.count(paper)} of {len(winners)}"))
    columns = ("1−S", "paper", "winner of each draw (the chapter's first)", "paper's regime wins")
    return Table(columns, tuple(rows))
