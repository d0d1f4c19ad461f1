"""The Siamese crop: a square around the target with context, resized to the network's
input.

SiamFC (Bertinetto et al. 2016) crops the exemplar as a square of side `s =
sqrt((w+p)(h+p))` with a context margin `p = context·(w+h)` (context 0.5), so that the
crop's area is roughly constant whatever the target's aspect ratio; the search region is
the same square scaled by `search_size / exemplar_size`. Where the square leaves the
frame it is filled with the frame's mean colour, which the network learns to ignore.
Several scales of the search region form one batch (the *scale pyramid*), so the tracker
runs the network once per frame.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from numpy.typing import ArrayLike
from PIL import Image

from siamlab.boxes import as_boxes


def as_frame(frame: ArrayLike, name: str = "frame") -> np.ndarray:
    """Check a video frame and return it as a contiguous `uint8` RGB array `(H, W, 3)`.

    Grayscale frames (`(H, W)` or `(H, W, 1)`) are repeated to three channels and RGBA
    frames lose their alpha channel, so readers can pass any image that scikit-image
    loads. Anything else (float images, other channel counts, empty frames) raises
    `ValueError` naming `name`.
    """
    array = np.asarray(frame)
    if array.dtype != np.uint8:
        raise ValueError(
            f"{name} must be a uint8 image (values 0-255), got dtype {array.dtype}"
        )
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4):
        raise ValueError(
            f"{name} must have shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), "
            f"got {array.shape}"
        )
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    if array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    elif array.shape[2] == 4:
        array = array[:, :, :3]
    return np.ascontiguousarray(array)


def _check_context_args(w: float, h: float, context: float) -> None:
    if not (np.isfinite(w) and np.isfinite(h)) or w <= 0 or h <= 0:
        raise ValueError(f"w and h must be positive and finite, got w={w}, h={h}")
    if not np.isfinite(context) or context < 0:
        raise ValueError(f"context must be a non-negative number, got {context}")


def context_size(w: float, h: float, context: float = 0.5) -> float:
    """Side `s` of the exemplar square: `s² = (w + pad)(h + pad)`, `pad = context·(w +
    h)`.

    With SiamFC's `context = 0.5` the box gets a margin `p = (w + h) / 4` on each side
    (`pad = 2p`), and `s` is the side of the square with the padded box's area.
    """
    _check_context_args(w, h, context)
    pad = context * (w + h)
    return float(np.sqrt((w + pad) * (h + pad)))


def mean_color(frame: np.ndarray) -> tuple[int, int, int]:
    """The frame's mean RGB colour, used to fill crop regions outside the frame.

    The pixels are summed as integers, down the rows first: the same mean as
    `frame.reshape(-1, 3).mean(axis=0)` (the sums of 8-bit values are exact either
    way), several times faster on a video frame.
    """
    height, width = frame.shape[:2]
    dtype = np.int64 if np.issubdtype(frame.dtype, np.integer) else np.float64
    columns = frame.reshape(height, -1).sum(axis=0, dtype=dtype)
    total = columns.reshape(width, -1).sum(axis=0)
    return tuple(int(round(v)) for v in total / (height * width))  # type: ignore[return-value]


def _check_crop(
    center: Sequence[float], side: float, out_size: int
) -> tuple[float, float]:
    """Check a crop's arguments; return its centre as floats."""
    if not isinstance(out_size, (int, np.integer)) or out_size < 1:
        raise ValueError(f"out_size must be a positive integer, got {out_size!r}")
    if not np.isfinite(side) or side <= 0:
        raise ValueError(f"side must be positive and finite, got {side}")
    cx, cy = (float(v) for v in center)
    if not (np.isfinite(cx) and np.isfinite(cy)):
        raise ValueError(f"center must be finite, got {tuple(center)}")
    return cx, cy


def crop_square(
    frame: ArrayLike,
    center: Sequence[float],
    side: float,
    out_size: int,
    fill: Sequence[int] | None = None,
) -> np.ndarray:
    """Crop the square of side `side` centred on `center = (cx, cy)` and resize it to
    `out_size`.

    Sub-pixel exact (bilinear sampling in continuous pixel coordinates); regions outside
    the frame are filled with `fill` (default: the frame's mean colour). A square larger
    than the whole frame is allowed: the frame then sits inside a padded border. Returns
    `uint8 (out, out, 3)`.
    """
    image = as_frame(frame)
    cx, cy = _check_crop(center, side, out_size)
    fill = mean_color(image) if fill is None else tuple(int(v) for v in fill)
    return _resample(Image.fromarray(image), (cx, cy), side, int(out_size), fill)


def _resample(
    image: Image.Image,
    center: tuple[float, float],
    side: float,
    out_size: int,
    fill: tuple[int, ...],
) -> np.ndarray:
    """`crop_square` on a PIL image, arguments already checked."""
    half = side / 2
    cx, cy = center
    extent = (cx - half, cy - half, cx + half, cy + half)
    out = image.transform(
        (out_size, out_size),
        Image.Transform.EXTENT,
        extent,
        resample=Image.Resampling.BILINEAR,
        fillcolor=fill,
    )
    return np.asarray(out)


def _check_box_overlaps_frame(box: np.ndarray, frame: np.ndarray, name: str) -> None:
    x, y, w, h = box
    height, width = frame.shape[:2]
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        raise ValueError(
            f"{name} {box.tolist()} lies entirely outside the frame "
            f"of size {width}x{height}"
        )


def exemplar_crop(
    frame: ArrayLike, box: ArrayLike, exemplar_size: int = 127, context: float = 0.5
) -> tuple[np.ndarray, float]:
    """The exemplar `z`: the context square around xywh `box`, resized to
    `exemplar_size`.

    Returns the `uint8 (exemplar_size, exemplar_size, 3)` crop and the scale factor
    `exemplar_size / s` from frame pixels to crop pixels. A box larger than the frame is
    fine (the crop is padded); a box entirely outside the frame raises `ValueError`.
    """
    image = as_frame(frame)
    b = as_boxes(box, "box", positive=True).reshape(4)
    _check_box_overlaps_frame(b, image, "box")
    side = context_size(b[2], b[3], context)
    center = (b[0] + b[2] / 2, b[1] + b[3] / 2)
    return crop_square(image, center, side, exemplar_size), exemplar_size / side


def search_side(
    box: ArrayLike, exemplar_size: int, search_size: int, context: float = 0.5
) -> float:
    """Side in frame pixels of the search square: the exemplar square times
    `search_size / exemplar_size`."""
    b = as_boxes(box, "box", positive=True).reshape(4)
    if exemplar_size < 1 or search_size < exemplar_size:
        raise ValueError(
            "need 1 <= exemplar_size <= search_size, "
            f"got exemplar_size={exemplar_size}, "
            f"search_size={search_size}"
        )
    return context_size(b[2], b[3], context) * search_size / exemplar_size


def scale_pyramid(
    frame: ArrayLike,
    center: Sequence[float],
    side: float,
    out_size: int,
    scales: Sequence[float],
) -> np.ndarray:
    """Search crops of sides `side·scale` for each scale, all resized to `out_size`, as
    one batch.

    Returns `uint8 (len(scales), out_size, out_size, 3)`; the tracker feeds them to the
    network as a single mini-batch. The fill colour and the frame's PIL image are made
    once for all scales.
    """
    image = as_frame(frame)
    scales = np.asarray(scales, dtype=np.float64).reshape(-1)
    if scales.size == 0 or np.any(~np.isfinite(scales)) or np.any(scales <= 0):
        raise ValueError(
            "scales must be a non-empty sequence of positive numbers, "
            f"got {scales.tolist()}"
        )
    cx, cy = _check_crop(center, side, out_size)
    fill = mean_color(image)
    pil = Image.fromarray(image)
    return np.stack(
        [_resample(pil, (cx, cy), side * s, int(out_size), fill) for s in scales]
    )


def to_tensor(
    crops: ArrayLike, device: torch.device | str | None = None
) -> torch.Tensor:
    """`uint8` crops `(H, W, 3)` or `(N, H, W, 3)` → `float32 (N, 3, H, W)`, 0-255."""
    array = np.asarray(crops)
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or array.shape[-1] != 3:
        raise ValueError(
            f"crops must have shape (H, W, 3) or (N, H, W, 3), got {array.shape}"
        )
    if not array.flags.writeable or not array.flags.c_contiguous:
        array = np.array(array)  # torch.from_numpy needs a writeable, contiguous array
    tensor = torch.from_numpy(array).permute(0, 3, 1, 2).float()
    return tensor.to(device) if device is not None else tensor
