"""Training pairs for Siamese trackers: an exemplar and a search crop of the same target
(SiamFC, 2016).

SiamFC learns from pairs of frames of one video at most T frames apart: the exemplar is
the target's context square in one frame, the search region the larger square around the
target in the other, both cut with the crop rule of `siamlab.crops` so that the target
has the same size in both. Light augmentation (stretch, shift, flip, brightness) keeps a
small network from memorising the crops.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Iterator
from typing import Sequence as SequenceType

import numpy as np
import torch

from siamlab.crops import context_size, crop_square, search_side
from siamlab.datasets.sequence import Sequence


@dataclass
class PairBatch:
    """A batch of training pairs.

    `exemplar (N, 3, e, e)` and `search (N, 3, s, s)` are float32 tensors with values
    0-255; `offsets (N, 2)` is `(dx, dy)`, where the target's centre lies in the search
    crop relative to the crop's centre, in search-crop pixels (0 without shift
    augmentation).
    """

    exemplar: torch.Tensor
    search: torch.Tensor
    offsets: torch.Tensor


class PairSampler:
    """Draws exemplar / search pairs from tracking sequences, deterministically from
    `seed`.

    - `max_gap`: the frames of a pair are at most T apart (paper: T = 100);
    - `stretch`: the search square's side is scaled by a factor in
      `[1 − stretch, 1 + stretch]`;
    - `max_shift`: the search square is moved by up to this many search-crop pixels
      (reported in `offsets`, so the labels can follow the target);
    - `flip`: both crops mirrored together with probability ½;
    - `brightness`: each crop's colours scaled by a factor in `[1 − b, 1 + b]`.

    Frames are cached (`cache_frames` most recent) because generated sequences render on
    demand.
    """

    def __init__(
        self,
        sequences: SequenceType[Sequence],
        exemplar_size: int = 127,
        search_size: int = 255,
        *,
        max_gap: int = 100,
        context: float = 0.5,
        stretch: float = 0.05,
        max_shift: float = 0.0,
        flip: bool = True,
        brightness: float = 0.1,
        seed: int = 0,
        cache_frames: int = 512,
    ) -> None:
        if len(sequences) == 0:
            raise ValueError("sequences must not be empty")
        if not isinstance(max_gap, int) or isinstance(max_gap, bool) or max_gap < 0:
            raise ValueError(f"max_gap must be a non-negative integer, got {max_gap!r}")
        if not (np.isfinite(max_shift) and np.isfinite(context) and context >= 0):
            raise ValueError(
                f"max_shift and context must be finite (context >= 0), got "
                f"{max_shift}, {context}"
            )
        if not 1 <= exemplar_size <= search_size:
            raise ValueError(
                f"need 1 <= exemplar_size <= search_size, got {exemplar_size}, "
                f"{search_size}"
            )
        if not (0 <= stretch < 1 and 0 <= brightness < 1 and max_shift >= 0):
            raise ValueError(
                f"need 0 <= stretch, brightness < 1 and max_shift >= 0, got "
                f"{stretch}, {brightness}, {max_shift}"
            )
        self.visible = [
            np.flatnonzero(~np.asarray(s.absent, dtype=bool)) for s in sequences
        ]
        if any(len(v) == 0 for v in self.visible):
            raise ValueError(
                "every sequence must have at least one frame with the target visible"
            )
        self.sequences = list(sequences)
        self.exemplar_size, self.search_size = int(exemplar_size), int(search_size)
        self.max_gap, self.context = max_gap, float(context)
        self.stretch, self.max_shift, self.flip, self.brightness = (
            stretch,
            float(max_shift),
            flip,
            brightness,
        )
        self.rng = np.random.default_rng(seed)
        self._cache: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()
        self._cache_size = int(cache_frames)

    def _frame(self, seq: int, index: int) -> np.ndarray:
        key = (seq, index)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        frame = self.sequences[seq].frame(index)
        if self._cache_size > 0:
            self._cache[key] = frame
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return frame

    def frame_indices(self) -> tuple[int, int, int]:
        """A random `(sequence, exemplar frame, search frame)` with both frames visible
        and `|exemplar − search| <= max_gap`."""
        seq = int(self.rng.integers(len(self.sequences)))
        visible = self.visible[seq]
        first = int(self.rng.choice(visible))
        near = visible[np.abs(visible - first) <= self.max_gap]
        return seq, first, int(self.rng.choice(near))

    def _jitter(self, crop: np.ndarray) -> np.ndarray:
        if self.brightness == 0:
            return crop
        factor = self.rng.uniform(1 - self.brightness, 1 + self.brightness)
        return np.clip(crop.astype(np.float32) * factor, 0, 255).astype(np.uint8)

    def sample(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One pair: `uint8` exemplar `(e, e, 3)`, search `(s, s, 3)` and the `(dx, dy)`
        offset."""
        seq, i, j = self.frame_indices()
        boxes = self.sequences[seq].boxes
        (x, y, w, h), (x2, y2, w2, h2) = boxes[i], boxes[j]
        frame = self._frame(seq, i)
        exemplar = crop_square(
            frame,
            (x + w / 2, y + h / 2),
            context_size(w, h, self.context),
            self.exemplar_size,
        )
        frame = self._frame(seq, j)
        side = search_side(boxes[j], self.exemplar_size, self.search_size, self.context)
        side *= self.rng.uniform(1 - self.stretch, 1 + self.stretch)
        shift = self.rng.uniform(
            -self.max_shift, self.max_shift, size=2
        )  # search-crop pixels
        center = np.array([x2 + w2 / 2, y2 + h2 / 2]) + shift * side / self.search_size
        search = crop_square(frame, center, side, self.search_size)
        offset = -shift
        if self.flip and self.rng.random() < 0.5:
            exemplar, search, offset = (
                exemplar[:, ::-1],
                search[:, ::-1],
                offset * np.array([-1.0, 1.0]),
            )
        return self._jitter(exemplar), self._jitter(search), offset

    def batch(self, batch_size: int) -> PairBatch:
        """`batch_size` pairs as tensors (see `PairBatch`)."""
        if (
            not isinstance(batch_size, int)
            or isinstance(batch_size, bool)
            or batch_size < 1
        ):
            raise ValueError(
                f"batch_size must be a positive integer, got {batch_size!r}"
            )
        exemplars, searches, offsets = zip(*(self.sample() for _ in range(batch_size)))

        def as_tensor(crops: tuple[np.ndarray, ...]) -> torch.Tensor:
            return torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float()

        return PairBatch(
            as_tensor(exemplars),
            as_tensor(searches),
            torch.tensor(np.stack(offsets), dtype=torch.float32),
        )

    def batches(self, batch_size: int) -> Iterator[PairBatch]:
        """An endless stream of batches, for `siamlab.train.fit`."""
        while True:
            yield self.batch(batch_size)
