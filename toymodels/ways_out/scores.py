"""Scoring a dictionary against the truth (chapter 9): a toy model is the one place where the true feature
directions are known, the columns W_i of its W.

Every score takes a decoder ``(d, n_latents)`` (column j: latent j's direction, as an SAE's W_dec) and the true
directions ``(d, n_features)`` (column i: feature i's, as the toy model's W). Cosines are signed: an SAE latent
is non-negative, so a latent pointing along −W_i does not represent feature i.

* ``max_cosines``: for each true feature, the cosine of its best-matching decoder direction;
* ``mean_max_cosine`` (MMCS): their mean, 1 for a dictionary that contains every true direction;
* ``recovered_share``: the share of true features whose best match exceeds ``RECOVERED`` (0.9);
* ``random_mean_max_cosine``: what a dictionary of uniformly random directions scores in expectation;
* ``activation_scores``: L0 (active latents per sample), dead latents (never active on the sample) and the
  fraction of variance unexplained by the reconstruction (FVU).

Feature absorption (Chanin et al. 2024): with hierarchical features, a child that fires only with its parent,
an SAE's L1 penalty is cheaper if the child's latent also carries the parent's direction and the parent's latent
stays silent whenever a child is active. ``hierarchical_features`` draws such data; ``absorption`` measures it.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigError
from ..validation import check_array
from ..vocabulary import unit_columns

RECOVERED = 0.9  # a true feature counts as recovered when some decoder direction has cosine above this


def _matrix(name: str, value) -> np.ndarray:
    return check_array(name, value, ndim=2, expected="(d, columns), a 2-D array", non_empty=True)


def cosines(decoder, true) -> np.ndarray:
    """Cosine of every decoder direction with every true direction, (n_latents, n_features)."""
    decoder, true = _matrix("decoder", decoder), _matrix("true", true)
    if decoder.shape[0] != true.shape[0]:
        raise ConfigError(f"decoder and true must have the same d (rows), got {decoder.shape[0]} and {true.shape[0]}")
    return unit_columns(decoder)[0].T @ unit_columns(true)[0]


def max_cosines(decoder, true) -> np.ndarray:
    """For each true feature, the cosine of its best-matching decoder direction, (n_features,)."""
    return cosines(decoder, true).max(axis=0)


def best_latents(decoder, true) -> np.ndarray:
    """For each true feature, the index of its best-matching decoder direction, (n_features,)."""
    return cosines(decoder, true).argmax(axis=0)


def mean_max_cosine(decoder, true) -> float:
    """The mean over true features of their best match's cosine (MMCS): 1 when every true direction is in the
    dictionary, whatever else it holds."""
    return float(max_cosines(decoder, true).mean())


def recovered_share(decoder, true, threshold: float = RECOVERED) -> float:
    """The share of true features with a decoder direction of cosine above ``threshold``."""
    if not -1 <= threshold <= 1:
        raise ConfigError(f"threshold must lie in [-1, 1], got {threshold!r}")
    return float((max_cosines(decoder, true) > threshold).mean())


def random_mean_max_cosine(d: int, n_latents: int, points: int = 20_001) -> float:
    """E[max_j cos(u_j, t)] for ``n_latents`` directions u_j drawn uniformly on the sphere in d dimensions and a
    fixed unit t: the mean max cosine of a random dictionary. One cosine c has density ∝ (1 − c²)^((d−3)/2) on
    [−1, 1], so the maximum of L independent ones has P(max ≤ c) = F(c)^L, and E[max] = 1 − ∫ F(c)^L dc
    (integrated numerically)."""
    for name, value in (("d", d), ("n_latents", n_latents)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    if d == 1:
        return 1.0 - 2.0 * 0.5**n_latents  # each cosine is ±1 with probability 1/2
    c = np.linspace(-1.0, 1.0, points)
    if d == 2:  # the density ∝ (1 − c²)^(−1/2) is integrable but infinite at ±1: use F(c) = 1 − arccos(c)/π
        F = 1 - np.arccos(c) / math.pi
    else:
        density = np.clip(1 - c**2, 0, None) ** ((d - 3) / 2)
        cumulative = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2 * np.diff(c))])
        F = cumulative / cumulative[-1]
    values = F**n_latents
    return float(1.0 - np.sum((values[1:] + values[:-1]) / 2 * np.diff(c)))


def activation_scores(latents, x, x_hat) -> dict[str, float]:
    """Scores of an SAE on a sample: ``latents`` (n_samples, n_latents), the activations ``x`` and their
    reconstruction ``x_hat`` (n_samples, d). ``l0``: mean number of active latents per sample; ``dead``: the share
    of latents never active on the sample; ``fvu``: Σ‖x − x̂‖² / Σ‖x − x̄‖², the fraction of variance unexplained."""
    latents, x, x_hat = _matrix("latents", latents), _matrix("x", x), _matrix("x_hat", x_hat)
    if x.shape != x_hat.shape or len(latents) != len(x):
        raise ConfigError(f"x {x.shape}, x_hat {x_hat.shape} and latents {latents.shape} must match in samples")
    active = latents > 0
    variance = np.square(x - x.mean(axis=0)).sum()
    return {
        "l0": float(active.sum(axis=1).mean()),
        "dead": float((~active.any(axis=0)).mean()),
        "fvu": float(np.square(x - x_hat).sum() / max(variance, 1e-30)),
    }


def hierarchical_features(
    n_samples: int,
    n_children: int = 3,
    n_others: int = 4,
    parent_probability: float = 0.25,
    child_probability: float = 0.75,
    other_probability: float = 0.25,
    binary: bool = False,
    seed: int = 0,
) -> np.ndarray:
    """Feature values with a hierarchy, (n_samples, 1 + n_children + n_others): feature 0 is the parent, active
    with probability ``parent_probability``; when it is active, one of its ``n_children`` children (features
    1 … n_children, chosen uniformly) is active too with probability ``child_probability``, and never otherwise;
    the ``n_others`` features after them are independent, each active with ``other_probability``. Active values
    are U[0, 1] as in the toy models (``binary``: exactly 1)."""
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 2:
        raise ConfigError(f"n_samples must be an integer >= 2, got {n_samples!r}")
    if n_children < 1 or n_others < 0:
        raise ConfigError(f"n_children must be >= 1 and n_others >= 0, got {n_children} and {n_others}")
    for name, p in (("parent_probability", parent_probability), ("child_probability", child_probability)):
        if not 0 < p <= 1:
            raise ConfigError(f"{name} must lie in (0, 1], got {p!r}")
    if not 0 <= other_probability <= 1:
        raise ConfigError(f"other_probability must lie in [0, 1], got {other_probability!r}")
    rng = np.random.Generator(np.random.SFC64(seed))
    n = 1 + n_children + n_others
    values = np.ones((n_samples, n)) if binary else rng.uniform(size=(n_samples, n))
    active = np.zeros((n_samples, n), dtype=bool)
    active[:, 0] = rng.uniform(size=n_samples) < parent_probability
    with_child = active[:, 0] & (rng.uniform(size=n_samples) < child_probability)
    which = rng.integers(n_children, size=n_samples)
    active[np.flatnonzero(with_child), 1 + which[with_child]] = True
    active[:, 1 + n_children :] = rng.uniform(size=(n_samples, n_others)) < other_probability
    return (values * active).astype(np.float32)


def absorption(latents, features, decoder, true, n_children: int) -> dict[str, float]:
    """How much of the parent (feature 0) the children (features 1 … n_children) absorb in one SAE.

    ``latents`` (n_samples, n_latents) are the SAE's on inputs with true feature values ``features``
    (n_samples, n_features); ``decoder`` (d, n_latents) and ``true`` (d, n_features) as in :func:`cosines`. The
    parent's latent is the decoder direction closest to the parent's. Returns its firing rate when the parent is
    active alone (``parent_alone``) and with a child (``parent_with_child``); ``absorption`` = 1 − their ratio
    (0: the parent latent fires regardless; 1: it never fires beside a child); and ``child_parent_cosine``, the
    mean cosine of the children's best latents with the parent direction (0 for clean child latents, 1/√2 for
    latents along child + parent)."""
    latents, features = _matrix("latents", latents), _matrix("features", features)
    if len(latents) != len(features):
        raise ConfigError(f"latents and features must have the same samples, got {len(latents)} and {len(features)}")
    if not 1 <= n_children < features.shape[1]:
        raise ConfigError(f"n_children must lie in [1, {features.shape[1] - 1}], got {n_children!r}")
    best = best_latents(decoder, true)
    parent_fires = latents[:, best[0]] > 0
    parent = features[:, 0] > 0
    child = (features[:, 1 : 1 + n_children] > 0).any(axis=1)
    alone, with_child = parent & ~child, parent & child
    if not alone.any() or not with_child.any():
        raise ConfigError("features must hold samples with the parent alone and with a child")
    rate_alone = float(parent_fires[alone].mean())
    rate_with_child = float(parent_fires[with_child].mean())
    unit_decoder, unit_true = unit_columns(_matrix("decoder", decoder))[0], unit_columns(_matrix("true", true))[0]
    child_latents = best[1 : 1 + n_children]
    return {
        "parent_alone": rate_alone,
        "parent_with_child": rate_with_child,
        "absorption": 1.0 - rate_with_child / rate_alone if rate_alone > 0 else float("nan"),
        "child_parent_cosine": float((unit_decoder[:, child_latents].T @ unit_true[:, 0]).mean()),
    }
