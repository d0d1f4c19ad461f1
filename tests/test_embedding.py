"""Tests of `siamlab.nn.embedding`: the shared-weight Siamese network, trained."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import siamlab
from siamlab.datasets.digits import Pairs, load_digit_splits, pair_batches, sample_pairs
from siamlab.nn.embedding import (
    EmbeddingNet,
    SiameseNet,
    best_threshold,
    embed,
    pair_distances,
    train_siamese,
    verification_accuracy,
    verify,
)


def test_embedding_net_maps_digits_to_vectors_of_out_dim():
    phi = EmbeddingNet(out_dim=5, width=4)
    assert phi(torch.rand(3, 1, 8, 8)).shape == (3, 5)


def test_embedding_net_rejects_empty_sizes():
    with pytest.raises(ValueError, match="out_dim"):
        EmbeddingNet(out_dim=0)


def test_siamese_net_has_exactly_the_weights_of_one_branch():
    phi = EmbeddingNet(width=4)
    model = SiameseNet(phi)
    assert sum(p.numel() for p in model.parameters()) == sum(
        p.numel() for p in phi.parameters()
    )


def test_siamese_net_applies_the_same_function_to_both_inputs():
    siamlab.seed_everything(0)
    model = SiameseNet(EmbeddingNet(width=4)).eval()
    x1, x2 = torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8)
    e1, e2 = model(x1, x2)
    f2, f1 = model(x2, x1)
    assert torch.allclose(e1, f1) and torch.allclose(e2, f2)
    assert torch.allclose(model(x1, x1)[0], model(x1, x1)[1])


def test_both_branches_send_gradient_into_the_shared_weights():
    siamlab.seed_everything(0)
    model = SiameseNet(EmbeddingNet(width=4))
    x1, x2 = torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8)
    first_only = torch.autograd.grad(
        model(x1, x2)[0].sum(), model.embedding.project[-1].weight
    )[0]
    both = torch.autograd.grad(
        sum(e.sum() for e in model(x1, x2)), model.embedding.project[-1].weight
    )[0]
    assert not torch.allclose(first_only, both)


def test_best_threshold_by_hand():
    distances = np.array([0.1, 0.2, 0.35, 0.3, 0.9, 1.0])
    same = np.array([1, 1, 0, 1, 0, 0])
    # Cut between 0.3 and 0.35: the three nearest are same, the rest different: 6 of 6
    # right.
    assert best_threshold(distances, same) == pytest.approx(0.325)
    assert verification_accuracy(distances, same, 0.325) == 1.0
    assert verification_accuracy(distances, same, 0.15) == pytest.approx(4 / 6)


def test_best_threshold_does_not_split_tied_distances():
    distances = np.array([0.5, 0.5, 0.5, 2.0])
    same = np.array([1, 1, 0, 0])
    threshold = best_threshold(distances, same)
    assert threshold == pytest.approx(
        1.25
    )  # all three tied pairs accepted: 3 of 4 right
    assert verification_accuracy(distances, same, threshold) == 0.75


def test_best_threshold_when_all_pairs_are_different_or_same():
    assert (
        verification_accuracy([0.2, 0.4], [0, 0], best_threshold([0.2, 0.4], [0, 0]))
        == 1.0
    )
    assert (
        verification_accuracy([0.2, 0.4], [1, 1], best_threshold([0.2, 0.4], [1, 1]))
        == 1.0
    )


@settings(max_examples=50, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.integers(0, 20), st.sampled_from([0, 1])), min_size=1, max_size=30
    )
)
def test_best_threshold_is_as_good_as_any_threshold(data):
    distances = np.array([d / 10 for d, _ in data])
    same = np.array([s for _, s in data])
    best = verification_accuracy(distances, same, best_threshold(distances, same))
    for threshold in np.arange(-0.05, 2.2, 0.1):
        assert best >= verification_accuracy(distances, same, threshold) - 1e-12


def test_verification_rejects_bad_inputs():
    with pytest.raises(ValueError, match="same"):
        best_threshold(np.array([0.1, 0.2]), np.array([0, 2]))
    with pytest.raises(ValueError, match="distances"):
        verification_accuracy(np.array([0.1, 0.2]), np.array([0]), 0.5)


def test_pair_distances_index_the_embeddings():
    embeddings = torch.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]])
    pairs = Pairs(
        first=np.array([0, 1]), second=np.array([1, 2]), same=np.array([0, 1])
    )
    assert pair_distances(embeddings, pairs).tolist() == pytest.approx(
        [5.0, np.hypot(3, 3)]
    )


@pytest.fixture(scope="module")
def digits():
    splits = load_digit_splits(seed=0)
    val = sample_pairs(splits["val"].labels, 400, np.random.default_rng(1))
    test = sample_pairs(splits["test"].labels, 400, np.random.default_rng(2))
    return splits, val, test


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_short_training_lowers_the_loss_and_verifies_better_than_chance(digits, metric):
    splits, val, test = digits
    siamlab.seed_everything(0)
    model = SiameseNet(EmbeddingNet(width=8))
    history = train_siamese(
        model,
        pair_batches(splits["train"], 64, seed=0),
        metric=metric,
        margin=0.5,
        steps=60,
        progress=False,
    )
    assert len(history.losses) == 60
    assert np.mean(history.losses[-10:]) < 0.6 * np.mean(history.losses[:10])
    result = verify(
        model.embedding, splits["val"].images, val, splits["test"].images, test, metric
    )
    assert result.test_accuracy > 0.75
    assert result.test_distances.shape == (400,)
    assert result.val_accuracy == pytest.approx(
        verification_accuracy(
            pair_distances(embed(model.embedding, splits["val"].images), val, metric),
            val.same,
            result.threshold,
        )
    )


def test_embed_batches_without_changing_the_result(digits):
    splits, _, _ = digits
    siamlab.seed_everything(0)
    phi = EmbeddingNet(width=4)
    images = splits["val"].images
    assert torch.allclose(
        embed(phi, images, batch_size=7), embed(phi, images), atol=1e-6
    )
