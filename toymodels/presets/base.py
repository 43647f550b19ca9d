"""What every section's presets share: the paper's §2 densities and the training defaults with their fast mode."""

from __future__ import annotations

from ..config import TrainConfig

BASIC_SWEEP = (1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001)  # the paper's §2 / §10 densities


def _train(fast: bool, steps: int = 10_000, fast_steps: int = 2_000, **kwargs) -> TrainConfig:
    return TrainConfig(steps=fast_steps if fast else steps, **kwargs)
