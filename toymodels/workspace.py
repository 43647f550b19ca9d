"""Reusable buffers for the training step.

Allocating fresh multi-megabyte tensors every step costs more than the arithmetic on them (page faults), so
the trainer keeps one :class:`Workspace` for a whole run and the batch sampler and the gradient computation
write into its buffers.
"""

from __future__ import annotations

import torch


class Workspace:
    def __init__(self) -> None:
        self._buffers: dict[str, torch.Tensor] = {}

    def get(self, name: str, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        """The buffer ``name`` with ``shape`` and the dtype and device of ``like`` (uninitialised)."""
        buffer = self._buffers.get(name)
        if buffer is None or buffer.shape != shape or buffer.dtype != like.dtype or buffer.device != like.device:
            buffer = self._buffers[name] = torch.empty(shape, dtype=like.dtype, device=like.device)
        return buffer
