"""§5, learning dynamics: energy-level jumps of the per-feature dimensionalities D_i, and the named regimes of
the 6 → 3 correlated model along training.

**Plateaus and jumps** (:func:`plateaus`, :func:`detect_jumps`). A D_i path over snapshots is cut into
*plateaus*: maximal runs of at least ``min_length`` snapshots whose values stay within a band of width
2 × ``tolerance`` (a greedy scan from the first snapshot: a run grows while its maximum minus its minimum is at
most 2 × tolerance; a run too short to be a plateau is dropped one snapshot at a time). A *jump* is a move
from one plateau to the next whose levels (the plateaus' medians) differ by at least ``min_size`` and whose
gap (the snapshots between the end of the first and the start of the second) spans at most ``window``
snapshots. A slow drift longer than ``window`` is not a jump; neither is noise inside the band.

**Regimes** of the 6 → 3 model (:func:`name_regime`; two correlated sets of three features, features
``0–2`` and ``3–5``), from the feature norms and cosines of one snapshot, the first rule that holds:

* *not learned*: fewer than two features with ‖W_i‖ ≥ ``LEARNED_NORM``;
* *PCA-like*: every learned set collapsed onto one direction (all its members' cosines ≥ ``COLLAPSED_COS``),
  at least one set learned;
* *octahedron (pairs across sets)*: six learned features in three antipodal pairs (cos ≤ ``ANTIPODAL_COS``),
  the pairs mutually orthogonal (|cos| ≤ ``ORTHOGONAL_COS``), every pair joining a feature of one set to a
  feature of the other — the paper's strong attractor; *octahedron (pairs within sets)* when some pair lies
  inside a set;
* *orthogonal sets*: every learned set a local orthogonal basis (members pairwise |cos| ≤ ORTHOGONAL_COS), but
  not an octahedron;
* otherwise a description ``"k learned, a antipodal pairs, rank r"``.

:func:`regime_sequence` names every snapshot and merges neighbours with the same name into runs, dropping
runs shorter than ``min_length`` snapshots (transients between regimes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from ..metrics import runs
from ..validation import as_float64
from ..vocabulary import ANTIPODAL_COS, COLLAPSED_COS, LEARNED_NORM, ORTHOGONAL_COS, unit_columns

RANK_SHARE = 0.1  # a singular value counts towards the rank above this share of the largest


@dataclass(frozen=True)
class Plateau:
    feature: int
    start: int  # first snapshot index
    stop: int  # last snapshot index (inclusive)
    level: float  # median D over the plateau


@dataclass(frozen=True)
class Jump:
    """A move of feature ``feature``'s D from ``before`` to ``after`` between snapshots ``start`` (the last of
    the earlier plateau) and ``stop`` (the first of the later one)."""

    feature: int
    start: int
    stop: int
    before: float
    after: float

    @property
    def size(self) -> float:
        return self.after - self.before


def _path_matrix(D) -> np.ndarray:
    D = as_float64("D", D)
    if D.ndim == 1:
        D = D[:, None]
    if D.ndim != 2 or D.shape[0] < 1:
        raise ConfigError(f"D must have shape (n_snapshots,) or (n_snapshots, n_features), got {D.shape}")
    if not np.isfinite(D).all():
        raise ConfigError("D must be finite")
    return D


def _check(tolerance: float, min_length: int) -> None:
    if not (np.isfinite(tolerance) and tolerance > 0):
        raise ConfigError(f"tolerance must be a finite number > 0, got {tolerance!r}")
    if isinstance(min_length, bool) or not isinstance(min_length, (int, np.integer)) or min_length < 1:
        raise ConfigError(f"min_length must be a positive integer (>= 1), got {min_length!r}")


def plateaus(D, tolerance: float = 0.03, min_length: int = 5) -> list[Plateau]:
    """Plateaus of every feature's path D (n_snapshots,) or (n_snapshots, n_features), in feature then time
    order (rules in the module docstring)."""
    D = _path_matrix(D)
    _check(tolerance, min_length)
    found: list[Plateau] = []
    T = D.shape[0]
    for feature in range(D.shape[1]):
        path = D[:, feature]
        i = 0
        while i < T:
            low = high = path[i]
            j = i + 1
            while j < T:
                low, high = min(low, path[j]), max(high, path[j])
                if high - low > 2 * tolerance:
                    break
                j += 1
            if j - i >= min_length:
                found.append(Plateau(feature, i, j - 1, float(np.median(path[i:j]))))
                i = j
            else:
                i += 1
    return found


def detect_jumps(
    D, window: int = 10, min_size: float = 0.1, tolerance: float = 0.03, min_length: int = 5, levels=None
) -> list[Jump]:
    """Jumps of every feature's D path between consecutive plateaus (rules in the module docstring), ordered
    by the snapshot where they end, then by feature. With ``levels`` (a list of values), only jumps between
    plateaus whose levels both lie within ``tolerance`` of one of them count: energy-level jumps."""
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ConfigError(f"window must be a positive integer (>= 1), got {window!r}")
    if not (np.isfinite(min_size) and min_size > 0):
        raise ConfigError(f"min_size must be a finite number > 0, got {min_size!r}")
    allowed = None if levels is None else as_float64("levels", levels).ravel()

    def on_level(value: float) -> bool:
        return allowed is None or bool((np.abs(allowed - value) <= tolerance).any())

    found = []
    flat = plateaus(D, tolerance, min_length)
    for first, second in zip(flat, flat[1:]):
        if first.feature != second.feature:
            continue
        if (
            second.start - first.stop <= window
            and abs(second.level - first.level) >= min_size
            and on_level(first.level)
            and on_level(second.level)
        ):
            found.append(Jump(first.feature, first.stop, second.start, first.level, second.level))
    return sorted(found, key=lambda jump: (jump.stop, jump.feature))


def loss_changes(loss, jumps: list[Jump], span: int = 5) -> np.ndarray:
    """Relative loss change at each jump: the mean loss over the ``span`` snapshots after the jump ends, divided
    by the mean over the ``span`` snapshots before it starts, minus 1 (negative: the loss dropped). ``loss``:
    (n_snapshots,). Jumps too close to either end use what is there."""
    loss = as_float64("loss", loss)
    if loss.ndim != 1:
        raise ConfigError(f"loss must have shape (n_snapshots,), got {loss.shape}")
    if isinstance(span, bool) or not isinstance(span, (int, np.integer)) or span < 1:
        raise ConfigError(f"span must be a positive integer (>= 1), got {span!r}")
    out = np.empty(len(jumps))
    for k, jump in enumerate(jumps):
        if not 0 <= jump.start < jump.stop < loss.size:
            raise ConfigError(f"jump {jump} lies outside the loss path of {loss.size} snapshots")
        before = loss[max(0, jump.start - span + 1) : jump.start + 1].mean()
        after = loss[jump.stop : jump.stop + span].mean()
        out[k] = after / before - 1.0
    return out


def name_regime(W, set_size: int = 3) -> str:
    """The regime of one snapshot W (m, n) of a model with correlated sets of ``set_size`` consecutive features
    (rules in the module docstring)."""
    W = as_float64("W", W)
    if W.ndim != 2:
        raise ConfigError(f"W must have shape (n_hidden, n_features) for one snapshot, got {W.shape}")
    n = W.shape[1]
    if isinstance(set_size, bool) or not isinstance(set_size, (int, np.integer)) or set_size < 2 or n % set_size:
        raise ConfigError(f"set_size must be an integer >= 2 dividing n_features={n}, got {set_size!r}")
    unit, norms = unit_columns(W)
    learned = norms >= LEARNED_NORM
    if learned.sum() < 2:
        return "not learned"
    cos = unit.T @ unit
    group = np.arange(n) // set_size
    sets = [np.flatnonzero((group == s) & learned) for s in range(n // set_size)]
    sets = [members for members in sets if members.size]

    def all_pairs(members, test) -> bool:
        return all(test(cos[i, j]) for a, i in enumerate(members) for j in members[a + 1 :])

    if all(members.size >= 2 and all_pairs(members, lambda c: c >= COLLAPSED_COS) for members in sets):
        return "PCA-like"
    index = np.flatnonzero(learned)
    partner = {}
    for i in index:
        candidates = [j for j in index if j != i and cos[i, j] <= ANTIPODAL_COS]
        if len(candidates) == 1:
            partner[int(i)] = int(candidates[0])
    pairs = {tuple(sorted((i, j))) for i, j in partner.items() if partner.get(j) == i}
    if learned.all() and 2 * len(pairs) == n == 2 * W.shape[0]:
        heads = [i for i, _ in pairs]
        if all(abs(cos[i, j]) <= ORTHOGONAL_COS for a, i in enumerate(heads) for j in heads[a + 1 :]):
            across = all(group[i] != group[j] for i, j in pairs)
            return "octahedron (pairs across sets)" if across else "octahedron (pairs within sets)"
    if all(members.size >= 2 for members in sets) and all(
        all_pairs(members, lambda c: abs(c) <= ORTHOGONAL_COS) for members in sets
    ):
        return "orthogonal sets"
    singular = np.linalg.svd(W[:, learned], compute_uv=False)
    rank = int((singular > RANK_SHARE * singular[0]).sum())
    return f"{int(learned.sum())} learned, {len(pairs)} antipodal pairs, rank {rank}"


@dataclass(frozen=True)
class Regime:
    name: str
    start: int  # first snapshot index
    stop: int  # last snapshot index (inclusive)


def regime_sequence(W_path, set_size: int = 3, min_length: int = 3) -> list[Regime]:
    """The named regimes along a path of snapshots W_path (n_snapshots, m, n), as runs of at least
    ``min_length`` snapshots (shorter runs are transients and dropped; neighbouring runs with the same name
    are then merged). The last regime is the end state."""
    W_path = as_float64("W_path", W_path)
    if W_path.ndim != 3 or W_path.shape[0] < 1:
        raise ConfigError(f"W_path must have shape (n_snapshots, n_hidden, n_features), got {W_path.shape}")
    _check(1.0, min_length)
    names = [name_regime(W, set_size) for W in W_path]
    kept: list[Regime] = []
    for start, stop, name in runs(names):
        if stop - start + 1 < min_length:
            continue
        if kept and kept[-1].name == name:
            kept[-1] = Regime(name, kept[-1].start, stop)
        else:
            kept.append(Regime(name, start, stop))
    return kept


# The energy levels: not learned, and the fractions d/k of the polytopes of chapter 4 (tight frames).
ENERGY_LEVELS = (0.0, 1 / 4, 1 / 3, 3 / 8, 2 / 5, 1 / 2, 3 / 5, 2 / 3, 3 / 4, 1.0)
LEVEL_NORM = 0.5  # a feature takes part in the energy-level picture when its final norm is at least this
# A jump coincides with a loss drop when the loss falls across it by more than this × the larger of its fall just
# before the jump (the trend) and the noise floor: the loss drops faster at the jump than around it.
DROP_FACTOR = 2.0


@dataclass(frozen=True)
class EnergyLevels:
    """The jumps of every fit of a run with snapshots: (n_snapshots,) steps, per fit its D paths, the features
    it learned, its jumps and the relative loss change at each, and whether that change is a drop; and, as a
    control, how often the same test finds a drop at windows of the same length anywhere in the jumps' stretch."""

    steps: np.ndarray  # (T,)
    D: np.ndarray  # (T, n_fits, n) per-feature dimensionality at every snapshot (0 for features not learned)
    loss: np.ndarray  # (T, n_fits) loss at every snapshot, on common samples
    learned: np.ndarray  # (n_fits, n) final ‖W_i‖ ≥ LEVEL_NORM
    jumps: tuple[tuple[Jump, ...], ...]  # per fit, jumps of its learned features (feature = index into n)
    changes: tuple[np.ndarray, ...]  # per fit, the relative loss change at each jump
    trends: tuple[np.ndarray, ...]  # per fit, the loss change over the same windows just before each jump
    typical: np.ndarray  # (n_fits,) median |loss change| over such windows in the second half: the noise floor
    dropped: tuple[np.ndarray, ...]  # per fit, change < DROP_FACTOR × min(trend, −typical)
    # per fit, windows of its jumps' median length placed at every snapshot of the stretch where its jumps happen
    # (``window`` snapshots either side): how many, and how many the same test calls a drop
    control_windows: np.ndarray  # (n_fits,)
    control_drops: np.ndarray  # (n_fits,)

    def between_levels(self, fit: int) -> list[int]:
        """Indices of fit ``fit``'s jumps that start from a learned level (D > 0.05), not from 0."""
        return [k for k, jump in enumerate(self.jumps[fit]) if jump.before > 0.05]


def dimensionality_paths(W_path) -> tuple[np.ndarray, np.ndarray]:
    """The per-feature dimensionalities D (T, n_fits, n) of the snapshots ``W_path`` (T, n_fits, m, n) of a run,
    and each feature's final norm (n_fits, n)."""
    from ..metrics import feature_dimensionality

    W_path = as_float64("W_path", W_path)
    if W_path.ndim != 4:
        raise ConfigError(f"W_path must be (n_snapshots, n_fits, m, n), got {W_path.shape}")
    T, fits, m, n = W_path.shape
    D = feature_dimensionality(W_path.reshape(T * fits, m, n)).double().numpy().reshape(T, fits, n)
    return D, np.linalg.norm(W_path[-1], axis=-2)


def energy_levels(steps, W_path, loss, **options) -> EnergyLevels:
    """:func:`levels_from_paths` of the snapshots ``W_path`` (T, n_fits, m, n) of a run: their per-feature
    dimensionalities, with the features whose final norm is at least :data:`LEVEL_NORM` as the learned ones;
    ``options`` go to :func:`levels_from_paths`."""
    D, norms = dimensionality_paths(W_path)
    return levels_from_paths(steps, D, loss, norms >= LEVEL_NORM, **options)


def levels_from_paths(
    steps,
    D,
    loss,
    learned,
    window: int = 10,
    min_size: float = 0.1,
    tolerance: float = 0.03,
    min_length: int = 8,
    span: int = 8,
    levels=ENERGY_LEVELS,
) -> EnergyLevels:
    """:func:`detect_jumps` on every fit of a run: ``D`` (T, n_fits, n) the per-feature dimensionalities at each
    snapshot, ``loss`` (T, n_fits) the loss at each, ``learned`` (n_fits, n) the features that take part,
    ``steps`` (T,). Loss changes by :func:`loss_changes` over ``span`` snapshots; only jumps between ``levels``
    count (default :data:`ENERGY_LEVELS`; None: any plateaus). The trend of a jump is the median change over up
    to three windows of its shape just before it; the noise floor (``typical``) the median |change| over windows
    in the second half of training. A jump coincides with a loss drop when its change < DROP_FACTOR ×
    min(trend, −floor). The control applies the same test to windows of the jumps' median length placed at
    every snapshot from ``window`` snapshots before the first jump to ``window`` after the last: the share of
    all those windows the test passes. If jumps come with drops, the share of jumps with a drop exceeds it."""
    steps, D, loss = as_float64("steps", steps), as_float64("D", D), as_float64("loss", loss)
    learned = np.asarray(learned, dtype=bool)
    if D.ndim != 3 or D.shape[0] != steps.size or loss.shape != D.shape[:2] or learned.shape != D.shape[1:]:
        raise ConfigError(
            "D must be (n_snapshots, n_fits, n), loss (n_snapshots, n_fits) and learned (n_fits, n), "
            f"got {D.shape}, {loss.shape}, {learned.shape}"
        )
    T, fits, n = D.shape
    jumps, changes, trends, typical, dropped = [], [], [], np.zeros(fits), []
    control_windows, control_drops = np.zeros(fits, dtype=int), np.zeros(fits, dtype=int)
    for f in range(fits):
        index = np.flatnonzero(learned[f])
        found = detect_jumps(D[:, f, index], window, min_size, tolerance, min_length, levels) if index.size else []
        found = [Jump(int(index[j.feature]), j.start, j.stop, j.before, j.after) for j in found]
        gap = window // 2
        late = np.arange(max(span - 1, T // 2), T - gap - span)  # the settled second half: the noise floor
        before = np.array([loss[e - span + 1 : e + 1, f].mean() for e in late])
        after = np.array([loss[e + gap : e + gap + span, f].mean() for e in late])
        typical[f] = np.median(np.abs(after / before - 1)) if late.size else 0.0
        change, is_drop = _drop_test(loss[:, f], found, span, typical[f])
        jumps.append(tuple(found))
        changes.append(change)
        trends.append(np.array([_preceding_trend(loss[:, f], jump, span) for jump in found]))
        dropped.append(is_drop)
        if found:
            length = int(np.median([j.stop - j.start for j in found]))
            first, last = min(j.start for j in found), max(j.stop for j in found)
            windows = [
                Jump(-1, s, s + length, 0.0, 0.0)
                for s in range(max(first - window, 1), min(last + window, T - 1) - length + 1)
            ]
            control_windows[f] = len(windows)
            control_drops[f] = int(_drop_test(loss[:, f], windows, span, typical[f])[1].sum())
    return EnergyLevels(
        steps, D, loss, learned, tuple(jumps), tuple(changes), tuple(trends), typical, tuple(dropped),
        control_windows, control_drops,
    )  # fmt: skip


def _drop_test(loss: np.ndarray, windows: list[Jump], span: int, floor: float) -> tuple[np.ndarray, np.ndarray]:
    """The loss change across each window and whether it is a drop: below DROP_FACTOR × min(trend, −floor)."""
    change = loss_changes(loss, windows, span)
    trend = np.array([_preceding_trend(loss, w, span) for w in windows])
    return change, change < DROP_FACTOR * np.minimum(trend, -floor) if windows else np.zeros(0, dtype=bool)


def _preceding_trend(loss: np.ndarray, jump: Jump, span: int) -> float:
    """The median loss change over up to three windows of the jump's shape just before it (0 if none fits)."""
    shifted = [
        Jump(jump.feature, jump.start - k * span, jump.stop - k * span, jump.before, jump.before)
        for k in (1, 2, 3)
        if jump.start - k * span - span + 1 >= 0
    ]
    return float(np.median(loss_changes(loss, shifted, span))) if shifted else 0.0
