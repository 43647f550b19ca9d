"""One preset per experiment of the paper (PAPER_NOTES §2), at paper fidelity or in a fast mode for CI.

``preset(name)`` gives the paper's setting; ``preset(name, fast=True)`` keeps the same model and sweep shape
but trains fewer steps, fewer seeds and coarser grids, so every chapter executes in CI in seconds. Where the
paper is silent, the value is the authors' notebook's ("NB") or the book's own choice, marked as such.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

import numpy as np

from ..errors import ConfigError
from ..experiment import Experiment
from .base import BASIC_SWEEP
from .computation import (
    MOTIF_DENSITIES,
    SWEEP_PROTOCOLS,
    absolute_value,
    absolute_value_live,
    asymmetric_motif_search,
    computation_sweep,
)
from .design import (
    DECODERS,
    LONG_STEPS,
    PAIR_CONDITIONS,
    PAIR_DENSITY,
    SNAPSHOT_EVERY,
    decoder_checkpoints,
    decoder_sweep,
    hidden_bias_sweep,
    hidden_relu_sweep,
    importance_pairs,
)
from .geometry import (
    correlated,
    energy_levels,
    geometric_transformations,
    geometric_transformations_live,
    non_uniform,
    pca_sweep,
    uniform,
    uniform_densities,
)
from .memorization import (
    ABLATION_SIZES,
    ABLATION_WEIGHT_DECAY,
    MEMORIZATION_DENSITY,
    MEMORIZATION_FEATURES,
    MEMORIZATION_HIDDEN,
    MEMORIZATION_SIZES,
    SHORT_STEPS,
    epochs_ablation,
    memorization_live,
    memorization_paper_scale,
    memorization_sweep,
    weight_decay_ablation,
)
from .nonlinearities import (
    NONLINEARITIES,
    argmax_relu,
    nonlinearity_browser,
    nonlinearity_live,
    nonlinearity_phase,
    nonlinearity_sweep,
    softmax_geometry,
    softmax_sweep,
)
from .privileged import (
    PRIVILEGED_DENSITIES,
    privileged_basis,
    privileged_basis_full,
    privileged_basis_live,
    privileged_basis_sweep,
)
from .robustness import ADVERSARIAL_TRAINING_ATTACKS, adversarial, adversarial_live, adversarial_training
from .scaling import (
    DECAY_SWEEP,
    DECAY_SWEEP_WIDTH,
    DYNAMICS_LR,
    REGIMES,
    SCALING_ALPHAS,
    SCALING_FEATURES,
    SCALING_WIDTHS,
    liu_reference,
    liu_reference_start,
    scaling_decay_sweep,
    scaling_dynamics,
    scaling_live,
    scaling_paper_scale,
    scaling_train,
    scaling_width,
    scaling_widths,
)
from .superposition import (
    basic,
    intro,
    intro_browser,
    intro_live,
    intro_sweep,
    phase_change,
    phase_change_browser,
    phase_change_live,
)
from .ways_out import l1_way_out, sae_toy, ways_out_privileged, ways_out_relu


def _variant(function: Callable[..., Experiment], doc: str, **fixed) -> Callable[[bool], Experiment]:
    """A preset that calls ``function`` with some arguments fixed, documented by ``doc``."""

    def make(fast: bool = False) -> Experiment:
        return function(fast=fast, **fixed)

    make.__doc__ = doc
    return make


class Presets(dict):
    """Preset name → ``make(fast=False)``; prints (and shows in a notebook) as one line per preset: its name and
    the first sentence of its docstring."""

    def summaries(self) -> list[tuple[str, str]]:
        return [(name, _first_sentence(make.__doc__ or "")) for name, make in self.items()]

    def __repr__(self) -> str:
        width = max(map(len, self))
        lines = [f"{name:<{width}}  {summary}" for name, summary in self.summaries()]
        return (
            f"{len(self)} presets (tm.preset(name, fast=False); help(tm.PRESETS[name]) for the whole text):\n"
            + "\n".join(lines)
        )

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            f"<tr><td><code>{html.escape(name)}</code></td><td style='text-align:left'>{html.escape(summary)}</td></tr>"
            for name, summary in self.summaries()
        )
        return f"<table><tr><th>preset</th><th style='text-align:left'>what it trains</th></tr>{rows}</table>"


def _first_sentence(doc: str, width: int = 110) -> str:
    text = " ".join(doc.split()).replace("``", "")
    end = text.find(". ")
    text = text if end < 0 else text[: end + 1]
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


_OUTPUT = {"none": "linear (identity)", "relu": "ReLU", "gelu": "GELU", "silu": "SiLU"}
_NONLINEARITY_DOC = "Chapter 10: the §2 setup (n=20, m=5, I_i = 0.7^i, the seven densities) with a {} output."
_NONLINEARITY_PHASE_DOC = "Chapter 10: the §3 n=2, m=1 phase diagram with a {} output, on a 7 × 7 grid."

PRESETS: Presets = Presets(
    {
        "intro": intro,
        "intro_sweep": intro_sweep,
        "intro_live": intro_live,
        "intro_browser": intro_browser,
        "basic_linear": _variant(
            basic,
            "§2: the linear model, 20 features in 5 dimensions, I_i = 0.7^i, over the seven densities.",
            kind="linear",
        ),
        "basic_relu": _variant(
            basic,
            "§2: the ReLU-output model, 20 features in 5 dimensions, I_i = 0.7^i, over the seven densities.",
            kind="relu_output",
        ),
        "basic_linear_80": _variant(
            basic,
            "§2: the linear model at the larger size, 80 features in 20 dimensions, I_i = 0.9^i.",
            kind="linear",
            n_features=80,
            n_hidden=20,
            decay=0.9,
        ),
        "basic_relu_80": _variant(
            basic,
            "§2: the ReLU-output model at the larger size, 80 features in 20 dimensions, I_i = 0.9^i.",
            kind="relu_output",
            n_features=80,
            n_hidden=20,
            decay=0.9,
        ),
        "phase_change_2": _variant(
            phase_change,
            "§3: the phase diagram of 2 features in 1 dimension (relative importance × density).",
            n_features=2,
        ),
        "phase_change_3": _variant(
            phase_change,
            "§3: the phase diagram of 3 features in 2 dimensions (relative importance × density).",
            n_features=3,
        ),
        "phase_change_live": phase_change_live,
        "phase_change_browser": phase_change_browser,
        "uniform": uniform,
        "uniform_notebook": _variant(
            uniform, "§4: uniform superposition at the authors' notebook's size, n=200, m=20.", notebook_size=True
        ),
        "non_uniform": non_uniform,
        "correlated": _variant(
            correlated,
            "§4.4: two sets of 2 correlated features in 2 dimensions, best of 10.",
            correlation="correlated",
        ),
        "anticorrelated": _variant(
            correlated,
            "§4.4: two sets of 2 anticorrelated features in 2 dimensions, best of 10.",
            correlation="anticorrelated",
        ),
        "correlated_3_pairs": _variant(
            correlated,
            "§4.4: three pairs of correlated features in 2 dimensions (side by side, not orthogonal).",
            n_sets=3,
        ),
        "local_orthogonal_bases": _variant(
            correlated,
            "§4.4: two sets of 10 correlated features in 10 dimensions (local orthogonal bases).",
            n_sets=2,
            set_size=10,
            n_hidden=10,
        ),
        "pca_sweep": pca_sweep,
        "energy_levels": energy_levels,
        "geometric_transformations": geometric_transformations,
        "geometric_transformations_live": geometric_transformations_live,
        "adversarial": adversarial,
        "adversarial_training": adversarial_training,
        "adversarial_live": adversarial_live,
        "privileged_basis": privileged_basis,
        "privileged_basis_full": privileged_basis_full,
        "privileged_basis_sweep": privileged_basis_sweep,
        "privileged_basis_live": privileged_basis_live,
        "absolute_value": _variant(
            absolute_value, "§10: compute |x| for 3 signed features with 6 neurons, h = ReLU(W x), dense."
        ),
        "computation_sweep": _variant(
            computation_sweep, "§10: |x| for 100 features with 40 neurons, I_i = 0.8^i, over the seven densities."
        ),
        "computation_sweep_lr_1e-2": _variant(
            computation_sweep,
            "§10: the same sweep, cosine decay from lr 1e-2, batches of 256, 30,000 steps (chapter 8).",
            protocol="lr 1e-2, batch 256",
        ),
        "computation_sweep_lr_3e-2": _variant(
            computation_sweep,
            "§10: the same sweep, cosine decay from lr 3e-2, batches of 128, 30,000 steps (chapter 8).",
            protocol="lr 3e-2, batch 128",
        ),
        "asymmetric_motif": _variant(
            absolute_value,
            "§10: |x| for 10 features with 10 neurons at 1−S = 0.35 (ARENA's motif setting).",
            n_features=10,
            n_hidden=10,
            density=0.35,
        ),
        "asymmetric_motif_search": asymmetric_motif_search,
        "absolute_value_live": absolute_value_live,
        "l1_way_out": l1_way_out,
        "ways_out_relu": ways_out_relu,
        "ways_out_privileged": ways_out_privileged,
        "sae_toy": sae_toy,
        **{
            f"nonlinearity_{a}": _variant(nonlinearity_sweep, _NONLINEARITY_DOC.format(_OUTPUT.get(a, a)), activation=a)
            for a in NONLINEARITIES[1:]
        },
        **{
            f"nonlinearity_phase_{a}": _variant(
                nonlinearity_phase, _NONLINEARITY_PHASE_DOC.format(_OUTPUT.get(a, a)), activation=a
            )
            for a in NONLINEARITIES
        },
        "untied_decoder": _variant(
            decoder_sweep,
            "Why tied weights: the §2 ReLU sweep with a free decoder W_out that starts at Wᵀ.",
            decoder="transpose",
        ),
        "untied_decoder_random": _variant(
            decoder_sweep,
            "Why tied weights: the §2 ReLU sweep with a free decoder W_out drawn like W.",
            decoder="random",
        ),
        "hidden_bias": hidden_bias_sweep,
        "conditional_importance": _variant(
            importance_pairs,
            "Ten pairs in 5 dimensions whose partners are never important together.",
            condition="alone",
        ),
        "scaling_strong_weak": _variant(
            scaling_width,
            "Scaling laws: 1,000 features with p_i ∝ i^(−α) in 32 dimensions, strong (γ = −1) and weak (γ = 1).",
            n_hidden=32,
        ),
        "scaling_decay_sweep": scaling_decay_sweep,
        "softmax_sweep": softmax_sweep,
        "softmax_geometry": softmax_geometry,
        "nonlinearity_live": nonlinearity_live,
        "nonlinearity_browser": nonlinearity_browser,
        "argmax_relu": argmax_relu,
    }
)


def list_presets() -> Presets:
    """Every preset with one line on what it trains (``print(tm.list_presets())``, or shown as a table in a notebook);
    ``tm.preset(name)`` makes one."""
    return PRESETS


def preset(name: str, fast: bool = False) -> Experiment:
    """The experiment ``name`` (``tm.list_presets()`` lists them) at paper fidelity, or its fast CI variant."""
    if not isinstance(name, str) or name not in PRESETS:
        near = difflib.get_close_matches(str(name), PRESETS, n=1)
        raise ConfigError(
            f"unknown preset {name!r}{f'; did you mean {near[0]!r}?' if near else ''} (tm.list_presets() lists them: "
            f"{', '.join(sorted(PRESETS))})"
        )
    if not isinstance(fast, (bool, np.bool_)):
        raise ConfigError(f"fast must be True or False, got {fast!r}")
    return PRESETS[name](fast)


__all__ = [
    "PRESETS",
    "DECODERS",
    "LONG_STEPS",
    "PAIR_CONDITIONS",
    "PAIR_DENSITY",
    "SNAPSHOT_EVERY",
    "decoder_checkpoints",
    "decoder_sweep",
    "hidden_bias_sweep",
    "hidden_relu_sweep",
    "importance_pairs",
    "preset",
    "list_presets",
    "Presets",
    "BASIC_SWEEP",
    "MOTIF_DENSITIES",
    "SWEEP_PROTOCOLS",
    "absolute_value",
    "absolute_value_live",
    "asymmetric_motif_search",
    "computation_sweep",
    "correlated",
    "energy_levels",
    "geometric_transformations",
    "geometric_transformations_live",
    "non_uniform",
    "pca_sweep",
    "uniform",
    "uniform_densities",
    "ABLATION_SIZES",
    "ABLATION_WEIGHT_DECAY",
    "MEMORIZATION_DENSITY",
    "MEMORIZATION_FEATURES",
    "MEMORIZATION_HIDDEN",
    "MEMORIZATION_SIZES",
    "SHORT_STEPS",
    "epochs_ablation",
    "memorization_live",
    "memorization_paper_scale",
    "memorization_sweep",
    "weight_decay_ablation",
    "NONLINEARITIES",
    "argmax_relu",
    "nonlinearity_browser",
    "nonlinearity_live",
    "nonlinearity_phase",
    "nonlinearity_sweep",
    "softmax_geometry",
    "softmax_sweep",
    "PRIVILEGED_DENSITIES",
    "privileged_basis",
    "privileged_basis_full",
    "privileged_basis_live",
    "privileged_basis_sweep",
    "ADVERSARIAL_TRAINING_ATTACKS",
    "adversarial",
    "adversarial_live",
    "adversarial_training",
    "basic",
    "intro",
    "intro_browser",
    "intro_live",
    "intro_sweep",
    "phase_change",
    "phase_change_browser",
    "phase_change_live",
    "l1_way_out",
    "sae_toy",
    "ways_out_privileged",
    "ways_out_relu",
    "DECAY_SWEEP",
    "DECAY_SWEEP_WIDTH",
    "DYNAMICS_LR",
    "REGIMES",
    "SCALING_ALPHAS",
    "SCALING_FEATURES",
    "SCALING_WIDTHS",
    "liu_reference",
    "liu_reference_start",
    "scaling_decay_sweep",
    "scaling_dynamics",
    "scaling_live",
    "scaling_paper_scale",
    "scaling_train",
    "scaling_width",
    "scaling_widths",
]
