"""Liu, Liu & Gore's own training loop, ported line by line in plain PyTorch, to isolate what differs between their
runs and the book's.

Their ``exp/exp-10.py`` with ``exp/adamw.py`` (github.com/liuyz0/SuperpositionScaling): W (n, m) drawn N(0, 1/m) (rows
of norm near 1) and b drawn N(0, 1); each step a fresh batch x = Bernoulli(p_i) · U[0, 2]; autograd on the mean
squared error of ReLU(x W Wᵀ + b); their decoupled decay of W (γ >= 0: W ← (1 − lr γ) W; γ < 0: each row pulled
towards norm 1) before Adam's update (torch's ``Adam``, their betas and eps); their learning rate, a warm-up over
the first 10 % of the steps and a cosine decay to 5 %. ``values`` and ``init`` switch the two things the book does
differently (U[0, 1]; Xavier W and b = 0), so that one run at a time changes one thing.

The store's ``liu-reference`` kind keeps, per run, every feature's final ‖W_i‖ and the loss (summed over features)
on fresh batches, with the loss at the first tenth of the run as the reproduce check's checkpoint.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .. import store
from ..errors import ConfigError
from ..vocabulary import REPRESENTED_NORM

KIND = "liu-reference"
KIND_VERSION = 1
INITS = ("theirs", "package")
EVAL_BATCHES = 16


def _lr(step: int, steps: int, lr: float = 1e-2) -> float:
    """Their ``get_lr`` with a warm-up of a tenth of the steps (2,000 of their 20,000)."""
    step, warmup, floor = step + 1, steps // 10, 0.05 * lr
    if step < warmup:
        return lr * step / warmup
    return (lr - floor) * 0.5 * (1 + math.cos(math.pi * (step - warmup) / (steps - warmup))) + floor


def reference_run(
    n: int,
    m: int,
    alpha: float,
    decay: float,
    steps: int,
    batch: int,
    values: float,
    init: str,
    seed: int = 0,
    checkpoint_only: bool = False,
) -> dict[str, np.ndarray]:
    """One run of their loop: the final norms (n,), the loss summed over features on ``EVAL_BATCHES`` fresh
    batches, and the same loss at step ``steps // 10`` (the check's checkpoint; ``checkpoint_only`` stops there)."""
    if init not in INITS:
        raise ConfigError(f"init must be one of {INITS}, got {init!r}")
    generator = torch.Generator().manual_seed(seed)
    prob = torch.arange(1, n + 1, dtype=torch.float64) ** -float(alpha)
    prob = (prob / prob.sum()).float()
    if init == "theirs":
        W = torch.randn(n, m, generator=generator) / math.sqrt(m)
        b = torch.randn(n, generator=generator)
    else:
        W = torch.randn(n, m, generator=generator) * math.sqrt(2 / (n + m))
        b = torch.zeros(n)
    W, b = W.requires_grad_(), b.requires_grad_()
    optimizer = torch.optim.Adam([W, b], lr=1e-2, betas=(0.9, 0.999), eps=1e-8)

    def draw() -> torch.Tensor:
        active = torch.rand(batch, n, generator=generator) < prob
        return active.float() * torch.rand(batch, n, generator=generator) * values

    def loss_now() -> float:
        with torch.no_grad():
            total = 0.0
            for _ in range(EVAL_BATCHES):
                x = draw()
                total += float(((torch.relu(x @ W @ W.T + b) - x) ** 2).sum(1).mean())
            return total / EVAL_BATCHES

    checkpoint = None
    for step in range(steps):
        if step == steps // 10:
            checkpoint = loss_now()
            if checkpoint_only:
                return {"checkpoint_loss": np.array(checkpoint)}
        lr = _lr(step, steps)
        for group in optimizer.param_groups:
            group["lr"] = lr
        x = draw()
        loss = ((torch.relu(x @ W @ W.T + b) - x) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        with torch.no_grad():
            if decay >= 0:
                W.mul_(1 - decay * lr)
            else:
                row_norms = W.norm(dim=1, keepdim=True).add_(1e-8)
                W.add_(decay * W * (1 - 1 / row_norms), alpha=lr)
        optimizer.step()
    norms = W.detach().norm(dim=1).double().numpy()
    return {"norms": norms, "loss": np.array(loss_now()), "checkpoint_loss": np.array(checkpoint)}


def _arrays(spec: dict) -> dict[str, np.ndarray]:
    runs = [reference_run(**run) for run in spec["runs"]]
    return {name: np.stack([run[name] for run in runs]) for name in runs[0]}


def _sample(spec: dict, stored: dict) -> tuple[str, dict, dict]:
    """Re-run the cheapest run to its checkpoint (a tenth of its steps, the same draws); compare the loss there."""
    k = int(np.argmin([run["steps"] * run["batch"] for run in spec["runs"]]))
    fresh = reference_run(**spec["runs"][k], checkpoint_only=True)["checkpoint_loss"]
    what = f"run {k}, to its checkpoint at step {spec['runs'][k]['steps'] // 10:,}"
    return (
        what,
        {"checkpoint_loss": fresh.reshape(1, 1)},
        {"checkpoint_loss": stored["checkpoint_loss"][k].reshape(1, 1)},
    )


store.register_kind(KIND, __name__, KIND_VERSION, _arrays, _sample)


def reference_runs(runs: tuple[dict, ...], name: str = "liu reference") -> dict[str, np.ndarray]:
    """``runs`` (each ``reference_run``'s arguments) through the results store: per run, the final norms (runs, n),
    the loss and the checkpoint loss (runs,), and the represented fraction φ (runs,)."""
    arrays = store.cached_arrays(KIND, name, {"runs": [dict(run) for run in runs]})
    norms = np.asarray(arrays["norms"], dtype=np.float64)
    return {
        "norms": norms,
        "loss": np.asarray(arrays["loss"], dtype=np.float64),
        "fraction": (norms > REPRESENTED_NORM).mean(axis=1),
    }
