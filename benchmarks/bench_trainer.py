"""Benchmark: toymodels' trainer against the plain reference algorithm, side by side and interleaved.

    .venv/bin/python benchmarks/bench_trainer.py            # under a minute on 2 cores
    .venv/bin/python benchmarks/bench_trainer.py --device cuda

For each size it prints ms/step of the reference (torch's default threads, as a user would run it) and of the
trainer, their ratio, and the final loss of both after the same steps from the same initial weights, evaluated
on the same fresh batches. For the largest size it also prints the achieved GFLOP/s against a large matrix
product timed in the same run, and at the end the time of one live-slider update (retrain + redraw).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling reference.py, not an installed module
from machine import matmul_gflops, timed  # noqa: E402
from reference import ReferenceTrainer  # noqa: E402

import toymodels as tm  # noqa: E402

BATCH = 1024
SIZES = [  # (n_features, n_hidden, densities — one instance each, importance decay)
    (5, 2, tm.log_densities(1.0, 0.05, 10), 0.9),  # the intro model over the notebook's sweep
    (20, 5, tm.presets.BASIC_SWEEP, 0.7),  # basic results
    (400, 30, tm.log_densities(1.0, 0.01, 10), 1.0),  # uniform superposition
]


def experiment(n, m, densities, decay, steps, device) -> tm.Experiment:
    return tm.Experiment(
        tm.ModelConfig(n, m),
        feature_probability=densities,
        importance=tm.importance_decay(n, decay),
        train=tm.TrainConfig(steps=steps, batch_size=BATCH, progress=False, device=device),
        name=f"n={n}, m={m}",
    )


def compare(n, m, densities, decay, chunks, chunk_steps, device) -> dict:
    exp = experiment(n, m, densities, decay, chunks * chunk_steps, device)
    trainer = tm.Trainer(exp)
    side_by_side = trainer._side_by_side()
    reference = ReferenceTrainer(
        n, m, exp.probability_tensor(device=device), exp.importance_tensor(device=device), BATCH, seed=1
    )
    reference.model.to(device)
    reference.generator = torch.Generator(device).manual_seed(1)
    with torch.no_grad():  # the same initial weights, so the final losses differ only by the data drawn
        reference.model.W.copy_(trainer.model.W.transpose(1, 2))
    trainer.run(3), [reference.step() for _ in range(3)]  # warm-up (allocator, first-call dispatch)
    ours, theirs = [], []
    for _ in range(chunks):  # interleaved, so machine noise hits both alike
        theirs.append(timed(lambda: [reference.step() for _ in range(chunk_steps)], device) / chunk_steps)
        ours.append(timed(lambda: trainer.run(chunk_steps), device) / chunk_steps)
    reference_model = tm.ToyModel(exp.model, exp.n_instances, device=device)
    with torch.no_grad():
        reference_model.W.copy_(reference.model.W.transpose(1, 2))  # the notebook's layout is the transpose
        reference_model.b.copy_(reference.model.b_final)
    return {
        "ours_ms": 1e3 * statistics.median(ours),
        "reference_ms": 1e3 * statistics.median(theirs),
        "ours_loss": tm.evaluate(trainer.model, exp, n_batches=20).sum().item(),
        "reference_loss": tm.evaluate(reference_model, exp, n_batches=20).sum().item(),
        "steps": chunks * chunk_steps + 3,
        "flops_per_step": 10 * exp.n_instances * BATCH * n * m,  # 2 forward + 3 backward matmuls
        "setup": f"{len(trainer.blocks)} blocks"
        + (f", {side_by_side} side by side on threads" if side_by_side > 1 else ""),
    }


def live_slider_update(device: str) -> float:
    """Seconds for one live-widget update: retrain the intro model at a new setting and redraw in place."""
    exp = tm.preset("intro_live").replace(device=device)
    figure = tm.kit.features_2d(tm.train(exp).best().W[0], exp.importance_tensor(per="setting")[0])

    def update():
        best = tm.train(exp.replace(feature_probability=0.15)).best()
        fresh = tm.kit.features_2d(best.W[0], exp.importance_tensor(per="setting")[0])
        with figure.batch_update():
            for old, new in zip(figure.data, fresh.data):
                old.update(new)

    return min(timed(update, device) for _ in range(3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--chunks", type=int, default=8, help="interleaved timing rounds per size")
    args = parser.parse_args()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads by default, device {args.device}, batch {BATCH}"
    )
    peak = matmul_gflops(args.device)
    print(f"matrix product (2048², float32): {peak:.0f} GFLOP/s")
    print(
        f"{'size':>22} | {'reference ms/step':>17} | {'toymodels ms/step':>17} | {'speed-up':>8} | "
        f"{'final loss ref / ours (steps)':>30}"
    )
    for n, m, densities, decay in SIZES:
        chunk_steps = 250 if n * m < 1000 else 25
        row = compare(n, m, densities, decay, args.chunks, chunk_steps, args.device)
        size = f"n={n}, m={m}, {len(densities)} inst"
        print(
            f"{size:>22} | {row['reference_ms']:17.3f} | {row['ours_ms']:17.3f} | "
            f"{row['reference_ms'] / row['ours_ms']:7.1f}x | "
            f"{row['reference_loss']:.5f} / {row['ours_loss']:.5f} ({row['steps']})"
        )
        if n * m >= 1000:
            achieved = row["flops_per_step"] / (row["ours_ms"] / 1e3) / 1e9
            print(
                f"{'':>22}   achieved {achieved:.0f} GFLOP/s = {100 * achieved / peak:.0f} % of the matrix product "
                f"({row['setup']})"
            )
    print(f"live slider update (retrain intro model + redraw): {live_slider_update(args.device):.3f} s")


if __name__ == "__main__":
    main()
