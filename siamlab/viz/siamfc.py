"""Figures of SiamFC (Bertinetto et al. 2016): label maps, score maps and the steps of
the tracker.

A SiamFC step is easiest to understand as a picture: the exemplar, the search crops at
three scales, their raw 17×17 responses, the upsampled map of the best scale, the cosine
window and the final map whose peak moves the box. These functions draw such pictures
from `siamlab.trackers.siamfc.SiamFCStep`."""

from __future__ import annotations

from typing import Sequence as SequenceType

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from siamlab.trackers.siamfc import SiamFCStep

BOX_COLOR, TRUTH_COLOR = "#ffd000", "#00d0ff"


def _image(ax: Axes, image: np.ndarray, title: str) -> None:
    ax.imshow(image)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("x (pixels)", fontsize=8)
    ax.set_ylabel("y (pixels)", fontsize=8)
    ax.tick_params(labelsize=7)


def _map(ax: Axes, values: np.ndarray, title: str, cmap: str = "viridis") -> None:
    image = ax.imshow(values, cmap=cmap)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("column", fontsize=8)
    ax.set_ylabel("row", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.03).ax.tick_params(
        labelsize=7
    )


def label_map_figure(labels: np.ndarray, radius: float, stride: int) -> Figure:
    """The label map (positives within `radius` pixels of the centre) and the loss
    weight of each cell."""
    labels = np.asarray(labels)
    positives, negatives = labels.sum(), labels.size - labels.sum()
    weights = np.where(labels == 1, 0.5 / positives, 0.5 / negatives)
    fig, (left, right) = plt.subplots(1, 2, figsize=(8.4, 3.6))
    _map(
        left,
        labels,
        f"Labels: {int(positives)} positives within R = {radius:g} px\n"
        f"(= {radius / stride:g} cells at stride {stride})",
        cmap="gray",
    )
    _map(
        right,
        weights,
        f"Loss weights: each class sums to ½\n"
        f"positive {0.5 / positives:.3f}, negative {0.5 / negatives:.4f}",
        cmap="magma",
    )
    fig.suptitle("SiamFC's training target on the score map", fontsize=11)
    fig.tight_layout()
    return fig


def loss_curve_figure(
    losses: SequenceType[float],
    smoothed: SequenceType[float],
    title: str,
    ylabel: str = "balanced logistic loss",
) -> Figure:
    """Training loss per step (faint) and its running mean; `ylabel` names the loss."""
    fig, ax = plt.subplots(figsize=(5.6, 3.2))
    ax.plot(losses, color="0.75", linewidth=0.8, label="per step")
    ax.plot(smoothed, color="C0", linewidth=1.8, label="running mean")
    ax.set(xlabel="training step", ylabel=ylabel, title=title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def responses_figure(
    crops: SequenceType[np.ndarray],
    responses: SequenceType[np.ndarray],
    titles: SequenceType[str],
) -> Figure:
    """Search crops (top) and the score maps the network gives for them (bottom), side
    by side."""
    n = len(crops)
    fig, axes = plt.subplots(2, n, figsize=(3.6 * n, 6.4), squeeze=False)
    for k, (crop, response, title) in enumerate(zip(crops, responses, titles)):
        _image(
            axes[0, k], crop, f"{title}: {crop.shape[0]}×{crop.shape[1]} search image"
        )
        r, c = np.unravel_index(int(np.argmax(response)), response.shape)
        _map(axes[1, k], response, f"score map {response.shape[0]}×{response.shape[1]}")
        axes[1, k].plot(c, r, "r+", markersize=12, mew=2)
    fig.suptitle(
        "One network, any search size: the score map grows with the image", fontsize=11
    )
    fig.tight_layout()
    return fig


def crop_box(
    box: np.ndarray, center: np.ndarray, side: float, out_size: int
) -> np.ndarray:
    """An xywh frame box in the coordinates of the square crop of `side` around
    `center`."""
    scale = out_size / side
    origin = np.asarray(center) - side / 2
    return np.concatenate(
        [(np.asarray(box[:2]) - origin) * scale, np.asarray(box[2:]) * scale]
    )


def draw_rectangle(
    ax: Axes, box: np.ndarray, color: str, label: str | None = None
) -> None:
    ax.add_patch(
        Rectangle(
            box[:2],
            box[2],
            box[3],
            fill=False,
            edgecolor=color,
            linewidth=1.8,
            label=label,
        )
    )


def tracker_step_figure(
    exemplar: np.ndarray,
    step: SiamFCStep,
    previous_center: np.ndarray,
    search_side: float,
) -> Figure:
    """Every stage of one SiamFC step in one figure.

    Top row: the exemplar and the search crop at each scale (chosen one marked). Bottom
    row: the raw response of each scale with its penalised peak, then the upsampled map
    of the chosen scale, the cosine window and the final map with its peak.
    `previous_center` and `search_side` (at scale 1) are the state the step started
    from, used to draw the new box on the chosen crop."""
    n = len(step.scales)
    fig, axes = plt.subplots(
        2, max(n + 1, 4), figsize=(3.1 * max(n + 1, 4), 6.2), squeeze=False
    )
    for ax in axes.ravel():
        ax.set_visible(False)
    _show(axes[0, 0], lambda ax: _image(ax, exemplar, "exemplar z (computed once)"))
    for k in range(n):
        chosen = " ← chosen" if k == step.scale_index else ""
        _show(
            axes[0, k + 1],
            lambda ax, k=k, c=chosen: _image(
                ax, step.crops[k], f"search ×{step.scales[k]:.4f}{c}"
            ),
        )
        _show(
            axes[1, k],
            lambda ax, k=k: _map(
                ax, step.responses[k], f"raw, penalised peak {step.penalised[k]:.2f}"
            ),
        )
    side = search_side * step.scales[step.scale_index]
    box = crop_box(step.box, previous_center, side, step.crops.shape[1])
    draw_rectangle(axes[0, step.scale_index + 1], box, BOX_COLOR, "new box")
    axes[0, step.scale_index + 1].legend(fontsize=7, loc="lower left")
    fig.suptitle(
        "A SiamFC step: exemplar, scale pyramid (one mini-batch) and raw responses",
        fontsize=11,
    )
    fig.tight_layout()
    return fig


def _show(ax: Axes, draw) -> None:
    ax.set_visible(True)
    draw(ax)


def decision_figure(step: SiamFCStep, window_influence: float) -> Figure:
    """The decision part of a step: upsampled response of the chosen scale, the cosine
    window and the blended map with its peak (the new target position)."""
    fig, axes = plt.subplots(1, 3, figsize=(11.5, 3.6))
    chosen = step.upsampled[step.scale_index]
    _map(
        axes[0],
        chosen,
        f"×{chosen.shape[0] // step.responses.shape[-1]} bicubic, "
        f"scale ×{step.scales[step.scale_index]:.4f}",
    )
    _map(axes[1], step.window, "cosine (Hann) window")
    _map(
        axes[2],
        step.final,
        f"{1 - window_influence:.3g} × map + {window_influence:.3g} × window",
    )
    for ax in (axes[0], axes[2]):
        ax.plot(step.peak[1], step.peak[0], "r+", markersize=14, mew=2)
    centre = (chosen.shape[0] - 1) / 2
    axes[2].plot(centre, centre, "wx", markersize=9, mew=2)
    fig.suptitle(
        "Upsample, window, take the peak (red +; white × is the previous position)",
        fontsize=11,
    )
    fig.tight_layout()
    return fig


def step_panels(
    axes: SequenceType[Axes],
    frame: np.ndarray,
    step: SiamFCStep,
    previous_center: np.ndarray,
    search_side: float,
    truth: np.ndarray | None = None,
) -> None:
    """Three panels used by the score-map explorer: the frame with the boxes, the chosen
    search crop with the boxes, and the final map with its peak."""
    _image(axes[0], frame, f"frame, score {step.score:.2f}")
    draw_rectangle(axes[0], step.box, BOX_COLOR, "SiamFC")
    side = search_side * step.scales[step.scale_index]
    _image(
        axes[1],
        step.crops[step.scale_index],
        f"search crop, scale ×{step.scales[step.scale_index]:.4f}",
    )
    draw_rectangle(
        axes[1],
        crop_box(step.box, previous_center, side, step.crops.shape[1]),
        BOX_COLOR,
        "SiamFC",
    )
    if truth is not None and np.all(np.isfinite(truth)):
        draw_rectangle(axes[0], truth, TRUTH_COLOR, "ground truth")
        draw_rectangle(
            axes[1],
            crop_box(truth, previous_center, side, step.crops.shape[1]),
            TRUTH_COLOR,
            "ground truth",
        )
    axes[0].legend(fontsize=7, loc="lower left")
    _map(axes[2], step.final, "final map")
    axes[2].plot(step.peak[1], step.peak[0], "r+", markersize=14, mew=2)
