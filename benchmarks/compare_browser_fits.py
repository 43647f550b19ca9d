"""The live fits of the static book against the precomputed ones: the browser's JavaScript trainer (run here
with Node, the same code) on the settings of the chapters' stored experiments, and what each finds.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/compare_browser_fits.py     # ~1 min (Node), the store is read

Chapter 1: the geometry (``tm.intro.describe``) of the best fit at the first figure's three sparsities and at the
24 of the fine sweep, live (``intro_browser``: best of 8 fits of 1,000 steps) against stored (best of 10 or 5 of
10,000). Chapter 3: the phase of the lowest-loss fit at every point of the 16 × 16 grid of n = 3, m = 2,
live (``phase_change_browser``) against stored (10 fits of 10,000 steps) and against the theory. Live fits
use seed 0, as the widgets do.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections import Counter

import numpy as np

import toymodels as tm
from toymodels.kit.browser import SCRIPT, protocol

RUNNER = f"""
const live = require({json.dumps(str(SCRIPT))});
const jobs = JSON.parse(require("fs").readFileSync(0, "utf8"));
const started = process.hrtime.bigint();
const W = jobs.settings.map((s) => Array.from(live.trainBest(Object.assign({{}}, jobs.options, s)).W));
console.log(JSON.stringify({{W, seconds: Number(process.hrtime.bigint() - started) / 1e9}}));
"""


def train_live(experiment: tm.Experiment) -> tuple[np.ndarray, float]:
    """W (settings, m, n) of the JavaScript's best fit for each setting of ``experiment``, and Node's time."""
    n, m = experiment.model.n_features, experiment.model.n_hidden
    importance = experiment.importance_tensor(per="setting").double().numpy()
    probability = experiment.probability_tensor(per="setting").double().numpy()
    jobs = dict(
        options=dict(protocol(experiment), n=n, m=m),
        settings=[dict(importance=i.tolist(), probability=p.tolist()) for i, p in zip(importance, probability)],
    )
    out = subprocess.run(["node", "-e", RUNNER], input=json.dumps(jobs), capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    return np.array(result["W"]).reshape(-1, m, n), result["seconds"]


def intro_rows(stored_name: str) -> None:
    stored_experiment = tm.preset(stored_name)
    stored = tm.store.train(stored_experiment)
    live_experiment = tm.preset("intro_browser").replace(
        feature_probability=stored_experiment.feature_probability, importance=stored_experiment.importance
    )
    W, seconds = train_live(live_experiment)
    live_text, stored_text = tm.intro.describe(W), tm.intro.describe(stored.best().W)
    same = sum(a == b for a, b in zip(live_text, stored_text))
    print(f"\n{stored_name}: live and stored geometry agree at {same} of {len(live_text)} densities ({seconds:.1f} s)")
    for p, a, b in zip(stored_experiment.density_per_setting().tolist(), live_text, stored_text):
        print(f"  {tm.kit.density_label(p):>8}  live: {a:<40} stored: {b}{'' if a == b else '   <-- differs'}")


def phase_rows() -> None:
    stored = tm.store.train(tm.preset("phase_change_3"))
    empirical = tm.phase.empirical_phase_diagram(stored)
    theory = tm.phase.theory_phase_diagram(empirical)
    live_experiment = tm.preset("phase_change_browser").replace(
        feature_probability=stored.experiment.feature_probability, importance=stored.experiment.importance
    )
    W, seconds = train_live(live_experiment)
    live_phase = tm.phase.classify(W)[0].reshape(empirical.best_phase.shape)
    predicted = np.asarray(theory.on_grid)
    names = empirical.names
    print(f"\nphase_change_3, 16 × 16 points ({seconds:.1f} s for all of them live):")
    print(
        f"  lowest-loss fit = theory:  live {(live_phase == predicted).mean():.0%}, "
        f"stored {(empirical.best_phase == predicted).mean():.0%}"
    )
    print(f"  live = stored lowest-loss fit: {(live_phase == empirical.best_phase).mean():.0%}")
    where = Counter()
    for i, r in enumerate(empirical.relative_importance):
        for j, s in enumerate(empirical.density):
            if live_phase[i, j] != predicted[i, j]:
                side = "r < 1" if r < 0.95 else "r > 1" if r > 1.05 else "r ≈ 1"
                region = side + (", s < s_c" if s < 0.63 else ", s > s_c")
                stored_ok = "stored agrees" if empirical.best_phase[i, j] == predicted[i, j] else "stored disagrees too"
                where[(region, names[live_phase[i, j]], names[predicted[i, j]], stored_ok)] += 1
    for (region, found, wanted, stored_ok), count in sorted(where.items(), key=lambda item: -item[1]):
        print(f"  {count:3d} × live {found}, theory {wanted} ({region}; {stored_ok})")


def main() -> None:
    os.environ.setdefault("TOYMODELS_STORE", "use")
    tm.store.use_book_store()  # the chapters' stored fits (book/results)
    started = time.perf_counter()
    intro_rows("intro")
    intro_rows("intro_sweep")
    phase_rows()
    print(f"\n{time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
