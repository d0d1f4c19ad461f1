"""Figures of region-proposal anchors (Faster R-CNN, Ren et al. 2015; SiamRPN, Li et al.
2018).

Anchor shapes side by side, the anchor grid drawn on a search crop, the IoU labels of
one training pair, regression targets, the smooth-L1 curve and non-maximum suppression.
Boxes are cxcywh in crop pixels (continuous coordinates: pixel `i` covers `[i, i+1)`),
as `siamlab.anchors` makes them."""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from siamlab.anchors import AnchorTargets

POSITIVE, NEGATIVE, IGNORED = "#2ca02c", "#d62728", "#bbbbbb"
LABEL_COLORS = ListedColormap(
    [IGNORED, NEGATIVE, POSITIVE]
)  # labels −1, 0, 1 → indices 0, 1, 2
ON_IMAGE = {
    1: "#39ff14",
    0: "#ff2a2a",
    -1: "#f0f0f0",
}  # brighter label colours for boxes on photographs
TARGET = "deepskyblue"  # the ground-truth box


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize)
    return fig, ax


def draw_box(ax: Axes, box: Sequence[float], color: str, **kwargs) -> Rectangle:
    """Draw one cxcywh box as an unfilled rectangle on `ax`."""
    cx, cy, w, h = box
    patch = Rectangle(
        (cx - w / 2, cy - h / 2), w, h, fill=False, edgecolor=color, **kwargs
    )
    ax.add_patch(patch)
    return patch


def show_crop(ax: Axes, crop: np.ndarray, title: str) -> None:
    """Show a `uint8 (H, W, 3)` crop in continuous pixel coordinates, with labelled
    axes."""
    height, width = crop.shape[:2]
    ax.imshow(crop, extent=(0, width, height, 0))
    ax.set(xlim=(0, width), ylim=(height, 0), title=title)
    ax.set(xlabel="x (crop pixels)", ylabel="y (crop pixels)")


def plot_anchor_shapes(shape_sets: dict[str, np.ndarray]) -> Figure:
    """The anchors of one position for each named set of `(k, 2)` shapes, centred on the
    origin."""
    fig, axes = plt.subplots(
        1, len(shape_sets), figsize=(4.2 * len(shape_sets), 4.2), squeeze=False
    )
    for ax, (name, shapes) in zip(axes[0], shape_sets.items()):
        colors = plt.cm.tab10(np.arange(len(shapes)) % 10)
        for (w, h), color in zip(shapes, colors):
            draw_box(ax, (0, 0, w, h), color, linewidth=1.8, label=f"{w:.0f}×{h:.0f}")
        half = 0.72 * shapes.max()
        ax.set(xlim=(-half, half), ylim=(half, -half), aspect="equal")
        ax.set(
            xlabel="x (pixels from the position)", ylabel="y (pixels from the position)"
        )
        ax.set_title(f"{name}: {len(shapes)} anchors per position")
        ax.legend(
            fontsize=7, loc="upper right", ncol=1 + len(shapes) // 6, framealpha=0.95
        )
    fig.tight_layout()
    return fig


def plot_anchor_grid(
    crop: np.ndarray,
    anchors: np.ndarray,
    score_size: int,
    positions: Sequence[tuple[int, int]] = ((8, 8),),
    ax: Axes | None = None,
) -> Figure:
    """The anchor centres (one dot per score-map position) on `crop`, with all `k`
    anchors of `positions`.

    `anchors` is an anchor-major grid `(k·S·S, 4)` in absolute crop pixels.
    """
    fig, ax = _axes(ax, (5.5, 5.5))
    k = len(anchors) // (score_size * score_size)
    show_crop(
        ax,
        crop,
        f"{score_size}×{score_size} positions × {k} shapes = {len(anchors)} anchors",
    )
    centres = anchors[: score_size * score_size, :2]
    ax.plot(
        centres[:, 0],
        centres[:, 1],
        ".",
        color="white",
        markersize=4,
        markeredgecolor="black",
        mew=0.3,
    )
    colors = plt.cm.tab10(np.arange(k) % 10)
    for row, col in positions:
        chosen = anchors[
            np.arange(k) * score_size * score_size + row * score_size + col
        ]
        for box, color in zip(chosen, colors):
            draw_box(ax, box, color, linewidth=1.6)
        ax.plot(
            *chosen[0, :2], "o", color="yellow", markersize=6, markeredgecolor="black"
        )
    return fig


def plot_label_maps(
    targets: AnchorTargets,
    shapes: np.ndarray,
    score_size: int,
    positive: float,
    negative: float,
) -> Figure:
    """One `S×S` map per anchor shape: the threshold labels (colours) and the sampled
    anchors (dots)."""
    k = len(shapes)
    fig, axes = plt.subplots(1, k, figsize=(2.5 * k, 3.1), squeeze=False)
    threshold_labels = np.where(
        targets.iou > positive, 1, np.where(targets.iou < negative, 0, -1)
    )
    maps = threshold_labels.reshape(k, score_size, score_size)
    sampled = (targets.labels != -1).reshape(k, score_size, score_size)
    for a, ax in enumerate(axes[0]):
        ax.imshow(maps[a] + 1, cmap=LABEL_COLORS, vmin=0, vmax=2)
        rows, cols = np.nonzero(sampled[a])
        ax.plot(cols, rows, "k.", markersize=4)
        ax.set(
            title=f"shape {a}: {shapes[a, 0]:.0f}×{shapes[a, 1]:.0f}", xlabel="column"
        )
        ax.set(xticks=range(0, score_size, 4), yticks=range(0, score_size, 4))
    axes[0, 0].set_ylabel("row")
    legend = _label_legend(positive, negative, sampled=True)
    fig.legend(handles=legend, loc="lower center", ncol=4, fontsize=8)
    fig.suptitle("Anchor labels per shape on the score map (anchor-major order)")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def _label_legend(positive: float, negative: float, sampled: bool = False) -> list:
    handles = [
        Patch(color=POSITIVE, label=f"IoU > {positive:g}"),
        Patch(color=NEGATIVE, label=f"IoU < {negative:g}"),
        Patch(color=IGNORED, label="in between (ignored)"),
    ]
    if sampled:
        handles.append(
            Line2D([], [], color="k", marker=".", linestyle="", label="sampled")
        )
    return handles


def plot_assignment(
    crop: np.ndarray,
    anchors: np.ndarray,
    targets: AnchorTargets,
    gt_box: Sequence[float],
    ax: Axes | None = None,
) -> Figure:
    """The sampled anchors of one training pair on `crop`: positives as boxes, negatives
    as centre dots."""
    fig, ax = _axes(ax, (5.5, 5.5))
    positives, negatives = anchors[targets.labels == 1], anchors[targets.labels == 0]
    show_crop(
        ax,
        crop,
        f"sampled: {len(positives)} positive, {len(negatives)} negative anchors",
    )
    for box in positives:
        draw_box(ax, box, ON_IMAGE[1], linewidth=1.2)
    ax.plot(
        negatives[:, 0],
        negatives[:, 1],
        "o",
        color=ON_IMAGE[0],
        markersize=5,
        markeredgecolor="black",
    )
    draw_box(ax, gt_box, TARGET, linewidth=2.5, linestyle="--")
    handles = [
        Patch(edgecolor=ON_IMAGE[1], fill=False, label="positive anchor"),
        Line2D(
            [],
            [],
            color=ON_IMAGE[0],
            marker="o",
            mec="black",
            ls="",
            label="negative anchor (centre)",
        ),
        Line2D([], [], color=TARGET, linestyle="--", label="ground truth"),
    ]
    ax.legend(
        handles=handles,
        loc="lower right",
        fontsize=8,
        facecolor="0.5",
        labelcolor="white",
    )
    return fig


def plot_regression(
    crop: np.ndarray,
    anchor: Sequence[float],
    gt_box: Sequence[float],
    decoded: Sequence[float],
    ax: Axes | None = None,
) -> Figure:
    """An anchor, the ground truth, and the box decoded from the regression target, on
    `crop`."""
    fig, ax = _axes(ax, (5.0, 5.0))
    show_crop(ax, crop, "Regression: move and stretch the anchor onto the target")
    draw_box(ax, anchor, "yellow", linewidth=2, linestyle="--", label="anchor")
    draw_box(ax, gt_box, TARGET, linewidth=5, label="ground truth")
    draw_box(ax, decoded, "magenta", linewidth=1.5, label="decode(encode(gt), anchor)")
    arrow = {"arrowstyle": "->", "color": "yellow", "lw": 2}
    ax.annotate("", xy=tuple(gt_box[:2]), xytext=tuple(anchor[:2]), arrowprops=arrow)
    both = np.array([anchor, gt_box], dtype=float)
    low = (both[:, :2] - both[:, 2:] / 2).min(axis=0) - 30  # zoom on the two boxes
    high = (both[:, :2] + both[:, 2:] / 2).max(axis=0) + 30
    ax.set(xlim=(low[0], high[0]), ylim=(high[1], low[1]))
    ax.legend(loc="lower right", fontsize=8, facecolor="0.5", labelcolor="white")
    return fig


def plot_smooth_l1(beta: float = 1.0, limit: float = 3.0) -> Figure:
    """Smooth L1 next to L1 and L2 (`½x²`): the losses and their gradients over
    `[−limit, limit]`."""
    x = np.linspace(-limit, limit, 601)
    smooth = np.where(np.abs(x) < beta, 0.5 * x**2 / beta, np.abs(x) - 0.5 * beta)
    curves = {"L2 = ½x²": (0.5 * x**2, x), "L1 = |x|": (np.abs(x), np.sign(x))}
    curves[f"smooth L1 (β = {beta:g})"] = (smooth, np.clip(x / beta, -1, 1))
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
    for name, (value, gradient) in curves.items():
        left.plot(x, value, label=name, linewidth=2)
        right.plot(x, gradient, label=name, linewidth=2)
    left.set(
        xlabel="error x = predicted − target",
        ylabel="loss",
        title="Losses",
        ylim=(0, limit),
    )
    right.set(
        xlabel="error x = predicted − target", ylabel="d loss / dx", title="Gradients"
    )
    left.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_nms(
    crop: np.ndarray,
    boxes: np.ndarray,
    scores: np.ndarray,
    kept: np.ndarray,
    iou_threshold: float,
) -> Figure:
    """Proposals before and after non-maximum suppression, coloured by score, on
    `crop`."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 5))
    norm = plt.Normalize(scores.min(), scores.max())
    panels = [
        (np.arange(len(boxes)), f"{len(boxes)} proposals"),
        (kept, f"NMS at IoU {iou_threshold:g}: {len(kept)} kept"),
    ]
    for ax, (chosen, title) in zip(axes, panels):
        show_crop(ax, crop, title)
        for i in chosen:
            draw_box(ax, boxes[i], plt.cm.viridis(norm(scores[i])), linewidth=1.2)
    mappable = plt.cm.ScalarMappable(norm=norm, cmap="viridis")
    fig.colorbar(mappable, ax=axes, label="objectness score", shrink=0.8)
    return fig


def plot_positives_by_ratio(
    ratios: np.ndarray, positives: dict[str, np.ndarray], threshold: float
) -> Figure:
    """The number of positive anchors of each target against its aspect ratio, one
    colour per anchor set.

    `ratios (T,)` are the targets' `h / w`; `positives[name] (T,)` the positive count of
    each target."""
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    order = np.argsort(ratios)
    for name, counts in positives.items():
        ax.plot(ratios[order], counts[order], ".", alpha=0.35, markersize=4)
        ax.lines[-1].set_label(
            f"{name}: {np.mean(counts > 0):.0%} of targets have a positive"
        )
    ax.set_xscale("log")
    ticks = [
        t
        for t in (1 / 4, 1 / 3, 1 / 2, 1, 2, 3, 4)
        if 0.9 * ratios.min() <= t <= 1.1 * ratios.max()
    ]
    names = {1 / 4: "1/4", 1 / 3: "1/3", 1 / 2: "1/2"}
    ax.set_xticks(ticks, [names.get(t, f"{t:g}") for t in ticks])
    ax.minorticks_off()
    ax.set(
        xlabel="target aspect ratio h / w (log scale)",
        ylabel=f"anchors with IoU > {threshold:g}",
    )
    ax.set_title("Positive anchors per target, by aspect ratio")
    ax.legend(fontsize=8, markerscale=3)
    fig.tight_layout()
    return fig
