"""The authors' algorithm written plainly, as the baseline the benchmark measures the trainer against.

This is the straightforward implementation of the paper's notebook: W stored as (instance, feature, hidden),
einsum over the instance axis, two uniform draws per feature per sample (one for the mask, one for the
value), autograd, and torch's AdamW at lr 1e-3. Only the initial scale differs from the notebook: Xavier per
instance, as in toymodels, so both start from the same distribution.
"""

from __future__ import annotations

import math

import torch


class ReferenceModel(torch.nn.Module):
    def __init__(self, n_features: int, n_hidden: int, n_instances: int, generator: torch.Generator):
        super().__init__()
        std = math.sqrt(2.0 / (n_features + n_hidden))
        self.W = torch.nn.Parameter(torch.randn(n_instances, n_features, n_hidden, generator=generator) * std)
        self.b_final = torch.nn.Parameter(torch.zeros(n_instances, n_features))

    def forward(self, features: torch.Tensor) -> torch.Tensor:  # features: (batch, instance, feature)
        hidden = torch.einsum("...if,ifh->...ih", features, self.W)
        out = torch.einsum("...ih,ifh->...if", hidden, self.W)
        return torch.relu(out + self.b_final)


def generate_batch(probability: torch.Tensor, batch_size: int, generator: torch.Generator) -> torch.Tensor:
    shape = (batch_size, *probability.shape)
    values = torch.rand(shape, generator=generator)
    active = torch.rand(shape, generator=generator) <= probability
    return torch.where(active, values, torch.zeros(()))


class ReferenceTrainer:
    """Steps of the reference algorithm; ``step()`` returns the summed loss."""

    def __init__(self, n_features, n_hidden, probability, importance, batch_size=1024, lr=1e-3, seed=0):
        self.generator = torch.Generator().manual_seed(seed)
        self.model = ReferenceModel(n_features, n_hidden, probability.shape[0], self.generator)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=lr)
        self.probability, self.importance, self.batch_size = probability, importance, batch_size

    def loss(self, batch: torch.Tensor) -> torch.Tensor:
        error = self.importance * (batch - self.model(batch)) ** 2
        return error.mean(dim=(0, 2)).sum()  # mean over batch and features, summed over instances

    def step(self) -> torch.Tensor:
        batch = generate_batch(self.probability, self.batch_size, self.generator)
        self.optimizer.zero_grad()
        loss = self.loss(batch)
        loss.backward()
        self.optimizer.step()
        return loss
