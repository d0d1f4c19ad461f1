"""Tests of the chapter-1 part of `siamlab.losses`: pairwise distances and the
contrastive loss."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from siamlab.losses import contrastive_loss, pairwise_distance

finite = st.floats(-10, 10, allow_nan=False, width=32)


def vectors(n: int, dim: int):
    return st.lists(finite, min_size=n * dim, max_size=n * dim).map(
        lambda values: torch.tensor(values, dtype=torch.float32).reshape(n, dim)
    )


def test_euclidean_distance_of_a_3_4_5_triangle_is_5():
    a = torch.tensor([[3.0, 4.0], [1.0, 1.0]])
    b = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    assert pairwise_distance(a, b, "euclidean").tolist() == pytest.approx([5.0, 0.0])


def test_cosine_distance_of_same_orthogonal_and_opposite_directions():
    a = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    b = torch.tensor([[5.0, 0.0], [0.0, 2.0], [-3.0, 0.0], [1.0, 0.0]])
    expected = [0.0, 1.0, 2.0, 1.0 - 1.0 / math.sqrt(2.0)]
    assert pairwise_distance(a, b, "cosine").tolist() == pytest.approx(
        expected, abs=1e-6
    )


def test_cosine_distance_with_a_zero_vector_is_one():
    assert pairwise_distance(
        torch.zeros(1, 3), torch.ones(1, 3), "cosine"
    ).item() == pytest.approx(1.0)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_gradient_of_the_distance_is_finite_where_the_embeddings_coincide(metric):
    a = torch.tensor([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]], requires_grad=True)
    b = a.detach().clone()
    distance = pairwise_distance(a, b, metric)
    assert distance.tolist() == pytest.approx(
        [0.0, 0.0 if metric == "euclidean" else 1.0], abs=1e-6
    )
    distance.sum().backward()
    assert torch.isfinite(a.grad).all()


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("y", [0, 1])
def test_gradient_of_the_contrastive_loss_is_finite_at_zero_distance(metric, y):
    a = torch.ones(4, 8, requires_grad=True)
    loss = contrastive_loss(
        pairwise_distance(a, torch.ones(4, 8), metric), torch.full((4,), y), 1.0
    )
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(a.grad).all()


def test_contrastive_loss_by_hand():
    d = torch.tensor([0.0, 0.5, 0.5, 1.5, 2.0])
    y = torch.tensor([1, 1, 0, 0, 1])
    # similar: d² → 0, 0.25, 4; dissimilar: max(1 − d, 0)² → 0.25, 0
    per_pair = contrastive_loss(d, y, margin=1.0, reduction="none")
    assert per_pair.tolist() == pytest.approx([0.0, 0.25, 0.25, 0.0, 4.0])
    assert contrastive_loss(d, y, margin=1.0).item() == pytest.approx(4.5 / 5)
    assert contrastive_loss(d, y, margin=1.0, reduction="sum").item() == pytest.approx(
        4.5
    )


def test_contrastive_loss_with_euclidean_distance_by_hand():
    a = torch.tensor([[0.0, 0.0], [0.0, 0.0]])
    b = torch.tensor([[0.3, 0.4], [0.3, 0.4]])  # both pairs at distance 0.5
    d = pairwise_distance(a, b, "euclidean")
    loss = contrastive_loss(d, torch.tensor([1.0, 0.0]), margin=2.0, reduction="none")
    assert loss.tolist() == pytest.approx([0.25, 1.5**2])


def test_contrastive_loss_with_cosine_distance_by_hand():
    a = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    b = torch.tensor([[0.0, 3.0], [0.0, 3.0]])  # orthogonal: cosine distance 1
    d = pairwise_distance(a, b, "cosine")
    loss = contrastive_loss(d, torch.tensor([1, 0]), margin=1.5, reduction="none")
    assert loss.tolist() == pytest.approx([1.0, 0.25], abs=1e-6)


def test_margin_zero_makes_dissimilar_pairs_free():
    d = torch.tensor([0.0, 0.3, 3.0])
    assert contrastive_loss(d, torch.zeros(3), margin=0.0).item() == 0.0


def test_gradient_pushes_close_dissimilar_pairs_apart_and_similar_pairs_together():
    d = torch.tensor([0.5, 0.5], requires_grad=True)
    contrastive_loss(d, torch.tensor([1, 0]), margin=1.0, reduction="sum").backward()
    assert (
        d.grad[0] > 0 > d.grad[1]
    )  # descent lowers d of the similar pair, raises the other


@pytest.mark.parametrize(
    "y", [torch.tensor([0, 2]), torch.tensor([0.5, 1.0]), torch.tensor([-1, 1])]
)
def test_labels_other_than_0_and_1_are_rejected(y):
    with pytest.raises(ValueError, match="y must"):
        contrastive_loss(torch.tensor([0.1, 0.2]), y)


@pytest.mark.parametrize(
    "d, y",
    [
        (torch.zeros(3), torch.zeros(2)),
        (torch.zeros(2, 1), torch.zeros(2, 1)),
    ],
)
def test_mismatched_or_non_vector_shapes_are_rejected(d, y):
    with pytest.raises(ValueError, match="shape"):
        contrastive_loss(d, y)


@pytest.mark.parametrize("margin", [-0.1, float("nan")])
def test_negative_or_nan_margin_is_rejected(margin):
    with pytest.raises(ValueError, match="margin"):
        contrastive_loss(torch.zeros(2), torch.ones(2), margin=margin)


def test_negative_distances_and_unknown_reduction_are_rejected():
    with pytest.raises(ValueError, match="non-negative"):
        contrastive_loss(torch.tensor([-1.0]), torch.tensor([1]))
    with pytest.raises(ValueError, match="reduction"):
        contrastive_loss(torch.tensor([1.0]), torch.tensor([1]), reduction="max")


def test_distance_rejects_unknown_metric_and_mismatched_shapes():
    with pytest.raises(ValueError, match="metric"):
        pairwise_distance(torch.zeros(2, 3), torch.zeros(2, 3), "manhattan")
    with pytest.raises(ValueError, match="shape"):
        pairwise_distance(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="shape"):
        pairwise_distance(torch.zeros(3), torch.zeros(3))


@settings(max_examples=50, deadline=None)
@given(a=vectors(4, 3), b=vectors(4, 3))
def test_distances_are_symmetric_and_within_their_ranges(a, b):
    euclidean = pairwise_distance(a, b, "euclidean")
    cosine = pairwise_distance(a, b, "cosine")
    assert torch.allclose(euclidean, pairwise_distance(b, a, "euclidean"))
    assert torch.allclose(cosine, pairwise_distance(b, a, "cosine"))
    assert torch.allclose(euclidean, torch.linalg.vector_norm(a - b, dim=1), atol=1e-5)
    assert (euclidean >= 0).all()
    assert (cosine >= -1e-6).all() and (cosine <= 2 + 1e-6).all()


@settings(max_examples=50, deadline=None)
@given(
    d=st.lists(st.floats(0, 5, width=32), min_size=1, max_size=8),
    margin=st.floats(0, 3),
    data=st.data(),
)
def test_loss_is_non_negative_and_zero_for_dissimilar_pairs_beyond_the_margin(
    d, margin, data
):
    d = torch.tensor(d)
    y = torch.tensor(
        data.draw(st.lists(st.sampled_from([0, 1]), min_size=len(d), max_size=len(d)))
    )
    per_pair = contrastive_loss(d, y, margin, reduction="none")
    assert (per_pair >= 0).all()
    beyond = (y == 0) & (d >= margin)
    assert (per_pair[beyond] == 0).all()
    assert torch.allclose(per_pair[y == 1], d[y == 1] ** 2)
