"""Figures of tracking and of its scores: frames with boxes, OTB success / precision
plots (Wu et al. 2015), per-attribute bars, and short animations that play in a static
HTML page.

Every function returns the figure (or animation) it draws; the ground truth is always
drawn in green and each tracker in a fixed colour of its own, so figures across the book
read alike.
"""

from __future__ import annotations

import re
from typing import Any, Mapping
from typing import Sequence as SequenceType

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from siamlab.datasets.sequence import Sequence
from siamlab.evaluation import (
    NORM_PRECISION_THRESHOLDS,
    PRECISION_THRESHOLDS,
    SUCCESS_THRESHOLDS,
)

GROUND_TRUTH_COLOR = "#2ca02c"
_PALETTE = [
    "#d62728",
    "#1f77b4",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
]


def tracker_color(name: str, names: SequenceType[str] = ()) -> str:
    """A stable colour for tracker `name` (its position in `names`, else a hash of the
    name)."""
    index = list(names).index(name) if name in names else sum(map(ord, name))
    return _PALETTE[index % len(_PALETTE)]


def draw_box(
    ax: Axes,
    box: np.ndarray,
    color: str,
    label: str | None = None,
    dashed: bool = False,
) -> None:
    """Draw one xywh box on `ax` (nothing if the box is NaN)."""
    box = np.asarray(box, dtype=float)
    if not np.all(np.isfinite(box)):
        return
    ax.add_patch(
        Rectangle(
            box[:2],
            box[2],
            box[3],
            fill=False,
            edgecolor=color,
            linewidth=1.6,
            linestyle="--" if dashed else "-",
            label=label,
        )
    )


def _show_frame(
    ax: Axes,
    sequence: Sequence,
    index: int,
    predictions: Mapping[str, np.ndarray],
    title: str | None,
) -> None:
    ax.imshow(sequence.frame(index))
    if not sequence.absent[index]:
        draw_box(ax, sequence.boxes[index], GROUND_TRUTH_COLOR, "ground truth")
    for name, boxes in predictions.items():
        draw_box(
            ax,
            np.asarray(boxes)[index],
            tracker_color(name, list(predictions)),
            name,
            dashed=True,
        )
    ax.set_title(title if title is not None else f"frame {index}", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def frame_grid(
    sequence: Sequence,
    indices: SequenceType[int] | None = None,
    predictions: Mapping[str, np.ndarray] | None = None,
    ncols: int = 4,
    title: str | None = None,
) -> Figure:
    """Frames `indices` of `sequence` (default: 8 evenly spaced) with the ground truth
    (green, solid) and each tracker's `(N, 4)` boxes in `predictions` (dashed)."""
    predictions = dict(predictions or {})
    if indices is None:
        indices = np.linspace(0, len(sequence) - 1, 8).round().astype(int).tolist()
    nrows = -(-len(indices) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(2.6 * ncols, 2.3 * nrows + 0.5), squeeze=False
    )
    for ax in axes.flat:
        ax.axis("off")
    for ax, index in zip(axes.flat, indices):
        ax.axis("on")
        _show_frame(ax, sequence, int(index), predictions, None)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(
            handles,
            labels,
            loc="lower center",
            ncol=len(labels),
            fontsize=8,
            frameon=False,
        )
    fig.suptitle(
        title
        or f"{sequence.name} ({', '.join(sequence.attributes) or 'no attributes'})"
    )
    fig.tight_layout(rect=(0, 0.05 if handles else 0, 1, 1))
    return fig


def gallery(
    sequences: SequenceType[Sequence],
    indices: SequenceType[int] | None = None,
    titles: SequenceType[str] | None = None,
    ncols: int = 3,
    title: str = "SynthTrack",
) -> Figure:
    """One frame (default: the middle one) of each sequence with its ground truth; panel
    titles default to the sequence's attributes."""
    if indices is None:
        indices = [len(s) // 2 for s in sequences]
    if titles is None:
        titles = [f"{s.name[-3:]}: {', '.join(s.attributes)}" for s in sequences]
    nrows = -(-len(sequences) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(2.8 * ncols, 2.3 * nrows + 0.4), squeeze=False
    )
    for ax in axes.flat:
        ax.axis("off")
    for ax, sequence, index, label in zip(axes.flat, sequences, indices, titles):
        ax.axis("on")
        _show_frame(ax, sequence, int(index), {}, label)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def compare_frame(
    sequence: Sequence,
    index: int,
    predictions: Mapping[str, np.ndarray],
    ax: Axes | None = None,
) -> Figure:
    """Frame `index` with the ground truth and each tracker's box; the title gives each
    box's IoU."""
    from siamlab.evaluation import frame_errors

    if ax is None:
        _, ax = plt.subplots(figsize=(4.6, 3.8))
    parts = []
    for name, boxes in predictions.items():
        if sequence.absent[index]:
            parts.append(f"{name}: target absent")
        else:
            overlap = frame_errors(
                np.asarray(boxes)[index : index + 1], sequence.boxes[index : index + 1]
            )[0][0]
            parts.append(f"{name} IoU {overlap:.2f}")
    _show_frame(
        ax,
        sequence,
        index,
        predictions,
        f"{sequence.name}, frame {index}\n" + ", ".join(parts),
    )
    ax.legend(fontsize=7, loc="upper right")
    ax.figure.tight_layout()
    return ax.figure


def _curve_plot(
    table: Mapping[str, Mapping[str, Any]],
    key: str,
    thresholds: np.ndarray,
    score_key: str,
    ax: Axes | None,
    xlabel: str,
    title: str,
) -> Figure:
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.6, 3.6))
    fig = ax.figure
    names = list(table)
    for name in sorted(names, key=lambda n: -table[n][score_key]):
        ax.plot(
            thresholds,
            table[name][key],
            color=tracker_color(name, names),
            linewidth=2,
            label=f"{name} [{table[name][score_key]:.3f}]",
        )
    ax.set_xlabel(xlabel)
    ax.set_ylabel("fraction of frames")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(thresholds[0], thresholds[-1])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title)
    return fig


def success_plot(
    table: Mapping[str, Mapping[str, Any]],
    ax: Axes | None = None,
    title: str = "Success plot",
) -> Figure:
    """OTB success plot of `run_benchmark`'s table: fraction of frames with IoU above
    each threshold; the legend gives each tracker's AUC."""
    return _curve_plot(
        table,
        "success_curve",
        SUCCESS_THRESHOLDS,
        "success_auc",
        ax,
        "overlap threshold (IoU)",
        title,
    )


def precision_plot(
    table: Mapping[str, Mapping[str, Any]],
    ax: Axes | None = None,
    title: str = "Precision plot",
) -> Figure:
    """OTB precision plot: fraction of frames whose centre error is within each
    threshold (pixels); the legend gives precision at 20 pixels."""
    return _curve_plot(
        table,
        "precision_curve",
        PRECISION_THRESHOLDS,
        "precision_20",
        ax,
        "centre error threshold (pixels)",
        title,
    )


def norm_precision_plot(
    table: Mapping[str, Mapping[str, Any]],
    ax: Axes | None = None,
    title: str = "Normalised precision plot",
) -> Figure:
    """LaSOT's normalised precision: centre error as a fraction of the box size."""
    return _curve_plot(
        table,
        "norm_precision_curve",
        NORM_PRECISION_THRESHOLDS,
        "norm_precision",
        ax,
        "normalised centre error threshold",
        title,
    )


def attribute_bars(
    table: Mapping[str, Mapping[str, Any]],
    metric: str = "success_auc",
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Grouped bars of `metric` per attribute (the number of sequences under each tag),
    one bar per tracker."""
    names = list(table)
    attributes = list(next(iter(table.values()))["attributes"])
    if ax is None:
        fig, ax = plt.subplots(figsize=(max(5.0, 0.8 * len(attributes) + 1.5), 3.4))
    fig = ax.figure
    width = 0.8 / max(len(names), 1)
    positions = np.arange(len(attributes))
    for k, name in enumerate(names):
        values = [table[name]["attributes"][a][metric] for a in attributes]
        ax.bar(
            positions + (k - (len(names) - 1) / 2) * width,
            values,
            width,
            label=name,
            color=tracker_color(name, names),
        )
    counts = [
        next(iter(table.values()))["attributes"][a]["num_sequences"] for a in attributes
    ]
    ax.set_xticks(
        positions, [f"{a}\n({n})" for a, n in zip(attributes, counts)], fontsize=8
    )
    ax.set_xlabel("attribute (number of sequences)")
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_title(title or f"{metric.replace('_', ' ')} per attribute")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def overlap_figure(
    gt: np.ndarray, pred: np.ndarray, title: str | None = None
) -> Figure:
    """Two boxes, their intersection shaded and their centres joined: what IoU and
    centre error measure."""
    from siamlab.boxes import center_error, iou

    gt, pred = np.asarray(gt, float), np.asarray(pred, float)
    fig, ax = plt.subplots(figsize=(3.6, 3.0))
    draw_box(ax, gt, GROUND_TRUTH_COLOR, "ground truth")
    draw_box(ax, pred, _PALETTE[0], "prediction", dashed=True)
    x0, y0 = np.maximum(gt[:2], pred[:2])
    x1, y1 = np.minimum(gt[:2] + gt[2:], pred[:2] + pred[2:])
    if x1 > x0 and y1 > y0:
        ax.add_patch(
            Rectangle(
                (x0, y0),
                x1 - x0,
                y1 - y0,
                color="gold",
                alpha=0.5,
                label="intersection",
            )
        )
    centers = np.stack([gt[:2] + gt[2:] / 2, pred[:2] + pred[2:] / 2])
    ax.plot(centers[:, 0], centers[:, 1], "k.-", label="centre error")
    low = np.minimum(gt[:2], pred[:2]) - 5
    high = np.maximum(gt[:2] + gt[2:], pred[:2] + pred[2:]) + 5
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(high[1], low[1])
    ax.set_aspect("equal")
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(
        title
        or f"IoU {float(iou(gt, pred)):.2f}, "
        f"centre error {float(center_error(gt, pred)):.1f} px",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def animate_sequence(
    sequence: Sequence,
    predictions: Mapping[str, np.ndarray] | None = None,
    start: int = 0,
    stop: int | None = None,
    max_frames: int = 30,
    width: float = 3.4,
    interval: int = 100,
) -> FuncAnimation:
    """An animation of frames `start:stop` of `sequence` (at most `max_frames`, evenly
    subsampled) with the ground truth and each tracker's boxes. Show it in a notebook
    with `animation_html`."""
    predictions = dict(predictions or {})
    stop = len(sequence) if stop is None else min(stop, len(sequence))
    if not 0 <= start < stop:
        raise ValueError(
            f"need 0 <= start < stop <= {len(sequence)}, got start={start}, stop={stop}"
        )
    indices = np.unique(
        np.linspace(start, stop - 1, min(max_frames, stop - start)).round().astype(int)
    )
    height, frame_width = sequence.frame(start).shape[:2]
    fig, ax = plt.subplots(figsize=(width, width * height / frame_width + 0.35))

    def draw(k: int) -> list:
        ax.clear()
        _show_frame(
            ax,
            sequence,
            int(indices[k]),
            predictions,
            f"{sequence.name}, frame {indices[k]}",
        )
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6, loc="upper right")
        return []

    fig.tight_layout()
    animation = FuncAnimation(
        fig, draw, frames=len(indices), interval=interval, blit=False
    )
    plt.close(
        fig
    )  # the animation owns the figure; do not show it again as a still image
    return animation


# matplotlib's player links Font Awesome from a CDN for its button icons; the book makes
# no outside request, so the buttons get plain characters instead.
_PLAYER_ICONS = {
    "fa fa-play fa-flip-horizontal": "&#9664;",
    "fa fa-fast-backward": "|&#9664;&#9664;",
    "fa fa-step-backward": "|&#9664;",
    "fa fa-pause": "&#10074;&#10074;",
    "fa fa-play": "&#9654;",
    "fa fa-step-forward": "&#9654;|",
    "fa fa-fast-forward": "&#9654;&#9654;|",
    "fa fa-minus": "&minus;",
    "fa fa-plus": "+",
}


def offline_player(html: str) -> str:
    """matplotlib's `to_jshtml` player without its Font Awesome stylesheet (a CDN link):
    each icon becomes a character, so the page requests nothing outside itself."""
    html = re.sub(r"<link[^>]*font-awesome[^>]*>", "", html)
    for icon, text in _PLAYER_ICONS.items():
        html = html.replace(f'<i class="{icon}"></i>', text)
    return html


def animation_html(animation: FuncAnimation) -> Any:
    """The animation as an HTML player with JPEG frames (much lighter than PNG), for
    notebooks and the static HTML book; it requests nothing outside the page."""
    from IPython.display import HTML

    with matplotlib.rc_context({"animation.frame_format": "jpeg", "savefig.dpi": 80}):
        return HTML(offline_player(animation.to_jshtml()))
