"""Faults and bad input, tried systematically through the public API: one test per case of the table in the
README ("Under faults"). Each asserts the message (it names the parameter and its allowed range, or the fix) or
the recovery (nothing partial is left)."""

import json
import threading
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pytest
import torch

import toymodels as tm
from toymodels import store
from toymodels.data import Uniforms
from toymodels.train import blocks


def tiny(**changes) -> tm.Experiment:
    exp = tm.preset("intro", fast=True).replace(steps=20, n_seeds=2, progress=False)
    return exp.replace(**changes) if changes else exp


# ----------------------------------------------------------------------------------------------------
# Bad input: a ConfigError naming the parameter and what it accepts

BAD_INPUT = {
    "non-positive size": (lambda: tm.ModelConfig(n_features=0, n_hidden=2), r"n_features must be a positive integer"),
    "density outside (0, 1]": (lambda: tiny(feature_probability=1.5), r"feature_probability must lie in \(0, 1\]"),
    "unknown model kind": (lambda: tm.ModelConfig(5, 2, kind="sigmoid"), r"kind must be one of 'linear'"),
    "negative learning rate": (lambda: tm.TrainConfig(lr=-1.0), r"lr must be a finite number > 0"),
    "unavailable device": (
        lambda: tm.train(tiny(device="cuda")) if not torch.cuda.is_available() else pytest.skip("CUDA is here"),
        r"device='cuda': no CUDA device is available here.*use device='cpu'",
    ),
    "zero workers": (lambda: tm.train(tiny(), workers=0), r"workers must be a positive integer"),
    "callback with an executor": (
        lambda: tm.train(tiny(snapshot_every=5), callback=print, executor=object()),
        r"callback needs training in this process",
    ),
    "blocks out of range": (lambda: tm.Trainer(tiny(), block_range=(0, 5)), r"block_range must lie within"),
    "keep_best without halving": (lambda: tm.Trainer(tiny()).keep_best(1), r"keep_best needs successive halving"),
    "non-numeric W to a metric": (lambda: tm.feature_dimensionality("abc"), r"W must be an array of numbers"),
    "wrongly shaped W to a metric": (lambda: tm.feature_norms(torch.ones(2, 2, 2, 2)), r"W must have shape"),
    "wrongly shaped densities to the sampler": (
        lambda: tm.sample_features(torch.ones(3), 4),
        r"probability must have shape \(n_instances, n_features\)",
    ),
    "wrongly shaped input to a model": (
        lambda: tm.ToyModel(tm.ModelConfig(5, 2), 2)(torch.ones(2, 4, 3)),
        r"x must have shape \(n_instances=2, batch, n_features=5\)",
    ),
    "density outside (0, 1] to the theory": (
        lambda: tm.theory.ignored_feature_loss(1.5),
        r"density must lie in \(0, 1\]",
    ),
    "wrongly shaped W to a figure": (
        lambda: tm.kit.weights_heatmap(np.zeros(3), np.zeros(3)),
        r"W must have shape \(n_hidden, n_features\)",
    ),
    "a phase diagram of a model that is not on a phase grid": (
        lambda: tm.phase.empirical_phase_diagram(tm.train(tiny(steps=2))),
        r"n_features must be 2 \(m = 1\) or 3 \(m = 2\)",
    ),
    "an unknown store mode": (lambda: tm.ResultsStore(mode="sometimes"), r"mode must be one of 'use'"),
    "not an experiment's fields": (lambda: tm.Experiment.from_dict({"model": {}}), r"not an experiment's fields"),
    "a negative stream key": (lambda: Uniforms(0, stream=(-1,)), r"stream must be a tuple of integers >= 0"),
    "non-numeric colours of a phase diagram": (
        lambda: tm.phase.paper_phase_colors("abc", 1.0),
        r"extra_norm must be numbers",
    ),
    "non-numeric dimensionality to name": (lambda: tm.intro.geometry("abc"), r"D must be one number"),
    "an attack on inputs that are not a tensor": (
        lambda: tm.adversarial.analytic_attack(tm.ToyModel(tm.ModelConfig(5, 2)), "x", "y", torch.ones(1, 5)),
        r"x must be a tensor of shape \(n_instances, batch, n_features\)",
    ),
    "an attack on inputs of the wrong shape": (
        lambda: tm.adversarial.analytic_attack(
            tm.ToyModel(tm.ModelConfig(5, 2)), *2 * [torch.ones(1, 3, 4)], torch.ones(1, 5)
        ),
        r"x must have shape \(n_instances=1, batch, n_features=5\)",
    ),
    "an attack of size 0": (
        lambda: tm.adversarial.gradient_attack(
            tm.ToyModel(tm.ModelConfig(5, 2)), *2 * [torch.ones(1, 3, 5)], torch.ones(1, 5), fraction=0.0
        ),
        r"fraction must be a number > 0",
    ),
    "an attack with importances of another shape": (
        lambda: tm.adversarial.analytic_attack(
            tm.ToyModel(tm.ModelConfig(5, 2)), *2 * [torch.ones(1, 3, 5)], torch.ones(1, 4)
        ),
        r"importance must be a tensor of shape \(n_instances, n_features\) = \(1, 5\)",
    ),
    "a baseline of another size": (
        lambda: tm.adversarial.relative_vulnerability(
            tm.ToyModel(tm.ModelConfig(5, 2)),
            tm.ToyModel(tm.ModelConfig(6, 2)),
            *2 * [torch.ones(1, 3, 5)],
            torch.ones(1, 5),
        ),
        r"baseline must have the model's instances and features, \(1, 5\)",
    ),
    "a negative adversarial-training attack": (
        lambda: tiny().replace(attack_fraction=-0.5),
        r"attack_fraction must be finite and >= 0",
    ),
    "vulnerability of a result that was not trained under attack": (
        lambda: tm.adversarial.adversarial_training(tm.train(tiny(steps=2))),
        r"result was not trained under attack",
    ),
    # A user's own experiments, as a new user writes them (issue: a package usable outside the book)
    "a preset's name where an experiment belongs": (
        lambda: tm.train("intro"),
        r"experiment must be a tm.Experiment \(a preset: tm.train\(tm.preset\('intro'\)\)\), got str",
    ),
    "a model configuration where an experiment belongs": (
        lambda: tm.train(tm.ModelConfig(5, 2)),
        r"experiment must be a tm.Experiment \(wrap it: tm.Experiment\(model_config",
    ),
    "a device this machine lacks, other than CUDA": (
        lambda: tm.train(tiny(device="mps")),
        r"^device='mps': no Apple-silicon \(MPS\) device is available here .*use device='cpu'$",
    ),
    "a density given as a string": (lambda: tiny(feature_probability="0.1"), r"feature_probability must be numbers"),
    "a learning rate given as a string": (lambda: tm.TrainConfig(lr="0.1"), r"lr must be a number, got '0.1'"),
    "a size given as a float": (lambda: tm.ModelConfig(5.0, 2), r"n_features must be an integer, got 5.0"),
    "a misspelt field": (lambda: tiny().replace(step=100), r"unknown experiment field 'step'; did you mean 'steps'\?"),
    "a misspelt preset": (lambda: tm.preset("intro_swep"), r"unknown preset 'intro_swep'; did you mean 'intro_sweep'"),
    "sparsities passed as densities": (
        lambda: tiny(feature_probability=[0.0, 0.5, 0.9]),
        r"got values from 0 to 0.9. feature_probability is the density 1 − S .* not the sparsity S",
    ),
    "workers with an executor": (
        lambda: tm.train(tiny(), workers=2, executor=_DeadWorkerExecutor()),
        r"workers=2 applies to the local process pool; with executor=",
    ),
    "an executor that is not one": (lambda: tm.train(tiny(), executor="dask"), r"executor must be a concurrent"),
    "a live slider on a model that is not two-dimensional": (
        lambda: tm.intro.live_intro(tiny(n_hidden=3)),
        r"W must have n_hidden = 2 rows for features_2d",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_fails_clearly(case):
    call, message = BAD_INPUT[case]
    with pytest.raises(tm.ConfigError, match=message):
        call()


def test_a_worker_count_in_the_environment_that_is_not_a_number(monkeypatch):
    monkeypatch.setenv("TOYMODELS_WORKERS", "two")
    with pytest.raises(tm.ConfigError, match=r"\$TOYMODELS_WORKERS must be a positive integer .* got 'two'"):
        tm.train(tiny())


@pytest.mark.parametrize(
    "make",
    [
        lambda: tm.Experiment(tm.ModelConfig(np.int64(5), np.int32(2)), train=tm.TrainConfig(steps=np.int64(5))),
        lambda: tiny(device=torch.device("cpu"), lr=np.float32(1e-3), n_seeds=np.int64(2)),
        lambda: tiny(feature_probability=np.linspace(1.0, 0.1, 3), signed=np.bool_(False)),
    ],
    ids=["numpy integers", "a torch.device and numpy scalars", "numpy arrays and booleans"],
)
def test_numpy_scalars_and_a_torch_device_train_and_store(tmp_path, make):
    """A `for n in np.arange(...)` loop gives NumPy integers: they once trained, then broke the store's JSON."""
    experiment = make()
    result = tm.ResultsStore(tmp_path, "update").train(experiment.replace(progress=False))
    assert tm.ResultsStore(tmp_path, "use").train(experiment).losses.equal(result.losses)
    assert json.loads(json.dumps(experiment.to_dict())) == experiment.to_dict()
    assert type(experiment.model.n_features) is int and type(experiment.train.device) is str


# ----------------------------------------------------------------------------------------------------
# Faults during training and storing: a clear error, and nothing partial left behind


def test_a_diverging_run_stops_within_a_bounded_number_of_steps_naming_its_settings():
    exp = tiny(lr=1e6, steps=1_000)
    with pytest.raises(tm.TrainingDiverged, match=r"by step 100 in settings 1−S = 1.*lower lr \(now 1e\+06\)"):
        tm.train(exp)


def test_a_run_that_diverges_in_a_worker_reports_the_same(tmp_path):
    exp = tiny(lr=1e6, steps=150, feature_probability=[0.5] * 40, n_seeds=10, batch_size=1024)
    assert len(blocks(exp)) > 2
    with pytest.raises(tm.TrainingDiverged, match=r"by step 100 in settings"):
        tm.ResultsStore(tmp_path, "update").train(exp, workers=2)
    assert list(tmp_path.iterdir()) == [], "a diverged run is never stored"


def test_the_store_refuses_a_result_with_non_finite_weights(tmp_path):
    exp = tiny()
    result = tm.train(exp)
    result.model.W.data[3, 0, 0] = float("nan")
    with pytest.raises(tm.StoreError, match=r"non-finite weights or losses in 1 of 6 fits \(instances \[3\]\)"):
        tm.ResultsStore(tmp_path, "update").save(exp, result)
    assert list(tmp_path.iterdir()) == []


class _DeadWorkerExecutor:
    """An executor whose worker dies on the second share (as a killed process breaks a process pool)."""

    def __init__(self):
        self.calls = 0

    def submit(self, function, *args):
        self.calls += 1
        future = Future()
        if self.calls == 2:
            future.set_exception(BrokenProcessPool("a worker died"))
        else:
            future.set_result(function(*args))
        return future


def test_a_worker_that_dies_names_the_settings_that_were_lost(tmp_path):
    exp = tiny(feature_probability=[0.5] * 40, n_seeds=10, batch_size=1024)  # 400 instances, 8 blocks
    with pytest.raises(tm.WorkerLost, match=r"lost 6 of 40 settings \(setting 5, .*instances 51–101\).*workers=1"):
        tm.ResultsStore(tmp_path, "update").train(exp, executor=_DeadWorkerExecutor())
    assert list(tmp_path.iterdir()) == [], "nothing is written for a sweep with lost settings"


def test_a_store_that_cannot_be_written_keeps_the_trained_result(tmp_path):
    """A read-only or otherwise unwritable folder: the training is returned with a StoreWarning naming the path
    (it once raised a bare OSError after training in full, and the result was lost)."""
    (tmp_path / "a file").write_text("")
    unwritable = tmp_path / "a file" / "store"  # mkdir fails here even for root, as a read-only mount does
    exp = tiny()
    with pytest.warns(tm.StoreWarning, match=r"trained but not stored at .*a file/store.*the result is returned"):
        result = tm.ResultsStore(unwritable, "update").train(exp)
    assert_same_weights(result, tm.train(exp))
    with pytest.raises(tm.StoreError, match=r"cannot write into .*a file/store"):
        tm.ResultsStore(unwritable, "update").save(exp, result)


def test_a_diverged_result_is_returned_with_a_warning_not_stored(tmp_path, monkeypatch):
    exp = tiny()
    trained = tm.train(exp)
    trained.model.W.data[0, 0, 0] = float("nan")
    monkeypatch.setattr(store, "_train", lambda *args, **kwargs: trained)
    with pytest.warns(tm.StoreWarning, match=r"non-finite weights or losses in 1 of 6 fits"):
        assert tm.ResultsStore(tmp_path, "update").train(exp) is trained
    assert list(tmp_path.iterdir()) == []


def assert_same_weights(a, b):
    assert torch.equal(a.model.W, b.model.W) and torch.equal(a.losses, b.losses)


def test_an_interrupted_training_run_writes_no_entry(tmp_path):
    def interrupt(step, model, loss):
        if step == 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tm.ResultsStore(tmp_path, "update").train(tiny(snapshot_every=5), callback=interrupt)
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_store_write_leaves_no_partial_entry(tmp_path, monkeypatch):
    exp = tiny()
    result = tm.train(exp)

    def interrupted(file, **arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(store.np, "savez_compressed", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tm.ResultsStore(tmp_path, "update").save(exp, result)
    assert list(tmp_path.iterdir()) == [], "no entry and no temporary file"


def test_two_writers_of_one_entry_leave_a_whole_entry_for_every_reader(tmp_path):
    exp = tiny()
    results = [tm.train(exp), tm.train(exp.replace(seed=1))]  # two different payloads under the same key
    target = tm.ResultsStore(tmp_path, "update")
    path, failures, done = target.path(exp), [], threading.Event()

    def write(result):
        for _ in range(30):
            target.save(exp, result)

    def read():
        while not done.is_set():
            if path.exists():
                try:
                    store.read_entry(path)
                except tm.StoreError as error:
                    failures.append(error)

    reader = threading.Thread(target=read)
    writers = [threading.Thread(target=write, args=(result,)) for result in results]
    reader.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    reader.join()
    assert failures == [], f"a reader saw a partial entry: {failures[:1]}"
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "no temporary files left"
    loaded = target.load(exp)
    assert any(torch.equal(loaded.model.W, result.model.W) for result in results), "one writer's whole entry"


def test_an_entry_whose_checksum_does_not_match_is_refused_and_recomputed(tmp_path):
    exp = tiny()
    first = tm.ResultsStore(tmp_path, "update").train(exp)
    path = tm.ResultsStore(tmp_path).path(exp)
    with np.load(path, allow_pickle=False) as entry:
        arrays = {name: entry[name] for name in entry.files}
    arrays["b"] = arrays["b"] + 1
    np.savez(path, **arrays)
    with pytest.raises(tm.StoreError, match="corrupt.*checksum"):
        tm.ResultsStore(tmp_path, "use").train(exp)
    again = tm.ResultsStore(tmp_path, "update").train(exp)
    assert torch.equal(again.model.b, first.model.b)
    assert json.loads(str(np.load(path)["meta"]))["checksum"] == store.checksum(store.result_arrays(again))
