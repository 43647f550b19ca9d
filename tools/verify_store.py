"""Re-train the results store's entries from scratch and compare them with the store, bit for bit.

    python tools/verify_store.py             # every entry in full: the whole reproduction (make verify)
    python tools/verify_store.py --sample    # one block of every entry (make test's reproducibility check)

Each entry carries its experiment's fields, so it is re-trained from the store alone. A block trains to the
same bits alone as within its sweep (``toymodels.train``), so ``--sample`` re-trains the block with the fewest
instances of each entry and compares it with that block's slice of the entry: weights, losses, which fit each
instance is, and the training history. Blocks (or whole entries) train in parallel on the local process pool.
Exits non-zero if any entry is missing arrays, corrupt, or differs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import toymodels as tm
from toymodels import store
from toymodels.train import blocks, local_pool, train_blocks


def retrain(path: Path, sample: bool) -> tuple[str, float]:
    """Re-train ``path``'s entry (or its smallest block) and compare; returns (verdict, seconds)."""
    start = time.perf_counter()
    meta, stored = store.read_entry(path)
    experiment = tm.Experiment.from_dict(meta["experiment"])
    if sample:
        ranges = blocks(experiment)
        k = min(range(len(ranges)), key=lambda i: (ranges[i][1] - ranges[i][0], -i))
        fresh = _joined(train_blocks(experiment, k, k + 1))
        scale = len(stored["losses"]) / experiment.n_instances  # fits kept per fit trained (1 without halving)
        lo, hi = round(ranges[k][0] * scale), round(ranges[k][1] * scale)
        stored = {name: (array[:, lo:hi] if name.startswith("history_") and name != "history_steps" else
                         array if name == "history_steps" else array[lo:hi]) for name, array in stored.items()}
        what = f"block {k} (instances {ranges[k][0]}–{ranges[k][1] - 1} of {experiment.n_instances})"
    else:
        fresh = store.result_arrays(tm.train(experiment.replace(progress=False)))
        what = f"all {experiment.n_instances} instances"
    differ = [name for name in sorted(set(stored) | set(fresh))
              if name not in stored or name not in fresh or not np.array_equal(stored[name], fresh[name])]
    verdict = f"DIFFERS in {', '.join(differ)}" if differ else "equal"
    return f"{path.name}: {what}: {verdict}", time.perf_counter() - start


def _joined(parts: list[dict]) -> dict[str, np.ndarray]:
    """One block's arrays (train_blocks' output) as NumPy arrays named as in the store."""
    (part,) = parts
    return {name: tensor.numpy() for name, tensor in part.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", action="store_true", help="re-train one block of each entry (CI)")
    parser.add_argument("--directory", type=Path, default=None, help="default: the book's store")
    args = parser.parse_args(argv)
    entries = store.ResultsStore(args.directory, mode="use").entries()
    if not entries:
        print("results store: no entries to verify", file=sys.stderr)
        return 1
    start = time.perf_counter()
    failures = 0
    # Sampled blocks train side by side in the pool's processes; a full entry spreads its own blocks over it.
    if args.sample:
        futures = [local_pool().submit(retrain, path, True) for path in entries]
        outcomes = (future.result for future in futures)
    else:
        outcomes = (lambda path=path: retrain(path, False) for path in entries)
    for path, outcome in zip(entries, outcomes):
        try:
            line, seconds = outcome()
        except Exception as error:  # unreadable, corrupt, or another experiment's layout
            line, seconds = f"{path.name}: FAILED: {type(error).__name__}: {error}", 0.0
        failures += "equal" not in line.rsplit(": ", 1)[-1]
        print(f"{line} ({seconds:.0f} s)", flush=True)
    print(f"{len(entries) - failures} of {len(entries)} entries equal, bit for bit, in {time.perf_counter() - start:.0f} s "
          f"({'one block each' if args.sample else 'in full'}; {tm.__name__} trainer v{tm.TRAINER_VERSION})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
