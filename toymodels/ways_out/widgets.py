"""Chapter 9's live widget: one SAE retrained on the toy model's activations for a chosen λ and size."""

from __future__ import annotations

import plotly.graph_objects as go

from ..kit.live import int_slider, live_figure, log_slider
from .analysis import SaeSweep
from .figures import dictionary_figure
from .sae import SaeSetting, toy_activations, train_saes
from .scores import activation_scores, mean_max_cosine, recovered_share

LIVE_STEPS = 1_000
# Book's choice: batches of 512, half the grid's, keep a redraw within a second (largest 0.87 s at 256 latents, 2
# cores, 209 GFLOP/s; batches of 1,024: 1.4 s); over λ in {0.01, 0.1, 1} and 32 to 256 latents the MMCS moves by
# 0.04 at most, and stays as far from the 3,000-step grid's (0.069 on average, against 0.065).
LIVE_BATCH = 512
LIVE_SAMPLES = 2**15


def live_sae(sweep: SaeSweep, l1: float = 0.1, n_latents: int = 128, steps: int = LIVE_STEPS):
    """Sliders for λ and the dictionary size; each release trains one SAE (``steps`` steps, the grid's learning
    rate, batches of ``LIVE_BATCH``) on fresh activations of ``sweep``'s toy model and draws it against the truth."""
    h, _ = toy_activations(sweep.true, sweep.probability, LIVE_SAMPLES, seed=sweep.protocol.seed + 3)
    protocol = sweep.protocol

    def draw(l1: float, n_latents: int) -> go.Figure:
        result = train_saes(h, (SaeSetting(float(l1), int(n_latents)),), protocol.seed, steps, LIVE_BATCH, protocol.lr)
        decoder = result.decoder(0)
        scores = activation_scores(result.encode(sweep.h_eval, 0), sweep.h_eval, result.reconstruct(sweep.h_eval, 0))
        title = (
            f"SAE, λ = {l1:.3g}, {n_latents} latents, {steps} steps: MMCS {mean_max_cosine(decoder, sweep.true):.3f}, "
            f"recovered {recovered_share(decoder, sweep.true):.2f}<br>"
            f"L0 {scores['l0']:.2f}, dead {scores['dead']:.2f}, "
            f"FVU {scores['fvu']:.3f}"
        )
        return dictionary_figure(sweep.true, decoder, title=title)

    return live_figure(
        draw,
        l1=log_slider(l1, 10**-2.5, 10**0.5, "L1 coefficient λ", step=0.1, readout_format=".3g"),
        n_latents=int_slider(n_latents, 16, 256, "latents", step=16),
    )
