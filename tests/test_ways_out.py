"""Chapter 9 (tm.ways_out): SAE scores against hand-made dictionaries with known answers, the random-dictionary
expectation against Monte Carlo, absorption on hand-built SAEs, the SAE trainer's determinism and grouping, the
L1 sweep's measures, and the results store's cached arrays of other kinds."""

import json
import math

import numpy as np
import pytest
import torch

import toymodels as tm
from toymodels import store

W = tm.ways_out


def orthonormal(d: int, n: int, seed: int = 0) -> np.ndarray:
    return np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))[0][:, :n]


# --- scores against the truth --------------------------------------------------------------------------------------


def test_a_perfect_dictionary_scores_one_whatever_else_it_holds():
    rng = np.random.default_rng(1)
    true = rng.standard_normal((6, 20))  # 20 directions in 6 dimensions, in superposition
    extra = rng.standard_normal((6, 13))
    scaled = true[:, rng.permutation(20)] * rng.uniform(0.2, 3.0, size=20)
    decoder = np.concatenate([extra, scaled], axis=1)
    assert W.mean_max_cosine(decoder, true) == pytest.approx(1.0)
    assert W.recovered_share(decoder, true) == 1.0
    assert np.allclose(W.max_cosines(decoder, true), 1.0)


def test_cosines_are_signed_and_zero_columns_point_nowhere():
    true = np.eye(3)
    decoder = np.stack([-np.eye(3)[:, 0], np.zeros(3), np.eye(3)[:, 1]], axis=1)
    assert np.allclose(W.max_cosines(decoder, true), [0.0, 1.0, 0.0]), "a latent along −W_i does not represent i"
    assert W.recovered_share(decoder, true) == pytest.approx(1 / 3)
    assert not np.isnan(W.cosines(decoder, true)).any()


@pytest.mark.parametrize("d, n_latents", [(2, 5), (3, 4), (16, 32), (16, 256)])
def test_a_random_dictionary_scores_what_theory_says(d, n_latents):
    """E[max cos] of uniform random directions, computed in closed form, against 4,000 random dictionaries."""
    rng = np.random.default_rng(d * 1000 + n_latents)
    true = orthonormal(d, 1, seed=3)
    samples = np.array([W.max_cosines(rng.standard_normal((d, n_latents)), true)[0] for _ in range(4000)])
    expected = W.random_mean_max_cosine(d, n_latents)
    error = samples.std() / math.sqrt(len(samples))
    assert abs(samples.mean() - expected) < 4 * error, (samples.mean(), expected, error)


def test_random_expectation_edge_cases():
    assert W.random_mean_max_cosine(5, 1) == pytest.approx(0.0, abs=1e-6), "one random direction: E[cos] = 0"
    assert W.random_mean_max_cosine(1, 3) == pytest.approx(1 - 2 * 0.5**3)
    assert W.random_mean_max_cosine(16, 1000) > W.random_mean_max_cosine(16, 10)


def test_activation_scores_on_a_hand_made_sample():
    latents = np.array([[1.0, 0.0, 0.0], [2.0, 0.5, 0.0], [0.0, 0.0, 0.0], [0.0, 3.0, 0.0]])
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 2.0]])
    perfect = W.activation_scores(latents, x, x)
    assert perfect == {"l0": 1.0, "dead": pytest.approx(1 / 3), "fvu": 0.0}
    assert W.activation_scores(latents, x, np.broadcast_to(x.mean(0), x.shape))["fvu"] == pytest.approx(1.0)


def test_bad_inputs_name_the_parameter():
    with pytest.raises(tm.ConfigError, match="same d"):
        W.cosines(np.ones((3, 2)), np.ones((4, 2)))
    with pytest.raises(tm.ConfigError, match="threshold"):
        W.recovered_share(np.eye(2), np.eye(2), threshold=2.0)
    with pytest.raises(tm.ConfigError, match="l1"):
        W.SaeSetting(-1.0, 4)
    with pytest.raises(tm.ConfigError, match="n_latents"):
        W.SaeSetting(0.1, 0)
    with pytest.raises(tm.ConfigError, match="activations"):
        W.train_saes(np.ones(5), [W.SaeSetting(0.1, 2)], steps=1)
    with pytest.raises(tm.ConfigError, match="settings"):
        W.train_saes(np.ones((5, 2)), [], steps=1)


# --- absorption ----------------------------------------------------------------------------------------------------


def hand_made_sae(encoder: np.ndarray, decoder: np.ndarray) -> W.SaeResult:
    L, d = encoder.shape
    return W.SaeResult(
        (W.SaeSetting(0.1, L),),
        encoder[None].astype(np.float32),
        np.zeros((1, L), np.float32),
        decoder[None].astype(np.float32),
        np.zeros((1, d), np.float32),
        np.zeros(1),
    )


def test_hierarchical_features_keep_the_hierarchy():
    x = W.hierarchical_features(20_000, n_children=3, n_others=2, seed=4)
    parent, children = x[:, 0] > 0, x[:, 1:4] > 0
    assert not (children.any(1) & ~parent).any(), "a child fired without its parent"
    assert children.sum(1).max() == 1, "at most one child at a time"
    assert children.any(1)[parent].mean() == pytest.approx(0.75, abs=0.02)
    assert parent.mean() == pytest.approx(0.25, abs=0.01)


def test_absorption_is_zero_for_the_true_dictionary_and_one_for_an_absorbing_one():
    true = orthonormal(4, 4, seed=5)  # parent, three children, no others
    x = W.hierarchical_features(8192, n_children=3, n_others=0, binary=True, seed=6)
    h = x @ true.T
    clean = hand_made_sae(true.T, true)
    scores = W.absorption(clean.encode(h, 0), x, clean.decoder(0), true, 3)
    assert scores["absorption"] == 0 and scores["child_parent_cosine"] == pytest.approx(0, abs=1e-6)
    # Absorbing: the parent's latent reads parent − Σ children (silent beside a child), each child's writes
    # child + parent; with values 1 it reconstructs exactly.
    p, c = true[:, :1], true[:, 1:]
    encoder = np.concatenate([(p - c.sum(1, keepdims=True)).T, c.T])
    decoder = np.concatenate([p, c + p], axis=1)
    absorbing = hand_made_sae(encoder, decoder)
    assert np.allclose(absorbing.reconstruct(h, 0), h, atol=1e-5)
    scores = W.absorption(absorbing.encode(h, 0), x, absorbing.decoder(0), true, 3)
    assert scores["parent_alone"] == 1 and scores["parent_with_child"] == 0 and scores["absorption"] == 1
    assert scores["child_parent_cosine"] == pytest.approx(1 / math.sqrt(2), abs=1e-6)


# --- the SAE trainer -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sparse_data():
    true = orthonormal(8, 8, seed=7).astype(np.float32)
    x = W.hierarchical_features(2**13, n_children=1, n_others=6, parent_probability=0.2, other_probability=0.2, seed=8)
    return true, x @ true.T


def test_an_sae_finds_orthogonal_sparse_features(sparse_data):
    true, h = sparse_data
    result = W.train_saes(h, W.sae_grid([0.05], [16]), steps=1500, lr=3e-3)
    assert W.mean_max_cosine(result.decoder(0), true) > 0.95


def test_the_trainer_is_deterministic_and_a_size_group_trains_alone_as_within_the_grid(sparse_data):
    """The reproduce check re-trains one dictionary size of a stored grid and compares it bit for bit."""
    _, h = sparse_data
    grid = W.sae_grid([0.01, 0.1], [4, 8])
    whole = W.train_saes(h, grid, seed=3, steps=40)
    again = W.train_saes(h, grid, seed=3, steps=40)
    assert all(np.array_equal(a, b) for a, b in zip(whole.arrays().values(), again.arrays().values()))
    alone = W.train_saes(h, grid[:2], seed=3, steps=40)  # the two SAEs of 4 latents
    assert np.array_equal(alone.W_dec, whole.W_dec[:2, :, :4]) and np.array_equal(alone.W_enc, whole.W_enc[:2, :4])
    assert not np.array_equal(whole.W_dec[0], whole.W_dec[1]), "λ must matter"
    assert np.array_equal(whole.W_dec[:2, :, 4:], np.zeros((2, 8, 4))), "padding columns must stay zero"


def test_sae_loss_is_reconstruction_plus_weighted_l1():
    x = torch.tensor([[1.0, 2.0]])
    W_enc = torch.eye(2)[None]
    W_dec = 2 * torch.eye(2)[None]
    zero = torch.zeros(1, 2)
    # f = x, x̂ = 2x: error ‖x‖² = 5; L1 Σ f_j ‖W_dec,j‖ = 2·(1 + 2) = 6.
    assert W.sae_loss(x, W_enc, zero, W_dec, zero, torch.tensor([0.5])).item() == pytest.approx(5 + 0.5 * 6)


# --- the L1 sweep --------------------------------------------------------------------------------------------------


def test_no_superposition_loss_by_hand():
    exp = tm.Experiment(tm.ModelConfig(3, 1), feature_probability=0.1, importance=[1.0, 0.5, 0.25])
    dropped = (0.5 + 0.25) * (0.1 / 3 - 0.01 / 4)
    assert W.no_superposition_loss(exp) == pytest.approx(dropped / 3)


def test_exit_index_is_the_first_lambda_with_features_but_no_superposition():
    def measures(represented, superposed):
        k = len(superposed)
        z = np.zeros(k)
        return W.L1Measures(np.arange(k), np.array(represented), np.array(superposed), z, z, z, 1.0, 5, "m")

    m = measures([10, 6, 5, 1, 0], [10, 2, 0, 0, 0])
    assert m.exit_index == 2 and m.fewer_than_m_index == 2
    assert measures([10, 4, 0], [10, 2, 0]).exit_index is None, "nothing represented is not 'no superposition'"
    assert measures([10, 4, 0], [10, 2, 0]).fewer_than_m_index == 1


def test_mean_dimensionality_is_scale_free_where_d_star_is_not():
    pair_and_one = torch.tensor([[[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]]])  # an antipodal pair and a dedicated feature
    shrunk = 0.6 * pair_and_one  # what an L1 penalty does to the weights: every feature still above 0.5
    represented = torch.ones(1, 3, dtype=torch.bool)
    for w in (pair_and_one, shrunk):
        assert W.mean_dimensionality(w, represented) == pytest.approx([(0.5 + 0.5 + 1) / 3])
    assert tm.dimensions_per_feature(shrunk).item() == pytest.approx(2 / (3 * 0.36)), "D* reads shrinking as room"
    assert np.isnan(W.mean_dimensionality(pair_and_one, torch.zeros(1, 3, dtype=torch.bool))[0])


def test_l1_sweep_measures_a_tiny_model():
    exp = tm.Experiment(tm.ModelConfig(4, 2), feature_probability=0.1, train=tm.TrainConfig(steps=50, progress=False))
    results = tuple(tm.train(exp.replace(l1_penalty=lam), workers=1) for lam in (0.0, 0.5))
    m = W.l1_measures(results)
    assert list(m.penalty) == [0.0, 0.5] and m.name == exp.name and m.n_hidden == 2
    assert m.loss.shape == (2,) and (m.loss > 0).all()
    assert W.l1_table(m).rows[1][0] == "0.5"


# --- cached arrays of other kinds in the results store ------------------------------------------------------------


def _double(spec):
    return {"y": np.arange(spec["n"], dtype=np.float64) * 2}


store.register_kind("test-double", __name__, 1, _double)


def meta_of(path):
    return store.read_entry(path)[0]


def test_cached_arrays_load_verify_and_prune(tmp_path, monkeypatch):
    monkeypatch.setenv("TOYMODELS_STORE_DIR", str(tmp_path))
    log = tmp_path / "used.txt"
    monkeypatch.setenv("TOYMODELS_STORE_LOG", str(log))
    spec = {"n": 5}
    with pytest.raises(store.StoreError, match="make execute"):
        store.cached_arrays("test-double", "doubles", spec, mode="use")
    first = store.cached_arrays("test-double", "doubles", spec, mode="update")
    path = store.cached_path("test-double", "doubles", spec)
    assert path.exists() and np.array_equal(first["y"], [0, 2, 4, 6, 8])
    loaded = store.cached_arrays("test-double", "doubles", spec, compute=lambda: pytest.fail("recomputed"), mode="use")
    assert np.array_equal(loaded["y"], first["y"])
    assert set(log.read_text().split()) == {f"test-double/{path.name}"}, "make execute keeps what was asked for"
    check = store.recompute_cached(path, sample=True)
    assert check.failed == [] and check.mode == "bit for bit" and meta_of(path)["machine"] == store.machine()
    # A changed array under a valid checksum is found by the reproduce check.
    meta, arrays = store.read_entry(path)
    arrays["y"] = arrays["y"] + 1
    meta["checksum"] = store.checksum(arrays)
    np.savez(path, meta=np.array(json.dumps(meta)), **arrays)
    assert [failure.split()[0] for failure in store.recompute_cached(path).failed] == ["y"]
    assert store.ResultsStore(tmp_path).prune({f"test-double/{path.name}"}) == []
    assert store.ResultsStore(tmp_path).prune(set()) == [path] and not path.exists()


def test_the_book_stores_sae_entries_are_current_and_small():
    """Chapter 9's committed SAE entries read (checksum), belong to the current SAE version and kind, are keyed by
    their own spec, and stay within the chapter's share of the store."""
    import toymodels.ways_out.analysis  # noqa: F401 - registers the kinds

    root = store.book_directory()
    entries = store.ResultsStore(root, "use").cached_entries()
    assert {path.parent.name for path in entries} >= {"sae-sweep", "sae-absorption"}, "run `make execute`"
    for path in entries:
        meta, _ = store.read_entry(path)
        assert meta["version"] == store.KINDS[meta["kind"]].version, f"{path.name} is stale: run `make execute`"
        assert meta["key"] == store.cached_key(meta["kind"], meta["spec"]) and path.parent.name == meta["kind"]
    assert sum(path.stat().st_size for path in entries if path.parent.name.startswith("sae-")) < 5 * 2**20


def test_the_chapters_own_requests_find_their_sae_entries():
    """The specs chapter 9 asks for now (its presets and protocols) have committed entries: a field added to the
    core at its default must not re-key them (it once did: the toy's spec was its full ``to_dict``)."""
    requests = [
        ("sae-sweep", W.analysis.sae_sweep_spec(tm.preset("sae_toy"), W.sae_protocol())),
        *(("sae-absorption", W.analysis.absorption_spec(W.absorption_protocol(binary=b))) for b in (True, False)),
    ]
    root = store.book_directory()
    for kind, spec in requests:
        key = store.cached_key(kind, spec)
        assert list((root / kind).glob(f"*-{key}.npz")), f"no {kind} entry keyed {key}: run `make execute`"


def test_live_sae_retrains_for_the_chosen_coefficient_and_size_and_redraws_in_place(monkeypatch):
    pytest.importorskip("anywidget")
    monkeypatch.setenv("TOYMODELS_STORE", "off")
    toy = tm.train(tm.preset("sae_toy", fast=True).replace(steps=100, progress=False))
    sweep = tm.ways_out.sae_sweep(toy, tm.ways_out.sae_protocol(fast=True))
    widget = tm.ways_out.live_sae(sweep, l1=0.1, n_latents=64, steps=20)
    controls, figure = widget.children
    l1, n_latents = controls.children
    assert (n_latents.min, n_latents.max, n_latents.step) == (16, 256, 16)
    traces = figure.data
    assert "λ = 0.1, 64 latents" in figure.layout.title.text
    l1.value = 1.0
    n_latents.value = 32
    assert all(a is b for a, b in zip(figure.data, traces)), "traces must update in place"
    assert "λ = 1, 32 latents" in figure.layout.title.text
