"""Schematics: what flows where, with shapes, one drawing per chapter (matplotlib).

A schematic is a few labelled boxes joined by arrows, drawn on an axis whose units are
inches, so that every diagram of the book has the same look: inputs in blue, learned
parts in orange, fixed computations in grey and outputs in green. The shapes written in
the boxes are passed in by the chapter (computed from the model it builds).
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

COLORS = {
    "input": "#d6e6f5",
    "learned": "#fbd9b0",
    "fixed": "#e4e4e4",
    "output": "#cfe8cf",
}


def _canvas(width: float, height: float, title: str) -> tuple[Figure, Axes]:
    """A blank figure whose data units are inches, so text and boxes keep their size."""
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_axis_off()
    ax.set_title(title, fontsize=11)
    return fig, ax


def _node(ax: Axes, x: float, y: float, text: str, kind: str, w: float = 1.5) -> None:
    """A rounded box of width `w` centred at `(x, y)` holding `text` (multi-line)."""
    lines = text.count("\n") + 1
    h = 0.22 + 0.2 * lines
    patch = FancyBboxPatch(
        (x - w / 2, y - h / 2),
        w,
        h,
        boxstyle="round,pad=0.03,rounding_size=0.08",
        facecolor=COLORS[kind],
        edgecolor="#555555",
        linewidth=0.8,
    )
    ax.add_patch(patch)
    ax.text(x, y, text, ha="center", va="center", fontsize=8.5)


def _arrow(
    ax: Axes, start: tuple, end: tuple, text: str = "", dy: float = 0.13
) -> None:
    """An arrow from `start` to `end` with an optional label above its middle."""
    ax.add_patch(
        FancyArrowPatch(
            start, end, arrowstyle="-|>", mutation_scale=11, color="#333333"
        )
    )
    if text:
        mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
        ax.text(
            mx, my + dy, text, ha="center", va="bottom", fontsize=7.5, color="#333333"
        )


def _legend(ax: Axes, x: float, y: float) -> None:
    """The colour key shared by every schematic."""
    names = {
        "input": "input",
        "learned": "learned",
        "fixed": "fixed",
        "output": "output",
    }
    for i, (kind, name) in enumerate(names.items()):
        ax.add_patch(Rectangle((x + 1.05 * i, y), 0.18, 0.14, facecolor=COLORS[kind]))
        ax.text(x + 1.05 * i + 0.25, y + 0.07, name, va="center", fontsize=7.5)


def tracking_loop() -> Figure:
    """Chapter 0: the one-pass protocol, from the first box to the benchmark."""
    fig, ax = _canvas(9.0, 2.6, "The tracking loop and its evaluation")
    _node(ax, 0.9, 1.75, "frame 0\n+ true box", "input", w=1.3)
    _node(ax, 3.0, 1.75, "tracker.init", "learned", w=1.4)
    _node(ax, 0.9, 0.75, "frame t\n(t = 1, 2, …)", "input", w=1.3)
    _node(ax, 3.0, 0.75, "tracker.update", "learned", w=1.4)
    _node(ax, 5.2, 0.75, "box, score,\nresponse", "output", w=1.4)
    _node(ax, 7.6, 0.75, "IoU, centre error\nvs ground truth", "fixed", w=1.8)
    _node(ax, 7.6, 1.85, "success AUC,\nprecision@20", "output", w=1.8)
    _arrow(ax, (1.55, 1.75), (2.3, 1.75))
    _arrow(ax, (1.55, 0.75), (2.3, 0.75))
    _arrow(ax, (3.0, 1.45), (3.0, 1.07))
    ax.text(3.1, 1.26, "state", va="center", fontsize=7.5)
    _arrow(ax, (3.7, 0.75), (4.5, 0.75))
    _arrow(ax, (5.9, 0.75), (6.7, 0.75))
    _arrow(ax, (7.6, 1.07), (7.6, 1.5))
    ax.text(7.7, 1.28, "over all frames", va="center", fontsize=7.5)
    ax.annotate(
        "",
        xy=(3.3, 0.42),
        xytext=(5.2, 0.42),
        arrowprops=dict(
            arrowstyle="-|>", color="#333333", connectionstyle="arc3,rad=-0.3"
        ),
    )
    ax.text(
        4.25, 0.05, "next frame: search around the new box", ha="center", fontsize=7.5
    )
    _legend(ax, 4.3, 2.3)
    return fig


def siamese_network(input_shape: Sequence[int], embedding_dim: int) -> Figure:
    """Chapter 1: two inputs, one embedding φ (shared weights), a distance, a loss."""
    shape = "×".join(str(s) for s in input_shape)
    fig, ax = _canvas(9.0, 2.7, "A Siamese network: one embedding applied twice")
    for y, name in ((2.0, "x₁"), (0.7, "x₂")):
        _node(ax, 0.8, y, f"{name}\n{shape}", "input", w=1.1)
        _node(ax, 3.0, y, "φ (EmbeddingNet)", "learned", w=1.7)
        _node(ax, 5.1, y, f"φ({name})\n{embedding_dim} numbers", "output", w=1.4)
        _arrow(ax, (1.35, y), (2.15, y))
        _arrow(ax, (3.85, y), (4.4, y))
    ax.text(
        3.0, 1.35, "same weights", ha="center", va="center", fontsize=8, style="italic"
    )
    ax.plot([3.0, 3.0], [1.5, 1.72], color="#888888", lw=1, ls="--")
    ax.plot([3.0, 3.0], [0.98, 1.2], color="#888888", lw=1, ls="--")
    _node(ax, 7.0, 1.35, "distance D\nd = D(φ(x₁), φ(x₂))", "fixed", w=1.8)
    _arrow(ax, (5.8, 2.0), (6.1, 1.5))
    _arrow(ax, (5.8, 0.7), (6.1, 1.2))
    _node(ax, 8.45, 1.35, "loss\nL(d, y)", "fixed", w=0.9)
    _arrow(ax, (7.9, 1.35), (8.0, 1.35))
    ax.text(8.45, 0.78, "y: same (1)\nor not (0)", ha="center", va="top", fontsize=7.5)
    _legend(ax, 0.3, 0.05)
    return fig


def siamfc_pipeline(
    exemplar_shape: Sequence[int],
    search_shape: Sequence[int],
    exemplar_features: Sequence[int],
    search_features: Sequence[int],
    score_size: int,
    upsample: int,
) -> Figure:
    """Chapter 2: SiamFC from crops to the new box; shapes are `(C, H, W)`."""

    def fmt(shape: Sequence[int]) -> str:
        return "×".join(str(s) for s in shape)

    up = score_size * upsample
    fig, ax = _canvas(9.6, 2.9, "SiamFC: one forward pass scores every position")
    _node(ax, 0.8, 2.15, f"exemplar z\n{fmt(exemplar_shape)}", "input", w=1.3)
    _node(ax, 0.8, 0.75, f"search x\n{fmt(search_shape)}", "input", w=1.3)
    for y in (2.15, 0.75):
        _node(ax, 2.55, y, "φ: AlexNet\nstride 8", "learned", w=1.3)
        _arrow(ax, (1.45, y), (1.9, y))
    _node(ax, 4.25, 2.15, f"φ(z)\n{fmt(exemplar_features)}", "output", w=1.3)
    _node(ax, 4.25, 0.75, f"φ(x)\n{fmt(search_features)}", "output", w=1.3)
    _arrow(ax, (3.2, 2.15), (3.6, 2.15))
    _arrow(ax, (3.2, 0.75), (3.6, 0.75))
    ax.text(2.55, 1.45, "same weights", ha="center", fontsize=8, style="italic")
    _node(ax, 5.75, 1.45, "φ(z) ⋆ φ(x) + b\ncross-correlation", "fixed", w=1.5)
    _arrow(ax, (4.9, 2.0), (5.3, 1.7))
    _arrow(ax, (4.9, 0.9), (5.3, 1.2))
    _node(ax, 7.2, 1.45, f"score map\n{score_size}×{score_size}", "output", w=1.1)
    _arrow(ax, (6.5, 1.45), (6.65, 1.45))
    _node(
        ax,
        8.75,
        1.45,
        f"×{upsample} bicubic\n{up}×{up}\n+ cosine window\n→ peak",
        "fixed",
    )
    _arrow(ax, (7.75, 1.45), (8.0, 1.45))
    ax.text(
        8.75,
        0.55,
        "peak → new centre;\nbest scale → new size",
        ha="center",
        fontsize=7.5,
    )
    _legend(ax, 5.3, 2.55)
    return fig


def rpn_head(
    feature_shape: Sequence[int], mid_channels: int, num_anchors: int
) -> Figure:
    """Chapter 3: Faster R-CNN's RPN head, a 3×3 conv and two sibling 1×1 convs.

    `feature_shape` is the `(C, H, W)` of the feature map the head slides over.
    """
    c, h, w = feature_shape
    k, s = num_anchors, f"{h}×{w}"
    fig, ax = _canvas(9.0, 2.7, "The region proposal head")
    _node(ax, 0.9, 1.35, f"features\n{c}×{s}", "input", w=1.3)
    _node(ax, 3.0, 1.35, f"3×3 conv, {mid_channels}\n+ ReLU", "learned", w=1.5)
    _arrow(ax, (1.55, 1.35), (2.25, 1.35))
    _node(ax, 5.1, 2.05, f"1×1 conv, {2 * k}", "learned", w=1.4)
    _node(ax, 5.1, 0.65, f"1×1 conv, {4 * k}", "learned", w=1.4)
    _arrow(ax, (3.75, 1.5), (4.4, 2.0))
    _arrow(ax, (3.75, 1.2), (4.4, 0.7))
    _node(
        ax,
        7.6,
        2.05,
        f"cls {2 * k}×{s}\nobject / background\nper anchor",
        "output",
        1.9,
    )
    _node(
        ax,
        7.6,
        0.65,
        f"reg {4 * k}×{s}\n(dx, dy, dw, dh)\nper anchor",
        "output",
        1.9,
    )
    _arrow(ax, (5.8, 2.05), (6.65, 2.05))
    _arrow(ax, (5.8, 0.65), (6.65, 0.65))
    ax.text(
        3.0,
        0.55,
        f"k = {k} anchors\nat each of the\n{s} positions",
        ha="center",
        fontsize=7.5,
    )
    _legend(ax, 0.3, 2.45)
    return fig


def context_figure(
    frame: np.ndarray, box: Sequence[float], exemplar_size: int, search_size: int
) -> Figure:
    """SiamFC's crop rule on one frame: box, context margin, exemplar and search square.

    `box` is xywh. With `p = (w + h) / 4`, the exemplar square has the area of the
    padded box, `s² = (w + 2p)(h + 2p)`, and is resized to `exemplar_size`; the search
    square is the same square times `search_size / exemplar_size`.
    """
    x, y, w, h = (float(v) for v in box)
    p = (w + h) / 4
    s = float(np.sqrt((w + 2 * p) * (h + 2 * p)))
    side = s * search_size / exemplar_size
    cx, cy = x + w / 2, y + h / 2
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    ax.imshow(frame)
    shapes = [
        ((x, y), w, h, "#00d000", "-", f"target w×h = {w:.0f}×{h:.0f}"),
        (
            (x - p, y - p),
            w + 2 * p,
            h + 2 * p,
            "#ffd000",
            "--",
            f"padded by p = {p:.1f}",
        ),
        (
            (cx - s / 2, cy - s / 2),
            s,
            s,
            "#ff4040",
            "-",
            f"exemplar square s = {s:.1f}",
        ),
        (
            (cx - side / 2, cy - side / 2),
            side,
            side,
            "#40a0ff",
            "-",
            f"search square {side:.1f}",
        ),
    ]
    for corner, width, height, color, style, label in shapes:
        ax.add_patch(
            Rectangle(
                corner,
                width,
                height,
                fill=False,
                ec=color,
                ls=style,
                lw=1.8,
                label=label,
            )
        )
    ax.legend(loc="lower left", fontsize=7.5, framealpha=0.85)
    ax.set(
        title="SiamFC's context rule: p = (w + h) / 4, s² = (w + 2p)(h + 2p)",
        xlabel="x (pixels)",
        ylabel="y (pixels)",
    )
    ax.title.set_fontsize(10)
    return fig
