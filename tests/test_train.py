import importlib
import math
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

import toymodels as tm
from toymodels import Experiment, ModelConfig, TrainConfig, ToyModel, sample_features, target_of

train_module = importlib.import_module("toymodels.train")  # `toymodels.train` itself is the function


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
    """The authors' algorithm written plainly: autograd on the summed loss and torch's AdamW (same batches)."""
    model = ToyModel(exp.model, exp.n_instances, generator=torch.Generator().manual_seed(exp.train.seed))
    uniforms = tm.Uniforms(exp.train.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=exp.train.lr, weight_decay=exp.train.weight_decay)
    probability, importance = exp.probability_tensor(), exp.importance_tensor()
    for step in range(exp.train.steps):
        for group in optimizer.param_groups:
            group["lr"] = tm.lr_at(step, exp.train)
        x = sample_features(probability, exp.train.batch_size, exp.data, uniforms)
        optimizer.zero_grad()
        model.loss(x, target_of(x, exp.data), importance).sum().backward()
        optimizer.step()
    return model


@pytest.mark.parametrize("kind, schedule, weight_decay", [
    ("relu_output", "constant", 0.01),
    ("linear", "linear", 0.0),
    ("relu_hidden", "cosine", 0.01),
    ("untied_relu_hidden", "constant", 0.01),
])
def test_trainer_follows_the_reference_algorithm(kind, schedule, weight_decay):
    exp = small(steps=40, kind=kind, lr_schedule=schedule, weight_decay=weight_decay)
    if kind == "untied_relu_hidden":
        exp = exp.replace(signed=True, target="abs")
    trained = tm.train(exp).model
    reference = reference_training(exp)
    for name, parameter in reference.named_parameters():
        torch.testing.assert_close(getattr(trained, name), parameter, rtol=1e-4, atol=1e-5,
                                   msg=lambda m: f"{name} after 40 steps differs from autograd + AdamW: {m}")


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
    assert tm.lr_at(0, config) == 1.0 and tm.lr_at(100, config) == pytest.approx(1 / 101)
    config = TrainConfig(steps=101, lr=1.0, lr_schedule="cosine")
    assert tm.lr_at(50, config) == pytest.approx(math.cos(math.pi / 4)) and tm.lr_at(100, config) == pytest.approx(0, abs=1e-12)
    assert tm.lr_at(77, TrainConfig(lr=0.5)) == 0.5


def test_halving_schedule():
    train = TrainConfig(steps=10_000, halving_steps=250, halving_eta=4)
    assert tm.halving_schedule(train, 1000) == [(250, 250), (1000, 63), (4000, 16)]
    assert tm.halving_schedule(train, 64) == [(250, 16), (1000, 8)]  # never fewer than 8 finalists
    assert tm.halving_schedule(train, 8) == []
    assert tm.halving_schedule(TrainConfig(steps=10_000), 1000) == []
    assert tm.halving_schedule(TrainConfig(steps=100, halving_steps=10, halving_eta=2, halving_finalists=1), 4) == [
        (10, 2), (20, 1)]


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
# Instance groups: large models train their instances in groups side by side, one random stream each


def grouped(steps=20, **changes) -> Experiment:
    """A model just large enough to be grouped (32·32 = 1024 weights), six instances on two threads."""
    exp = Experiment(
        ModelConfig(n_features=32, n_hidden=32),
        feature_probability=[1.0, 0.3, 0.1, 0.03, 0.01, 0.003],
        importance=tm.importance_decay(32, 0.95),
        train=TrainConfig(steps=steps, batch_size=256, threads=2, progress=False),
    )
    return exp.replace(**changes) if changes else exp


def test_instance_groups_tile_the_instances_of_large_models_only():
    """Oracle: near-equal contiguous ranges, one per thread, for n·m >= 1024 on the CPU with several threads
    and instances; one range otherwise."""
    groups = train_module.instance_groups
    exp = grouped()
    assert groups(exp) == [(0, 3), (3, 6)]
    assert groups(exp, 5) == [(0, 2), (2, 5)]  # bounds round(k·5/2): 0, 2, 5
    assert groups(exp.replace(threads=3), 7) == [(0, 2), (2, 5), (5, 7)]
    assert groups(exp, 1) == [(0, 1)]
    assert groups(exp.replace(threads=1)) == [(0, 6)]
    assert groups(grouped(), 2) == [(0, 1), (1, 2)]
    small_model = exp.replace(model=ModelConfig(n_features=32, n_hidden=31))  # 992 weights
    assert groups(small_model) == [(0, 6)]
    # By size, never by the machine: the uniform sweep of §4 trains in two groups wherever it runs.
    uniform = tm.preset("uniform")
    assert groups(uniform) == [(0, 8), (8, 17)] and groups(uniform.replace(device="cuda")) == [(0, 17)]


def test_instance_groups_train_as_the_reference_with_one_stream_per_group(monkeypatch):
    """Oracle: autograd + AdamW on batches where group k's instances are drawn from random stream k, in the
    group's batch chunks; and a second run is bitwise equal (the threads' timing changes nothing)."""
    monkeypatch.setattr(train_module, "_CHUNK_ELEMENTS", 2 * 3 * 32 * 64)  # 64-sample chunks for 3 instances
    exp = grouped()
    groups = train_module.instance_groups(exp)
    chunks = train_module.batch_chunks(exp, 3, len(groups))
    assert groups == [(0, 3), (3, 6)] and chunks == [64] * 4
    trainer = tm.Trainer(exp)
    assert [(group.start, group.stop, group.chunks) for group in trainer.groups] == [(0, 3, chunks), (3, 6, chunks)]
    trainer.run()
    trained = trainer.model

    model = ToyModel(exp.model, exp.n_instances, generator=torch.Generator().manual_seed(exp.train.seed))
    streams = [tm.Uniforms(exp.train.seed, stream=k) for k in range(len(groups))]
    optimizer = torch.optim.AdamW(model.parameters(), lr=exp.train.lr, weight_decay=exp.train.weight_decay)
    probability, importance = exp.probability_tensor(), exp.importance_tensor()
    for _ in range(exp.train.steps):
        x = torch.cat([
            torch.cat([sample_features(probability[start:stop], chunk, exp.data, stream) for chunk in chunks], dim=1)
            for (start, stop), stream in zip(groups, streams)
        ])
        optimizer.zero_grad()
        model.loss(x, x, importance).sum().backward()
        optimizer.step()
    for name, parameter in model.named_parameters():
        torch.testing.assert_close(getattr(trained, name), parameter, rtol=1e-4, atol=1e-5,
                                   msg=lambda m: f"{name} after {exp.train.steps} grouped steps differs: {m}")
    again = tm.train(exp).model
    assert torch.equal(again.W, trained.W) and torch.equal(again.b, trained.b)


def test_successive_halving_regroups_the_surviving_instances():
    """keep_best on a grouped model: fewer instances, fewer or smaller groups, the same result twice."""
    exp = grouped(steps=30).replace(feature_probability=[0.3, 0.03], n_seeds=4, halving_steps=10,
                                    halving_eta=2, halving_finalists=1)
    trainer = tm.Trainer(exp)
    assert [(group.start, group.stop) for group in trainer.groups] == [(0, 4), (4, 8)]
    trainer.run(10)
    trainer.keep_best(2)
    assert [(group.start, group.stop) for group in trainer.groups] == [(0, 2), (2, 4)]
    trainer.keep_best(1)
    assert [(group.start, group.stop) for group in trainer.groups] == [(0, 1), (1, 2)]
    a, b = tm.train(exp), tm.train(exp)
    assert a.model.n_instances == 2 and torch.equal(a.model.W, b.model.W) and torch.equal(a.seeds, b.seeds)
    assert a.losses.isfinite().all()


def test_random_streams_are_the_seeds_own_and_independent():
    """Stream 0 is the seed's own stream; stream k > 0 differs from it and from the other seeds' streams."""
    own, zero, one = tm.Uniforms(7), tm.Uniforms(7, stream=0), tm.Uniforms(7, stream=1)
    first = own.uniform(1000)
    assert torch.equal(first, zero.uniform(1000))
    other = one.uniform(1000)
    assert not torch.equal(first, other) and abs(float(torch.corrcoef(torch.stack([first, other]))[0, 1])) < 0.1
    assert torch.equal(tm.Uniforms(7, stream=1).uniform(1000), other)
    assert not torch.equal(tm.Uniforms(8, stream=1).uniform(1000), other)


def test_a_grouped_step_on_helper_threads_equals_the_groups_one_after_the_other():
    """Oracle: the same step computed group after group on one thread, bit for bit (the streams are per group)."""
    exp = grouped()
    threaded, sequential = tm.Trainer(exp), tm.Trainer(exp)
    with ThreadPoolExecutor(1, initializer=torch.set_num_threads, initargs=(1,)) as helpers:
        loss_a, grads_a = threaded._loss_and_grads(need_loss=True, helpers=helpers)
    loss_b, grads_b = sequential._loss_and_grads(need_loss=True)
    assert loss_a.shape == (exp.n_instances,) and torch.equal(loss_a, loss_b)
    assert len(grads_a) == 2 and all(torch.equal(a, b) for a, b in zip(grads_a, grads_b))


# ----------------------------------------------------------------------------------------------------
# Drawing ahead: a step on one thread has its next batch drawn on the idle core, the same batches in the same order


def drawn_ahead(monkeypatch, ahead: bool) -> list:
    """Make every one-thread step draw ahead (or none); returns the list of _DrawAhead objects made."""
    made = []

    class Counted(train_module._DrawAhead):
        def __init__(self, *args):
            super().__init__(*args)
            made.append(self)

    monkeypatch.setattr(train_module, "_DrawAhead", Counted)
    monkeypatch.setattr(train_module, "_DRAW_AHEAD_ELEMENTS", 1 if ahead else 1 << 62)
    monkeypatch.setattr(train_module, "_cores", lambda: 2)  # so that it is exercised on a one-core machine too
    return made


@pytest.mark.parametrize("layout", ["one batch", "batch chunks", "instance chunks"])
def test_batches_drawn_ahead_give_the_weights_of_batches_drawn_in_place(monkeypatch, layout):
    """Oracle: the same run with the sampler called in place, bit for bit, over runs of several lengths (each
    run draws exactly its own batches: none is left drawn ahead for the next)."""
    exp = {
        "one batch": small(),
        "batch chunks": grouped(threads=1, n_seeds=2),  # 32·32 weights: the batch is split into chunks
        "instance chunks": small(n_seeds=40, batch_size=64),  # many small models: one instance chunk at a time
    }[layout]
    monkeypatch.setattr(train_module, "_CHUNK_ELEMENTS", 12 * 32 * 64)  # 64-sample chunks of 2 instances
    if layout == "instance chunks":
        monkeypatch.setattr(train_module, "_INSTANCE_CHUNK_ELEMENTS", 20 * 6 * 64)  # 20 of the 80 instances
    weights = {}
    for ahead in (False, True):
        made = drawn_ahead(monkeypatch, ahead)
        trainer = tm.Trainer(exp)
        expected_layout = {"one batch": (1, [256]), "batch chunks": (1, [64] * 4), "instance chunks": (4, [64])}
        assert (len(trainer.parts), trainer.groups[0].chunks) == expected_layout[layout]
        for steps in (7, 1, 12):
            trainer.run(steps)
        assert len(made) == (3 if ahead else 0) and all(draw.left == 0 for draw in made)
        weights[ahead] = trainer.model.W.clone(), trainer.model.b.clone()
    assert all(torch.equal(a, b) for a, b in zip(weights[False], weights[True]))


def test_draw_ahead_is_only_for_one_thread_on_the_cpu(monkeypatch):
    made = drawn_ahead(monkeypatch, ahead=True)
    tm.Trainer(grouped()).run(2)  # two instance groups: both cores are busy
    tm.Trainer(small(threads=2)).run(2)
    assert made == []
    monkeypatch.setattr(train_module, "_cores", lambda: 1)
    tm.Trainer(small()).run(2)
    assert made == []


def test_an_error_while_drawing_ahead_reaches_the_caller_and_the_thread_ends(monkeypatch):
    drawn_ahead(monkeypatch, ahead=True)
    trainer = tm.Trainer(small())
    sampler, calls = trainer.groups[0].sampler, []

    def failing(size):
        calls.append(size)
        if len(calls) == 3:
            raise ValueError("no more batches")
        return sampler(size)

    trainer.groups[0].sampler = failing
    before = {thread.ident for thread in threading.enumerate()}
    with pytest.raises(ValueError, match="no more batches"):
        trainer.run(10)
    assert trainer.step == 2 and len(calls) == 3
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
    assert len(made) == 1 and not made[0]._thread.is_alive()


def test_a_draw_ahead_of_another_size_is_refused():
    sampler = tm.FeatureSampler(torch.full((2, 3), 0.5))
    with train_module._DrawAhead(sampler, 16, 2) as draw:
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
