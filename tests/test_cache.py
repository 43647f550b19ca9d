from pathlib import Path

import pytest
import torch

import toymodels as tm
from toymodels import cache


@pytest.fixture
def experiment():
    return tm.preset("intro", fast=True).replace(steps=30, n_seeds=2, progress=False)


def entry(directory):
    files = list(directory.iterdir())
    assert len(files) == 1 and files[0].suffix == ".pt", f"expected one cache entry and no temporary files: {files}"
    return files[0]


def test_second_call_loads_the_same_result_without_training(tmp_path, experiment, monkeypatch):
    first = cache.cached_train(experiment, tmp_path)
    monkeypatch.setattr(cache, "train", lambda _: pytest.fail("a cached experiment must not be retrained"))
    second = cache.cached_train(experiment, tmp_path)
    assert torch.equal(first.model.W, second.model.W) and torch.equal(first.model.b, second.model.b)
    assert torch.equal(first.losses, second.losses)
    assert torch.equal(first.best().W, second.best().W)
    entry(tmp_path)


def test_key_depends_on_experiment_and_trainer_version(experiment, monkeypatch):
    key = cache.cache_key(experiment)
    assert cache.cache_key(experiment.replace(steps=31)) != key
    assert cache.cache_key(experiment.replace(lr=2e-3)) != key
    assert cache.cache_key(tm.preset("intro", fast=True).replace(steps=30, n_seeds=2, progress=False)) == key
    monkeypatch.setattr(cache, "TRAINER_VERSION", cache.TRAINER_VERSION + 1)
    assert cache.cache_key(experiment) != key, "a new trainer version must invalidate old entries"


@pytest.mark.parametrize("damage", ["truncate", "garbage", "stale"])
def test_corrupt_or_stale_entries_are_recomputed(tmp_path, experiment, damage):
    first = cache.cached_train(experiment, tmp_path)
    path = entry(tmp_path)
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "garbage":
        path.write_bytes(b"not a torch file")
    else:  # an entry whose stored key disagrees with its name (e.g. written by another trainer version)
        payload = torch.load(path, weights_only=True)
        payload["key"] = "something else"
        payload["state"]["W"] = torch.zeros_like(payload["state"]["W"])
        torch.save(payload, path)
    again = cache.cached_train(experiment, tmp_path)
    assert torch.equal(again.model.W, first.model.W), "a damaged entry must be recomputed, not trusted"
    assert cache._load(experiment, cache.cache_key(experiment), entry(tmp_path)) is not None, "and rewritten"


def test_untied_models_and_histories_round_trip(tmp_path):
    exp = tm.preset("absolute_value", fast=True).replace(steps=20, snapshot_every=10, progress=False)
    first = cache.cached_train(exp, tmp_path)
    second = cache.cached_train(exp, tmp_path)
    assert torch.equal(first.model.W_out, second.model.W_out)
    assert torch.equal(first.history.W, second.history.W) and torch.equal(first.history.steps, second.history.steps)


def test_default_directory_follows_the_environment(tmp_path, monkeypatch):
    from toymodels import cache

    monkeypatch.setenv("TOYMODELS_CACHE", str(tmp_path / "here"))
    assert cache.default_directory() == tmp_path / "here"
    monkeypatch.delenv("TOYMODELS_CACHE")
    assert cache.default_directory() == Path.home() / ".cache" / "toymodels"
