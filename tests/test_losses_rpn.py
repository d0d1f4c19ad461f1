"""Tests of the region proposal losses in siamlab.losses: objectness and weighted smooth
L1."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from siamlab import anchors
from siamlab.losses import rpn_classification_loss, smooth_l1, smooth_l1_loss


def test_classification_loss_weights_positives_and_negatives_equally():
    # one positive with p(target) = 0.5 and three negatives with p(background) = 1/(1+e)
    logits = torch.tensor([[0.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [5.0, -5.0]])
    labels = torch.tensor([1, 0, 0, 0, -1])
    expected = 0.5 * math.log(2) + 0.5 * math.log(1 + math.e)
    assert rpn_classification_loss(logits, labels).item() == pytest.approx(
        expected, rel=1e-6
    )


def test_classification_loss_ignores_anchors_labelled_minus_one():
    logits = torch.tensor([[[2.0, -1.0], [-1.0, 2.0], [9.0, -9.0]]])
    labels = torch.tensor([[0, 1, -1]])
    changed = logits.clone()
    changed[0, 2] = torch.tensor([-9.0, 9.0])
    assert rpn_classification_loss(logits, labels) == rpn_classification_loss(
        changed, labels
    )


def test_classification_loss_of_a_negative_pair_counts_only_negatives():
    logits = torch.tensor([[0.0, 0.0], [0.0, 0.0]])
    loss = rpn_classification_loss(logits, torch.tensor([0, -1]))
    assert loss.item() == pytest.approx(0.5 * math.log(2))


def test_classification_loss_is_near_zero_for_confident_correct_logits():
    labels = torch.tensor([1, 0, 0, -1])
    target = torch.where(labels == 1, 20.0, -20.0)
    logits = torch.stack([-target, target], dim=1)
    assert rpn_classification_loss(logits, labels).item() < 1e-6


def test_classification_loss_gradient_flows_to_sampled_anchors_only():
    logits = torch.zeros(4, 2, requires_grad=True)
    rpn_classification_loss(logits, torch.tensor([1, 0, -1, -1])).backward()
    assert torch.all(logits.grad[2:] == 0) and torch.all(logits.grad[:2] != 0)


def test_classification_loss_rejects_bad_labels_and_shapes():
    with pytest.raises(ValueError, match="labels"):
        rpn_classification_loss(torch.zeros(3, 2), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="logits"):
        rpn_classification_loss(torch.zeros(3, 4), torch.tensor([0, 1, 1]))


def test_smooth_l1_hand_values():
    x = torch.tensor([-3.0, -0.5, 0.0, 0.5, 3.0])
    np.testing.assert_allclose(smooth_l1(x).numpy(), [2.5, 0.125, 0.0, 0.125, 2.5])
    np.testing.assert_allclose(smooth_l1(x, beta=0).numpy(), x.abs().numpy())


@settings(max_examples=100, deadline=None)
@given(x=st.floats(-50, 50, allow_nan=False), beta=st.floats(0.01, 5))
def test_smooth_l1_is_continuous_and_below_both_l1_and_half_l2_over_beta(x, beta):
    value = smooth_l1(torch.tensor(x, dtype=torch.float64), beta).item()
    assert 0 <= value <= abs(x) + 1e-12
    assert value <= 0.5 * x * x / beta + 1e-12
    assert value >= abs(x) - 0.5 * beta - 1e-12


def test_regression_loss_is_the_mean_over_positives_of_the_summed_coordinates():
    deltas = torch.zeros(1, 3, 4)
    targets = torch.tensor(
        [[[0.5, 0.0, 0.0, 0.0], [2.0, 0.0, 0.0, 0.0], [9.0, 9.0, 9.0, 9.0]]]
    )
    weights = torch.tensor([[0.5, 0.5, 0.0]])
    # (0.125 + 1.5) / 2; the third anchor has weight 0
    assert smooth_l1_loss(deltas, targets, weights).item() == pytest.approx(0.8125)


def test_regression_loss_averages_over_pairs():
    deltas = torch.zeros(2, 1, 4)
    targets = torch.tensor([[[0.5, 0, 0, 0]], [[0.0, 0, 0, 0]]])
    weights = torch.ones(2, 1)
    assert smooth_l1_loss(deltas, targets, weights).item() == pytest.approx(0.125 / 2)


def test_losses_are_zero_when_predictions_equal_the_assigned_targets():
    grid = anchors.anchor_grid(17, 8, anchors.anchor_shapes())
    t = anchors.assign_targets(grid, np.array([5.0, -3.0, 70.0, 60.0]), rng=0)
    targets = torch.from_numpy(t.deltas)[None]
    assert (
        smooth_l1_loss(
            targets.clone(), targets, torch.from_numpy(t.weights)[None]
        ).item()
        == 0.0
    )


def test_regression_loss_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="weights"):
        smooth_l1_loss(torch.zeros(2, 5, 4), torch.zeros(2, 5, 4), torch.zeros(2, 4))
