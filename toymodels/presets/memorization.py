"""Presets of the memorization chapter (Henighan et al., 2023): one :class:`~toymodels.finite.FiniteExperiment`
per (T, m) point. They are lists of finite-data experiments, not :class:`~toymodels.experiment.Experiment` s, so
they are not in ``PRESETS``; :func:`toymodels.finite.train_stored` trains them through the results store."""

from __future__ import annotations

from ..finite import FiniteExperiment, paper_train

# The book's scale (the course exercise's): n = 1,000 features at 1 − S = 0.01 (S = 0.99), T from 3 to 2,000.
MEMORIZATION_FEATURES = 1000
MEMORIZATION_DENSITY = 0.01
MEMORIZATION_SIZES = (3, 5, 10, 20, 50, 100, 200, 350, 600, 1000, 2000)
MEMORIZATION_HIDDEN = (2, 3, 4)
# The weight-decay ablation (m = 2) stops at T = 1,000: its feature regime is measured by the main sweep.
ABLATION_SIZES = MEMORIZATION_SIZES[:-1]
ABLATION_WEIGHT_DECAY = 1.0
SHORT_STEPS = 5_000  # the epochs ablation: a tenth of the paper's 50,000 steps
# Fast mode (CI): n = 100 at 1 − S = 0.03, 1,000 steps, one dataset.
_FAST_SIZES = (3, 10, 30, 100, 300)


def memorization_sweep(
    n_hidden: int = 2, fast: bool = False, weight_decay: float = 1e-2, steps: int = 50_000
) -> list[FiniteExperiment]:
    """Henighan et al.'s experiment at the book's scale: the ReLU-output model with n = 1,000 features (1 − S =
    0.01, unit-norm inputs) and ``n_hidden`` dimensions, trained on T examples for every T of
    ``MEMORIZATION_SIZES``, 2 datasets each (the paper: 4), one fit per dataset, 50,000 full-batch steps of the
    paper's schedule (:func:`~toymodels.finite.paper_train`; ``steps`` shortens it), test loss on 10,000 fresh
    examples."""
    if fast:
        sizes, n, density, steps, datasets, tests = _FAST_SIZES, 100, 0.03, min(steps // 50, 1_000), 1, 1_000
    else:
        sizes, n, density, datasets, tests = (
            MEMORIZATION_SIZES,
            MEMORIZATION_FEATURES,
            MEMORIZATION_DENSITY,
            2,
            10_000,
        )
    decay = ("" if weight_decay == 1e-2 else f" wd={weight_decay:g}") + ("" if steps == 50_000 else f" steps={steps}")
    return [
        FiniteExperiment(
            n_features=n,
            n_hidden=n_hidden,
            density=density,
            n_examples=T,
            n_datasets=datasets,
            train=paper_train(steps=steps, weight_decay=weight_decay),
            test_examples=tests,
            name=f"memorization n={n} m={n_hidden} T={T}{decay}",
        )
        for T in sizes
    ]


def weight_decay_ablation(fast: bool = False) -> list[FiniteExperiment]:
    """The paper's ablation: m = 2 with weight decay 1.0 instead of 1e-2, for T up to 1,000 (fast: the fast
    sweep's sizes)."""
    sweep = memorization_sweep(2, fast=fast, weight_decay=ABLATION_WEIGHT_DECAY)
    return sweep if fast else [e for e in sweep if e.n_examples in ABLATION_SIZES]


def epochs_ablation(fast: bool = False) -> list[FiniteExperiment]:
    """The paper's other knob: the m = 2 sweep trained 10 times shorter (5,000 steps, the same schedule's shape),
    to see whether training longer enlarges the bump."""
    return memorization_sweep(2, fast=fast, steps=SHORT_STEPS)


def memorization_live() -> FiniteExperiment:
    """The live widget's model: n = 100 features at 1 − S = 0.03, m = 2, one dataset, 3,000 full-batch steps of
    the paper's schedule (a retraining takes about a second on a laptop core), test loss on 2,000 examples."""
    return FiniteExperiment(
        n_features=100,
        n_hidden=2,
        density=0.03,
        n_examples=10,
        n_datasets=1,
        train=paper_train(steps=3_000),
        test_examples=2_000,
        name="memorization live n=100 m=2",
    )


def memorization_paper_scale(n_hidden: int = 2, device: str = "cuda") -> list[FiniteExperiment]:
    """The paper's own scale, for a GPU (``device``): n = 10,000 features at 1 − S = 0.001, T from 3 to 100,000,
    4 datasets, 50,000 full-batch steps. Its cost is T·n (feature × example) updates per step and model: 3.8·10¹⁴
    for the whole T grid at one m (Σ T = 188,888), 870 times the book's grid at one m (4.3·10¹¹, about 10 core-minutes
    at 223 GFLOP/s): about 6 core-days on a CPU; on a GPU that streams 10¹¹ updates a second, about an hour
    (estimated, not run)."""
    sizes = (3, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000)
    return [
        FiniteExperiment(
            n_features=10_000,
            n_hidden=n_hidden,
            density=0.001,
            n_examples=T,
            n_datasets=4,
            train=paper_train(device=device),
            test_examples=10_000,
            name=f"memorization paper n=10000 m={n_hidden} T={T}",
        )
        for T in sizes
    ]
