"""Anchors for region proposals (Faster R-CNN, Ren et al. 2015; SiamRPN, Li et al.
2018).

An anchor is a reference box at each position of the score map, mapped back to
search-crop pixels; a region proposal network says for every anchor whether it covers
the target (objectness) and how to move and stretch it onto the target (`encode` /
`decode`). `assign_targets` labels the anchors of one training pair by their IoU with
the ground truth, which is what the network learns from.

Conventions. Anchors and the boxes compared with them are *cxcywh* `(cx, cy, w, h)`
float arrays (the format the networks predict; convert with `siamlab.boxes`). The order
is *anchor-major*: all `S·S` positions of shape 0 (row by row), then all positions of
shape 1, and so on, so that anchor `a·S·S + row·S + col` is shape `a` at `(row, col)`. A
head's channels follow the reference implementations: channel `c·k + a` holds component
`c` (class or delta coordinate) of shape `a`; `per_anchor` turns that layout into one
row per anchor in the same order as `anchor_grid`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from numpy.typing import ArrayLike

from siamlab import boxes as _boxes

SIAMRPN_RATIOS = (0.33, 0.5, 1.0, 2.0, 3.0)
"""SiamRPN's five aspect ratios `h / w` (Li et al. 2018), at stride 8 and scale 8."""
SIAMRPN_SCALES = (8.0,)
FASTER_RCNN_RATIOS = (0.5, 1.0, 2.0)
"""Faster R-CNN's three ratios and three scales at stride 16: areas about 128², 256²,
512² (Ren et al. 2015); its reference code rounds to whole pixels (`rounding="round"`).
"""
FASTER_RCNN_SCALES = (8.0, 16.0, 32.0)


def _positive_values(values: ArrayLike, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if array.size == 0 or not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise ValueError(
            f"{name} must be a non-empty sequence of positive numbers, "
            f"got {array.tolist()}"
        )
    return array


def _check_stride(stride: int) -> None:
    if (
        isinstance(stride, bool)
        or not isinstance(stride, (int, np.integer))
        or stride < 1
    ):
        raise ValueError(f"stride must be a positive integer, got {stride!r}")


def anchor_shapes(
    stride: int = 8,
    ratios: Sequence[float] = SIAMRPN_RATIOS,
    scales: Sequence[float] = SIAMRPN_SCALES,
    rounding: str = "truncate",
) -> np.ndarray:
    """The `k = len(ratios)·len(scales)` anchor sizes `(w, h)` of one position, shape
    `(k, 2)`.

    A ratio is `h / w`. The base area is `stride²`: `w0 = sqrt(stride² / r)`, `h0 = w0 ·
    r`, both made whole pixels, and the anchor is `(w0 · s, h0 · s)`. Order: ratio-major
    (all scales of ratio 0, then ratio 1, …). `rounding` says how pixels are made whole:

    - `"truncate"`: `int(...)`, as SiamRPN's reference code does. Stride 8, ratios
      (0.33, 0.5, 1, 2, 3) and scale 8 give (104, 32), (88, 40), (64, 64), (40, 80),
      (32, 96).
    - `"round"`: to the nearest integer (halves to even, NumPy's rule), as Faster
      R-CNN's `generate_anchors` does: stride 16, ratio 0.5 and scales 8, 16, 32 give
      184×96, 368×192, 736×384.
    """
    _check_stride(stride)
    ratios = _positive_values(ratios, "ratios")
    scales = _positive_values(scales, "scales")
    base_w, base_h = _whole_pixels(stride, ratios, rounding)
    if np.any(base_h < 1):
        raise ValueError(
            f"ratios {ratios.tolist()} give anchors of zero height at stride {stride}"
        )
    widths = (base_w[:, None] * scales[None, :]).reshape(-1)
    heights = (base_h[:, None] * scales[None, :]).reshape(-1)
    return np.stack([widths, heights], axis=1)


def _whole_pixels(
    stride: int, ratios: np.ndarray, rounding: str
) -> tuple[np.ndarray, np.ndarray]:
    """Base width and height `(k,)` of each ratio in whole pixels (`anchor_shapes`)."""
    width = np.sqrt(stride**2 / ratios)
    if rounding == "truncate":
        base_w = np.floor(width)
        return base_w, np.floor(
            base_w * ratios + 1e-9
        )  # 1e-9: 2.9999… from binary fractions
    if rounding == "round":
        base_w = np.round(width)
        return base_w, np.round(base_w * ratios)
    raise ValueError(f"rounding must be 'truncate' or 'round', got {rounding!r}")


def _checked_grid_args(score_size: int, stride: int, shapes: ArrayLike) -> np.ndarray:
    """`shapes` as a float `(k, 2)` array, after checking all three arguments."""
    if (
        isinstance(score_size, bool)
        or not isinstance(score_size, (int, np.integer))
        or score_size < 1
    ):
        raise ValueError(f"score_size must be a positive integer, got {score_size!r}")
    _check_stride(stride)
    shapes = np.asarray(shapes, dtype=np.float64)
    if shapes.ndim != 2 or shapes.shape[1] != 2 or len(shapes) == 0:
        raise ValueError(
            f"shapes must have shape (k, 2) (w, h) with k >= 1, "
            f"got shape {shapes.shape}"
        )
    if not np.all(np.isfinite(shapes)) or np.any(shapes <= 0):
        raise ValueError(
            f"shapes must hold positive widths and heights, got {shapes.tolist()}"
        )
    return shapes


def anchor_grid(
    score_size: int,
    stride: int,
    shapes: ArrayLike,
    center: Sequence[float] = (0.0, 0.0),
) -> np.ndarray:
    """All anchors of a `score_size × score_size` map as `(cx, cy, w, h)`, shape
    `(k·S·S, 4)`.

    Anchor-major order (all positions of shape 0, then shape 1, …; positions row by
    row), matching the head's channels (see `per_anchor`). Position `(row, col)` is
    centred at `center + ((col − (S−1)/2)·stride, (row − (S−1)/2)·stride)` in
    search-crop pixels: with the default `center=(0, 0)` coordinates are relative to the
    crop centre; pass `center=(search_size / 2, search_size / 2)` for absolute crop
    pixels.
    """
    shapes = _checked_grid_args(score_size, stride, shapes)
    offsets = (np.arange(score_size) - (score_size - 1) / 2) * stride
    cy, cx = np.meshgrid(
        offsets + center[1], offsets + center[0], indexing="ij"
    )  # (S, S)
    k, positions = len(shapes), score_size * score_size
    grid = np.empty((k, positions, 4))
    grid[:, :, 0] = cx.reshape(-1)
    grid[:, :, 1] = cy.reshape(-1)
    grid[:, :, 2:] = shapes[:, None, :]
    return grid.reshape(k * positions, 4)


def indices_at(row: int, col: int, score_size: int, num_shapes: int) -> np.ndarray:
    """Indices in an anchor-major grid of the `num_shapes` anchors at `(row, col)`."""
    if not (0 <= row < score_size and 0 <= col < score_size):
        raise ValueError(
            f"row and col must lie in [0, {score_size}), got row={row}, col={col}"
        )
    return np.arange(num_shapes) * score_size * score_size + row * score_size + col


def _check_head_output(output: torch.Tensor, components: int) -> None:
    if output.ndim != 4 or output.shape[2] != output.shape[3]:
        raise ValueError(
            f"output must have shape (N, C, S, S), got {tuple(output.shape)}"
        )
    channels = output.shape[1]
    if components < 1 or channels % components:
        raise ValueError(
            f"output's {channels} channels are not a multiple of "
            f"components={components}"
        )


def per_anchor(output: torch.Tensor, components: int) -> torch.Tensor:
    """Reshape a head's output `(N, components·k, S, S)` to one row per anchor `(N,
    k·S·S, components)`.

    Channel `c·k + a` is read as component `c` of anchor shape `a` (the layout of the
    SiamRPN and pysot heads: the first `k` channels are component 0 of every shape).
    Rows come out in `anchor_grid`'s anchor-major order. Use `components=2` for the
    objectness branch (background, target logits) and `components=4` for the regression
    branch `(dx, dy, dw, dh)`.
    """
    _check_head_output(output, components)
    n, channels, size, _ = output.shape
    k = channels // components
    return output.reshape(n, components, k * size * size).transpose(1, 2)


def iou_matrix(boxes: ArrayLike, anchors: ArrayLike) -> np.ndarray:
    """IoU of every cxcywh box `(N, 4)` with every cxcywh anchor `(M, 4)`: `(N, M)`."""
    return _boxes.iou_matrix(
        _boxes.cxcywh_to_xywh(boxes), _boxes.cxcywh_to_xywh(anchors)
    )


def encode(boxes: ArrayLike, anchors: ArrayLike) -> np.ndarray:
    """Regression targets of cxcywh `boxes` against cxcywh `anchors` (broadcast), shape
    `(..., 4)`.

    `(dx, dy, dw, dh) = ((cx − acx) / aw, (cy − acy) / ah, log(w / aw), log(h / ah))`:
    offsets in units of the anchor's size and log size ratios, so one scale of numbers
    fits anchors of every size (Ren et al. 2015, eq. 2). Sizes must be positive.
    """
    b = _boxes.as_boxes(boxes, "boxes", positive=True)
    a = _boxes.as_boxes(anchors, "anchors", positive=True)
    offsets = (b[..., :2] - a[..., :2]) / a[..., 2:]
    log_sizes = np.log(b[..., 2:] / a[..., 2:])
    return np.concatenate([offsets, log_sizes], axis=-1)


def decode(deltas: ArrayLike, anchors: ArrayLike) -> np.ndarray:
    """The inverse of `encode`: cxcywh boxes from `deltas (..., 4)` and cxcywh `anchors`
    (broadcast)."""
    d = np.asarray(deltas, dtype=np.float64)
    if d.ndim == 0 or d.shape[-1] != 4 or not np.all(np.isfinite(d)):
        raise ValueError(
            f"deltas must be finite with shape (..., 4), got shape {d.shape}"
        )
    a = _boxes.as_boxes(anchors, "anchors", positive=True)
    centres = a[..., :2] + d[..., :2] * a[..., 2:]
    sizes = a[..., 2:] * np.exp(d[..., 2:])
    return np.concatenate([centres, sizes], axis=-1)


@dataclass
class AnchorTargets:
    """What training pairs teach the RPN, one entry per anchor (anchor-major order).

    For one ground-truth box (`gt_box (4,)`) the arrays have a leading axis of `A`
    anchors; for a batch (`gt_box (B, 4)`) they are `(B, A, …)`. `labels` int64: 1
    target, 0 background, −1 ignored (between the thresholds, or not sampled); `deltas`
    float32 `(…, 4)`: `encode(gt_box, anchors)`; `weights` float32: `1 / #positives` on
    the positive anchors of a pair, 0 elsewhere (the regression loss's per-anchor
    weight); `iou` float64: each anchor's IoU with `gt_box`.
    """

    labels: np.ndarray
    deltas: np.ndarray
    weights: np.ndarray
    iou: np.ndarray


def _as_rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if (
        rng is None
    ):  # follow NumPy's global generator, which `siamlab.seed_everything` seeds
        return np.random.default_rng(np.random.randint(2**31))
    return np.random.default_rng(rng)


def _sample(
    mask: np.ndarray, counts: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Keep a uniformly random subset of at most `counts[b]` True entries in each row
    of `mask (B, A)`."""
    keys = np.where(mask, rng.random(mask.shape), np.inf)  # unmasked entries sort last
    cut = np.take_along_axis(
        np.sort(keys, axis=1), np.maximum(counts, 1)[:, None] - 1, axis=1
    )
    return mask & (keys <= cut) & (counts[:, None] > 0)


def _checked_assignment_args(
    anchors: ArrayLike,
    gt_box: ArrayLike,
    positive: float,
    negative: float,
    num_positive: int,
    num_total: int,
    negative_pair: bool | ArrayLike,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Checked `anchors (A, 4)`, `gt_box (4,)` or `(B, 4)`, a flag a box."""
    a = _boxes.as_boxes(anchors, "anchors", positive=True)
    gt = _boxes.as_boxes(gt_box, "gt_box", positive=True)
    if a.ndim != 2 or gt.ndim not in (1, 2):
        raise ValueError(
            f"anchors must be (A, 4) and gt_box (4,) or (B, 4), "
            f"got {a.shape} and {gt.shape}"
        )
    if not 0 <= negative <= positive <= 1:
        raise ValueError(
            "need 0 <= negative <= positive <= 1, "
            f"got negative={negative}, positive={positive}"
        )
    if not 0 <= num_positive <= num_total:
        raise ValueError(
            f"need 0 <= num_positive <= num_total, got {num_positive} and {num_total}"
        )
    boxes = 1 if gt.ndim == 1 else len(gt)
    flags = np.asarray(negative_pair, dtype=bool)
    if flags.ndim > 1 or flags.size not in (1, boxes):
        raise ValueError(
            f"negative_pair must be one flag or one per box ({boxes}), "
            f"got shape {flags.shape}"
        )
    return a, gt, np.broadcast_to(flags.reshape(-1), (boxes,))


def assign_targets(
    anchors: ArrayLike,
    gt_box: ArrayLike,
    positive: float = 0.6,
    negative: float = 0.3,
    num_positive: int = 16,
    num_total: int = 64,
    rng: np.random.Generator | int | None = None,
    negative_pair: bool | ArrayLike = False,
    negative_radius: float = 24.0,
) -> AnchorTargets:
    """Label the cxcywh `anchors (A, 4)` of a search crop against the cxcywh `gt_box
    (4,)` or `(B, 4)`.

    IoU > `positive` → 1, IoU < `negative` → 0, in between → −1 (ignored). Then at most
    `num_positive` positives are sampled at random and negatives fill the rest up to
    `num_total`; unsampled anchors become −1. For a negative pair (exemplar and search
    show different objects) nothing is positive: `gt_box` is the object the search crop
    is centred on, and only anchors whose centres lie within `negative_radius` pixels of
    its centre on both axes (3 positions at stride 8) are candidates, sampled up to
    `num_total − num_positive` negatives. `negative_pair` is one flag or one per box.
    `rng`: a Generator, a seed, or None to draw from NumPy's global generator.
    Vectorised: a batch of boxes costs one IoU matrix and two sorts.
    """
    a, gt, negative_pair = _checked_assignment_args(
        anchors, gt_box, positive, negative, num_positive, num_total, negative_pair
    )
    batch = gt.reshape(-1, 4)
    generator = _as_rng(rng)
    overlap = iou_matrix(batch, a)  # (B, A)
    above = (overlap > positive) & ~negative_pair[:, None]
    positives = _sample(above, np.full(len(batch), num_positive), generator)
    found = positives.sum(axis=1)
    near = np.all(
        np.abs(a[None, :, :2] - batch[:, None, :2]) <= negative_radius, axis=2
    )
    candidates = np.where(negative_pair[:, None], near, overlap < negative)
    room = np.where(negative_pair, num_total - num_positive, num_total - found)
    negatives = _sample(candidates, room, generator)
    labels = np.where(positives, 1, np.where(negatives, 0, -1)).astype(np.int64)
    weights = (positives / np.maximum(found, 1)[:, None]).astype(np.float32)
    deltas = encode(batch[:, None, :], a[None]).astype(np.float32)
    if gt.ndim == 1:
        return AnchorTargets(labels[0], deltas[0], weights[0], overlap[0])
    return AnchorTargets(labels, deltas, weights, overlap)
