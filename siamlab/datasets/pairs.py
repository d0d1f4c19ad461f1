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

    def box_pair(
        self, seq: int, i: int, j: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exemplar from frame `i` and search crop from frame `j` of sequence `seq`,
        shifted, stretched and maybe mirrored; returns the `uint8` crops and the
        target's cxcywh box in the search crop relative to its centre."""
        boxes = self.sequences[seq].boxes
        exemplar = self.exemplar(seq, i)
        search, box = self.search_around(seq, j, boxes[j])
        if self.flip and self.rng.random() < 0.5:
            exemplar, search = exemplar[:, ::-1], search[:, ::-1]
            box[0] = -box[0]
        return self._jitter(exemplar), self._jitter(search), box

    def exemplar(self, seq: int, index: int) -> np.ndarray:
        """The exemplar crop of the target in frame `index` of sequence `seq`."""
        x, y, w, h = self.sequences[seq].boxes[index]
        side = context_size(w, h, self.context)
        return crop_square(
            self._frame(seq, index), (x + w / 2, y + h / 2), side, self.exemplar_size
        )

    def search_around(
        self, seq: int, index: int, box: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """A search crop of frame `index` of sequence `seq` around the xywh `box` (any
        object's), its side stretched by up to `stretch` and its centre shifted by up
        to `max_shift` crop pixels; returns the crop and the box in it (cxcywh
        relative to the crop's centre)."""
        x, y, w, h = box
        side = search_side(box, self.exemplar_size, self.search_size, self.context)
        side *= self.rng.uniform(1 - self.stretch, 1 + self.stretch)
        shift = self.rng.uniform(-self.max_shift, self.max_shift, size=2)  # crop pixels
        center = np.array([x + w / 2, y + h / 2]) + shift * side / self.search_size
        search = crop_square(self._frame(seq, index), center, side, self.search_size)
        size = np.array([w, h]) * self.search_size / side
        return search, np.concatenate([-shift, size])

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


# --- Distractor-aware pairs (DaSiamRPN, Zhu et al. 2018) ------------------------------


@dataclass(frozen=True)
class PairMix:
    """How often each kind of training pair is drawn (relative weights).

    - `positive`: two frames of one sequence (SiamFC's and SiamRPN's pairs);
    - `still`: both crops from one frame, the search crop augmented (shift, scale,
      blur, illumination, colour): the paper's pairs from detection images, which
      show many more kinds of object than the videos;
    - `same_category`: a negative pair whose search crop is centred on another
      instance of the target's category, so that the network must tell *this* object
      from things of its kind;
    - `other_category`: a negative pair whose search crop is centred on an object of
      another category;
    - `look_alike`: a negative pair from one sequence whose search crop is centred on
      a look-alike of the target (`metadata["distractor_boxes"]`, SynthTrack's `SD`
      sequences: another instance of the category with the target's outline and
      colouring) at least `look_alike_gap` search-crop pixels from the target, so
      that no anchor sampled as negative lies on the target.

    The paper gives no mixing ratio; the defaults draw half the pairs positive (one
    in five from still frames) and, of the negatives, three of the target's category
    (look-alikes and other instances) for each of another category. Where the
    sequences hold no look-alikes, a `look_alike` draw becomes `same_category`.
    """

    positive: float = 0.4
    still: float = 0.1
    same_category: float = 0.125
    other_category: float = 0.125
    look_alike: float = 0.25

    def __post_init__(self) -> None:
        for name in self.kinds:
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not np.isfinite(value)
                or value < 0
            ):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if self.positive + self.still == 0:
            raise ValueError("positive and still must not both be 0: no positive pairs")

    @property
    def kinds(self) -> tuple[str, ...]:
        return ("positive", "still", "same_category", "other_category", "look_alike")

    def probabilities(self) -> np.ndarray:
        weights = np.array([getattr(self, kind) for kind in self.kinds], dtype=float)
        return weights / weights.sum()


@dataclass
class TrainingPair:
    """One pair: `uint8` crops, the cxcywh `box` (relative to the search crop's centre)
    of the object the search crop is centred on, whether that object is the
    exemplar's target (`negative` is False) or another one, the pair's `kind` (see
    `PairMix`), and the `(sequence, frame)` each crop was cut from."""

    exemplar: np.ndarray
    search: np.ndarray
    box: np.ndarray
    negative: bool
    kind: str
    exemplar_from: tuple[int, int]
    search_from: tuple[int, int]


def _overlapping(first: tuple | None, second: tuple | None) -> bool:
    """Whether two instances (xywh rectangles of one photograph) share any pixel; None
    (unknown, or all instances) overlaps everything."""
    if first is None or second is None:
        return True
    (x1, y1, w1, h1), (x2, y2, w2, h2) = first, second
    return min(x1 + w1, x2 + w2) > max(x1, x2) and min(y1 + h1, y2 + h2) > max(y1, y2)


def _blur(crop: np.ndarray, radius: float) -> np.ndarray:
    from PIL import Image, ImageFilter

    image = Image.fromarray(np.ascontiguousarray(crop))
    return np.asarray(image.filter(ImageFilter.GaussianBlur(radius)))


class DistractorPairSampler(PairSampler):
    """`PairSampler` that mixes in semantic negative pairs and augmented still-frame
    positives (DaSiamRPN), in the proportions of `mix` (`PairMix`).

    Categories come from `sequence.metadata["category"]` (SynthTrack's target
    photograph) and instances from `metadata["instance"]`; a sequence without them is
    its own category. A same-category negative takes its search crop from another
    sequence whose target is of the exemplar's category but another instance, and
    none of whose contents (`metadata["contents"]`: every cut and the background) is
    of that category and shares a pixel with the exemplar's target, so no part of the
    exemplar's target is in it; where a category has a single instance, an
    other-category negative is drawn instead. Still positives are augmented by `blur`
    (Gaussian radius up to this many pixels), `illumination` (brightness factor in
    `[1 − i, 1 + i]`) and `colour` (each channel's gain in `[1 − c, 1 + c]`), besides
    the shift and stretch of every search crop.
    """

    def __init__(
        self,
        sequences: SequenceType[Sequence],
        exemplar_size: int = 127,
        search_size: int = 255,
        *,
        mix: PairMix | None = None,
        blur: float = 1.5,
        illumination: float = 0.3,
        colour: float = 0.15,
        look_alike_gap: float = 64.0,
        **options,
    ) -> None:
        super().__init__(sequences, exemplar_size, search_size, **options)
        self.look_alike_gap = float(look_alike_gap)
        self._look_alike_sequences = [
            index
            for index, s in enumerate(self.sequences)
            if np.shape(s.metadata.get("distractor_boxes", ()))[1:2] not in ((), (0,))
        ]
        if mix is not None and not isinstance(mix, PairMix):
            raise ValueError(f"mix must be a PairMix, got {type(mix).__name__}")
        for name, value in (
            ("blur", blur),
            ("illumination", illumination),
            ("colour", colour),
        ):
            if not np.isfinite(value) or value < 0 or (name != "blur" and value >= 1):
                raise ValueError(
                    f"{name} must be a finite number >= 0 (< 1 except blur), "
                    f"got {value!r}"
                )
        self.mix = mix or PairMix()
        self.blur, self.illumination, self.colour = blur, illumination, colour
        self.categories = [
            str(s.metadata.get("category", f"sequence:{s.name}")) for s in sequences
        ]
        self.instances = [s.metadata.get("instance") for s in sequences]
        self.by_category: dict[str, list[int]] = {}
        for index, category in enumerate(self.categories):
            self.by_category.setdefault(category, []).append(index)

    def _shows_target_of(self, other: int, seq: int) -> bool:
        """Whether sequence `other`'s frames may show `seq`'s target: the same
        sequence, or any of `other`'s contents (`metadata["contents"]`, else its
        target) of `seq`'s category overlapping its instance (an instance None stands
        for all of them)."""
        if other == seq:
            return True
        category, instance = self.categories[seq], self.instances[seq]
        shown = self.sequences[other].metadata.get(
            "contents", ((self.categories[other], self.instances[other]),)
        )
        return any(
            name == category and _overlapping(instance, rect) for name, rect in shown
        )

    def other_sequence(self, seq: int, same_category: bool) -> int | None:
        """A random sequence whose target is of `seq`'s category but another instance
        (`same_category`), or of another category, and whose frames cannot show
        `seq`'s target; None if there is none."""
        category = self.categories[seq]
        if same_category:
            pool = self.by_category[category]
        else:
            pool = [i for i, name in enumerate(self.categories) if name != category]
        pool = [other for other in pool if not self._shows_target_of(other, seq)]
        return int(self.rng.choice(pool)) if pool else None

    def look_alike(self) -> tuple[int, int, int, np.ndarray] | None:
        """A random `(sequence, exemplar frame, search frame, look-alike's xywh box)`:
        a look-alike inside the search frame whose centre is at least
        `look_alike_gap` search-crop pixels from the target's; None if the sequences
        have none."""
        if not self._look_alike_sequences:
            return None
        for _ in range(20):
            seq = int(self.rng.choice(self._look_alike_sequences))
            sequence = self.sequences[seq]
            boxes = sequence.metadata["distractor_boxes"]
            visible = self.visible[seq]
            j = int(self.rng.choice(visible))
            k = int(self.rng.integers(boxes.shape[1]))
            box, target = boxes[j, k], sequence.boxes[j]
            width, height = sequence.metadata.get("frame_size", (np.inf, np.inf))
            centre = box[:2] + box[2:] / 2
            if not (0 <= centre[0] < width and 0 <= centre[1] < height):
                continue
            side = search_side(box, self.exemplar_size, self.search_size, self.context)
            gap = np.linalg.norm(centre - target[:2] - target[2:] / 2)
            if gap * self.search_size / side < self.look_alike_gap:
                continue
            near = visible[np.abs(visible - j) <= self.max_gap]
            return seq, int(self.rng.choice(near)), j, box
        return None

    def _augment(self, crop: np.ndarray) -> np.ndarray:
        radius = self.rng.uniform(0, self.blur)
        if radius > 0.3:
            crop = _blur(crop, radius)
        gain = self.rng.uniform(1 - self.illumination, 1 + self.illumination)
        gain = gain * self.rng.uniform(1 - self.colour, 1 + self.colour, size=3)
        return np.clip(crop.astype(np.float32) * gain, 0, 255).astype(np.uint8)

    def pair(self) -> TrainingPair:
        """One pair of a kind drawn from `mix`."""
        kind = self.mix.kinds[int(self.rng.choice(5, p=self.mix.probabilities()))]
        seq, i, j = self.frame_indices()
        if kind == "positive":
            exemplar, search, box = self.box_pair(seq, i, j)
            return TrainingPair(exemplar, search, box, False, kind, (seq, i), (seq, j))
        if kind == "still":
            exemplar = self.exemplar(seq, i)
            search, box = self.search_around(seq, i, self.sequences[seq].boxes[i])
            if self.flip and self.rng.random() < 0.5:
                exemplar, search = exemplar[:, ::-1], search[:, ::-1]
                box[0] = -box[0]
            return TrainingPair(
                self._jitter(exemplar), self._augment(search), box, False, kind,
                (seq, i), (seq, i),
            )  # fmt: skip
        if kind == "look_alike":
            found = self.look_alike()
            if found is not None:
                seq, i, j, box = found
                exemplar = self.exemplar(seq, i)
                search, box = self.search_around(seq, j, box)
                if self.flip and self.rng.random() < 0.5:
                    exemplar, search = exemplar[:, ::-1], search[:, ::-1]
                    box[0] = -box[0]
                return TrainingPair(
                    self._jitter(exemplar), self._jitter(search), box, True, kind,
                    (seq, i), (seq, j),
                )  # fmt: skip
            kind = "same_category"
        other = self.other_sequence(seq, kind == "same_category")
        if other is None:
            kind = "other_category"
            other = self.other_sequence(seq, False)
        if other is None:
            raise ValueError(
                "negative pairs need targets of at least two categories among the "
                "sequences (metadata['category'])"
            )
        exemplar = self.exemplar(seq, i)
        frame = int(self.rng.choice(self.visible[other]))
        search, box = self.search_around(
            other, frame, self.sequences[other].boxes[frame]
        )
        if self.flip and self.rng.random() < 0.5:
            exemplar, search = exemplar[:, ::-1], search[:, ::-1]
            box[0] = -box[0]
        return TrainingPair(
            self._jitter(exemplar), self._jitter(search), box, True, kind,
            (seq, i), (other, frame),
        )  # fmt: skip
