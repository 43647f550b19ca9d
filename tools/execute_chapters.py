"""Execute the book's chapters with papermill: every notebook listed in _toc.yml, one process each.

    python tools/execute_chapters.py               # re-execute every chapter in place, at paper fidelity
    python tools/execute_chapters.py --retrain     # the same, re-training every results-store entry
    python tools/execute_chapters.py --fast --out _build/fast    # the CI check: fast parameters, copies
    python tools/execute_chapters.py --list        # the chapters, one path per line

At paper fidelity the chapters' heavy runs go through the results store (``toymodels.store``, ``book/results``):
entries that are missing or stale are trained and written, the others loaded; after a run of every chapter,
entries that no chapter used are deleted. In fast mode the store is neither read nor written.

Each chapter runs in its own papermill process under an outer time limit and is retried once: executing a
notebook with an ipywidgets cell through nbclient occasionally never returns after its last cell (see
TOOLCHAIN.md). The trainer's progress bar is switched off, so stderr stays empty. Outputs are then cleaned of
what changes from run to run without meaning anything (papermill's timings and per-cell metadata, the widget
state), so a committed chapter differs from the last only where its results do.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
VOLATILE_NOTEBOOK_METADATA = ("papermill", "widgets")
VOLATILE_CELL_METADATA = ("papermill", "execution")


def chapters(toc: Path = ROOT / "_toc.yml") -> list[Path]:
    """The notebooks of the table of contents, in reading order."""
    found: list[Path] = []

    def visit(entries) -> None:
        for entry in entries or []:
            if "file" in entry:
                path = ROOT / f"{entry['file']}.ipynb"
                if path.exists():
                    found.append(path)
            visit(entry.get("chapters")), visit(entry.get("sections"))
            for part in entry.get("parts", []):
                visit(part.get("chapters"))

    spec = yaml.safe_load(toc.read_text())
    visit(spec.get("chapters"))
    for part in spec.get("parts", []):
        visit(part.get("chapters"))
    return found


def clean(path: Path) -> None:
    """Strip run-to-run metadata from an executed notebook, in place."""
    notebook = nbformat.read(path, as_version=4)
    for key in VOLATILE_NOTEBOOK_METADATA:
        notebook.metadata.pop(key, None)
    for cell in notebook.cells:
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
    nbformat.write(notebook, path)


def run_papermill(source: Path, target: Path, parameters: dict, timeout: int, notebook_timeout: int, env: dict) -> int:
    """One papermill process (and its kernel, in the same process group) under a wall-clock limit; -1 if
    it had to be stopped."""
    command = [
        sys.executable,
        "-m",
        "papermill",
        str(source),
        str(target),
        "--cwd",
        str(source.parent),
        "-k",
        "python3",
        "--execution-timeout",
        str(timeout),
        "--log-level",
        "WARNING",
        "--no-progress-bar",
    ]
    for name, value in parameters.items():
        command += ["-p", name, str(value)]
    env = dict(os.environ, TOYMODELS_PROGRESS="0", PYDEVD_DISABLE_FILE_VALIDATION="1", **env)
    process = subprocess.Popen(command, env=env, start_new_session=True)
    try:
        return process.wait(timeout=notebook_timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # papermill and the kernel it started
        process.wait()
        print(f"  {source.name}: no result after {notebook_timeout} s; stopped", flush=True)
        return -1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter in _toc.yml")
    parser.add_argument("--fast", action="store_true", help="run with the parameter fast=True (CI)")
    parser.add_argument("--out", type=Path, help="write executed copies here instead of in place")
    parser.add_argument("--retrain", action="store_true", help="re-train every results-store entry from scratch")
    # Guards against a hung kernel, not speed targets: far above what any chapter takes on a slow machine.
    parser.add_argument("--timeout", type=int, default=3600, help="seconds a cell may take")
    parser.add_argument(
        "--notebook-timeout",
        type=int,
        default=7200,
        help="seconds a whole chapter may take before it counts as hung (then retried)",
    )
    parser.add_argument("--retries", type=int, default=1)
    parser.add_argument("--list", action="store_true", help="print the chapters' paths and exit")
    args = parser.parse_args(argv)

    notebooks = [path.resolve() for path in args.notebooks] or chapters()
    if not notebooks:
        print("no chapters found in _toc.yml", file=sys.stderr)
        return 1
    if args.list:
        print("\n".join(os.path.relpath(path) for path in notebooks))
        return 0
    parameters = {"fast": True} if args.fast else {}
    used = ROOT / "_build" / "store-used.txt"  # the store entries the chapters ask for (TOYMODELS_STORE_LOG)
    used.parent.mkdir(parents=True, exist_ok=True)
    used.write_text("")
    mode = "off" if args.fast else "retrain" if args.retrain else "update"
    env = {"TOYMODELS_STORE": mode, "TOYMODELS_STORE_LOG": str(used)}
    failed = []
    for source in notebooks:
        target = (args.out / source.name) if args.out else source
        scratch = ROOT / "_build" / "executing" / source.name  # a chapter is replaced only once it ran
        scratch.parent.mkdir(parents=True, exist_ok=True)
        for _attempt in range(1 + args.retries):
            start = time.monotonic()
            code = run_papermill(source, scratch, parameters, args.timeout, args.notebook_timeout, env)
            print(
                f"{os.path.relpath(source)}: {'ok' if code == 0 else f'failed ({code})'} "
                f"in {time.monotonic() - start:.0f} s",
                flush=True,
            )
            if code >= 0:  # done, or a cell raised: only a hang (-1) is worth another try
                break
        if code == 0:
            clean(scratch)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(scratch, target)
            print(f"  → {os.path.relpath(target)}", flush=True)
        else:
            failed.append(source.name)
            print(f"  the failed run is in {os.path.relpath(scratch)}", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    elif mode != "off" and not args.notebooks:
        from toymodels.store import ResultsStore, book_directory

        for path in ResultsStore(book_directory(), "update").prune(set(used.read_text().split())):
            print(f"results store: removed {os.path.relpath(path)} (no chapter uses it)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
