"""The tracker protocol and the loop that runs a tracker over a sequence.

Every tracker of the book is initialised on the first frame with the target's box and
then asked, frame after frame, where the target is. `update` returns a `TrackResult`
whose `response` (the score map the decision was made from) is what the figures and
widgets draw.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike

from siamlab.boxes import as_boxes
from siamlab.crops import as_frame
from siamlab.datasets.sequence import Sequence
from siamlab.progress import progress_bar


@dataclass
class TrackResult:
    """One frame's answer: xywh `box` (0-based floats), a confidence `score` and the
    `response` map (any 2-D array, or `None` for trackers without one)."""

    box: np.ndarray
    score: float
    response: np.ndarray | None = None


def check_init(frame: ArrayLike, box: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """The first frame as `uint8 (H, W, 3)` and the target's box as float64 `(4,)`,
    checked as every tracker's `init` needs them.

    `ValueError` for a frame that is not an image, a box that is not one xywh box with
    positive finite width and height, or a box that does not overlap the frame (a
    tracker started outside the image would follow mean-colour padding).
    """
    image = as_frame(frame)
    b = as_boxes(box, "box", positive=True)
    if b.size != 4:
        raise ValueError(f"box must be one (x, y, w, h) box, got shape {b.shape}")
    b = b.reshape(4)
    x, y, w, h = b
    height, width = image.shape[:2]
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        raise ValueError(
            f"box {b.tolist()} lies outside the frame of width {width} and height "
            f"{height}: the initial box must overlap the frame"
        )
    return image, b


def check_frame(frame: ArrayLike, first_shape: tuple[int, ...] | None) -> np.ndarray:
    """A later frame as `uint8 (H, W, 3)`; `ValueError` when its size differs from the
    first frame's `first_shape` (boxes would be placed in the wrong coordinates)."""
    image = as_frame(frame)
    if first_shape is not None and image.shape[:2] != tuple(first_shape[:2]):
        raise ValueError(
            f"frame has size {image.shape[1]}x{image.shape[0]} (width x height) but "
            f"the first frame had {first_shape[1]}x{first_shape[0]}; all frames of a "
            "sequence must have the same size"
        )
    return image


@runtime_checkable
class Tracker(Protocol):
    """What `track` needs: `init(frame, box)` on the first frame, then
    `update(frame)`."""

    name: str

    def init(self, frame: np.ndarray, box: ArrayLike) -> None: ...

    def update(self, frame: np.ndarray) -> TrackResult: ...


@dataclass
class TrackingRun:
    """The result of `track`: `(N, 4)` boxes (the first is the given box), `(N,)` scores
    (the first is 1), and frames per second of `update` (frame loading excluded)."""

    boxes: np.ndarray
    scores: np.ndarray
    fps: float
    seconds: float


def track(tracker: Tracker, sequence: Sequence, progress: bool = True) -> TrackingRun:
    """Run `tracker` over `sequence`: `init` on frame 0 with its ground truth, `update`
    on the rest."""
    if not isinstance(tracker, Tracker):
        raise ValueError(
            f"tracker must have init(frame, box) and update(frame), got {tracker!r}"
        )
    boxes = np.zeros((len(sequence), 4))
    scores = np.ones(len(sequence))
    boxes[0] = sequence.boxes[0]
    elapsed = 0.0
    frames = sequence.frames()
    first = next(frames)
    start = time.perf_counter()
    tracker.init(first, sequence.boxes[0])
    elapsed += time.perf_counter() - start
    bar = progress_bar(
        frames,
        enabled=progress,
        total=len(sequence) - 1,
        desc=f"{tracker.name} on {sequence.name}",
        leave=False,
    )
    for index, frame in enumerate(bar, start=1):
        start = time.perf_counter()
        result = tracker.update(frame)
        elapsed += time.perf_counter() - start
        boxes[index] = result.box
        scores[index] = result.score
    fps = len(sequence) / elapsed if elapsed > 0 else float("inf")
    return TrackingRun(boxes=boxes, scores=scores, fps=fps, seconds=elapsed)
