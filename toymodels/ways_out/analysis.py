"""§9 (chapter 9): two of the paper's three ways out of superposition, measured on toy models where the answer is
known.

**L1 on the hidden layer** (the paper's first approach, a model without superposition): the toy model trained with
λ·E‖h‖₁ added to its loss (``ModelConfig(l1_penalty=λ)``, a core option, 0 by default) over a sweep of λ, one store
entry per λ. Measured for each λ (best fit of its seeds): the represented features (``tm.represented_features``; for the
models with a hidden ReLU the norm of W_i's positive part, the only part that reaches the hidden layer), those of
them in superposition (the paper's Σ_{j≠i}(Ŵ_i·W_j)² > ``SUPERPOSED``), their mean feature dimensionality D_i
(chapter 4: 1 for a dimension of one's own, 1/2 for an antipodal pair; unchanged when the penalty shrinks every
weight, unlike D* = m/‖W‖_F², which reads shrunken features as extra dimensions per feature), the monosemantic
neurons (for the privileged-basis model) and the *reconstruction* loss on fresh batches, the penalty left out: its
rise over λ = 0 is what removing superposition costs. The reference: the loss of the model without superposition,
the m most important features each on a dimension of its own and the others dropped (each dropped feature costs I_i
(p/3 − p²/4) with its bias at p/2, summed and averaged over the features as the trainer's loss is).

**Sparse autoencoders** (the second, finding an overcomplete basis afterwards, which the field took): SAEs
(:mod:`.sae`) trained on the hidden activations h = W x of a model in superposition, over a grid of L1 coefficient ×
dictionary size, and scored against the truth, the columns of W (:mod:`.scores`). **Feature absorption**, one way
SAEs fail, measured on hierarchical features whose directions are known.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cached_property

import numpy as np
import torch

from .. import store
from ..errors import ConfigError
from ..experiment import Experiment
from ..metrics import feature_dimensionality, neuron_counts, represented_features, superposition
from ..models import ToyModel
from ..results import TrainResult
from ..train import evaluate
from .sae import SAE_VERSION, SaeResult, sae_grid, toy_activations, train_saes
from .scores import (
    absorption,
    activation_scores,
    hierarchical_features,
    max_cosines,
    mean_max_cosine,
    random_mean_max_cosine,
    recovered_share,
)

L1_PENALTIES = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1)  # book's choice: λ from none to every feature gone
SUPERPOSED = 0.1  # a represented feature with superposition Σ_{j≠i}(Ŵ_i·W_j)² above this is in superposition
EVAL_SEED = 20_909  # fresh batches for the reconstruction loss, a seed the trainer never uses
EVAL_BATCHES = 64


def l1_sweep(experiment: Experiment, penalties=L1_PENALTIES) -> tuple[TrainResult, ...]:
    """``experiment`` (one setting) trained through the results store once for each λ in ``penalties``."""
    if experiment.n_settings != 1:
        raise ConfigError(f"experiment must have one setting for an L1 sweep, got {experiment.n_settings}")
    if not len(penalties):
        raise ConfigError("penalties must not be empty")
    return tuple(
        store.train(experiment.replace(l1_penalty=float(lam), name=f"{experiment.name}, L1 λ = {float(lam):g}"))
        for lam in penalties
    )


def reconstruction_loss(result: TrainResult) -> float:
    """The best fit's loss without the L1 term, on ``EVAL_BATCHES`` fresh batches (the trainer's loss otherwise)."""
    experiment = result.experiment.replace(l1_penalty=0.0)
    best = result.best()
    model = ToyModel.from_arrays(experiment.model, best.W, best.b, best.W_out)
    return float(evaluate(model, experiment, n_batches=EVAL_BATCHES, seed=EVAL_SEED, dtype=torch.float64)[0])


def no_superposition_loss(experiment: Experiment) -> float:
    """The trainer's loss of the model without superposition: the m most important features on dimensions of
    their own (no error), every other feature dropped at its optimal bias p/2 (error p/3 − p²/4 for U[0, 1]
    values), importance-weighted and averaged over the features. Setting 0 of ``experiment``."""
    m = experiment.model.n_hidden
    p = experiment.probability_tensor(per="setting")[0].double().numpy()
    importance = experiment.importance_tensor(per="setting")[0].double().numpy()
    dropped = np.argsort(-importance, kind="stable")[m:]
    return float((importance[dropped] * (p[dropped] / 3 - p[dropped] ** 2 / 4)).sum() / len(p))


@dataclass(frozen=True)
class L1Measures:
    """One row per λ (arrays of the sweep's length)."""

    penalty: np.ndarray
    represented: np.ndarray
    superposed: np.ndarray
    mean_dimensionality: np.ndarray  # mean D_i of the represented features (NaN where none is)
    monosemantic: np.ndarray  # neurons responding to exactly one feature (tm.neuron_counts)
    loss: np.ndarray  # reconstruction loss, penalty excluded
    reference: float  # no_superposition_loss
    n_hidden: int
    name: str

    @property
    def exit_index(self) -> int | None:
        """The first λ of the sweep at which features are still represented but none of them is in
        superposition (None: no such λ)."""
        free = np.flatnonzero((self.superposed == 0) & (self.represented > 0))
        return int(free[0]) if len(free) else None

    @property
    def fewer_than_m_index(self) -> int | None:
        """The first λ at which no more features are represented than there are dimensions (None: none)."""
        fewer = np.flatnonzero(self.represented <= self.n_hidden)
        return int(fewer[0]) if len(fewer) else None


def mean_dimensionality(W: torch.Tensor, represented: torch.Tensor) -> np.ndarray:
    """Per instance, the mean feature dimensionality D_i of the ``represented`` features (W: (instances, m, n),
    represented: (instances, n) booleans); NaN where none is represented. Scale-free: W and c·W give the same."""
    D = feature_dimensionality(W).double()
    count = represented.sum(-1)
    return torch.where(count > 0, (D * represented).sum(-1) / count.clamp_min(1), torch.nan).numpy()


def l1_measures(results: tuple[TrainResult, ...]) -> L1Measures:
    """What :func:`l1_sweep` trained, measured λ by λ (see the module's text)."""
    if not results:
        raise ConfigError("results must not be empty")
    W = torch.cat([r.best().W for r in results])
    first = results[0].experiment
    # With a hidden ReLU a feature reaches the hidden layer only through the positive part of its column (its
    # own reconstruction is ReLU(‖W_i⁺‖² x_i + b_i)), so that part's norm says whether it is represented.
    privileged = first.model.hidden_relu
    represented = represented_features(W, hidden_relu=privileged)
    superposed = represented & (superposition(W) > SUPERPOSED)
    return L1Measures(
        penalty=np.array([r.experiment.model.l1_penalty for r in results]),
        represented=represented.sum(-1).numpy(),
        superposed=superposed.sum(-1).numpy(),
        mean_dimensionality=mean_dimensionality(W, represented),
        monosemantic=neuron_counts(W)["monosemantic"].numpy(),
        loss=np.array([reconstruction_loss(r) for r in results]),
        reference=no_superposition_loss(first),
        n_hidden=first.model.n_hidden,
        name=first.name.split(", L1 λ")[0],
    )


# --- sparse autoencoders on a model in superposition -------------------------------------------------------------

SAE_L1S = (0.01, 0.03, 0.1, 0.3, 1.0)  # book's choice: from dense latents to dropped features
SAE_SIZES = (32, 64, 128, 256)  # ½n to 4n for the n = 64 model


@dataclass(frozen=True)
class SaeProtocol:
    """How the grid of SAEs is trained (book's choices; fast: a small grid for CI)."""

    l1s: tuple[float, ...] = SAE_L1S
    sizes: tuple[int, ...] = SAE_SIZES
    steps: int = 3_000
    batch_size: int = 1024
    lr: float = 3e-3
    n_samples: int = 2**17  # activations the SAEs train on (drawn once)
    n_eval: int = 8192  # fresh activations they are scored on
    seed: int = 0


def sae_protocol(fast: bool = False) -> SaeProtocol:
    if fast:
        return SaeProtocol(l1s=(0.1, 0.3), sizes=(32, 128), steps=300, n_samples=2**14, n_eval=2048)
    return SaeProtocol()


@dataclass
class SaeSweep:
    """A grid of SAEs trained on one toy model's hidden activations, with what scoring them needs."""

    name: str
    protocol: SaeProtocol
    result: SaeResult
    true: np.ndarray  # the toy model's W, (m, n): the true feature directions
    h_eval: np.ndarray  # fresh activations (n_eval, m)
    x_eval: np.ndarray  # their features (n_eval, n)
    probability: np.ndarray  # the toy model's feature densities (n,)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.protocol.sizes), len(self.protocol.l1s)

    @cached_property
    def scores(self) -> dict[str, np.ndarray]:
        """Each score as (n_sizes, n_l1s): ``mmcs``, ``recovered``, ``l0``, ``dead``, ``fvu``, and ``random``,
        the mean max cosine of a random dictionary of the same size."""
        rows = []
        d = self.true.shape[0]
        for k, setting in enumerate(self.result.settings):
            decoder = self.result.decoder(k)
            latents = self.result.encode(self.h_eval, k)
            rows.append(
                dict(
                    mmcs=mean_max_cosine(decoder, self.true),
                    recovered=recovered_share(decoder, self.true),
                    random=random_mean_max_cosine(d, setting.n_latents),
                    **activation_scores(latents, self.h_eval, self.result.reconstruct(self.h_eval, k)),
                )
            )
        return {name: np.array([row[name] for row in rows]).reshape(self.shape) for name in rows[0]}

    @property
    def best(self) -> int:
        """The best SAE: among those that recover the most true features, the sparsest (lowest L0)."""
        recovered, l0 = self.scores["recovered"].ravel(), self.scores["l0"].ravel()
        candidates = np.flatnonzero(recovered == recovered.max())
        return int(candidates[np.argmin(l0[candidates])])

    def max_cosines(self, k: int) -> np.ndarray:
        return max_cosines(self.result.decoder(k), self.true)


def _training_activations(toy: TrainResult, protocol: SaeProtocol) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    W = toy.best().W[0].detach().numpy()
    p = toy.experiment.probability_tensor(per="setting")[0].numpy()
    h, _ = toy_activations(W, p, protocol.n_samples, seed=protocol.seed)
    return W, p, h


def _sae_sweep_arrays(spec: dict, toy: TrainResult | None = None, sizes=None) -> dict[str, np.ndarray]:
    """The SAE store's ``sae-sweep`` kind: the grid of ``spec`` (the toy model's experiment and the protocol)
    trained on the toy model's activations (``toy``: the trained model, else loaded through the store);
    ``sizes``: only the settings of those dictionary sizes (the reproduce check's sample)."""
    protocol = SaeProtocol(**spec["protocol"])
    toy = toy or store.train(Experiment.from_dict(spec["toy"]))
    _, _, h = _training_activations(toy, protocol)
    grid = [s for s in sae_grid(protocol.l1s, protocol.sizes) if sizes is None or s.n_latents in sizes]
    return train_saes(h, grid, protocol.seed, protocol.steps, protocol.batch_size, protocol.lr).arrays()


def _sample_smallest(compute):
    """A kind's reproduce-check sample: the settings of the smallest dictionary, one batched run of the sweep
    (trained exactly as within it), against their slice of the stored arrays."""

    def sample(spec: dict, stored: dict) -> tuple[str, dict, dict]:
        size = int(min(stored["n_latents"]))
        index = np.flatnonzero(stored["n_latents"] == size)
        fresh = compute(spec, sizes=(size,))
        part = {name: stored[name][index] for name in stored}
        part["W_enc"], part["b_enc"] = part["W_enc"][:, :size], part["b_enc"][:, :size]
        part["W_dec"] = part["W_dec"][:, :, :size]
        return f"the {len(index)} SAEs of {size} latents", fresh, part

    return sample


store.register_kind("sae-sweep", __name__, SAE_VERSION, _sae_sweep_arrays, _sample_smallest(_sae_sweep_arrays))


def sae_sweep_spec(toy: Experiment, protocol: SaeProtocol) -> dict:
    """What decides an SAE sweep, its key in the store: the toy model's experiment as the results store keys it
    (so that fields added to the core later, at their defaults, leave the key alone) and every protocol field."""
    return json.loads(json.dumps({"toy": store.key_fields(toy), "protocol": asdict(protocol)}))  # as read back


def sae_sweep(toy: TrainResult, protocol: SaeProtocol | None = None) -> SaeSweep:
    """SAEs on the hidden activations of ``toy``'s best fit (setting 0), trained through the results store
    (kind ``sae-sweep``, keyed by the toy model's experiment and every protocol field)."""
    protocol = protocol or sae_protocol()
    if not isinstance(toy, TrainResult):
        raise ConfigError(f"toy must be a TrainResult (tm.store.train), got {type(toy).__name__}")
    spec = sae_sweep_spec(toy.experiment, protocol)
    arrays = store.cached_arrays(
        "sae-sweep", f"SAEs on {toy.experiment.name}", spec, compute=lambda: _sae_sweep_arrays(spec, toy)
    )
    result = SaeResult.from_arrays(arrays)
    W = toy.best().W[0].detach().numpy()
    p = toy.experiment.probability_tensor(per="setting")[0].numpy()
    _, x_eval = toy_activations(W, p, protocol.n_eval, seed=protocol.seed + 1)
    h_eval = x_eval.astype(np.float64) @ W.astype(np.float64).T  # float64: scores with the same digits on any CPU
    return SaeSweep(toy.experiment.name, protocol, result, W, h_eval, x_eval, p)


# --- feature absorption ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AbsorptionProtocol:
    """Hierarchical features (:func:`.scores.hierarchical_features`) along random orthonormal directions in as
    many dimensions as features (no superposition: absorption is the only way to fail), and SAEs over λ with as
    many latents as features and twice as many (book's choices)."""

    n_children: int = 3
    n_others: int = 4
    parent_probability: float = 0.25
    child_probability: float = 0.75
    other_probability: float = 0.25
    binary: bool = True  # active values exactly 1 (absorption is then exact), or U[0, 1] as in the toy models
    l1s: tuple[float, ...] = (0.01, 0.03, 0.1, 0.3)
    sizes: tuple[int, ...] = (8, 16)
    steps: int = 3_000
    batch_size: int = 1024
    lr: float = 3e-3
    n_samples: int = 2**16
    n_eval: int = 16_384
    seed: int = 0

    @property
    def n_features(self) -> int:
        return 1 + self.n_children + self.n_others


def absorption_protocol(fast: bool = False, binary: bool = True) -> AbsorptionProtocol:
    if fast:
        return AbsorptionProtocol(binary=binary, l1s=(0.03, 0.3), sizes=(8,), steps=300, n_samples=2**13, n_eval=4096)
    return AbsorptionProtocol(binary=binary)


@dataclass
class AbsorptionSweep:
    protocol: AbsorptionProtocol
    result: SaeResult
    true: np.ndarray  # (d, n) orthonormal directions
    h_eval: np.ndarray
    x_eval: np.ndarray

    @cached_property
    def scores(self) -> list[dict[str, float]]:
        """One dict per SAE: :func:`.scores.absorption`'s measures, its mean max cosine and activation scores."""
        rows = []
        for k in range(len(self.result.settings)):
            decoder = self.result.decoder(k)
            latents = self.result.encode(self.h_eval, k)
            row = absorption(latents, self.x_eval, decoder, self.true, self.protocol.n_children)
            row["mmcs"] = mean_max_cosine(decoder, self.true)
            row.update(activation_scores(latents, self.h_eval, self.result.reconstruct(self.h_eval, k)))
            rows.append(row)
        return rows

    @property
    def most_absorbed(self) -> int:
        """The SAE with the highest absorption (the first of equals)."""
        return int(np.argmax([r["absorption"] for r in self.scores]))


def _hierarchical(protocol: AbsorptionProtocol, n_samples: int, seed: int) -> np.ndarray:
    p = protocol
    return hierarchical_features(
        n_samples,
        p.n_children,
        p.n_others,
        p.parent_probability,
        p.child_probability,
        p.other_probability,
        p.binary,
        seed,
    )


def _directions(protocol: AbsorptionProtocol) -> np.ndarray:
    """Random orthonormal directions, (d, n) with d = n."""
    rng = np.random.Generator(np.random.SFC64(protocol.seed + 1))
    return np.linalg.qr(rng.standard_normal((protocol.n_features,) * 2))[0].astype(np.float32)


def _absorption_arrays(spec: dict, sizes=None) -> dict[str, np.ndarray]:
    """The SAE store's ``sae-absorption`` kind: SAEs on the hierarchical features of ``spec``'s protocol."""
    protocol = AbsorptionProtocol(**spec["protocol"])
    h = _hierarchical(protocol, protocol.n_samples, protocol.seed) @ _directions(protocol).T
    grid = [s for s in sae_grid(protocol.l1s, protocol.sizes) if sizes is None or s.n_latents in sizes]
    return train_saes(h, grid, protocol.seed, protocol.steps, protocol.batch_size, protocol.lr).arrays()


store.register_kind("sae-absorption", __name__, SAE_VERSION, _absorption_arrays, _sample_smallest(_absorption_arrays))


def absorption_spec(protocol: AbsorptionProtocol) -> dict:
    """What decides an absorption sweep, its key in the store: every protocol field."""
    return json.loads(json.dumps({"protocol": asdict(protocol)}))  # as it reads back from the entry's meta


def absorption_sweep(protocol: AbsorptionProtocol | None = None) -> AbsorptionSweep:
    """SAEs trained on hierarchical features (through the results store, kind ``sae-absorption``) and what
    scoring them needs."""
    protocol = protocol or absorption_protocol()
    spec = absorption_spec(protocol)
    name = f"SAEs on hierarchical features, {'values 1' if protocol.binary else 'values U[0, 1]'}"
    result = SaeResult.from_arrays(store.cached_arrays("sae-absorption", name, spec))
    true = _directions(protocol)
    x_eval = _hierarchical(protocol, protocol.n_eval, protocol.seed + 2)
    h_eval = x_eval.astype(np.float64) @ true.astype(np.float64).T  # float64, as in sae_sweep
    return AbsorptionSweep(protocol, result, true, h_eval, x_eval)
