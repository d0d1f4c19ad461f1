import numpy as np
import pytest
import torch
from torch import nn

from siamlab.costs import (
    TrackerCosts,
    measure_costs,
    network_of,
    parameter_count,
    update_macs,
)
from siamlab.datasets import Sequence
from siamlab.trackers import StaticTracker
from siamlab.trackers.base import TrackResult


class LinearTracker:
    """A toy tracker whose update runs a 4 → 3 linear layer once: 12 MACs."""

    name = "linear"

    def __init__(self) -> None:
        self.model = nn.Linear(4, 3)
        self.box = np.zeros(4)

    def init(self, frame, box) -> None:
        self.box = np.asarray(box, dtype=float)

    def update(self, frame) -> TrackResult:
        with torch.no_grad():
            self.model(torch.ones(1, 4))
        return TrackResult(self.box, 1.0)


def flat_sequence(n=3):
    boxes = np.tile([4.0, 4.0, 8.0, 8.0], (n, 1))
    return Sequence("flat", boxes, lambda i: np.full((32, 32, 3), 100, np.uint8))


def test_linear_layer_update_costs_inputs_times_outputs_macs():
    frame = np.zeros((32, 32, 3), np.uint8)
    assert update_macs(LinearTracker(), frame, [4, 4, 8, 8], frame) == 4 * 3


def test_parameters_count_weights_and_biases_trainable_or_frozen():
    tracker = LinearTracker()
    assert parameter_count(tracker) == 4 * 3 + 3
    tracker.model.requires_grad_(False)
    assert parameter_count(tracker) == 15


def test_measure_costs_of_a_tracker_with_a_network():
    assert measure_costs(LinearTracker(), flat_sequence()) == TrackerCosts(15, 12)


def test_tracker_without_network_costs_nothing():
    tracker = StaticTracker()
    assert network_of(tracker) is None
    assert measure_costs(tracker, flat_sequence()) == TrackerCosts(0, 0)


def test_shipped_siamfc_costs_are_positive():
    from siamlab.trackers.registry import make_tracker

    costs = measure_costs(make_tracker("siamfc"), flat_sequence())
    assert costs.parameters > 10_000 and costs.macs > 1_000_000


def test_non_tracker_is_refused_with_its_name():
    with pytest.raises(ValueError, match="tracker must have init"):
        parameter_count(object())


def test_sequence_must_be_a_sequence_with_two_frames():
    with pytest.raises(ValueError, match="sequence must be a Sequence"):
        measure_costs(LinearTracker(), [np.zeros((8, 8, 3), np.uint8)])
    with pytest.raises(ValueError, match="at least 2 frames"):
        measure_costs(LinearTracker(), flat_sequence(1))


@pytest.mark.parametrize("index", [0, 3, -1])
def test_frame_index_outside_the_sequence_is_refused(index):
    with pytest.raises(ValueError, match="frame_index must be in 1..2"):
        measure_costs(LinearTracker(), flat_sequence(3), frame_index=index)
