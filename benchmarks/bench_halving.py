"""Does successive halving pick winners as good as training every fit? (issue: best-of-K at paper scale)

    .venv/bin/python benchmarks/bench_halving.py [--fits 64] [--steps 10000]

Runs the privileged-basis protocol (n=10, m=5, I = 0.75^i, six densities) with K fits per density twice: every
fit trained for all steps, and by successive halving (the preset's schedule). For each density it prints the
full protocol's best loss, the halving winner's loss (evaluated on the same fresh batches), where that loss
ranks among the K fully trained fits, and how many features each winner represents; then both run times.
"""

from __future__ import annotations

import argparse
import time

from machine import matmul_gflops

import toymodels as tm
from toymodels.train import halving_schedule


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fits", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--cache", default=".cache/benchmarks", help="where the full protocol's run is cached")
    args = parser.parse_args()
    paper = tm.preset("privileged_basis")
    exp = paper.replace(n_seeds=args.fits, steps=args.steps, progress=False)
    start = time.perf_counter()
    full = tm.ResultsStore(args.cache).train(exp.replace(halving_steps=0))  # the slow reference run, kept for reruns
    full_seconds = time.perf_counter() - start
    start = time.perf_counter()
    halved = tm.train(exp)
    halved_seconds = time.perf_counter() - start
    schedule = halving_schedule(exp.train, args.fits)
    print(
        f"privileged basis, {exp.n_settings} densities × {args.fits} fits, {args.steps} steps; "
        f"halving cuts (step, fits kept): {schedule}"
    )
    print(
        f"{'density':>8} | {'full best loss':>14} | {'halving winner':>14} | {'rank among full':>15} | "
        "features full / halving"
    )
    full_losses = full.losses.view(exp.n_settings, args.fits)
    for k, density in enumerate(p[0] for p in exp.feature_probability):
        winner = halved.best_losses[k]
        rank = int((full_losses[k] < winner).sum()) + 1
        features = [tm.count_represented(r.best().W[k]).item() for r in (full, halved)]
        print(
            f"{density:8.2f} | {full.best_losses[k]:14.6f} | {winner:14.6f} | {rank:>7} of {args.fits:<5} | "
            f"{features[0]} / {features[1]}"
        )
    cost, alive, previous = 0, args.fits, 0  # fit-steps of one density under the halving schedule
    for step, kept in schedule + [(args.steps, 0)]:
        cost, alive, previous = cost + alive * (step - previous), kept, step
    print(
        f"time: every fit trained {full_seconds:.0f} s (0 s if cached), successive halving {halved_seconds:.0f} s; "
        f"fit-steps per density {args.fits * args.steps} vs {cost} ({args.fits * args.steps / cost:.1f}× fewer); "
        f"matrix product {matmul_gflops():.0f} GFLOP/s"
    )


if __name__ == "__main__":
    main()
