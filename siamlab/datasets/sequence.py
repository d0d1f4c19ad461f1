"""A tracking sequence: frames, the ground-truth box of each frame, its attributes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from siamlab.boxes import as_boxes

#: The scoring protocols of `siamlab.evaluation`, named after the toolkit each follows.
PROTOCOLS = ("otb", "got10k", "lasot")

#: The protocol of each folder layout (`metadata["format"]`, set by the readers of
#: `siamlab.datasets.formats`). VOT folders are scored one-pass like OTB: VOT's own
#: reset-based protocol (EAO) is not implemented.
FORMAT_PROTOCOLS = {"otb": "otb", "got10k": "got10k", "lasot": "lasot", "vot": "otb"}


@dataclass
class Sequence:
    """One video with single-object ground truth.

    `boxes` is `(N, 4)` xywh, 0-based floats; rows of frames where the target is
    absent may hold anything (they are marked by `absent`, a boolean `(N,)` array).
    Frames are produced on demand by `load_frame(i) -> uint8 (H, W, 3)`, so a
    sequence costs no memory until it is read.
    `attributes` are OTB-style tags (`"SV"`, `"OCC"`, ...).

    `protocol` names the toolkit whose conventions score this sequence (one of
    `PROTOCOLS`, see `siamlab.evaluation`). Left as None it comes from
    `metadata["format"]` (`FORMAT_PROTOCOLS`: GOT-10k and LaSOT folders score as
    their toolkits do, OTB and VOT folders as OTB) and is `"otb"` otherwise, as for
    SynthTrack.
    """

    name: str
    boxes: np.ndarray
    load_frame: Callable[[int], np.ndarray]
    absent: np.ndarray | None = None
    attributes: tuple[str, ...] = ()
    metadata: dict = field(default_factory=dict)
    protocol: str | None = None

    def __post_init__(self) -> None:
        if self.protocol is None:
            self.protocol = FORMAT_PROTOCOLS.get(self.metadata.get("format"), "otb")
        if self.protocol not in PROTOCOLS:
            raise ValueError(
                f"protocol of sequence {self.name!r} must be one of {PROTOCOLS}, "
                f"got {self.protocol!r}"
            )
        self.boxes = np.asarray(self.boxes, dtype=np.float64)
        if self.boxes.ndim != 2 or self.boxes.shape[1] != 4 or len(self.boxes) == 0:
            raise ValueError(
                f"boxes of sequence {self.name!r} must have shape (N, 4), "
                f"got {self.boxes.shape}"
            )
        if self.absent is None:
            self.absent = ~np.all(np.isfinite(self.boxes), axis=1)
        self.absent = np.asarray(self.absent, dtype=bool)
        if self.absent.shape != (len(self.boxes),):
            raise ValueError(
                f"absent of sequence {self.name!r} must have shape "
                f"({len(self.boxes)},), got {self.absent.shape}"
            )
        if self.absent[0]:
            raise ValueError(
                f"the target of sequence {self.name!r} must be visible in the "
                "first frame"
            )
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
