"""Benchmark: the chapters' training runs in one process and split across the local process pool.

    .venv/bin/python benchmarks/bench_sharding.py               # ~4 min on 2 cores
    .venv/bin/python benchmarks/bench_sharding.py --steps 200   # quicker, noisier

For every experiment that chapters 1–4 train at paper fidelity, it trains the first ``--steps`` steps in this
process (``workers=1``) and on the pool (``workers`` = the cores), prints ms/step, the projected time of the full
run, the speed-up, and whether both gave the same weights and losses bit for bit. The pool is started (and
warmed) before timing; a chapter pays its start once, a few seconds.
"""

from __future__ import annotations

import argparse
import time

import torch
from machine import matmul_gflops

import toymodels as tm
from toymodels.block import available_cores, blocks
from toymodels.workers import default_workers, local_pool

CHAPTERS = {
    1: ["intro", "intro_sweep"],
    2: ["basic_linear", "basic_relu", "basic_linear_80", "basic_relu_80"],
    3: ["phase_change_2", "phase_change_3"],
    4: [
        "uniform",
        "non_uniform",
        "correlated",
        "anticorrelated",
        "correlated_3_pairs",
        "local_orthogonal_bases",
        "pca_sweep",
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=500, help="steps timed per experiment (the uniform sweep: 1/5)")
    args = parser.parse_args()
    cores = available_cores()
    print(f"torch {torch.__version__}, CPU kernels {torch.backends.cpu.get_cpu_capability()}, {cores} cores")
    print(f"matrix product (2048², float32): {matmul_gflops():.0f} GFLOP/s")
    list(local_pool().map(abs, range(cores)))  # start the workers
    print(
        f"{'chapter / experiment':>30} | blocks | default | {'1 process':>16} | {f'{cores} workers':>16} | "
        f"speed-up | same bits"
    )
    totals = {}
    for chapter, names in CHAPTERS.items():
        for name in names:
            full = tm.preset(name)
            steps = min(full.train.steps, args.steps // 5 if name == "uniform" else args.steps)
            exp = full.replace(steps=steps, snapshot_every=0, progress=False)
            runs = {}
            for workers in (1, cores):
                start = time.perf_counter()
                runs[workers] = tm.train(exp, workers=workers)
                runs[workers] = (runs[workers], time.perf_counter() - start)
            (one, t1), (many, tn) = runs[1], runs[cores]
            same = torch.equal(one.model.W, many.model.W) and torch.equal(one.losses, many.losses)
            scale = full.train.steps / steps
            default = default_workers(full)
            totals.setdefault(chapter, [0.0, 0.0])
            totals[chapter][0] += t1 * scale
            totals[chapter][1] += (tn if default > 1 else t1) * scale
            print(
                f"{f'{chapter} / {name}':>30} | {len(blocks(full)):6d} | {default:7d} | "
                f"{1e3 * t1 / steps:8.2f} ms/step | {1e3 * tn / steps:8.2f} ms/step | {t1 / tn:7.2f}x | "
                f"{'yes' if same else 'NO'}"
            )
    print("projected training time of each chapter at paper fidelity (s): one process → the default split")
    for chapter, (one, default) in totals.items():
        print(f"  chapter {chapter}: {one:6.0f} → {default:6.0f}  ({one / default:.2f}x)")


if __name__ == "__main__":
    main()
