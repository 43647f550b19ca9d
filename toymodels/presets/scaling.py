"""Presets of the scaling-laws chapter (chapter 13): Liu, Liu & Gore's (2025) toy model of neural scaling, the
paper's ReLU-output model with n features whose densities follow a power law, p_i ∝ i^(−α) summing to 1 (one
active feature per sample on average), and a weight decay γ that sets how much superposition forms: negative
(each feature's norm pulled towards 1) for strong superposition, positive for weak.

Their runs (github.com/liuyz0/SuperpositionScaling, exp/exp-10.py): n = 1,000, m from 10 to 100, AdamW at lr 0.01
with a linear warm-up over the first 10 % of 20,000 steps and a cosine decay to 5 % of lr, batch 2,048, γ from −1
to 1 on W only (the bias b is never decayed), values U[0, 2], one fit per setting. The book keeps n = 1,000 and
all of that but the size of the run (10,000 steps of batch 1,024: an eighth of their samples) and the values
(the package's U[0, 1]: every loss is 4× smaller, E[v²] = 1/3 instead of 4/3; the exponents are unchanged).
"""

from __future__ import annotations

from dataclasses import replace

from ..config import ModelConfig, TrainConfig
from ..errors import ConfigError
from ..experiment import Experiment, power_law_densities

SCALING_FEATURES = 1000
SCALING_WIDTHS = (8, 16, 32, 64, 128)  # m: a factor 16, the paper's 10 to 100 and a little beyond
SCALING_ALPHAS = (0.5, 1.0, 1.5, 2.0)  # the data exponent α of p_i ∝ i^(−α) (the paper: 0 to 2)
REGIMES = {"strong": -1.0, "weak": 1.0}  # γ of each regime: the ends of the paper's sweep, linspace(−1, 1, 10)
DECAY_SWEEP = (-1.0, -0.5, -0.2, 0.0, 0.1, 0.2, 0.5, 1.0)  # γ of the represented-fraction sweep
DECAY_SWEEP_WIDTH = 32
SCALING_STEPS, SCALING_BATCH, SCALING_LR = 10_000, 1024, 1e-2
# The loss-over-training runs' constant lr: the paper's 0.01 brings the loss to its floor within ~500 of 10,000 steps
# (measured at m = 32), which leaves no range for a power law in t.
DYNAMICS_LR = 1e-3
PAPER_FEATURES, PAPER_STEPS, PAPER_BATCH = 10_240, 20_000, 2048  # their largest n; exp-10's steps and batch
# Fast mode (CI): the same 1,000 features, three widths, two exponents, 300 steps of batch 256.
_FAST = dict(n=SCALING_FEATURES, widths=(8, 16, 32), alphas=(1.0, 1.5), decays=(-1.0, 0.0, 1.0), steps=300, batch=256)


def scaling_train(schedule: str = "paper", fast: bool = False) -> TrainConfig:
    """Liu, Liu & Gore's optimisation at the book's size: lr 0.01, weight decay on W only; ``schedule`` ``"paper"``
    (a linear warm-up over the first 10 % of the steps, then a cosine decay to 5 % of lr) or ``"constant"`` (a
    warm-up over the first 1 %, then lr held: the loss-over-training runs, whose power law in t a decaying lr would
    bend and a long warm-up would shorten). The
    weight decay itself is set per setting by each preset."""
    if schedule not in ("paper", "constant"):
        raise ConfigError(f"schedule must be 'paper' or 'constant', got {schedule!r}")
    steps, batch = (_FAST["steps"], _FAST["batch"]) if fast else (SCALING_STEPS, SCALING_BATCH)
    decaying = schedule == "paper"
    return TrainConfig(
        steps=steps,
        batch_size=batch,
        lr=SCALING_LR,
        weight_decay=0.0,
        decay_biases=False,
        lr_schedule="half_cosine" if decaying else "constant",
        min_lr_fraction=0.05 if decaying else 0.0,
        warmup_steps=steps // 10 if decaying else steps // 100,
        eval_batches=8 if fast else 64,
        progress=False,
    )


def _grid(n: int, m: int, decays, alphas, train: TrainConfig, name: str) -> Experiment:
    """One batched run: every (γ, α) of the grid, γ-major, one fit each."""
    settings = [(g, a) for g in decays for a in alphas]
    return Experiment(
        ModelConfig(n, m),
        feature_probability=[power_law_densities(n, a) for _, a in settings],
        n_seeds=1,
        train=replace(train, weight_decay=tuple(g for g, _ in settings)),
        name=name,
        setting_labels=tuple(f"γ = {g:g}, α = {a:g}" for g, a in settings),
    )


def scaling_width(n_hidden: int, fast: bool = False) -> Experiment:
    """Loss against width: the model of ``n_hidden`` dimensions at both regimes' γ (strong −1, weak +1) and every α
    of ``SCALING_ALPHAS``, n = 1,000, the paper's schedule (fast: two α, 300 steps)."""
    n, alphas = (_FAST["n"], _FAST["alphas"]) if fast else (SCALING_FEATURES, SCALING_ALPHAS)
    train = scaling_train("paper", fast)
    return _grid(n, n_hidden, tuple(REGIMES.values()), alphas, train, f"scaling n={n} m={n_hidden}")


def scaling_widths(fast: bool = False) -> tuple[int, ...]:
    """The widths m of the loss-against-width sweep."""
    return _FAST["widths"] if fast else SCALING_WIDTHS


def scaling_decay_sweep(fast: bool = False) -> Experiment:
    """The weak ↔ strong knob: m = 32 at every γ of ``DECAY_SWEEP`` and every α, the paper's schedule (fast: three
    γ)."""
    n, alphas, decays = (
        (_FAST["n"], _FAST["alphas"], _FAST["decays"])
        if fast
        else (
            SCALING_FEATURES,
            SCALING_ALPHAS,
            DECAY_SWEEP,
        )
    )
    train = scaling_train("paper", fast)
    return _grid(n, DECAY_SWEEP_WIDTH, decays, alphas, train, f"scaling n={n} m={DECAY_SWEEP_WIDTH} decay sweep")


def scaling_dynamics(fast: bool = False, lr: float = DYNAMICS_LR) -> Experiment:
    """Loss over training: m = 32 in both regimes and every α, with a warm-up over the first 1 % of the steps, then
    a constant ``lr`` (default 0.001; at the paper's 0.01 the loss reaches its floor within about 500 steps)."""
    n, alphas = (_FAST["n"], _FAST["alphas"]) if fast else (SCALING_FEATURES, SCALING_ALPHAS)
    train = replace(scaling_train("constant", fast), lr=lr)
    name = f"scaling n={n} m={DECAY_SWEEP_WIDTH} constant lr" + ("" if lr == SCALING_LR else f" {lr:g}")
    return _grid(n, DECAY_SWEEP_WIDTH, tuple(REGIMES.values()), alphas, train, name)


def scaling_paper_scale(n_hidden: int, device: str = "cuda") -> Experiment:
    """For a GPU: the width sweep's run at Liu et al.'s large n = 10,240 (their exp-17) with their exp-10 protocol
    in full, 20,000 steps of batch 2,048 (exp-17 itself trains 40,000 steps of 8,192 with separate learning rates
    for W and b, which the package's one lr does not express). Not run for the book."""
    train = replace(
        scaling_train("paper"),
        steps=PAPER_STEPS,
        batch_size=PAPER_BATCH,
        warmup_steps=PAPER_STEPS // 10,
        device=device,
    )
    name = f"scaling n={PAPER_FEATURES} m={n_hidden}"
    return _grid(PAPER_FEATURES, n_hidden, tuple(REGIMES.values()), SCALING_ALPHAS, train, name)


def scaling_live() -> Experiment:
    """The live widget's model: n = 200 features with p_i ∝ i^(−1), m = 16, 1,000 steps of batch 256 on the paper's
    schedule, γ = −1 (the sliders change α, γ and m)."""
    train = replace(scaling_train("paper"), steps=1_000, batch_size=256, warmup_steps=100, eval_batches=8)
    return _grid(200, 16, (REGIMES["strong"],), (1.0,), train, "scaling live n=200")


def liu_reference(fast: bool = False) -> tuple[dict, ...]:
    """Liu et al.'s own loop (``tm.scaling.reference``) at m = 32, α = 1, γ = +1, three times: at their size (20,000
    steps of batch 2,048, values U[0, 2], their initialisation), at the book's size (10,000 of 1,024), and at the
    book's size with the book's values U[0, 1] and initialisation (fast: 300 and 150 steps)."""
    n, (big, small), (big_batch, small_batch) = (
        (_FAST["n"], (300, 150), (256, 128))
        if fast
        else (SCALING_FEATURES, (PAPER_STEPS, SCALING_STEPS), (PAPER_BATCH, SCALING_BATCH))
    )
    base = dict(n=n, m=DECAY_SWEEP_WIDTH, alpha=1.0, decay=REGIMES["weak"], seed=0)
    return (
        dict(base, steps=big, batch=big_batch, values=2.0, init="theirs"),
        dict(base, steps=small, batch=small_batch, values=2.0, init="theirs"),
        dict(base, steps=small, batch=small_batch, values=1.0, init="package"),
    )


def liu_reference_start(fast: bool = False) -> tuple[dict, ...]:
    """The fourth run that splits the third's two changes: Liu et al.'s loop at the book's size with the book's
    values U[0, 1] but their initialisation."""
    *_, book = liu_reference(fast)
    return (dict(book, init="theirs"),)
