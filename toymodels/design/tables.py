"""Chapter 12's tables: the numbers its prose quotes, each computed from stored sweeps (:mod:`.analysis`)."""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from ..kit.table import Table, density_label, fixed
from .analysis import FEATURE_ROLES, DecoderFits, GramReading, HiddenBiasEffect, PairArrangements


def _ratio(value: float) -> str:
    return f"{value:.2f}"


def decoder_table(tied: DecoderFits, free: DecoderFits) -> Table:
    """Per density: features represented and antipodal pairs of the tied and free-decoder models, the free one's
    loss ÷ the tied one's, both models' positive interference between represented features
    (:attr:`DecoderFits.positive_interference`), and how far the free product W_out W is from symmetric (0 for a
    Gram matrix)."""
    if not np.array_equal(tied.density, free.density):
        raise ConfigError("tied and free must sweep the same densities")
    rows = tuple(
        (
            density_label(p),
            f"{tied.represented[s].sum()} / {free.represented[s].sum()}",
            f"{tied.antipodal_pairs[s]} / {free.antipodal_pairs[s]}",
            _ratio(free.loss[s] / tied.loss[s]),
            f"{fixed(tied.positive_interference[s], 3)} / {fixed(free.positive_interference[s], 3)}",
            fixed(free.asymmetry[s], 2),
        )
        for s, p in enumerate(tied.density.tolist())
    )
    columns = (
        "1−S",
        "represented (tied / free)",
        "antipodal pairs (tied / free)",
        "loss ÷ tied's",
        "positive interference (tied / free)",
        "asymmetry of WₒᵤₜW",
    )
    return Table(columns, rows)


def alignment_table(free: DecoderFits) -> Table:
    """Per density, over a free decoder's represented features: the least and the median cosine between decoder
    row D_i and encoder column W_i, and the range of ‖D_i‖/‖W_i‖ (all 1 for a tied model). The loss does not fix
    them: W → A W, D → D A⁻¹ leaves the model unchanged for any invertible A."""
    rows = []
    for s, p in enumerate(free.density.tolist()):
        cos = free.cosine[s][free.represented[s]]
        ratio = free.norm_ratio[s][free.represented[s]]
        rows.append(
            (
                density_label(p),
                fixed(cos.min(initial=1.0), 2),
                fixed(np.median(cos), 2) if len(cos) else "–",
                f"{ratio.min():.2g} – {ratio.max():.2g}" if len(ratio) else "–",
            )
        )
    return Table(("1−S", "least cos(Dᵢ, Wᵢ)", "median cos(Dᵢ, Wᵢ)", "‖Dᵢ‖/‖Wᵢ‖"), tuple(rows))


def convergence_table(curves: dict[str, tuple[np.ndarray, np.ndarray]], reference: np.ndarray, density) -> Table:
    """Per density, each named curve's loss ÷ ``reference`` after each of its steps (curves: name → (steps (K,),
    loss (K, S)), as :func:`~toymodels.design.loss_over_training` gives them)."""
    columns, cells = ["1−S"], []
    for name, (steps, loss) in curves.items():
        for k, step in enumerate(steps):
            columns.append(f"{name}, {f'{step // 1000}k' if step % 1000 == 0 else step} steps")
            cells.append(loss[k] / reference)
    rows = tuple(
        (density_label(p),) + tuple(_ratio(column[s]) for column in cells)
        for s, p in enumerate(np.asarray(density).tolist())
    )
    return Table(tuple(columns), rows)


def dead_start_table(fits: DecoderFits) -> Table:
    """Per density, for a free decoder drawn at random: features represented, features whose self-term D_i·W_i
    started negative (a ReLU output that a lone feature never opens), and how many of the features left
    unrepresented started so."""
    negative = fits.start_self_term < 0
    rows = tuple(
        (
            density_label(p),
            str(fits.represented[s].sum()),
            str(negative[s].sum()),
            f"{(negative[s] & ~fits.represented[s]).sum()} of {(~fits.represented[s]).sum()}",
        )
        for s, p in enumerate(fits.density.tolist())
    )
    columns = ("1−S", "represented", "started with Dᵢ·Wᵢ < 0", "unrepresented that started so")
    return Table(columns, rows)


def hidden_table(effect: HiddenBiasEffect, hidden_relu: DecoderFits, tied: DecoderFits) -> Table:
    """Per density: with a hidden bias, its loss ÷ the model's without, its largest |c_j|, how far b + Wᵀc is from
    the bias of the model without c, and what each represents; with a hidden ReLU, its loss ÷ the tied model's and
    what each represents."""
    rows = tuple(
        (
            density_label(p),
            _ratio(effect.loss_ratio[s]),
            fixed(effect.largest_c[s], 3),
            fixed(effect.bias_gap[s], 3),
            f"{effect.represented[0][s]} / {effect.represented[1][s]}",
            _ratio(hidden_relu.loss[s] / tied.loss[s]),
            f"{hidden_relu.represented[s].sum()} / {tied.represented[s].sum()}",
        )
        for s, p in enumerate(effect.density.tolist())
    )
    columns = (
        "1−S",
        "hidden bias: loss ÷ without",
        "max |cⱼ|",
        "max |(b + Wᵀc)ᵢ − bᵢ|",
        "represented (with c / without)",
        "hidden ReLU: loss ÷ tied's",
        "represented (hidden ReLU / tied)",
    )
    return Table(columns, rows)


def gram_table(reading: GramReading) -> Table:
    """Per frame of a :class:`GramReading`: its features by role, the superposed ones with a negative bias, and
    the largest gap between a dropped feature's bias and its mean p/2."""
    rows = tuple(
        (label,)
        + tuple(str(reading.count(role)[k]) for role in FEATURE_ROLES)
        + (
            str(reading.negative_bias_in_superposition[k]),
            "–" if np.isnan(reading.dropped_bias_gap[k]) else fixed(reading.dropped_bias_gap[k], 3),
        )
        for k, label in enumerate(reading.labels)
    )
    columns = ("model", *FEATURE_ROLES, "superposed with bᵢ < 0", "dropped: max |bᵢ − p/2|")
    return Table(columns, rows)


def pairs_table(arrangements: dict[str, PairArrangements], shown=("collapsed", "antipodal", "obtuse")) -> Table:
    """Per pairs experiment: the share of all fits' pairs in each ``shown`` arrangement (and the rest), the mean
    cosine between partners, and the best fit's loss."""
    rows = tuple(
        (name,)
        + tuple(f"{a.share[kind]:.2f}" for kind in shown)
        + (f"{1 - sum(a.share[kind] for kind in shown):.2f}", fixed(a.mean_cosine, 2), f"{a.loss:.3g}")
        for name, a in arrangements.items()
    )
    columns = ("pairs", *shown, "other", "mean cos(partners)", "best fit's loss")
    return Table(columns, rows)


def cross_table(names, losses: np.ndarray) -> Table:
    """``losses`` (trained on, evaluated on) of :func:`~toymodels.design.cross_losses` as a table."""
    names = list(names)
    losses = np.asarray(losses)
    if losses.shape != (len(names), len(names)):
        raise ConfigError(f"losses must have shape ({len(names)}, {len(names)}), got {losses.shape}")
    rows = tuple((f"trained: {name}",) + tuple(f"{value:.3g}" for value in losses[k]) for k, name in enumerate(names))
    return Table(("", *(f"scored: {name}" for name in names)), rows)
