"""Benchmark: the book's own SAE (tm.ways_out.train_saes) against sae-lens's standard SAE, on one toy model.

sae-lens is not a dependency of the book (chapter 9 says why); this script needs it in an environment of its own:

    python3 -m venv .venv-saelens
    .venv-saelens/bin/pip install torch==2.13.0 sae-lens==6.54.12 && .venv-saelens/bin/pip install --no-deps -e .
    .venv-saelens/bin/python benchmarks/compare_saelens.py     # ~2 min on 2 cores

It trains a ReLU-output toy model in superposition (n = 40 features of equal importance in m = 10 dimensions,
1 − S = 0.05), then on its hidden activations h = W x six SAEs of each kind — L1 coefficient {0.03, 0.1, 0.3} ×
{40, 80} latents, 5,000 steps of batches of 1,024 at learning rate 1e-3 — sae-lens's through
`sae_lens.synthetic.train_toy_sae` (the toy's W as its feature dictionary, fresh samples every step), ours as two
batched runs on a fixed sample of 200,000 activations. Both are scored the same way on fresh samples: the mean max
cosine of the true directions, sae-lens's MCC (one-to-one matching), L0 and the fraction of variance unexplained,
and it prints the times with the machine's matrix-product rate.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from machine import matmul_gflops
from sae_lens.saes.standard_sae import StandardTrainingSAE, StandardTrainingSAEConfig
from sae_lens.synthetic import ActivationGenerator, FeatureDictionary, mean_correlation_coefficient, train_toy_sae

import toymodels as tm

L1S, SIZES, STEPS, BATCH, LR = (0.03, 0.1, 0.3), (40, 80), 5_000, 1024, 1e-3
N, M, DENSITY = 40, 10, 0.05


def toy_model() -> np.ndarray:
    exp = tm.Experiment(tm.ModelConfig(N, M), feature_probability=DENSITY, train=tm.TrainConfig(progress=False))
    return tm.train(exp).best().W[0].detach().numpy()


def saelens_decoders(W: np.ndarray, seed: int = 0) -> tuple[list[np.ndarray], float]:
    """sae-lens's SAEs, one per setting (size-major, as tm.ways_out.sae_grid), decoders as (d, latents)."""
    features = FeatureDictionary(N, M, initializer=None, seed=seed)
    features.feature_vectors.data = torch.tensor(W.T.copy())  # sae-lens stores (n_features, hidden)
    uniform = lambda acts: acts * torch.rand_like(acts)  # noqa: E731  the book's values: U[0, 1] when active
    generator = ActivationGenerator(N, firing_probabilities=DENSITY, modify_activations=uniform)
    decoders, start = [], time.perf_counter()
    for size in SIZES:
        for l1 in L1S:
            torch.manual_seed(seed)
            sae = StandardTrainingSAE(StandardTrainingSAEConfig(d_in=M, d_sae=size, l1_coefficient=l1))
            train_toy_sae(sae, features, generator, training_samples=STEPS * BATCH, batch_size=BATCH, lr=LR)
            decoders.append((sae, sae.W_dec.detach().numpy().T))
    return decoders, time.perf_counter() - start


def main() -> None:
    W = toy_model()
    h_train, _ = tm.ways_out.toy_activations(W, DENSITY, n_samples=200_000, seed=0)
    h_test, _ = tm.ways_out.toy_activations(W, DENSITY, n_samples=100_000, seed=1)
    grid = tm.ways_out.sae_grid(L1S, SIZES)
    start = time.perf_counter()
    ours = tm.ways_out.train_saes(h_train, grid, seed=0, steps=STEPS, batch_size=BATCH, lr=LR)
    ours_seconds = time.perf_counter() - start
    theirs, theirs_seconds = saelens_decoders(W)
    true = torch.tensor(W.T.copy())
    print(f"toy n={N}, m={M}, 1−S={DENSITY}: {int(tm.count_represented(W))} features represented")
    print(
        f"{'latents':>7} {'λ':>5} | {'MMCS ours / sae-lens':>21} | {'MCC ours / sae-lens':>20} | "
        f"{'L0 ours / sae-lens':>19} | {'FVU ours / sae-lens':>20}"
    )
    x = torch.tensor(h_test)
    for k, setting in enumerate(grid):
        sae, their_decoder = theirs[k]
        with torch.no_grad():
            their_latents = sae.encode(x)
            their_fvu = ((sae.decode(their_latents) - x).square().sum() / (x - x.mean(0)).square().sum()).item()
        our_decoder = ours.decoder(k)
        our_scores = tm.ways_out.activation_scores(ours.encode(h_test, k), h_test, ours.reconstruct(h_test, k))
        mmcs = [tm.ways_out.mean_max_cosine(d, W) for d in (our_decoder, their_decoder)]
        mcc = [mean_correlation_coefficient(torch.tensor(d.T.copy()), true) for d in (our_decoder, their_decoder)]
        l0 = [our_scores["l0"], (their_latents > 0).float().sum(-1).mean().item()]
        fvu = [our_scores["fvu"], their_fvu]
        print(
            f"{setting.n_latents:>7} {setting.l1:>5g} | {mmcs[0]:9.3f} / {mmcs[1]:9.3f} | {mcc[0]:8.3f} / "
            f"{mcc[1]:9.3f} | {l0[0]:8.2f} / {l0[1]:8.2f} | {fvu[0]:8.4f} / {fvu[1]:9.4f}"
        )
    print(
        f"time: ours {ours_seconds:.1f} s for the {len(grid)} SAEs (batched, one thread), sae-lens "
        f"{theirs_seconds:.1f} s (one after another); matrix product {matmul_gflops():.0f} GFLOP/s"
    )


if __name__ == "__main__":
    main()
