import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import toymodels as tm
from toymodels import store

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def experiment():
    return tm.preset("intro", fast=True).replace(steps=30, n_seeds=2, progress=False)


def only_entry(directory: Path) -> Path:
    files = list(directory.iterdir())
    assert len(files) == 1 and files[0].suffix == ".npz", f"expected one entry and no temporary files: {files}"
    return files[0]


def assert_same(a: tm.TrainResult, b: tm.TrainResult) -> None:
    assert torch.equal(a.model.W, b.model.W) and torch.equal(a.model.b, b.model.b)
    assert torch.equal(a.losses, b.losses) and torch.equal(a.seeds, b.seeds)
    assert torch.equal(a.best().W, b.best().W)


def forbid_training(monkeypatch):
    monkeypatch.setattr(store, "_train", lambda *a, **k: pytest.fail("a stored experiment must not be re-trained"))


def test_update_trains_once_then_loads_the_same_result(tmp_path, experiment, monkeypatch):
    first = tm.ResultsStore(tmp_path, "update").train(experiment)
    forbid_training(monkeypatch)
    for mode in ("update", "use"):
        assert_same(first, tm.ResultsStore(tmp_path, mode).train(experiment))
    assert only_entry(tmp_path).name.startswith("5-features-in-2-dimensions-")


def test_entries_are_plain_arrays_with_a_checksum_and_the_experiment(tmp_path, experiment):
    tm.ResultsStore(tmp_path, "update").train(experiment.replace(snapshot_every=10))
    path = only_entry(tmp_path)
    with zipfile.ZipFile(path) as archive:
        names = sorted(name.removesuffix(".npy") for name in archive.namelist())
    assert names == sorted(
        ["meta", "W", "b", "losses", "seeds", "history_steps", "history_W", "history_b", "history_losses"]
    )
    with np.load(path, allow_pickle=False) as entry:  # nothing in it needs a pickle
        meta = json.loads(str(entry["meta"]))
        assert entry["W"].dtype == np.float32 and entry["history_W"].shape == (4, 6, 2, 5)
    assert meta["trainer_version"] == tm.TRAINER_VERSION and meta["key"] == store.store_key(
        experiment.replace(snapshot_every=10)
    )
    assert tm.Experiment.from_dict(meta["experiment"]) == experiment.replace(snapshot_every=10)


def test_use_refuses_a_missing_entry_naming_the_experiment_and_the_command(tmp_path, experiment, monkeypatch):
    forbid_training(monkeypatch)
    with pytest.raises(tm.StoreError, match=r"no entry for '5 features in 2 dimensions'.*make execute"):
        tm.ResultsStore(tmp_path, "use").train(experiment)


def test_use_refuses_a_stale_entry(tmp_path, experiment, monkeypatch):
    tm.ResultsStore(tmp_path, "update").train(experiment)
    monkeypatch.setattr(store.entries, "TRAINER_VERSION", tm.TRAINER_VERSION + 1)
    forbid_training(monkeypatch)
    with pytest.raises(tm.StoreError, match=r"another trainer version.*make execute"):
        tm.ResultsStore(tmp_path, "use").train(experiment)


def damage(path: Path, how: str) -> None:
    if how == "truncate":
        path.write_bytes(path.read_bytes()[:200])
    elif how == "garbage":
        path.write_bytes(b"not an npz file")
    else:  # a changed weight under the old checksum
        with np.load(path, allow_pickle=False) as entry:
            arrays = {name: entry[name] for name in entry.files}
        arrays["W"] = arrays["W"] + 1
        np.savez(path, **arrays)


@pytest.mark.parametrize("how", ["truncate", "garbage", "tampered"])
def test_a_corrupt_entry_fails_in_use_and_is_recomputed_in_update(tmp_path, experiment, monkeypatch, how):
    first = tm.ResultsStore(tmp_path, "update").train(experiment)
    path = only_entry(tmp_path)
    damage(path, how)
    with monkeypatch.context() as patch:
        forbid_training(patch)
        with pytest.raises(tm.StoreError, match="unreadable|corrupt"):
            tm.ResultsStore(tmp_path, "use").train(experiment)
    assert_same(first, tm.ResultsStore(tmp_path, "update").train(experiment))
    store.read_entry(only_entry(tmp_path))  # rewritten whole


def test_retrain_and_off(tmp_path, experiment, monkeypatch):
    tm.ResultsStore(tmp_path, "off").train(experiment)
    assert list(tmp_path.iterdir()) == [], "mode off writes nothing"
    store_ = tm.ResultsStore(tmp_path, "update")
    store_.train(experiment)
    trained = []
    monkeypatch.setattr(store, "_train", lambda exp, **k: trained.append(exp) or tm.train(exp))
    tm.ResultsStore(tmp_path, "retrain").train(experiment)
    assert trained == [experiment] and only_entry(tmp_path)


def test_the_key_ignores_the_progress_bar_and_follows_everything_else(experiment, monkeypatch):
    key = store.store_key(experiment)
    assert store.store_key(experiment.replace(progress=True)) == key
    for change in (
        dict(steps=31),
        dict(lr=2e-3),
        dict(seed=1),
        dict(n_seeds=3),
        dict(feature_probability=0.5),
        dict(name="another"),
    ):
        assert store.store_key(experiment.replace(**change)) != key, change
    monkeypatch.setattr(store.entries, "TRAINER_VERSION", tm.TRAINER_VERSION + 1)
    assert store.store_key(experiment) != key, "a new trainer version must make old entries stale"


@pytest.mark.parametrize("hidden_bias", [False, True])
def test_untied_models_and_histories_round_trip(tmp_path, hidden_bias):
    exp = tm.preset("absolute_value", fast=True).replace(
        steps=20, snapshot_every=10, progress=False, hidden_bias=hidden_bias
    )
    first = tm.ResultsStore(tmp_path, "update").train(exp)
    second = tm.ResultsStore(tmp_path, "use").train(exp)
    assert list(first.model.weights()) == ["W", "W_out"] + ["c"] * hidden_bias + ["b"]
    assert all(torch.equal(value, second.model.weights()[name]) for name, value in first.model.weights().items())
    assert (first.history.c is not None) == hidden_bias
    for name, value in vars(first.history).items():
        assert (value is None and getattr(second.history, name) is None) or torch.equal(
            value, getattr(second.history, name)
        )
    assert len(first.history.steps) == 3 and torch.equal(first.history.W[-1], first.model.W)


def test_prune_and_the_log_of_used_entries(tmp_path, experiment, monkeypatch):
    log = tmp_path / "used.txt"
    monkeypatch.setenv("TOYMODELS_STORE_LOG", str(log))
    kept = tm.ResultsStore(tmp_path / "store", "update")
    kept.train(experiment)
    kept.train(experiment.replace(steps=31))
    used = set(log.read_text().split())
    assert len(used) == 2
    removed = kept.prune({kept.path(experiment).name})
    assert [path.name for path in removed] == [kept.path(experiment.replace(steps=31)).name]
    assert kept.entries() == [kept.path(experiment)]


def test_the_default_store_and_mode_follow_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("TOYMODELS_STORE_DIR", raising=False)
    monkeypatch.delenv("TOYMODELS_STORE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert store.default_directory() == tmp_path / "cache" / "toymodels" and store.default_mode() == "update"
    monkeypatch.setenv("TOYMODELS_STORE_DIR", str(tmp_path))
    monkeypatch.setenv("TOYMODELS_STORE", "use")
    assert tm.ResultsStore().directory == tmp_path and tm.ResultsStore().mode == "use"
    monkeypatch.setenv("TOYMODELS_STORE", "sometimes")
    with pytest.raises(tm.ConfigError, match="TOYMODELS_STORE must be one of"):
        tm.ResultsStore()
    with pytest.raises(tm.ConfigError, match="mode must be one of"):
        tm.ResultsStore(tmp_path, "never")


def test_a_users_results_never_go_into_the_repository(tmp_path, monkeypatch, experiment):
    """From a scratch directory, with nothing set, tm.store.train writes to the user's cache (it once wrote into
    the checkout's book/results, which `make execute` then pruned); set_directory chooses another folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOYMODELS_STORE_DIR", raising=False)
    monkeypatch.delenv("TOYMODELS_STORE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    book = set(store.book_directory().iterdir())
    tm.store.train(experiment)
    assert set(store.book_directory().iterdir()) == book
    assert only_entry(tmp_path / "cache" / "toymodels").name == tm.ResultsStore().path(experiment).name
    assert store.set_directory(tmp_path / "mine") == tmp_path / "mine"
    tm.store.train(experiment)
    assert only_entry(tmp_path / "mine")
    assert store.set_directory(None) == tmp_path / "cache" / "toymodels"


def test_the_book_store_is_chosen_by_the_chapters_call(tmp_path, monkeypatch):
    monkeypatch.setenv("TOYMODELS_STORE_DIR", str(tmp_path))  # a user's setting does not move the book's store
    assert store.use_book_store() == ROOT / "book" / "results" == tm.ResultsStore().directory
    monkeypatch.chdir(ROOT / "book")  # a checkout found from the working directory too (a wheel in a clone)
    monkeypatch.setattr(
        store.directories, "__file__", str(tmp_path / "site-packages" / "toymodels" / "store" / "directories.py")
    )
    assert store.book_directory() == ROOT / "book" / "results"
    monkeypatch.chdir(tmp_path)
    assert store.book_directory() is None


def _remote_book(tmp_path, monkeypatch, entries):
    """A copy of some of the book's entries served as the remote store (a file:// URL: no network), with this
    process standing where no checkout is (Colab, a wheel)."""
    remote = tmp_path / "remote"
    remote.mkdir()
    for path in entries:
        (remote / path.name).write_bytes(path.read_bytes())
    monkeypatch.setattr(store.directories, "book_directory", lambda: None)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("TOYMODELS_STORE_DIR", raising=False)
    monkeypatch.setenv("TOYMODELS_STORE_URL", remote.as_uri())
    return remote


def test_without_a_checkout_the_chapters_fetch_the_book_entries_they_need(tmp_path, monkeypatch):
    experiment = tm.preset("intro")
    entry = tm.ResultsStore(ROOT / "book" / "results").path(experiment)
    remote = _remote_book(tmp_path, monkeypatch, [entry])
    forbid_training(monkeypatch)
    directory = store.use_book_store()
    assert directory == tmp_path / "cache" / "toymodels" / "book"
    result = tm.ResultsStore(mode="update").train(experiment)
    assert_same(result, tm.ResultsStore(ROOT / "book" / "results", "use").load(experiment))
    assert only_entry(directory).name == entry.name, "fetched once, kept"
    # A remote entry that does not match its checksum is refused, never used.
    (directory / entry.name).unlink()
    data = bytearray((remote / entry.name).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (remote / entry.name).write_bytes(bytes(data))
    with pytest.raises(tm.StoreError, match=r"corrupt|unreadable"):
        tm.ResultsStore(mode="use").train(experiment)


def test_without_a_checkout_or_a_remote_the_chapters_are_warned_that_they_will_train(tmp_path, monkeypatch):
    monkeypatch.setattr(store.directories, "book_directory", lambda: None)
    monkeypatch.setattr(store.directories, "repository_url", lambda: None)
    monkeypatch.delenv("TOYMODELS_STORE_URL", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.warns(tm.StoreWarning, match="will train their runs at paper fidelity"):
        assert store.use_book_store() == tmp_path / "toymodels" / "book"


def test_an_unreachable_remote_is_a_warning_and_the_entry_is_missing(tmp_path, monkeypatch, experiment):
    _remote_book(tmp_path, monkeypatch, [])
    store.use_book_store()
    with pytest.warns(tm.StoreWarning, match="could not fetch"), pytest.raises(tm.StoreError, match="no entry"):
        tm.ResultsStore(mode="use").train(experiment)


def test_the_remote_store_derives_from_the_one_repository_setting(monkeypatch):
    monkeypatch.delenv("TOYMODELS_STORE_URL", raising=False)
    monkeypatch.setattr(store.directories, "repository_url", lambda: "https://github.com/someone/toymodels")
    assert store.remote_url() == "https://raw.githubusercontent.com/someone/toymodels/main/book/results"
    monkeypatch.setattr(store.directories, "repository_url", lambda: None)
    assert store.remote_url() is None


def test_save_and_load_keep_one_result_where_the_user_chooses(tmp_path, experiment):
    result = tm.train(experiment)
    path = tm.save(result, tmp_path / "runs" / "mine")
    assert path == tmp_path / "runs" / "mine.npz"
    assert_same(tm.load(path), result)
    assert tm.load(path).experiment == experiment
    with pytest.raises(tm.StoreError, match="no file at"):
        tm.load(tmp_path / "absent.npz")
    (tmp_path / "junk.npz").write_bytes(b"not an archive")
    with pytest.raises(tm.StoreError, match="unreadable"):
        tm.load(tmp_path / "junk.npz")
    with pytest.raises(tm.ConfigError, match="result must be a TrainResult"):
        tm.save(result.model, tmp_path / "model")


def test_experiments_round_trip_through_their_fields():
    for name in tm.PRESETS:
        for fast in (False, True):
            experiment = tm.preset(name, fast=fast)
            fields = json.loads(json.dumps(experiment.to_dict()))  # plain JSON values
            assert tm.Experiment.from_dict(fields) == experiment, name
    with pytest.raises(tm.ConfigError, match="experiment's fields"):
        tm.Experiment.from_dict({"model": {}})


# ----------------------------------------------------------------------------------------------------
# The book's store: what the chapters load in CI


def test_the_book_store_is_whole_current_and_small():
    """Every committed entry reads (checksum), belongs to this trainer version, is keyed by its own experiment,
    and the whole store stays small."""
    entries = tm.ResultsStore(ROOT / "book" / "results", "use").entries()
    assert entries, "the book's results store is empty: run `make execute`"
    for path in entries:
        meta, _ = store.read_entry(path)
        experiment = tm.Experiment.from_dict(meta["experiment"])
        assert meta["trainer_version"] == tm.TRAINER_VERSION, f"{path.name} is stale: run `make execute`"
        assert path.name == tm.ResultsStore(path.parent).path(experiment).name
    size = sum(path.stat().st_size for path in entries)
    assert size < 50 * 2**20, f"the results store holds {size / 2**20:.1f} MiB"


@pytest.mark.parametrize("compared", ["final weights", "first snapshot"])
def test_the_reproducibility_check_finds_a_changed_entry(tmp_path, experiment, capsys, compared):
    """tools/verify_store.py --sample re-trains one block of each entry (up to its first snapshot, if it kept
    several): equal for a true entry, and a changed weight (under a valid checksum) is found."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("verify_store", ROOT / "tools" / "verify_store.py")
    verify = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(verify)
    many = experiment.replace(feature_probability=[0.5] * 40, n_seeds=10, batch_size=1024)  # 400 instances, 8 blocks
    if compared == "first snapshot":
        many = many.replace(snapshot_every=10)
    tm.ResultsStore(tmp_path, "update").train(many)
    assert verify.main(["--sample", "--directory", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "1 of 1 entries hold (1 bit for bit)" in out and "equal, bit for bit" in out
    assert ("first 10 of 30 steps" in out) == (compared == "first snapshot")
    path = only_entry(tmp_path)
    meta, arrays = store.read_entry(path)
    changed = "W" if compared == "final weights" else "history_W"
    arrays[changed][..., -1, 0, 0] += 1e-6  # in the last block, the smallest: the one re-trained
    meta["checksum"] = store.checksum(arrays)
    np.savez(path, meta=np.array(json.dumps(meta)), **arrays)
    assert verify.main(["--sample", "--directory", str(tmp_path)]) == 1
    assert "DIFFERS (bit for bit) in W (relative difference" in capsys.readouterr().out


def rewrite(path: Path, meta: dict, arrays: dict) -> None:
    """Write an entry's meta and arrays back under a valid checksum (a store entry edited by hand)."""
    meta["checksum"] = store.checksum(arrays)
    np.savez(path, meta=np.array(json.dumps(meta)), **arrays)


def test_the_machine_is_recorded_and_another_machines_entry_is_checked_to_tolerance(tmp_path, experiment):
    """An entry records the machine that wrote it; re-trained on another machine (here: an entry whose record
    names another CPU) it is compared to the measured tolerance, not bit for bit, and a difference beyond the
    tolerance still fails, naming the array and the size of the difference."""
    tm.ResultsStore(tmp_path, "update").train(experiment)
    path = only_entry(tmp_path)
    meta, arrays = store.read_entry(path)
    assert meta["machine"] == store.machine() and set(meta["machine"]) == {"cpu", "aten", "torch"}
    assert store.retrain_entry(path).mode == "bit for bit"
    # Another machine's last-bit differences: W off by 1e-6 of its scale passes there, but not bit for bit here.
    arrays["W"] = arrays["W"] + np.float32(1e-6) * np.abs(arrays["W"]).max()
    rewrite(path, meta, arrays)
    check = store.retrain_entry(path)
    assert check.mode == "bit for bit" and check.failed and check.failed[0].startswith("W (relative difference 1.0e-06")
    meta["machine"] = dict(meta["machine"], cpu="another CPU")
    rewrite(path, meta, arrays)
    check = store.retrain_entry(path)
    assert check.mode == "to tolerance" and check.failed == [] and check.other_paths == (0, 6), check
    assert 5e-7 < check.differences["W"] < 2e-6 and check.differences["losses"] == 0
    summary = check.summary()
    assert summary.startswith("within tolerance of another CPU's (weights 1.") and "losses 0.0e+00" in summary
    # One fit in another local minimum is another CPU's doing; every fit moved is a different result (another
    # seed, say), caught to tolerance too.
    arrays["W"][0] *= 1.5
    rewrite(path, meta, arrays)
    check = store.retrain_entry(path)
    assert check.failed == [] and check.other_paths == (1, 6) and "1 of 6 fits took another path" in check.summary()
    arrays["W"] = arrays["W"] * 1.1
    rewrite(path, meta, arrays)
    check = store.retrain_entry(path)
    assert check.failed and check.failed[0].startswith("6 of 6 fits beyond the tolerance"), check.failed


def test_a_missing_or_reshaped_array_fails_to_tolerance_too():
    meta = {"machine": {"cpu": "another CPU"}}
    W = np.ones((3, 2, 4), np.float32)
    check = store.compare(meta, {"W": W, "losses": np.ones(3)}, {"W": W[:2], "losses": np.ones(3)})
    assert check.failed == ["W (shape (3, 2, 4) in the store, (2, 2, 4) recomputed)"]
    check = store.compare(meta, {"W": W, "losses": np.ones(3)}, {"W": W})
    assert check.failed == ["losses (only in the store)"]


def test_relative_differences():
    a = np.array([[1.0, -2.0], [0.0, 4.0]], dtype=np.float32)
    assert store.relative_difference(a, a.copy()) == 0
    assert store.relative_difference(a, a + np.float32(0.004)) == pytest.approx(1e-3, rel=1e-4)
    assert store.relative_difference(a, a[:1]) == float("inf")
    nan = a.copy()
    nan[0, 0] = np.nan
    assert store.relative_difference(nan, nan.copy()) == 0 and store.relative_difference(a, nan) == float("inf")


def test_the_conclusions_a_chapter_draws_are_compared_across_machines():
    """To tolerance, each setting's best-of-K loss and the represented features of the fits that took the same
    path must stay: a best loss within TOLERANCE["best loss"] of the compared fits' largest loss, a feature
    crossing ‖W_i‖ = 0.5 only from within the weight tolerance of it."""
    W = np.zeros((4, 2, 3), np.float32)
    W[:, 0, 0], W[:, 1, 1] = 1.0, 0.9  # every fit: features 0 and 1 represented, 2 not
    stored = {"W": W, "losses": np.array([1.0, 2.0, 3.0, 1.5])}  # two settings of 2 fits: best 1.0 and 1.5
    same = np.zeros(4, dtype=bool)
    assert store.checks._changed_conclusions(stored, dict(stored), same, 0, 2) == []
    close = dict(stored, losses=np.array([2.0, 1.05, 3.0, 1.5]))  # another winner, the same best loss within 2e-2·3
    assert store.checks._changed_conclusions(stored, close, same, 0, 2) == []
    worse = dict(stored, losses=np.array([1.2, 2.0, 3.0, 1.5]))  # 0.2 > 2e-2·3
    assert store.checks._changed_conclusions(stored, worse, same, 0, 2) == ["best-of-2 loss of setting 0: 1 → 1.2"]
    assert store.checks._changed_conclusions(stored, worse, same, 1, 2) == [], (
        "a setting cut by the block is not judged"
    )
    moved = W.copy()
    moved[2, 0, 2] = 0.8  # fit 2 gains feature 2
    assert store.checks._changed_conclusions(stored, dict(stored, W=moved), same, 4, 2) == [
        "features represented in fit 6: 2 → 3"
    ]
    other = np.array([False, False, True, False])  # ... unless it took another path
    assert store.checks._changed_conclusions(stored, dict(stored, W=moved), other, 4, 2) == []
