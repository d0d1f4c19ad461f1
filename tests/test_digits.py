"""Tests of `siamlab.datasets.digits`: disjoint stratified splits and balanced pairs."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from siamlab.datasets.digits import (
    SPLITS,
    load_digit_splits,
    pair_batches,
    sample_pairs,
)


@pytest.fixture(scope="module")
def splits():
    return load_digit_splits(seed=0)


def test_splits_cover_every_digit_image_exactly_once(splits):
    indices = np.concatenate([splits[name].indices for name in SPLITS])
    assert len(indices) == 1797
    assert len(np.unique(indices)) == 1797


def test_no_image_is_in_two_splits(splits):
    for i, p in enumerate(SPLITS):
        for q in SPLITS[i + 1 :]:
            assert len(np.intersect1d(splits[p].indices, splits[q].indices)) == 0


def test_splits_are_stratified_with_the_requested_fractions(splits):
    assert [len(splits[name]) for name in SPLITS] == pytest.approx(
        [0.6 * 1797, 0.2 * 1797, 0.2 * 1797], abs=10
    )
    for name in SPLITS:
        counts = np.bincount(splits[name].labels, minlength=10)
        share = counts / counts.sum()
        assert np.all(share > 0.08) and np.all(share < 0.12), (name, counts)


def test_images_are_float_tensors_in_unit_range_matching_sklearn(splits):
    from sklearn.datasets import load_digits

    digits = load_digits()
    test = splits["test"]
    assert (
        test.images.shape == (len(test), 1, 8, 8) and test.images.dtype == torch.float32
    )
    assert 0.0 <= test.images.min() and test.images.max() <= 1.0
    assert np.allclose(test.images[:, 0].numpy() * 16, digits.images[test.indices])
    assert np.array_equal(test.labels, digits.target[test.indices])


def test_split_depends_only_on_the_seed(splits):
    again = load_digit_splits(seed=0)
    other = load_digit_splits(seed=1)
    assert np.array_equal(again["test"].indices, splits["test"].indices)
    assert not np.array_equal(other["test"].indices, splits["test"].indices)


@pytest.mark.parametrize("fractions", [(0.5, 0.5), (0.5, 0.3, 0.3), (0.8, 0.2, 0.0)])
def test_bad_fractions_are_rejected(fractions):
    with pytest.raises(ValueError, match="fractions"):
        load_digit_splits(fractions=fractions)


@pytest.mark.parametrize("n_pairs", [2, 7, 128, 1001])
def test_pairs_are_balanced_and_labelled_correctly(splits, n_pairs):
    labels = splits["train"].labels
    pairs = sample_pairs(labels, n_pairs, np.random.default_rng(0))
    assert len(pairs) == n_pairs
    assert pairs.same.sum() == n_pairs // 2
    same = pairs.same == 1
    assert np.array_equal(labels[pairs.first] == labels[pairs.second], same)
    assert np.all(pairs.first[same] != pairs.second[same])  # never an image with itself


def test_pairs_reach_every_digit_and_are_shuffled(splits):
    labels = splits["val"].labels
    pairs = sample_pairs(labels, 2000, np.random.default_rng(3))
    assert set(labels[pairs.first]) == set(range(10))
    assert 0 < pairs.same[:1000].sum() < 1000  # not all the same pairs first


def test_pairs_are_reproducible_from_the_generator_seed(splits):
    labels = splits["val"].labels
    a = sample_pairs(labels, 50, np.random.default_rng(5))
    b = sample_pairs(labels, 50, np.random.default_rng(5))
    assert np.array_equal(a.first, b.first) and np.array_equal(a.second, b.second)


@settings(max_examples=30, deadline=None)
@given(
    labels=st.lists(st.integers(0, 4), min_size=4, max_size=40),
    n_pairs=st.integers(2, 60),
)
def test_pairs_from_any_labels_stay_in_range_and_balanced(labels, n_pairs):
    labels = np.array(labels)
    _, counts = np.unique(labels, return_counts=True)
    if len(counts) < 2 or counts.min() < 2:
        with pytest.raises(ValueError):
            sample_pairs(labels, n_pairs, np.random.default_rng(0))
        return
    pairs = sample_pairs(labels, n_pairs, np.random.default_rng(0))
    assert pairs.first.max() < len(labels) and pairs.second.max() < len(labels)
    assert np.array_equal(labels[pairs.first] == labels[pairs.second], pairs.same == 1)
    assert pairs.same.sum() == n_pairs // 2


def test_sample_pairs_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n_pairs"):
        sample_pairs(np.array([0, 0, 1, 1]), 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="two digits"):
        sample_pairs(np.array([3, 3, 3]), 4, np.random.default_rng(0))


def test_pair_batches_yield_fresh_balanced_batches(splits):
    batches = pair_batches(splits["train"], batch_size=16, seed=0)
    x1, x2, y = next(batches)
    assert x1.shape == x2.shape == (16, 1, 8, 8)
    assert y.shape == (16,) and y.dtype == torch.float32 and y.sum() == 8
    x1_next, _, _ = next(batches)
    assert not torch.equal(x1, x1_next)
