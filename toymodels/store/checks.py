"""Comparing a re-training with a store entry: bit for bit on the machine that wrote it (:func:`machine`),
else to the measured tolerance (:data:`TOLERANCE`, :func:`compare`)."""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import torch


@cache
def machine() -> dict[str, str]:
    """This machine, as far as it decides the bits a seed trains to: the CPU (vendor, model name, family, model
    and stepping), torch's CPU kernels (the ATen capability, which ``$ATEN_CPU_CAPABILITY`` can lower) and torch's
    version. Recorded in every entry; :func:`verify` compares bit for bit only where it is the same."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                name, _, value = line.partition(":")
                fields.setdefault(name.strip(), value.strip())
                if not line.strip():
                    break  # the first processor's record is enough
    except OSError:
        pass
    cpu = " ".join(fields.get(name, "") for name in ("vendor_id", "model name")).strip() or platform.processor()
    numbers = ", ".join(f"{name} {fields[name]}" for name in ("cpu family", "model", "stepping") if name in fields)
    return {
        "cpu": f"{cpu} ({numbers})" if numbers else cpu or platform.machine(),
        "aten": torch.backends.cpu.get_cpu_capability(),
        "torch": torch.__version__,
    }


# How a re-training on another machine is judged (:func:`compare`). Another CPU's kernels change float32 results in
# their last bit (~6e-8); training carries the difference along, and where a fit's dynamics are unstable (between
# two geometries, under an L1 penalty, over a long run) it can end in another local minimum. So each fit (instance)
# is compared on its own: its weights relative to max(1, its largest stored weight) — 1 being the norm of a
# represented feature, so that a fit whose weights all decayed to ~0 is not judged on noise — and its loss relative
# to the compared fits' largest loss. A fit within TOLERANCE agrees; one beyond it took another path. An entry
# holds if at most MAX_OTHER_PATHS of its fits took another path and the conclusions the chapters draw hold: each
# setting's best-of-K loss within TOLERANCE["best loss"] (relative to the compared fits' largest loss), and the
# same features represented in every fit that agrees. A changed seed, sampler or schedule moves every fit
# (differences 0.1 to 1), so it still fails. Measured with tools/verify_store.py --sample on an AMD EPYC (its
# AVX-512 kernels, and ATEN_CPU_CAPABILITY=default) against the 60 entries written on an Intel Xeon (AVX2): at most
# 1.7e-2 in a fit's weights, 9.6e-4 in a fit's loss, 5.3e-3 in a best-of-K loss, and 14 of 25 fits on another
# path (the asymmetric motif search, the least stable); each tolerance is about three times that (README).
TOLERANCE = {"weights": 5e-2, "losses": 3e-3, "best loss": 2e-2}


MAX_OTHER_PATHS = 0.9  # measured at most 14 of 25 (56 %); a changed trainer moves every fit


_EXACT_KINDS = "biu"  # integer and boolean arrays (seeds, counts): no kernel rounds them, compared exactly


def _is_loss(name: str) -> bool:
    return "loss" in name


def relative_difference(stored: np.ndarray, fresh: np.ndarray) -> float:
    """max |fresh − stored| / max |stored| in float64 (0: equal; inf: another shape, or NaN where the other has
    none): the size of a difference, as :func:`verify` prints it."""
    stored, fresh = np.asarray(stored), np.asarray(fresh)
    if stored.shape != fresh.shape:
        return float("inf")
    if np.array_equal(stored, fresh, equal_nan=stored.dtype.kind == "f"):
        return 0.0
    stored, fresh = stored.astype(np.float64), fresh.astype(np.float64)
    if not np.array_equal(np.isnan(stored), np.isnan(fresh)):
        return float("inf")
    finite = ~np.isnan(stored)
    scale = np.abs(stored[finite]).max(initial=0.0)
    difference = np.abs(fresh[finite] - stored[finite]).max(initial=0.0)
    return difference / scale if scale > 0 else float("inf")


@dataclass
class Check:
    """What re-computing an entry found: ``what`` was recomputed; ``mode`` is ``"bit for bit"`` (on the machine
    that wrote the entry) or ``"to tolerance"`` (elsewhere); ``differences``: each array's
    :func:`relative_difference`; ``other_paths``: the fits that took another path (to tolerance); ``failed``: what
    does not hold (empty: the entry holds)."""

    what: str
    mode: str
    differences: dict[str, float] = field(default_factory=dict)
    other_paths: tuple[int, int] = (0, 0)  # (fits beyond the weight tolerance, fits compared)
    failed: list[str] = field(default_factory=list)
    written_on: str = ""  # the CPU that wrote the entry, as its record names it
    # To tolerance: the largest difference, in the units of TOLERANCE, of a fit's weights and loss among the fits
    # that took the same path, and of a setting's best-of-K loss.
    measured: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: the verdict, in which mode, and the largest differences."""
        if self.failed:
            return f"DIFFERS ({self.mode}) in {'; '.join(self.failed)}"
        if self.mode == "bit for bit":
            return "equal, bit for bit"
        other, fits = self.other_paths
        paths = f"; {other} of {fits} fits took another path" if other else ""
        measured = ", ".join(f"{name} {value:.1e}" for name, value in self.measured.items())
        return f"within tolerance of {self.written_on}'s ({measured}{paths}; same conclusions)"


def _per_fit(name: str, array: np.ndarray) -> np.ndarray:
    """An array with the fits on its first axis, as float64: snapshots (``history_*``) carry them on the second."""
    array = np.asarray(array, dtype=np.float64)
    return np.moveaxis(array, 1, 0) if name.startswith("history_") else array


def compare(
    meta: dict, stored: dict[str, np.ndarray], fresh: dict[str, np.ndarray], first: int = 0, fits: int = 0
) -> Check:
    """Compare recomputed arrays with stored ones (every array with one row per fit on its first axis, or its
    second for snapshots): bit for bit if this machine is the one that wrote the entry (``meta["machine"]``), else
    to tolerance (:data:`TOLERANCE`, the comment above it). ``first``: the entry's index of the arrays' first fit;
    ``fits``: fits per setting (0: the arrays hold no settings, no best-of-K to check). Returns a :class:`Check`
    without ``what``."""
    same_machine = meta.get("machine") == machine()
    written_on = meta.get("machine", {}).get("cpu", "an unrecorded machine")
    check = Check("", "bit for bit" if same_machine else "to tolerance", written_on=written_on)
    names = sorted(set(stored) | set(fresh))
    for name in names:
        if name not in stored or name not in fresh:
            check.failed.append(f"{name} (only in the {'store' if name in stored else 'recomputation'})")
        else:
            check.differences[name] = relative_difference(stored[name], fresh[name])
            if same_machine and not _bit_equal(stored[name], fresh[name]):
                check.failed.append(f"{name} (relative difference {check.differences[name]:.1e})")
    if same_machine:
        return check
    check.failed += [
        f"{name} (shape {np.shape(stored[name])} in the store, {np.shape(fresh[name])} recomputed)"
        for name in check.differences
        if np.shape(stored[name]) != np.shape(fresh[name])
    ]
    if check.failed:
        return check
    exact = [name for name in names if np.asarray(stored[name]).dtype.kind in _EXACT_KINDS or name == "history_steps"]
    check.failed += [f"{name} (not equal)" for name in exact if not np.array_equal(stored[name], fresh[name])]
    weights = [name for name in names if name not in exact and not _is_loss(name)]
    losses = [name for name in names if _is_loss(name) and name not in exact]
    if not weights:  # losses alone (a kind that keeps no weights): each fit's loss within its tolerance
        if losses:
            other = np.any(
                [_fit_loss_differences(stored[name], fresh[name], name) > TOLERANCE["losses"] for name in losses], 0
            )
            check.other_paths = (int(other.sum()), len(other))
            check.measured["losses"] = max(
                float(_fit_loss_differences(stored[name], fresh[name], name).max(initial=0.0)) for name in losses
            )
            if other.mean() > MAX_OTHER_PATHS:
                check.failed.append(
                    f"{other.sum()} of {len(other)} fits' losses beyond the tolerance ({check.measured['losses']:.1e} "
                    f"> {TOLERANCE['losses']:.0e})"
                )
        return check
    # Each fit's weights relative to max(1, its largest stored weight).
    stored_w = {name: _per_fit(name, stored[name]) for name in weights}
    stored_w = {name: array.reshape(len(array), -1) for name, array in stored_w.items()}
    fresh_w = {name: _per_fit(name, fresh[name]).reshape(len(stored_w[name]), -1) for name in weights}
    scale = np.maximum(1.0, np.max([np.abs(w).max(1) for w in stored_w.values()], axis=0))
    apart = np.max([np.abs(fresh_w[name] - stored_w[name]).max(1) for name in weights], axis=0) / scale
    other = apart > TOLERANCE["weights"]
    if np.isnan(apart).any():
        check.failed.append("weights (NaN where the store has none, or the reverse)")
    for name in losses:
        other |= _fit_loss_differences(stored[name], fresh[name], name) > TOLERANCE["losses"]
    check.other_paths = (int(other.sum()), len(other))
    check.measured["weights"] = float(apart[~other].max(initial=0.0))
    if losses:
        check.measured["losses"] = max(
            float(_fit_loss_differences(stored[name], fresh[name], name)[~other].max(initial=0.0)) for name in losses
        )
    if other.mean() > MAX_OTHER_PATHS:
        check.failed.append(
            f"{other.sum()} of {len(other)} fits beyond the tolerance (weights {apart.max():.1e} > "
            f"{TOLERANCE['weights']:.0e}): more than {MAX_OTHER_PATHS:.0%} of them, not another CPU's rounding"
        )
    check.failed += _changed_conclusions(stored, fresh, other, first, fits, check.measured)
    return check


def _fit_loss_differences(stored: np.ndarray, fresh: np.ndarray, name: str) -> np.ndarray:
    """Each fit's largest loss difference, relative to the largest stored loss of the compared fits."""
    old, new = _per_fit(name, stored), _per_fit(name, fresh)
    old, new = old.reshape(len(old), -1), new.reshape(len(new), -1)
    return np.abs(new - old).max(1) / max(np.abs(old).max(), 1e-30)


def _changed_conclusions(
    stored: dict, fresh: dict, other: np.ndarray, first: int, fits: int, measured: dict | None = None
) -> list[str]:
    """What a chapter concludes from an experiment's arrays that differs between two machines' runs: the best-of-K
    loss of a setting (beyond ``TOLERANCE["best loss"]`` of the compared fits' largest loss) and which features
    are represented, ‖W_i‖ > 0.5, in a fit that took the same path (``other`` False; unless a norm is within the
    weight tolerance of 0.5). ``first``: the entry's index of the arrays' first fit; ``fits``: fits per setting
    (0: no settings). ``measured["best loss"]`` gets the largest change of a best-of-K loss."""
    changed = []
    if fits and "losses" in stored:
        losses, new = stored["losses"].astype(np.float64), fresh["losses"].astype(np.float64)
        scale = max(np.abs(losses).max(), 1e-30)  # as the fits' losses: a loss of ~0 is not judged on its own
        for start in range(-first % fits, len(losses) - fits + 1, fits):  # the settings wholly in the arrays
            best, new_best = losses[start : start + fits].min(), new[start : start + fits].min()
            if measured is not None:
                measured["best loss"] = max(measured.get("best loss", 0.0), abs(new_best - best) / scale)
            if abs(new_best - best) > TOLERANCE["best loss"] * scale:
                setting = (first + start) // fits
                changed.append(f"best-of-{fits} loss of setting {setting}: {best:.4g} → {new_best:.4g}")
    if "W" in stored and np.asarray(stored["W"]).ndim == 3:
        norms = [np.linalg.norm(arrays["W"].astype(np.float64), axis=-2) for arrays in (stored, fresh)]
        flipped = ((norms[0] > 0.5) != (norms[1] > 0.5)) & (np.abs(norms[0] - 0.5) > TOLERANCE["weights"])
        for fit in np.flatnonzero(flipped.any(-1) & ~other)[:4]:
            before, after = int((norms[0][fit] > 0.5).sum()), int((norms[1][fit] > 0.5).sum())
            changed.append(f"features represented in fit {first + fit}: {before} → {after}")
    return changed


def _bit_equal(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
