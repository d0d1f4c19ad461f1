"""Bounding boxes: formats, overlap and distance.

Inside the library a box is `(x, y, w, h)`: 0-based float pixel coordinates of the
top-left corner, then width and height (the *xywh* format). Two other formats appear in
the trackers: *cxcywh* `(cx, cy, w, h)`, centred, as the networks predict, and *corners*
`(x1, y1, x2, y2)` with `x2 = x + w`. Coordinates are continuous: a box covering pixel
columns 0..9 has `x=0, w=10`.

Every function takes arrays of shape `(..., 4)` and broadcasts over the leading axes.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def as_boxes(
    boxes: ArrayLike, name: str = "boxes", *, positive: bool = False
) -> np.ndarray:
    """Check `boxes` and return them as a float64 array of shape `(..., 4)`.

    Raises `ValueError`, naming `name`, when the last axis is not 4, a value is not
    finite, or a width or height is negative (or not strictly positive, with
    `positive=True`).
    """
    try:
        array = np.asarray(boxes, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{name} must be numeric with shape (..., 4), got {boxes!r}"
        ) from error
    if array.ndim == 0 or array.shape[-1] != 4:
        raise ValueError(
            f"{name} must have shape (..., 4) (x, y, w, h), got shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(
            f"{name} must be finite, got NaN or infinity in {array.tolist()}"
        )
    sizes = array[..., 2:]
    if positive and np.any(sizes <= 0):
        raise ValueError(
            f"{name} must have positive width and height, got {array.tolist()}"
        )
    if np.any(sizes < 0):
        raise ValueError(
            f"{name} must have non-negative width and height, got {array.tolist()}"
        )
    return array


def _finite(result: np.ndarray, boxes: np.ndarray, what: str) -> np.ndarray:
    """`result`, or `ValueError` when converting `boxes` to `what` overflowed
    float64."""
    if not np.all(np.isfinite(result)):
        raise ValueError(
            f"boxes are too large: their {what} overflow float64, got {boxes.tolist()}"
        )
    return result


def xywh_to_cxcywh(boxes: ArrayLike) -> np.ndarray:
    """`(x, y, w, h)` → `(cx, cy, w, h)`."""
    b = as_boxes(boxes)
    with np.errstate(over="ignore"):  # overflow is reported by _finite
        out = np.concatenate([b[..., :2] + b[..., 2:] / 2, b[..., 2:]], axis=-1)
    return _finite(out, b, "centres")


def cxcywh_to_xywh(boxes: ArrayLike) -> np.ndarray:
    """`(cx, cy, w, h)` → `(x, y, w, h)`."""
    b = as_boxes(boxes)
    with np.errstate(over="ignore"):  # overflow is reported by _finite
        out = np.concatenate([b[..., :2] - b[..., 2:] / 2, b[..., 2:]], axis=-1)
    return _finite(out, b, "corners")


def xywh_to_corners(boxes: ArrayLike) -> np.ndarray:
    """`(x, y, w, h)` → `(x1, y1, x2, y2)` with `x2 = x + w`, `y2 = y + h`."""
    b = as_boxes(boxes)
    with np.errstate(over="ignore"):  # overflow is reported by _finite
        out = np.concatenate([b[..., :2], b[..., :2] + b[..., 2:]], axis=-1)
    return _finite(out, b, "corners")


def corners_to_xywh(corners: ArrayLike) -> np.ndarray:
    """`(x1, y1, x2, y2)` → `(x, y, w, h)`; raises `ValueError` if `x2 < x1` or
    `y2 < y1`."""
    c = np.asarray(corners, dtype=np.float64)
    if c.ndim == 0 or c.shape[-1] != 4:
        raise ValueError(
            f"corners must have shape (..., 4) (x1, y1, x2, y2), got shape {c.shape}"
        )
    with np.errstate(over="ignore"):  # an overflow is reported by as_boxes
        xywh = np.concatenate([c[..., :2], c[..., 2:] - c[..., :2]], axis=-1)
    return as_boxes(xywh, "corners")


def cxcywh_to_corners(boxes: ArrayLike) -> np.ndarray:
    """`(cx, cy, w, h)` → `(x1, y1, x2, y2)`."""
    return xywh_to_corners(cxcywh_to_xywh(boxes))


def corners_to_cxcywh(corners: ArrayLike) -> np.ndarray:
    """`(x1, y1, x2, y2)` → `(cx, cy, w, h)`."""
    return xywh_to_cxcywh(corners_to_xywh(corners))


def _intersection_and_union(
    a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Broadcast intersection and union areas of xywh boxes `a` and `b`."""
    ca, cb = xywh_to_corners(a), xywh_to_corners(b)
    width = np.clip(
        np.minimum(ca[..., 2], cb[..., 2]) - np.maximum(ca[..., 0], cb[..., 0]), 0, None
    )
    height = np.clip(
        np.minimum(ca[..., 3], cb[..., 3]) - np.maximum(ca[..., 1], cb[..., 1]), 0, None
    )
    intersection = width * height
    union = a[..., 2] * a[..., 3] + b[..., 2] * b[..., 3] - intersection
    return intersection, union


#: Beyond this magnitude (or below its inverse) a pair of boxes is rescaled before its
#: areas are computed.
_HUGE = 1e100


def _rescaled(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`a` and `b` divided, pair by pair, by their largest value when it exceeds `_HUGE`
    or is below `1 / _HUGE`.

    IoU does not change when both boxes are scaled alike, and the rescaled corners and
    areas cannot overflow (1e200-pixel boxes would otherwise give inf / inf = NaN) nor
    underflow (the area of a 1e-300-pixel box is 0 in float64).
    """
    scale = np.maximum(np.abs(a).max(axis=-1), np.abs(b).max(axis=-1))
    extreme = (scale > _HUGE) | ((scale > 0) & (scale < 1 / _HUGE))
    scale = np.where(extreme, scale, 1.0)[..., None]
    return a / scale, b / scale


def iou(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """Element-wise intersection over union of xywh boxes, broadcasting `(..., 4)`
    against `(..., 4)`.

    Returns values in [0, 1] with the broadcast leading shape; a pair whose union is
    empty (two zero-size boxes) has IoU 0. Any finite boxes work, even ones whose
    corners or areas overflow float64: such pairs are rescaled first (IoU is
    scale-invariant).
    """
    a, b = _rescaled(*np.broadcast_arrays(as_boxes(a, "a"), as_boxes(b, "b")))
    intersection, union = _intersection_and_union(a, b)
    safe = np.where(union > 0, union, 1.0)
    # rounding can put the intersection of identical boxes a hair above their area: clip
    # to [0, 1]
    return np.clip(np.where(union > 0, intersection / safe, 0.0), 0.0, 1.0)


def iou_matrix(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """IoU of every box in `a` (shape `(N, 4)`) with every box in `b` (`(M, 4)`): shape
    `(N, M)`."""
    a, b = as_boxes(a, "a"), as_boxes(b, "b")
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(
            f"a and b must have shape (N, 4) and (M, 4), got {a.shape} and {b.shape}"
        )
    return iou(a[:, None, :], b[None, :, :])


def center_error(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """Euclidean distance in pixels between the centres of xywh boxes `a` and `b`
    (broadcast)."""
    ca, cb = xywh_to_cxcywh(as_boxes(a, "a")), xywh_to_cxcywh(as_boxes(b, "b"))
    return np.hypot(ca[..., 0] - cb[..., 0], ca[..., 1] - cb[..., 1])


def clip_to_frame(
    boxes: ArrayLike, frame_shape: tuple[int, ...], min_size: float = 1.0
) -> np.ndarray:
    """Clip xywh boxes to a frame of shape `(H, W[, C])`.

    The centre is kept inside the frame and the size is capped at the frame's size and
    floored at `min_size`, so a tracker's box can never run away from the image or
    collapse to nothing. This is the rule trackers use; it is not an intersection with
    the frame.
    """
    b = as_boxes(boxes)
    if len(frame_shape) < 2 or not all(
        np.isfinite(side) and side >= 1 for side in frame_shape[:2]
    ):
        raise ValueError(
            f"frame_shape must be (H, W[, C]) with H, W >= 1, got {frame_shape}"
        )
    if not (np.isfinite(min_size) and min_size >= 0):
        raise ValueError(f"min_size must be a non-negative number, got {min_size}")
    height, width = float(frame_shape[0]), float(frame_shape[1])
    c = xywh_to_cxcywh(b)
    c[..., 0] = np.clip(c[..., 0], 0, width)
    c[..., 1] = np.clip(c[..., 1], 0, height)
    c[..., 2] = np.clip(c[..., 2], min(min_size, width), width)
    c[..., 3] = np.clip(c[..., 3], min(min_size, height), height)
    return cxcywh_to_xywh(c)


def nms(boxes: ArrayLike, scores: ArrayLike, iou_threshold: float) -> np.ndarray:
    """Non-maximum suppression of xywh `boxes (N, 4)` with `scores (N,)`.

    Greedy, as in Faster R-CNN: take the highest-scoring box left, drop every remaining
    box whose IoU with it exceeds `iou_threshold`, repeat. Returns the indices of the
    kept boxes, `int64 (K,)`, in decreasing score order (ties: lower index first). Each
    step is one vectorised IoU row, so the loop runs once per kept box.
    """
    b = as_boxes(boxes, "boxes")
    s = np.asarray(scores, dtype=np.float64)
    if b.ndim != 2 or s.shape != (len(b),):
        raise ValueError(
            f"boxes must be (N, 4) and scores (N,), got {b.shape} and {s.shape}"
        )
    if not np.all(np.isfinite(s)):
        raise ValueError("scores must be finite")
    if not 0 <= iou_threshold <= 1:
        raise ValueError(f"iou_threshold must lie in [0, 1], got {iou_threshold}")
    order = np.argsort(-s, kind="stable")
    keep = []
    while order.size:
        best, order = order[0], order[1:]
        keep.append(best)
        order = order[iou(b[best], b[order]) <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)
