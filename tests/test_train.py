import importlib
import math
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

import toymodels as tm
from toymodels import Experiment, ModelConfig, ToyModel, TrainConfig, sample_features, target_of
from toymodels.block import lr_at
from toymodels.data import Uniforms
from toymodels.train import halving_schedule

train_module = importlib.import_module("toymodels.train")  # `toymodels.train` itself is the function
block_module = importlib.import_module("toymodels.block")
workers_module = importlib.import_module("toymodels.workers")


def small(steps=200, **changes):
    exp = Experiment(
        ModelConfig(n_features=6, n_hidden=2),
        feature_probability=[1.0, 0.1],
        importance=tm.importance_decay(6, 0.9),
        n_seeds=3,
        train=TrainConfig(steps=steps, batch_size=256, progress=False),
    )
    return exp.replace(**changes) if changes else exp


def reference_training(exp: Experiment) -> ToyModel:
    """The authors' algorithm written plainly: autograd on the summed loss and torch's AdamW (same batches). Under
    adversarial training each input gets the analytic attack on a random feature, δ = λ (WᵀW)_f / ‖(WᵀW)_f‖ with
    λ = attack × the batch's mean input norm, held fixed; the target stays clean."""
    assert len(train_module.blocks(exp)) == 1, "the reference draws for one block"
    seed = tm.data.stream_seed(exp.train.seed, (0, block_module.INIT_STREAM))
    model = ToyModel(exp.model, exp.n_instances, generator=torch.Generator().manual_seed(seed))
    uniforms = Uniforms(exp.train.seed, stream=(0, block_module.TRAIN_STREAM))
    # Weight decay: torch's AdamW for one γ >= 0; for a negative γ or one γ per setting, plain Adam after the decay
    # written out per instance (Liu, Liu & Gore's optimiser, exp/adamw.py, on the rows of their (n, m) W: our Wᵀ).
    per_instance = isinstance(exp.train.weight_decay, tuple) or exp.train.weight_decay < 0
    decay = 0.0 if per_instance else exp.train.weight_decay
    gammas = exp.weight_decay_tensor()
    matrices = [p for name, p in model.named_parameters() if name in ("W", "W_out")]
    others = [p for name, p in model.named_parameters() if name not in ("W", "W_out")]
    optimizer = torch.optim.AdamW(
        [
            dict(params=matrices, weight_decay=decay),
            dict(params=others, weight_decay=decay if exp.train.decay_biases else 0.0),
        ],
        lr=exp.train.lr,
    )
    probability, importance, attack = exp.probability_tensor(), exp.importance_tensor(), exp.attack_tensor()
    attacks = torch.Generator().manual_seed(tm.data.stream_seed(exp.train.seed, (0, block_module.ATTACK_STREAM)))
    for step in range(exp.train.steps):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, exp.train)
        x = sample_features(probability, exp.train.batch_size, exp.data, uniforms)
        target = target_of(x, exp.data)
        if any(exp.attack_fraction):
            feature = torch.randint(exp.model.n_features, x.shape[:2], generator=attacks)
            with torch.no_grad():
                gram = model.W.transpose(1, 2) @ model.W
                rows = gram[torch.arange(len(x)).unsqueeze(1), feature]  # (instance, batch, feature)
                lam = attack * x.norm(dim=-1).mean(-1)
                x = x + lam[:, None, None] * rows / rows.norm(dim=-1, keepdim=True)
        weights = tm.data.loss_weights(x, importance, exp.data)  # per sample for conditional importance
        optimizer.zero_grad()
        model.loss(x, target, weights).sum().backward()
        if per_instance:
            with torch.no_grad():
                lr = lr_at(step, exp.train)
                for k, gamma in enumerate(gammas.tolist()):
                    if gamma < 0:
                        rows = model.W[k].T
                        row_norms = rows.norm(dim=1).unsqueeze(1).add_(1e-8)
                        rows.add_(gamma * rows * (1 - 1 / row_norms), alpha=lr)
                        continue
                    for name, parameter in model.named_parameters():
                        if name in ("W", "W_out") or exp.train.decay_biases:
                            parameter[k].mul_(1 - lr * gamma)
        optimizer.step()
    return model


@pytest.mark.parametrize(
    "kind, schedule, weight_decay, attack, changes",
    [
        ("relu_output", "constant", 0.01, 0.0, {}),
        ("linear", "linear", 0.0, 0.0, {}),
        ("relu_hidden", "cosine", 0.01, 0.0, {}),
        ("untied_relu_hidden", "constant", 0.01, 0.0, {}),
        ("relu_output", "constant", 0.01, (0.3, 0.9), {}),  # adversarial training, one attack size per setting
        # chapter 12's options: a free decoder that starts at Wᵀ, a hidden bias, conditional importance
        ("untied_relu_output", "constant", 0.01, 0.0, dict(decoder_init="transpose")),
        ("relu_output", "constant", 0.01, 0.0, dict(hidden_bias=True)),
        ("relu_hidden", "constant", 0.01, 0.0, dict(hidden_bias=True)),
        ("relu_output", "constant", 0.01, 0.0, dict(importance_when="alone", set_size=2)),
        # chapter 13's options: Liu, Liu & Gore's negative weight decay, a decay of the matrices only, a floor
        ("relu_output", "half_cosine", -0.5, 0.0, dict(warmup_steps=5, min_lr_fraction=0.05, lr=1e-2)),
        ("relu_output", "constant", 0.5, 0.0, dict(decay_biases=False, lr=1e-2)),
        ("untied_relu_output", "constant", -0.5, 0.0, dict(decay_biases=False, lr=1e-2)),
        ("relu_output", "linear", 0.0, 0.0, dict(decay_biases=False, min_lr_fraction=0.5)),
        # one γ per setting, of both signs, with and without the biases' decay
        ("relu_output", "constant", (-0.5, 0.5), 0.0, dict(decay_biases=False, lr=1e-2)),
        ("relu_hidden", "constant", (0.3, -0.2), 0.0, dict(lr=1e-2, hidden_bias=True)),
    ],
)
def test_trainer_follows_the_reference_algorithm(kind, schedule, weight_decay, attack, changes):
    exp = small(steps=40, kind=kind, lr_schedule=schedule, weight_decay=weight_decay, attack_fraction=attack)
    exp = exp.replace(**changes) if changes else exp
    if kind == "untied_relu_hidden":
        exp = exp.replace(signed=True, target="abs")
    trained = tm.train(exp).model
    reference = reference_training(exp)
    for name, parameter in reference.named_parameters():
        torch.testing.assert_close(
            getattr(trained, name),
            parameter,
            rtol=1e-4,
            atol=1e-5,
            msg=lambda m, name=name: f"{name} after 40 steps differs from autograd + AdamW: {m}",
        )


def test_same_seed_gives_bitwise_equal_weights_and_another_seed_does_not():
    a, b = tm.train(small(steps=50)), tm.train(small(steps=50))
    assert torch.equal(a.model.W, b.model.W) and torch.equal(a.model.b, b.model.b)
    assert torch.equal(a.losses, b.losses)
    c = tm.train(small(steps=50, seed=1))
    assert not torch.equal(a.model.W, c.model.W)


def test_loss_falls_on_a_tiny_run():
    result = tm.train(small(steps=300, snapshot_every=100))
    first, last = result.history.losses[0], result.history.losses[-1]
    assert torch.all(last < first) and last.sum() < 0.5 * first.sum(), f"loss did not fall: {first} -> {last}"


def test_snapshots_and_callback():
    seen = []
    result = tm.train(small(steps=25, snapshot_every=10), callback=lambda step, model, loss: seen.append(step))
    history = result.history
    assert history.steps.tolist() == [0, 10, 20, 25] and seen == [0, 10, 20, 25]
    assert history.W.shape == (4, 6, 2, 6) and history.b.shape == (4, 6, 6) and history.losses.shape == (4, 6)
    assert torch.equal(history.W[-1], result.model.W.detach()), "the last snapshot must be the final weights"
    assert tm.train(small(steps=5)).history is None


def test_best_of_k_keeps_the_lowest_loss_seed_of_each_setting():
    result = tm.train(small(steps=30))
    losses = result.losses.view(2, 3)
    assert torch.equal(result.best_seed, losses.argmin(1))
    assert torch.equal(result.best_losses, losses.min(1).values)
    best = result.best()
    assert best.n_instances == 2
    assert torch.equal(best.W[1], result.model.W[3 + losses[1].argmin()])


def test_evaluation_is_seeded_and_matches_the_model_loss():
    result = tm.train(small(steps=30))
    again = tm.evaluate(result.model, result.experiment)
    assert torch.equal(result.losses, again)


def test_learning_rate_schedules():
    config = TrainConfig(steps=101, lr=1.0, lr_schedule="linear")
    assert lr_at(0, config) == 1.0 and lr_at(100, config) == pytest.approx(1 / 101)
    config = TrainConfig(steps=101, lr=1.0, lr_schedule="cosine")
    assert lr_at(50, config) == pytest.approx(math.cos(math.pi / 4)) and lr_at(100, config) == pytest.approx(
        0, abs=1e-12
    )
    assert lr_at(77, TrainConfig(lr=0.5)) == 0.5


def test_warmup_then_half_cosine_decays_to_zero():
    config = TrainConfig(steps=1_100, lr=2.0, lr_schedule="half_cosine", warmup_steps=100)
    assert [lr_at(s, config) for s in (0, 49, 99)] == pytest.approx([0.02, 1.0, 2.0])
    assert lr_at(100, config) == 2.0 and lr_at(600, config) == pytest.approx(1.0)
    assert lr_at(1_099, config) == pytest.approx(2.0 * 0.5 * (1 + math.cos(math.pi * 999 / 1000)))
    with pytest.raises(tm.ConfigError, match=r"warmup_steps must be an integer in \[0, steps\)"):
        TrainConfig(steps=10, warmup_steps=10)


def test_a_warmup_leaves_old_store_keys_alone():
    assert "warmup_steps" not in tm.store.key_fields(small())["train"]
    assert tm.store.key_fields(small(warmup_steps=5))["train"]["warmup_steps"] == 5


def test_a_floor_ends_the_schedule_at_its_fraction_of_lr():
    config = TrainConfig(steps=1_100, lr=2.0, lr_schedule="half_cosine", warmup_steps=100, min_lr_fraction=0.05)
    assert lr_at(99, config) == 2.0 and lr_at(100, config) == pytest.approx(2.0)
    assert lr_at(600, config) == pytest.approx(2.0 * (0.05 + 0.95 * 0.5))
    assert lr_at(1_099, config) == pytest.approx(0.1, rel=1e-4)
    linear = TrainConfig(steps=100, lr=1.0, lr_schedule="linear", min_lr_fraction=0.5)
    assert lr_at(50, linear) == pytest.approx(0.75)
    with pytest.raises(tm.ConfigError, match=r"min_lr_fraction must be a number in \[0, 1\]"):
        TrainConfig(lr_schedule="linear", min_lr_fraction=1.5)
    with pytest.raises(tm.ConfigError, match="min_lr_fraction applies to a decaying lr_schedule"):
        TrainConfig(min_lr_fraction=0.05)


def test_new_training_fields_leave_old_store_keys_alone():
    fields = tm.store.key_fields(small())["train"]
    assert "decay_biases" not in fields and "min_lr_fraction" not in fields
    changed = small(decay_biases=False, lr_schedule="linear", min_lr_fraction=0.05)
    assert tm.store.key_fields(changed)["train"]["decay_biases"] is False
    assert tm.store.key_fields(changed)["train"]["min_lr_fraction"] == 0.05


def test_negative_weight_decay_pulls_every_feature_norm_to_one_and_leaves_the_bias():
    """With no gradient, Liu et al.'s negative decay alone: ‖W_i‖ → 1 from above and below (the rows of their
    (n, m) W are our columns), b untouched; a positive decay of the matrices only leaves b too."""
    W = torch.randn(2, 4, 6) * torch.tensor([0.2, 3.0]).view(2, 1, 1)
    b = torch.randn(2, 6)
    start_b = b.clone()
    optimizer = block_module.AdamW([W, b], lr=0.05, weight_decay=-1.0, shrunk=[True, False], pulled=[True, False])
    for _ in range(400):
        optimizer.step([torch.zeros_like(W), torch.zeros_like(b)])
    torch.testing.assert_close(W.norm(dim=1), torch.ones(2, 6), atol=1e-4, rtol=0)
    assert torch.equal(b, start_b)
    optimizer = block_module.AdamW([W, b], lr=0.05, weight_decay=1.0, shrunk=[True, False], pulled=[True, False])
    optimizer.step([torch.zeros_like(W), torch.zeros_like(b)])
    torch.testing.assert_close(W.norm(dim=1), torch.full((2, 6), 0.95), atol=1e-4, rtol=0)
    assert torch.equal(b, start_b)
    with pytest.raises(tm.ConfigError, match="one flag per parameter"):
        block_module.AdamW([W, b], lr=0.05, weight_decay=1.0, shrunk=[True])


def test_weight_decay_must_be_finite_and_may_be_negative():
    assert TrainConfig(weight_decay=-1.0).weight_decay == -1.0
    with pytest.raises(tm.ConfigError, match="weight_decay must be a finite number"):
        TrainConfig(weight_decay=float("nan"))
    with pytest.raises(tm.ConfigError, match="one weight_decay >= 0 with decay_biases=True"):
        importlib.import_module("toymodels.kit.browser").protocol(small(weight_decay=-0.5))
    with pytest.raises(tm.ConfigError, match="a finite-data run takes AdamW's decay"):
        tm.finite.FiniteExperiment(train=TrainConfig(weight_decay=-1.0))


def test_one_weight_decay_per_setting():
    exp = small(feature_probability=0.1, weight_decay=(-1.0, 0.0, 1.0))
    assert exp.n_settings == 3 and exp.weight_decay_tensor().tolist() == [-1.0] * 3 + [0.0] * 3 + [1.0] * 3
    assert exp.setting_labels == ("weight decay -1", "weight decay 0", "weight decay 1")
    assert TrainConfig(weight_decay=[0.5]).weight_decay == 0.5 and TrainConfig(
        weight_decay=np.array([1, 2])
    ).weight_decay == (1.0, 2.0)
    with pytest.raises(tm.ConfigError, match="train.weight_decay 3; they must match or be 1"):
        small(feature_probability=(0.1, 0.5), weight_decay=(-1.0, 0.0, 1.0))
    with pytest.raises(tm.ConfigError, match="weight_decay must be a finite number"):
        TrainConfig(weight_decay=(0.1, float("inf")))
    with pytest.raises(tm.ConfigError, match="weight_decay must be a finite number"):
        TrainConfig(weight_decay="0.1")
    with pytest.raises(tm.ConfigError, match="a finite-data run takes AdamW's decay"):
        tm.finite.FiniteExperiment(train=TrainConfig(weight_decay=(0.1, 0.2)))
    # the key, and a round trip through the store's JSON, keep the tuple
    assert Experiment.from_dict(exp.to_dict()) == exp


def test_successive_halving_keeps_each_survivors_weight_decay():
    exp = small(steps=60, n_seeds=4, lr=0.05, weight_decay=(-2.0, 5.0), halving_steps=20, halving_eta=2)
    result = tm.train(exp.replace(halving_finalists=2))
    norms = result.model.W.detach().norm(dim=1)  # (instance, feature)
    assert result.model.n_instances == 4
    # after the cuts, the negative decay's survivors still have their feature norms pulled up towards 1 (against
    # the loss, which wants them short here), the positive decay's shrunk
    assert float(norms[:2].min()) > 0.5 > float(norms[2:].max()), norms


def test_power_law_densities():
    p = np.array(tm.power_law_densities(1000, 1.5))
    assert p.sum() == pytest.approx(1.0) and p[0] / p[1] == pytest.approx(2**1.5) and np.all(np.diff(p) < 0)
    assert tm.power_law_densities(4, 0.0, total=2.0) == (0.5, 0.5, 0.5, 0.5)
    with pytest.raises(tm.ConfigError, match="alpha must be a finite number >= 0"):
        tm.power_law_densities(10, -1.0)
    with pytest.raises(tm.ConfigError, match="gives the first feature a density"):
        tm.power_law_densities(10, 3.0, total=2.0)


def test_halving_schedule():
    train = TrainConfig(steps=10_000, halving_steps=250, halving_eta=4)
    assert halving_schedule(train, 1000) == [(250, 250), (1000, 63), (4000, 16)]
    assert halving_schedule(train, 64) == [(250, 16), (1000, 8)]  # never fewer than 8 finalists
    assert halving_schedule(train, 8) == []
    assert halving_schedule(TrainConfig(steps=10_000), 1000) == []
    assert halving_schedule(TrainConfig(steps=100, halving_steps=10, halving_eta=2, halving_finalists=1), 4) == [
        (10, 2),
        (20, 1),
    ]


def test_successive_halving_keeps_a_winner_as_good_as_training_every_fit():
    exp = small(steps=400).replace(n_seeds=8, feature_probability=[0.3, 0.05])
    full = tm.train(exp)
    halved = tm.train(exp.replace(halving_steps=50, halving_eta=2, halving_finalists=1))
    assert halved.model.n_instances == 2 and halved.fits_per_setting == 1
    assert torch.equal(halved.best_index, torch.tensor([0, 1]))
    assert set(halved.seeds.tolist()) <= set(range(8))
    # The cheap protocol's winner is at least as good as a typical fit of the full protocol.
    median = full.losses.view(2, 8).median(dim=1).values
    assert torch.all(halved.best_losses <= median * 1.001), (halved.best_losses, median)


# ----------------------------------------------------------------------------------------------------
# Blocks: fixed-size runs of their own, so a sweep trains to the same bits however it is split


def large(steps=20, **changes) -> Experiment:
    """A model just large enough for large blocks (32·32 = 1024 weights): six instances, blocks of two."""
    exp = Experiment(
        ModelConfig(n_features=32, n_hidden=32),
        feature_probability=[1.0, 0.3, 0.1, 0.03, 0.01, 0.003],
        importance=tm.importance_decay(32, 0.95),
        train=TrainConfig(steps=steps, batch_size=256, progress=False),
    )
    return exp.replace(**changes) if changes else exp


def assert_same_result(a: tm.TrainResult, b: tm.TrainResult) -> None:
    for name in ("W", "b"):
        assert torch.equal(getattr(a.model, name), getattr(b.model, name)), f"{name} differs"
    assert torch.equal(a.losses, b.losses) and torch.equal(a.seeds, b.seeds)
    assert (a.history is None) == (b.history is None)
    if a.history is not None:
        assert all(
            torch.equal(x, y) for x, y in zip(vars(a.history).values(), vars(b.history).values()) if x is not None
        )


def test_blocks_tile_the_instances_by_size_alone(monkeypatch):
    """Oracle: contiguous ranges of block_size instances (the last one shorter), the size set by the model's
    and the batch's size, never by the number of settings; whole settings with successive halving."""
    exp = small()  # 6 features, batch 256: 2^18 // 1536 = 170 instances a block
    assert block_module.block_size(exp) == 170 and train_module.blocks(exp) == [(0, 6)]
    many = exp.replace(feature_probability=[0.5] * 100)  # 300 instances
    assert train_module.blocks(many) == [(0, 170), (170, 300)]
    assert train_module.blocks(many.replace(feature_probability=[0.5] * 60))[0] == (0, 170)
    assert block_module.block_size(many.replace(halving_steps=10, n_seeds=7)) == 175  # 25 whole settings
    assert block_module.block_size(large()) == 128  # 2^20 // (32 · 256)
    assert train_module.blocks(large(batch_size=2048)) == [(0, 6)]
    uniform = tm.preset("uniform")  # n=400, batch 1024: blocks of two instances, the last of one
    assert train_module.blocks(uniform) == [(k, min(k + 2, 17)) for k in range(0, 17, 2)]
    assert block_module.batch_chunks(uniform, 2) == [512, 512]


def test_a_block_trains_as_the_reference_on_its_own_streams(monkeypatch):
    """Oracle: autograd + AdamW on block k's own initial weights and batches (streams (k, role) of the seed),
    in the block's batch chunks."""
    monkeypatch.setattr(block_module, "_LARGE_BLOCK_ELEMENTS", 2 * 32 * 256)  # blocks of two instances
    monkeypatch.setattr(block_module, "_CHUNK_ELEMENTS", 2 * 2 * 32 * 64)  # 64-sample chunks
    exp = large()
    assert train_module.blocks(exp) == [(0, 2), (2, 4), (4, 6)]
    assert block_module.batch_chunks(exp, 2) == [64] * 4
    trained = tm.train(exp).model
    k, (start, stop) = 1, (2, 4)
    generator = torch.Generator().manual_seed(tm.data.stream_seed(exp.train.seed, (k, block_module.INIT_STREAM)))
    model = ToyModel(exp.model, 2, generator=generator)
    stream = Uniforms(exp.train.seed, stream=(k, block_module.TRAIN_STREAM))
    optimizer = torch.optim.AdamW(model.parameters(), lr=exp.train.lr, weight_decay=exp.train.weight_decay)
    probability, importance = exp.probability_tensor()[start:stop], exp.importance_tensor()[start:stop]
    for _ in range(exp.train.steps):
        x = torch.cat([sample_features(probability, 64, exp.data, stream) for _ in range(4)], dim=1)
        optimizer.zero_grad()
        model.loss(x, x, importance).sum().backward()
        optimizer.step()
    for name, parameter in model.named_parameters():
        torch.testing.assert_close(
            getattr(trained, name)[start:stop],
            parameter,
            rtol=1e-4,
            atol=1e-5,
            msg=lambda m, name=name: f"{name} of block {k} differs from the reference: {m}",
        )


@pytest.mark.parametrize("case", ["small", "large with history", "halving"])
def test_the_same_bits_with_1_2_and_4_workers_and_each_block_alone(case):
    exp = {
        "small": small(steps=60, feature_probability=[0.5] * 40, n_seeds=10, batch_size=1024),  # 10 blocks
        "large with history": large(steps=30, snapshot_every=10),  # 1 block of 6: made smaller below
        "halving": small(
            steps=60,
            feature_probability=[0.5] * 40,
            n_seeds=8,
            batch_size=1024,
            halving_steps=10,
            halving_eta=2,
            halving_finalists=2,
        ),  # blocks of 5 settings
    }[case]
    if case == "large with history":
        exp = exp.replace(batch_size=2048, n_seeds=20)  # 120 instances, blocks of 16
    one = tm.train(exp, workers=1)
    for workers in (2, 4):
        assert_same_result(one, tm.train(exp, workers=workers))
    ranges = train_module.blocks(exp)
    assert len(ranges) > 2
    k = len(ranges) - 1
    (alone,) = train_module.train_blocks(exp, k, k + 1)
    scale = one.fits_per_setting / exp.n_seeds  # 1, or the fits kept by halving per fit trained
    start, stop = round(ranges[k][0] * scale), round(ranges[k][1] * scale)
    assert torch.equal(alone["W"], one.model.W[start:stop]) and torch.equal(alone["losses"], one.losses[start:stop])


def test_the_same_bits_through_a_dask_cluster():
    distributed = pytest.importorskip("distributed")
    exp = small(steps=40, feature_probability=[0.5] * 12, n_seeds=10, batch_size=1024)  # 120 instances
    assert len(train_module.blocks(exp)) == 3
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        through_dask = tm.train(exp, executor=client.get_executor())
    assert_same_result(tm.train(exp, workers=1), through_dask)


def test_large_blocks_side_by_side_on_threads_equal_one_after_the_other():
    exp = large(steps=15, snapshot_every=5, batch_size=2048, n_seeds=6)  # 36 instances, blocks of 16
    threaded, sequential = tm.Trainer(exp, cores=2), tm.Trainer(exp, cores=1)
    assert threaded._side_by_side() == 2 and sequential._side_by_side() == 1
    for trainer in (threaded, sequential):
        trainer.run()
    assert_same_result(threaded.result(), sequential.result())


def test_default_workers(monkeypatch):
    monkeypatch.delenv("TOYMODELS_WORKERS", raising=False)
    monkeypatch.setattr(workers_module, "available_cores", lambda: 2)
    assert workers_module.default_workers(small()) == 1  # little work: this process
    assert workers_module.default_workers(tm.preset("phase_change_3")) == 2
    assert workers_module.default_workers(tm.preset("phase_change_3"), callback=print) == 1
    assert workers_module.default_workers(tm.preset("uniform")) == 1  # large: threads side by side instead
    assert workers_module.default_workers(tm.preset("intro")) == 1  # one block
    monkeypatch.setenv("TOYMODELS_WORKERS", "3")
    assert workers_module.default_workers(small()) == 3


def test_bad_worker_options_are_refused_clearly():
    with pytest.raises(tm.ConfigError, match="workers must be a positive integer"):
        tm.train(small(steps=2), workers=0)
    with pytest.raises(tm.ConfigError, match="callback"):
        tm.train(small(steps=2, snapshot_every=1), callback=print, executor=ThreadPoolExecutor(1))
    with pytest.raises(tm.ConfigError, match="block_range"):
        tm.Trainer(small(), block_range=(0, 2))
    with pytest.raises(tm.ConfigError, match="halving"):
        tm.Trainer(small()).keep_best(1)


def test_random_streams_are_the_seeds_own_and_independent():
    """Stream () is the seed's own stream; a keyed stream differs from it and from the other seeds' and keys'."""
    own, keyed = Uniforms(7), Uniforms(7, stream=(0, 1))
    first, other = own.uniform(1000), keyed.uniform(1000)
    assert torch.equal(first, Uniforms(7, stream=()).uniform(1000))
    assert not torch.equal(first, other) and abs(float(torch.corrcoef(torch.stack([first, other]))[0, 1])) < 0.1
    assert torch.equal(Uniforms(7, stream=(0, 1)).uniform(1000), other)
    assert not torch.equal(Uniforms(8, stream=(0, 1)).uniform(1000), other)
    assert not torch.equal(Uniforms(7, stream=(1, 0)).uniform(1000), other)
    with pytest.raises(tm.ConfigError, match="stream"):
        Uniforms(7, stream=(-1,))


# ----------------------------------------------------------------------------------------------------
# Drawing ahead: a step on one thread has its next batch drawn on the idle core, the same batches in the same order


def drawn_ahead(monkeypatch, ahead: bool) -> list:
    """Make every one-thread step draw ahead (or none); returns the list of _DrawAhead objects made."""
    made = []

    class Counted(block_module._DrawAhead):
        def __init__(self, *args):
            super().__init__(*args)
            made.append(self)

    monkeypatch.setattr(block_module, "_DrawAhead", Counted)
    monkeypatch.setattr(block_module, "_DRAW_AHEAD_ELEMENTS", 1 if ahead else 1 << 62)
    monkeypatch.setattr(train_module, "available_cores", lambda: 2)  # exercised on a one-core machine too
    return made


@pytest.mark.parametrize("layout", ["one batch", "batch chunks"])
def test_batches_drawn_ahead_give_the_weights_of_batches_drawn_in_place(monkeypatch, layout):
    """Oracle: the same run with the sampler called in place, bit for bit, over runs of several lengths (each
    run draws exactly its own batches: none is left drawn ahead for the next)."""
    exp = {
        "one batch": small(),
        "batch chunks": large(n_seeds=2),  # 32·32 weights: the batch is split into chunks
    }[layout]
    monkeypatch.setattr(block_module, "_CHUNK_ELEMENTS", 2 * 12 * 32 * 64)  # 64-sample chunks of 12 instances
    weights = {}
    for ahead in (False, True):
        made = drawn_ahead(monkeypatch, ahead)
        trainer = tm.Trainer(exp)  # one block either way
        assert trainer.blocks[0].chunks == {"one batch": [256], "batch chunks": [64] * 4}[layout]
        for steps in (7, 1, 12):
            trainer.run(steps)
        assert len(made) == (3 if ahead else 0) and all(draw.left == 0 for draw in made)
        weights[ahead] = trainer.model.W.clone(), trainer.model.b.clone()
    assert all(torch.equal(a, b) for a, b in zip(weights[False], weights[True]))


def test_draw_ahead_is_only_for_one_thread_on_the_cpu(monkeypatch):
    made = drawn_ahead(monkeypatch, ahead=True)
    tm.Trainer(large(batch_size=2048, n_seeds=20)).run(2)  # large blocks side by side: both cores are busy
    tm.Trainer(small(threads=2)).run(2)
    assert made == []
    monkeypatch.setattr(train_module, "available_cores", lambda: 1)
    tm.Trainer(small()).run(2)
    assert made == []


def test_an_error_while_drawing_ahead_reaches_the_caller_and_the_thread_ends(monkeypatch):
    drawn_ahead(monkeypatch, ahead=True)
    trainer = tm.Trainer(small())
    sampler, calls = trainer.blocks[0].sampler, []

    def failing(size):
        calls.append(size)
        if len(calls) == 3:
            raise ValueError("no more batches")
        return sampler(size)

    trainer.blocks[0].sampler = failing
    before = {thread.ident for thread in threading.enumerate()}
    with pytest.raises(ValueError, match="no more batches"):
        trainer.run(10)
    assert trainer.blocks[0].step == 2 and len(calls) == 3
    assert {thread.ident for thread in threading.enumerate()} <= before


def test_the_draw_ahead_thread_ends_when_the_step_fails(monkeypatch):
    """An error on the training thread (here a callback's) closes the thread drawing ahead."""
    made = drawn_ahead(monkeypatch, ahead=True)

    def callback(step, model, loss):
        if step == 4:
            raise KeyError("stop")

    trainer = tm.Trainer(small(snapshot_every=2), callback)
    with pytest.raises(KeyError):
        trainer.run(10)
    assert len(made) == 3 and not any(draw._thread.is_alive() for draw in made)  # one per snapshot segment


def test_a_draw_ahead_of_another_size_is_refused():
    sampler = tm.FeatureSampler(torch.full((2, 3), 0.5))
    with block_module._DrawAhead(sampler, 16, 2) as draw:
        assert draw(16).shape == (2, 16, 3)
        with pytest.raises(RuntimeError, match="batch of 8"):
            draw(8)
        draw(16)
        with pytest.raises(RuntimeError, match="draws 0 more"):
            draw(16)


def test_training_hands_back_ordinary_tensors():
    """Steps run in inference mode; what a user gets back (weights, losses, history, callback's loss) works
    with autograd and in-place changes afterwards."""
    seen = []
    result = tm.train(small(steps=6, snapshot_every=3), callback=lambda step, model, loss: seen.append(loss))
    tensors = [result.model.W, result.model.b, result.losses, *vars(result.history).values(), *seen]
    assert not any(t.is_inference() for t in tensors if t is not None)
    seen[0].mul_(2)
    loss = result.model.loss(*(2 * [torch.rand(6, 4, 6)]), result.experiment.importance_tensor()).sum()
    loss.backward()
    assert result.model.W.grad is not None
