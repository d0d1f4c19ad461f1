"""What a tracker costs: the parameters of its network and the multiply-adds of a frame.

A tracker's speed depends on the machine; its arithmetic does not. `update_macs`
counts the multiply-accumulate operations (MACs) of one `update`, the work done for
every frame after the first, with PyTorch's `FlopCounterMode`, which sees every matrix
multiplication and convolution that runs (one MAC is two FLOPs). Work done outside
PyTorch (NumPy, scikit-image's template matching) is not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from siamlab.datasets.sequence import Sequence
from siamlab.trackers.base import Tracker


@dataclass(frozen=True)
class TrackerCosts:
    """A tracker's `parameters` (all weights of its network, 0 without one) and
    `macs`, the multiply-accumulates of one `update` (PyTorch operations only)."""

    parameters: int
    macs: int


def _check_tracker(tracker: Any) -> Tracker:
    if not isinstance(tracker, Tracker):
        raise ValueError(
            f"tracker must have init(frame, box) and update(frame), got {tracker!r}"
        )
    return tracker


def network_of(tracker: Tracker) -> nn.Module | None:
    """The tracker's network (its `model` attribute), or None if it has none (the
    baselines of the first chapter)."""
    model = getattr(_check_tracker(tracker), "model", None)
    return model if isinstance(model, nn.Module) else None


def parameter_count(tracker: Tracker) -> int:
    """Number of weights of the tracker's network, trainable or frozen; 0 without a
    network."""
    model = network_of(tracker)
    return 0 if model is None else sum(p.numel() for p in model.parameters())


def update_macs(
    tracker: Tracker, first: np.ndarray, box: ArrayLike, frame: np.ndarray
) -> int:
    """MACs of one `tracker.update(frame)` after `tracker.init(first, box)`.

    `first` and `frame` are `uint8` `H×W×3` frames of one sequence and `box` the target
    on `first` as `(x, y, w, h)`. Only the update is counted, not the initialisation
    (the template's features are computed once per sequence). The count is that of
    this frame: a tracker whose work varies (DaSiamRPN searches the whole frame when
    it has lost the target) costs more on other frames.
    """
    tracker = _check_tracker(tracker)
    tracker.init(first, box)
    with FlopCounterMode(display=False) as counter:
        tracker.update(frame)
    return counter.get_total_flops() // 2


def measure_costs(
    tracker: Tracker, sequence: Sequence, frame_index: int = 1
) -> TrackerCosts:
    """`TrackerCosts` of `tracker`, initialised on frame 0 of `sequence` with its
    ground truth and updated once, on frame `frame_index` (1 to `len(sequence) - 1`)."""
    if not isinstance(sequence, Sequence):
        raise ValueError(f"sequence must be a Sequence, got {type(sequence).__name__}")
    if len(sequence) < 2:
        raise ValueError(
            f"sequence must have at least 2 frames, {sequence.name!r} has "
            f"{len(sequence)}"
        )
    if not 1 <= frame_index < len(sequence):
        raise ValueError(
            f"frame_index must be in 1..{len(sequence) - 1}, got {frame_index}"
        )
    first = sequence.load_frame(0)
    frame = sequence.load_frame(frame_index)
    macs = update_macs(tracker, first, sequence.boxes[0], frame)
    return TrackerCosts(parameters=parameter_count(tracker), macs=macs)
