"""Export the parity fixture of the browser's trainer: ``tests/js/fixtures/parity.json``.

    python tools/export_live_fixture.py           # (re)write the fixture
    python tools/export_live_fixture.py --check   # exit 1 if the committed fixture is not what this writes

Cases, for each output nonlinearity and both model kinds that the JavaScript trains, each a fixed batch and
fixed weights made by the package itself (a seeded ``ToyModel`` and a batch of its one-draw sampler, with a few
rows zeroed so that samples without any active feature occur too): the loss and the gradients of W and b, in
float64 from ``toymodels.models.loss_and_grads`` (the trainer's hand-derived gradients) and from autograd on
``ToyModel.loss``, and in float32 as the trainer computes them; and three steps of ``torch.optim.AdamW`` (the
intro's live lr, weight decay 0.01) from the fixed weights, each with the gradient of the fixed batch. Also
Python's ``math.erfc`` at a few points (GELU's normal CDF). ``tests/js/parity.test.js`` (``node --test``) checks
the JavaScript against it; ``tests/test_browser_live.py`` checks that the committed file is what this script
writes now, so the fixture cannot go stale silently.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch

from toymodels import ModelConfig, ToyModel, preset
from toymodels.data import Uniforms, sample_features
from toymodels.kit.browser import protocol
from toymodels.kit.playground import CHOICES, LIMITS, state_of
from toymodels.models import loss_and_grads
from toymodels.nonlinearities import in_superposition, represented
from toymodels.phase.analysis import PHASES, _candidate_grams
from toymodels.playground import preset_states
from toymodels.vocabulary import FEATURE_GEOMETRIES

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "js" / "fixtures" / "parity.json"
DECAY = [0.9**i for i in range(6)]
CASES = (  # (name, n_features, n_hidden, density, batch, importance[, model kind, output activation])
    ("intro, 90 % sparse", 5, 2, 0.1, 64, DECAY[:5]),
    ("intro, dense", 5, 2, 1.0, 32, DECAY[:5]),
    ("phase point, n=3, m=2", 3, 2, 0.3, 48, [1.0, 1.0, 2.5]),
    ("n=2, m=1", 2, 1, 0.5, 40, [1.0, 0.3]),
    ("n=6, m=3", 6, 3, 0.3, 48, DECAY),
    *(
        (f"{activation} output, n=6, m={m}", 6, m, 0.3, 48, DECAY, "relu_output", activation)
        for m, activation in ((2, "gelu"), (3, "silu"), (2, "softplus"), (3, "sigmoid"), (2, "tanh"), (3, "none"))
    ),
    ("hidden ReLU, n=6, m=3", 6, 3, 0.3, 48, DECAY, "relu_hidden", "relu"),
    ("hidden ReLU, n=6, m=2, dense", 6, 2, 1.0, 32, DECAY, "relu_hidden", "relu"),
    ("hidden ReLU, gelu output, n=6, m=3", 6, 3, 0.3, 48, DECAY, "relu_hidden", "gelu"),
)
ERFC_POINTS = [k / 4 - 7 for k in range(57)]  # -7 to 7: the JavaScript's erfc against Python's
ADAM_STEPS = 3


def _case(
    name: str,
    n: int,
    m: int,
    density: float,
    batch: int,
    importance: list[float],
    kind: str = "relu_output",
    activation: str = "relu",
    *,
    seed: int,
) -> dict:
    config = ModelConfig(n_features=n, n_hidden=m, kind=kind, activation=activation)
    # Xavier-normal weights drawn by NumPy: torch.randn's values for 16 or more numbers depend on the CPU's vector
    # kernels (ATEN_CPU_CAPABILITY), and the fixture must not.
    W = np.random.default_rng(seed).standard_normal((1, m, n)) * math.sqrt(2 / (n + m))
    b = np.linspace(-0.2, 0.3, n)[None]  # some output pre-activations ≤ 0, some samples all-bias
    model = ToyModel.from_arrays(config, W, b)
    x = sample_features(torch.full((1, n), density), batch, uniforms=Uniforms(seed)).contiguous()
    x[0, ::7] = 0.0  # samples with no active feature
    I = torch.tensor([importance])
    model64 = ToyModel.from_arrays(config, model.W, model.b).double()
    x64, I64 = x.double(), I.double()
    loss, grads = loss_and_grads(model64, x64, x64, I64)
    autograd_loss = model64.loss(x64, x64, I64).sum()
    autograd_loss.backward()
    loss32, grads32 = loss_and_grads(model, x, x, I)

    # AdamW as torch defines it, from the fixed weights, each step with the gradient of the fixed batch.
    adam = ToyModel.from_arrays(config, model.W, model.b).double()
    lr, weight_decay = preset("intro_live").train.lr, 0.01
    optimizer = torch.optim.AdamW([adam.W, adam.b], lr=lr, weight_decay=weight_decay)
    for _ in range(ADAM_STEPS):
        optimizer.zero_grad()
        _, step_grads = loss_and_grads(adam, x64, x64, I64)
        adam.W.grad, adam.b.grad = step_grads["W"].clone(), step_grads["b"].clone()
        optimizer.step()

    def flat(tensor: torch.Tensor) -> list[float]:
        return tensor.detach().reshape(-1).tolist()  # W (hidden, feature) row-major: W[k * n + i]

    return dict(
        name=name,
        n=n,
        m=m,
        kind=kind,
        activation=activation,
        importance=flat(I64[0]),  # as the trainer holds it (float32)
        x=flat(x64[0]),  # (batch, feature) sample-major
        W=flat(model64.W[0]),
        b=flat(model64.b[0]),
        loss=float(loss[0]),
        gradW=flat(grads["W"][0]),
        gradB=flat(grads["b"][0]),
        autograd=dict(loss=float(autograd_loss.detach()), gradW=flat(model64.W.grad[0]), gradB=flat(model64.b.grad[0])),
        float32=dict(loss=float(loss32[0]), gradW=flat(grads32["W"][0]), gradB=flat(grads32["b"][0])),
        adamw=dict(lr=lr, weightDecay=weight_decay, steps=ADAM_STEPS, W=flat(adam.W[0]), b=flat(adam.b[0])),
        # Chapter 10's counts of the case's W, which the playground reports.
        counts=dict(represented=int(represented(model64.W).sum()), superposed=int(in_superposition(model64.W).sum())),
    )


def protocols() -> dict:
    """The live widgets' training protocols (from their presets), the phase classifier's Gram matrices and the
    playground's presets, for the outcome tests (``tests/js/outcomes.test.js``)."""
    return dict(
        intro=protocol(preset("intro_browser")),
        phase=protocol(preset("phase_change_browser")),
        phase_grams=_candidate_grams(3).round(12).tolist(),
        phase_names=list(PHASES[3]),
        nonlinearity=state_of(preset("nonlinearity_browser")),
        playground=json.loads(
            json.dumps(dict(presets=preset_states(), limits=LIMITS, choices=CHOICES, geometries=_geometries()))
        ),  # as the JSON reads back: lists, not tuples
    )


def _geometries() -> list:
    return [[name, D, dims, size] for name, (D, dims, size) in FEATURE_GEOMETRIES.items()]


def fixture() -> dict:
    """The fixture as this package computes it now."""
    return dict(
        about="Written by tools/export_live_fixture.py; checked by tests/js/parity.test.js. Do not edit.",
        protocols=protocols(),
        erfc=[[x, math.erfc(x)] for x in ERFC_POINTS],
        cases=[_case(*case, seed=seed) for seed, case in enumerate(CASES)],
    )


def text(data: dict) -> str:
    """One line per case (diffs stay readable)."""
    cases = ",\n  ".join(json.dumps(case) for case in data["cases"])
    head = (
        f'"about": {json.dumps(data["about"])},\n "protocols": {json.dumps(data["protocols"])},\n'
        f' "erfc": {json.dumps(data["erfc"])}'
    )
    return f'{{{head},\n "cases": [\n  {cases}\n ]}}\n'


# How far a fresh export may differ from the committed fixture, relative to the largest value of each array: sums
# round differently on other CPUs (or torch kernels), by ~1e-16 in float64 and up to ~1e-6 in float32 (measured:
# the float32 gradients on an AMD EPYC against a fixture written on an Intel Xeon, and with 4 torch threads).
FLOAT64_TOLERANCE = 1e-12
FLOAT32_TOLERANCE = 1e-5


def differences(committed: dict, fresh: dict) -> list[str]:
    """Where the committed fixture differs from a fresh one by more than its tolerance: ``FLOAT32_TOLERANCE`` for
    what the trainer computes in float32 (the ``float32`` entries), ``FLOAT64_TOLERANCE`` for the rest."""
    if [case["name"] for case in committed["cases"]] != [case["name"] for case in fresh["cases"]]:
        return ["the cases differ"]
    found = [key for key in ("protocols", "erfc") if committed.get(key) != fresh[key]]

    def compare(path: str, a, b) -> None:
        if isinstance(b, dict):
            for key in b:
                compare(f"{path}.{key}", a.get(key) if isinstance(a, dict) else None, b[key])
        elif isinstance(b, (list, int, float)) and not isinstance(b, bool):
            a_list, b_list = (a, b) if isinstance(b, list) else ([a], [b])
            if not isinstance(a_list, list) or len(a_list) != len(b_list):
                found.append(f"{path}: shape")
                return
            scale = max([1e-30] + [abs(v) for v in b_list])
            tolerance = FLOAT32_TOLERANCE if ".float32." in f"{path}." else FLOAT64_TOLERANCE
            if any(abs(u - v) > tolerance * scale for u, v in zip(a_list, b_list)):
                found.append(path)
        elif a != b:
            found.append(path)

    for old, new in zip(committed["cases"], fresh["cases"]):
        compare(new["name"], old, new)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the committed fixture, write nothing")
    args = parser.parse_args(argv)
    fresh = fixture()
    if args.check:
        found = differences(json.loads(FIXTURE.read_text()), fresh) if FIXTURE.is_file() else ["missing"]
        print(f"{FIXTURE}: " + ("current" if not found else f"STALE ({', '.join(found)}): run {__file__}"))
        return 0 if not found else 1
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(text(fresh))
    print(f"wrote {FIXTURE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
