"""The machine's speed, printed beside every benchmark's timings: machines of one kind differ 2-3× (the
matrix product ran at 68 GFLOP/s on one CI machine and 170 on another), so a timing means little without it."""

from __future__ import annotations

import time

import torch


def synchronize(device: str) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def timed(function, device: str = "cpu") -> float:
    """Wall-clock seconds of one call of ``function`` (waiting for the GPU when ``device`` is CUDA)."""
    synchronize(device)
    start = time.perf_counter()
    function()
    synchronize(device)
    return time.perf_counter() - start


def matmul_gflops(device: str = "cpu", size: int = 2048, repeats: int = 10) -> float:
    """GFLOP/s of a float32 size² matrix product, the best of ``repeats`` after a warm-up."""
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    a @ b  # warm-up
    seconds = min(timed(lambda: a @ b, device) for _ in range(repeats))
    return 2 * size**3 / seconds / 1e9
