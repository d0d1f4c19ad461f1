"""Two hand-crafted baselines: a tracker that never moves, and normalised
cross-correlation.

`StaticTracker` answers the first box in every frame: the floor any tracker must clear.
`NCCTracker` is classic template matching (Lewis 1995's fast normalised
cross-correlation): the first frame's patch is slid over a search window around the last
position at three scales, and the best match wins. SiamFC keeps this structure and
replaces raw pixels by learned features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from siamlab.boxes import clip_to_frame
from siamlab.crops import crop_square
from siamlab.trackers.base import TrackResult, check_frame, check_init


class StaticTracker:
    """Predicts the initial box in every frame (a sanity floor for the metrics)."""

    name = "static"

    def __init__(self) -> None:
        self.box: np.ndarray | None = None
        self.frame_shape: tuple[int, ...] | None = None

    def init(self, frame: np.ndarray, box: ArrayLike) -> None:
        image, self.box = check_init(frame, box)
        self.frame_shape = image.shape

    def update(self, frame: np.ndarray) -> TrackResult:
        if self.box is None:
            raise ValueError("call init(frame, box) before update(frame)")
        check_frame(frame, self.frame_shape)
        return TrackResult(box=self.box.copy(), score=1.0, response=None)


@dataclass
class NCCConfig:
    """Parameters of `NCCTracker`.

    `template_size`: the template's longer side in pixels after downscaling (smaller is
    faster); `search_factor`: side of the search window over the target's longer side;
    `scales`: relative sizes tried each frame; `scale_penalty`: factor on the score of a
    changed scale; `scale_damping`: how much of the winning scale change is applied
    (SiamFC uses the same idea, with 0.59).
    """

    template_size: int = 24
    search_factor: float = 2.5
    scales: tuple[float, ...] = (0.96, 1.0, 1.04)
    scale_penalty: float = 0.98
    scale_damping: float = 0.5

    def __post_init__(self) -> None:
        size = self.template_size
        if not isinstance(size, int) or isinstance(size, bool) or size < 4:
            raise ValueError(f"template_size must be an integer >= 4, got {size!r}")
        if not _number(self.search_factor) or not self.search_factor > 1:
            raise ValueError(f"search_factor must be > 1, got {self.search_factor!r}")
        scales = self.scales
        if not isinstance(scales, (tuple, list)) or not scales:
            raise ValueError(
                f"scales must be a non-empty tuple of numbers, got {scales!r}"
            )
        if not all(_number(s) and s > 0 for s in scales):
            raise ValueError(f"scales must be positive finite numbers, got {scales!r}")
        if not _number(self.scale_penalty) or not 0 < self.scale_penalty <= 1:
            raise ValueError(
                f"scale_penalty must be in (0, 1], got {self.scale_penalty!r}"
            )
        if not _number(self.scale_damping) or not 0 <= self.scale_damping <= 1:
            raise ValueError(
                f"scale_damping must be in [0, 1], got {self.scale_damping!r}"
            )


def _number(value: object) -> bool:
    """True for a finite int or float (not a bool, NaN or infinity)."""
    return (
        isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, bool)
        and bool(np.isfinite(value))
    )


def _grey(image: np.ndarray) -> np.ndarray:
    return image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


class NCCTracker:
    """Normalised cross-correlation of a fixed first-frame template in a window around
    the last position, at `config.scales`; the response is the NCC map of the winning
    scale (values in [-1, 1])."""

    name = "ncc"

    def __init__(self, config: NCCConfig | None = None) -> None:
        self.config = config or NCCConfig()
        self.template: np.ndarray | None = None
        self.box = np.zeros(4)
        self.frame_shape: tuple[int, ...] | None = None

    def init(self, frame: np.ndarray, box: ArrayLike) -> None:
        image, self.box = check_init(frame, box)
        self.frame_shape = image.shape
        x, y, w, h = self.box
        # pixels of template per frame pixel, and the template's (width, height)
        self.zoom = self.config.template_size / max(w, h)
        tw, th = max(int(round(w * self.zoom)), 3), max(int(round(h * self.zoom)), 3)
        side = max(w, h)
        square = _grey(
            crop_square(image, (x + w / 2, y + h / 2), side, self.config.template_size)
        )
        top, left = (
            (self.config.template_size - th) // 2,
            (self.config.template_size - tw) // 2,
        )
        self.template = square[top : top + th, left : left + tw]

    def update(self, frame: np.ndarray) -> TrackResult:
        if self.template is None:
            raise ValueError("call init(frame, box) before update(frame)")
        from skimage.feature import (
            match_template,
        )  # Lewis's fast NCC (imported here: it loads slowly)

        image = check_frame(frame, self.frame_shape)
        x, y, w, h = self.box
        center = np.array([x + w / 2, y + h / 2])
        size = max(
            int(round(self.config.search_factor * self.config.template_size)),
            self.template.shape[1] + 1,
        )
        fill = tuple(
            int(v) for v in image[::4, ::4].reshape(-1, 3).mean(axis=0)
        )  # cheaper than every crop's
        best = (-np.inf, None, None, 1.0)
        for scale in self.config.scales:
            zoom = self.zoom / scale  # search pixels per frame pixel at this scale
            search = _grey(crop_square(image, center, size / zoom, size, fill))
            response = match_template(search, self.template)
            peak = np.unravel_index(int(np.argmax(response)), response.shape)
            score = float(response[peak]) * (
                1.0 if scale == 1.0 else self.config.scale_penalty
            )
            if score > best[0]:
                offset = (
                    np.array([peak[1], peak[0]])
                    + np.array(self.template.shape[::-1]) / 2
                    - size / 2
                ) / zoom
                best = (score, response, offset, scale)
        score, response, offset, scale = best
        scale = 1.0 + self.config.scale_damping * (scale - 1.0)
        new_center = center + offset
        box = np.array(
            [*(new_center - np.array([w, h]) * scale / 2), w * scale, h * scale]
        )
        self.box = clip_to_frame(box, image.shape, min_size=4.0)
        return TrackResult(box=self.box.copy(), score=score, response=response)
