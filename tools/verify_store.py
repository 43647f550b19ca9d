"""Re-train the results store's entries from scratch and compare them with the store: bit for bit on a machine
with the entry's fingerprint (CPU model, torch's kernels, torch's version), to tolerance elsewhere.

    python tools/verify_store.py             # every entry in full: the whole reproduction (make verify)
    python tools/verify_store.py --sample    # one block of every entry (make test's reproducibility check)
    python tools/verify_store.py --sample --details   # also every array's relative difference
    python tools/verify_store.py --sample --only phase-change-n-3 sae-toy   # the entries named so

Each entry carries its experiment's fields, so it is re-trained from the store alone
(:func:`toymodels.store.verify`). A block trains to the same bits alone as within its sweep, so ``--sample``
re-trains the block with the fewest instances of each entry and compares it with that block's slice of the
entry: weights, losses, which fit each instance is, and the training history. Each line says in which mode its
entry was compared (:func:`toymodels.store.compare`). Exits non-zero if any entry is unreadable, corrupt or
differs beyond its tolerance, or if the store is empty.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from toymodels import store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", action="store_true", help="re-train one block of each entry (CI)")
    parser.add_argument("--directory", type=Path, default=None, help="default: the book's store")
    parser.add_argument("--details", action="store_true", help="print every array's relative difference")
    parser.add_argument("--only", nargs="+", default=(), metavar="PREFIX", help="entries whose names start so")
    args = parser.parse_args(argv)
    echo = lambda line: print(line, flush=True)  # noqa: E731
    return 1 if store.verify(args.directory, args.sample, echo, args.details, tuple(args.only)) else 0


if __name__ == "__main__":
    sys.exit(main())
