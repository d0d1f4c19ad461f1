"""SiamFC's label map and balanced logistic loss, against hand computations."""

import math

import pytest
import torch

from siamlab.losses import balanced_logistic_loss, siamfc_labels


def softplus(v: float) -> float:
    return math.log1p(math.exp(v))


def test_label_disc_of_the_paper_has_thirteen_cells():
    labels = siamfc_labels(17, radius=16, stride=8)
    assert labels.shape == (17, 17) and labels.sum() == 13
    assert (
        labels[8, 8] == 1
        and labels[8, 10] == 1
        and labels[9, 10] == 0
        and labels[8, 11] == 0
    )


def test_label_radius_is_measured_in_pixels_over_the_stride():
    assert siamfc_labels(9, radius=7.9, stride=8).sum() == 1  # only the centre
    assert (
        siamfc_labels(9, radius=8, stride=8).sum() == 5
    )  # centre and its 4 neighbours
    assert (
        siamfc_labels(9, radius=8, stride=4).sum() == 13
    )  # same pixels, twice the cells


def test_label_offsets_move_the_disc():
    labels = siamfc_labels(
        5, radius=0, stride=8, offsets=torch.tensor([[8.0, -16.0], [0.0, 0.0]])
    )
    assert labels.shape == (2, 1, 5, 5)
    assert labels[0, 0, 0, 3] == 1 and labels[0].sum() == 1
    assert labels[1, 0, 2, 2] == 1 and labels[1].sum() == 1


def test_loss_equals_hand_computation_on_a_3x3_map():
    response = torch.tensor([[[[0.0, 1.0, -1.0], [2.0, 3.0, 0.5], [0.0, 0.0, -2.0]]]])
    labels = siamfc_labels(
        3, radius=8, stride=8
    )  # a plus sign: 5 positives, 4 negatives
    positives = [1.0, 2.0, 3.0, 0.5, 0.0]
    negatives = [0.0, -1.0, 0.0, -2.0]
    expected = (
        0.5 * sum(softplus(-v) for v in positives) / 5
        + 0.5 * sum(softplus(v) for v in negatives) / 4
    )
    assert balanced_logistic_loss(response, labels).item() == pytest.approx(
        expected, rel=1e-6
    )


def test_positives_and_negatives_weigh_the_same_whatever_their_counts():
    # a map that is wrong everywhere by the same margin costs log(1 + e) whatever the
    # label area
    for radius in (0, 8, 16):
        labels = siamfc_labels(7, radius=radius, stride=8)
        response = (1 - 2 * labels)[None, None]  # −1 on positives, +1 on negatives
        assert balanced_logistic_loss(response, labels).item() == pytest.approx(
            softplus(1.0)
        )


def test_loss_is_the_mean_over_the_batch():
    labels = siamfc_labels(5, radius=8, stride=8)
    a, b = torch.randn(1, 1, 5, 5), torch.randn(1, 1, 5, 5)
    both = balanced_logistic_loss(torch.cat([a, b]), labels)
    assert both.item() == pytest.approx(
        (balanced_logistic_loss(a, labels) + balanced_logistic_loss(b, labels)).item()
        / 2
    )


def test_loss_gradient_raises_positives_and_lowers_negatives():
    labels = siamfc_labels(5, radius=8, stride=8)
    response = torch.zeros(1, 1, 5, 5, requires_grad=True)
    balanced_logistic_loss(response, labels).backward()
    grad = response.grad[0, 0]
    assert torch.all(grad[labels == 1] < 0) and torch.all(grad[labels == 0] > 0)


@pytest.mark.parametrize(
    "response, labels, match",
    [
        (torch.zeros(5, 5), torch.zeros(5, 5), "response"),
        (torch.zeros(1, 1, 5, 5), torch.zeros(4, 4), "labels must have shape"),
        (torch.zeros(1, 1, 3, 3), torch.full((3, 3), 0.5), "only 1"),
    ],
)
def test_bad_inputs_are_rejected(response, labels, match):
    with pytest.raises(ValueError, match=match):
        balanced_logistic_loss(response, labels)


def test_bad_label_arguments_are_rejected():
    with pytest.raises(ValueError, match="score_size"):
        siamfc_labels(0, 16)
    with pytest.raises(ValueError, match="offsets"):
        siamfc_labels(5, 16, offsets=torch.zeros(3))
