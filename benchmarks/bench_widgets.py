"""Benchmark: every chapter's live widget in a kernel, as a reader uses it: one control moved, retrain + redraw.

    .venv/bin/python benchmarks/bench_widgets.py          # about two minutes on 2 cores

Each widget is built as its chapter builds it (book settings, not the fast CI ones); then each of its controls is
moved to two other values in turn, and every move is timed (the figure updates in place, as in JupyterLab). It
prints the median and the largest move per widget, the target (1 s; the intro 0.3 s) and the matrix-product
GFLOP/s of the machine, which scales the times to another one.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import matmul_gflops  # noqa: E402

import toymodels as tm  # noqa: E402

TARGET_S = 1.0
INTRO_TARGET_S = 0.3


def widgets():
    """(name, build, {control index: two values}) for every chapter's live widget, at the chapter's settings."""
    tm.store.use_book_store()
    non_uniform = tm.preset("non_uniform").replace(steps=1500, lr=1e-2, n_seeds=8)
    correlated = tm.preset("correlated_3_pairs").replace(steps=1500, lr=1e-2, n_seeds=8)
    sae = tm.ways_out.sae_sweep(tm.store.train(tm.preset("sae_toy")), tm.ways_out.sae_protocol())
    return [
        ("intro (ch. 1)", lambda: tm.intro.live_intro(tm.preset("intro_live")), {0: (0.3, 0.03), 1: (0.8, 1.0)}),
        (
            "phase point (ch. 3)",
            lambda: tm.phase.live_phase_point(tm.preset("phase_change_live")),
            {0: (3.0, 0.3), 1: (0.1, 0.03)},
        ),
        ("non-uniform (ch. 4)", lambda: tm.geometry.live_non_uniform(non_uniform), {0: (0.05, 0.01)}),
        ("correlated (ch. 4)", lambda: tm.geometry.live_correlated(correlated), {0: (0.2, 0.02)}),
        (
            "transformations (ch. 5)",
            lambda: tm.dynamics.live_transformations(tm.preset("geometric_transformations_live")),
            {0: (1, 2)},
        ),
        (
            "attack (ch. 6)",
            lambda: tm.adversarial.live_attack(tm.preset("adversarial_live")),
            {0: (0.1, 0.02), 1: (0.2, 0.05)},
        ),
        (
            "privileged (ch. 7)",
            lambda: tm.privileged.live_privileged(tm.preset("privileged_basis_live")),
            {0: (0.3, 0.03)},
        ),
        (
            "absolute value (ch. 8)",
            lambda: tm.computation.live_absolute_value(tm.preset("absolute_value_live")),
            {0: (0.3, 0.1)},
        ),
        ("SAE (ch. 9)", lambda: tm.ways_out.live_sae(sae), {0: (0.03, 0.3), 1: (64, 256)}),
        (
            "nonlinearity (ch. 10)",
            lambda: tm.nonlinearities.live_nonlinearity(tm.preset("nonlinearity_live")),
            {0: ("relu", "tanh"), 1: (0.1, 0.01)},
        ),
        (
            "memorization (ch. 11)",
            lambda: tm.memorization.live_memorization(tm.presets.memorization_live()),
            {0: (50, 300)},
        ),
        (
            "scaling (ch. 13)",
            lambda: tm.scaling.live_scaling(tm.presets.scaling_live()),
            {0: (1.0, 2.0), 1: (-1.0, 1.0), 2: (16, 64)},
        ),
    ]


def main() -> None:
    gflops = matmul_gflops()
    print(f"machine: {gflops:.0f} GFLOP/s (float32 2048² matrix product)")
    print(f"{'widget':<26} {'first draw':>10} {'median move':>12} {'largest move':>13}  target")
    for name, build, moves in widgets():
        start = time.perf_counter()
        widget = build()
        first = time.perf_counter() - start
        controls = widget.children[0].children
        times = []
        for index, values in moves.items():
            for value in values:
                start = time.perf_counter()
                controls[index].value = value
                times.append(time.perf_counter() - start)
        target = INTRO_TARGET_S if name.startswith("intro") else TARGET_S
        worst = max(times)
        print(
            f"{name:<26} {first:>9.2f}s {statistics.median(times):>11.2f}s {worst:>12.2f}s  {target:g} s "
            f"{'ok' if worst <= target else 'over'}",
            flush=True,
        )


if __name__ == "__main__":
    main()
