"""A tracking sequence: frames, the ground-truth box of each frame, and its attributes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from siamlab.boxes import as_boxes


@dataclass
class Sequence:
    """One video with single-object ground truth.

    `boxes` is `(N, 4)` xywh, 0-based floats; rows of frames where the target is absent may hold
    anything (they are excluded by `absent`, a boolean `(N,)` array). Frames are produced on
    demand by `load_frame(i) -> uint8 (H, W, 3)`, so a sequence costs no memory until it is read.
    `attributes` are OTB-style tags (`"SV"`, `"OCC"`, ...).
    """

    name: str
    boxes: np.ndarray
    load_frame: Callable[[int], np.ndarray]
    absent: np.ndarray | None = None
    attributes: tuple[str, ...] = ()
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.boxes = np.asarray(self.boxes, dtype=np.float64)
        if self.boxes.ndim != 2 or self.boxes.shape[1] != 4 or len(self.boxes) == 0:
            raise ValueError(f"boxes of sequence {self.name!r} must have shape (N, 4), got {self.boxes.shape}")
        if self.absent is None:
            self.absent = ~np.all(np.isfinite(self.boxes), axis=1)
        self.absent = np.asarray(self.absent, dtype=bool)
        if self.absent.shape != (len(self.boxes),):
            raise ValueError(
                f"absent of sequence {self.name!r} must have shape ({len(self.boxes)},), got {self.absent.shape}"
            )
        if self.absent[0]:
            raise ValueError(f"the target of sequence {self.name!r} must be visible in the first frame")
        as_boxes(self.boxes[0], f"boxes[0] of sequence {self.name!r}", positive=True)

    def __len__(self) -> int:
        return len(self.boxes)

    def frame(self, index: int) -> np.ndarray:
        """Frame `index` as `uint8 (H, W, 3)`."""
        if not -len(self) <= index < len(self):
            raise IndexError(f"frame index {index} out of range for {len(self)} frames")
        return self.load_frame(index % len(self))

    def frames(self) -> Iterator[np.ndarray]:
        """All frames in order."""
        for index in range(len(self)):
            yield self.load_frame(index)
