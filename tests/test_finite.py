"""Training on a finite dataset (toymodels.finite): the data, the hand-derived gradients against autograd, the
determinism rules, a constructed zero-loss solution the trainer must find, and the store round trip."""

import numpy as np
import pytest
import torch

import toymodels as tm
from toymodels import finite
from toymodels.finite import FiniteExperiment, paper_train


def small(**changes):
    base = FiniteExperiment(
        n_features=40,
        n_hidden=2,
        density=0.1,
        n_examples=12,
        n_datasets=2,
        train=paper_train(steps=300),
        test_examples=500,
    )
    return base.replace(**changes)


def test_examples_have_unit_norm_and_the_density_asked():
    x = finite.draw_examples(200, 0.05, 4000, seed=3, stream=(finite.DATASET_STREAM, 0)).dense()
    norms = x.norm(dim=-1)
    active = norms > 0
    assert torch.allclose(norms[active], torch.ones(int(active.sum())), atol=1e-6)
    assert (x > 0).float().mean().item() == pytest.approx(0.05, rel=0.05)
    again = finite.draw_examples(200, 0.05, 4000, seed=3, stream=(finite.DATASET_STREAM, 0)).dense()
    assert torch.equal(x, again)


def test_a_dataset_and_an_initialisation_do_not_depend_on_how_many_others_there_are():
    two, three = small(), small(n_datasets=3, fits_per_dataset=2)
    assert torch.equal(finite.datasets(two).dense()[1], finite.datasets(three).dense()[2])  # dataset 1
    assert torch.equal(finite.datasets(three).dense()[2], finite.datasets(three).dense()[3])  # its two fits share it
    assert torch.equal(finite.initial_weights(two)[0][1], finite.initial_weights(three)[0][2])


def test_gradients_match_autograd():
    experiment = small(n_examples=37)
    examples = finite.datasets(experiment)
    W, b = finite.initial_weights(experiment)
    b = b + 0.05 * torch.randn(b.shape, generator=torch.Generator().manual_seed(1))
    W, b = W.double().requires_grad_(), b.double().requires_grad_()
    x = examples.dense().double()
    out = torch.relu(torch.einsum("imn,itm->itn", W, torch.einsum("imn,itn->itm", W, x)) + b[:, None])
    loss = (out - x).square().mean((1, 2))
    loss.sum().backward()
    x64 = finite.SparseExamples(examples.index, examples.value.double(), experiment.n_features)
    mine, grad_W, grad_b = finite.loss_and_grads(W.detach(), b.detach(), x64, need_loss=True)
    assert torch.allclose(mine, loss.detach(), rtol=1e-12, atol=1e-15)
    assert torch.allclose(grad_W, W.grad, rtol=1e-10, atol=1e-15)
    assert torch.allclose(grad_b, b.grad, rtol=1e-10, atol=1e-15)


def test_the_chunked_gradient_equals_the_whole_one(monkeypatch):
    experiment = small(n_examples=50)
    examples = finite.datasets(experiment)
    W, b = (t.double() for t in finite.initial_weights(experiment))
    x = finite.SparseExamples(examples.index, examples.value.double(), experiment.n_features)
    whole = finite.loss_and_grads(W, b, x, need_loss=True)
    monkeypatch.setattr(finite, "_CHUNK_ELEMENTS", 16 * experiment.n_features)  # chunks of 16 examples
    chunked = finite.loss_and_grads(W, b, x, need_loss=True)
    for a, c in zip(whole, chunked):
        assert torch.allclose(a, c, rtol=1e-12)


def test_a_seed_trains_to_the_same_bits_alone_or_beside_other_datasets():
    one, two = finite.train_finite(small(n_datasets=1)), finite.train_finite(small())
    again = finite.train_finite(small())
    assert all(np.array_equal(two[k], again[k]) for k in two)
    assert np.array_equal(one["W"][0], two["W"][0]) and np.array_equal(one["b"][0], two["b"][0])


def test_fewer_orthogonal_examples_than_dimensions_are_fitted_exactly():
    # T = 2 examples in m = 3 dimensions: W = Σ_t e_t x_tᵀ reproduces both (their supports need not even be
    # disjoint: any two are independent), so the trained training loss must be ~0; the test loss stays ~1.
    experiment = small(n_hidden=3, n_examples=2, n_datasets=1, train=paper_train(steps=3000))
    arrays = finite.train_finite(experiment)
    n = experiment.n_features
    assert arrays["train_loss"][0] * n < 1e-3
    assert arrays["test_loss"][0] * n > 0.5


def _plane(experiment):
    arrays = finite.train_finite(experiment)
    examples = finite.datasets(experiment)
    x = finite.SparseExamples(examples.index, examples.value.double(), experiment.n_features)
    H = finite.hidden_vectors(torch.as_tensor(arrays["W"]).double(), x).transpose(1, 2)  # (I, 2, T)
    return arrays["train_loss"] * experiment.n_features, tm.metrics.angular_gaps(H.numpy())


def test_five_memorised_examples_in_the_plane_form_a_regular_pentagon():
    # Sparse examples (4 of 200 features active) barely overlap; the better fit of two datasets (lower training
    # loss) stores its five examples at the pentagon's 72°.
    train_loss, gaps = _plane(small(n_features=200, density=0.02, n_examples=5, train=paper_train(steps=10_000)))
    best = int(np.argmin(train_loss))
    assert train_loss[best] < 1e-6
    assert gaps[best] == pytest.approx([72.0] * 5, abs=10)


def test_three_examples_are_fitted_exactly_by_any_obtuse_triangle():
    # With a ReLU output, hidden vectors at least 90° apart interfere only negatively: the fit is exact and
    # nothing makes the triangle regular (the chapter's T = 3 exception).
    train_loss, gaps = _plane(small(n_features=200, density=0.02, n_examples=3, train=paper_train(steps=10_000)))
    assert (train_loss < 1e-8).all() and (gaps >= 90).all()
    assert not np.allclose(gaps, 120, atol=10)


def test_bad_settings_name_the_parameter():
    with pytest.raises(tm.ConfigError, match=r"density \(1 − S\) must be a number in \(0, 1\]"):
        small(density=0.0)
    with pytest.raises(tm.ConfigError, match="n_examples"):
        small(n_examples=0)
    with pytest.raises(tm.ConfigError, match="train must be a TrainConfig"):
        small(train={"steps": 10})
    with pytest.raises(tm.ConfigError, match="experiments must be FiniteExperiments"):
        finite.train_stored([tm.preset("intro")])


def test_the_store_keeps_the_weights_and_the_check_retrains_the_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setattr(tm.store.directories, "_DIRECTORY", tmp_path)
    experiments = [small(n_examples=T, name=f"finite test T={T}") for T in (3, 8)]
    first = finite.train_stored(experiments, workers=1)
    paths = sorted((tmp_path / finite.KIND).glob("*.npz"))
    assert len(paths) == 2
    second = finite.train_stored(experiments, workers=1)
    assert all(np.array_equal(a["W"], b["W"]) for a, b in zip(first, second))
    check = tm.store.recompute_cached(paths[0], sample=True)
    assert not check.failed and "checkpoint" in check.what


def test_spec_round_trips():
    experiment = small(name="x")
    assert FiniteExperiment.from_dict(experiment.to_dict()) == experiment.replace(
        train=experiment.train.__class__(**{**experiment.to_dict()["train"], "progress": False})
    )
