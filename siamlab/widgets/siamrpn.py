"""Figures and an explorer of one SiamRPN tracking step (Li et al. 2018).

`up_channel_schematic` draws the head with its shapes; `plot_score_maps` the `k`
objectness maps of one step, one per anchor shape; `plot_proposals` the best proposals
on the search crop before and after re-ranking. `SiamRPNExplorer` re-ranks one step's
proposals for other values of `penalty_k` and `window_influence` and shows the chosen
anchor shape's maps: live in JupyterLab, and over precomputed states in the HTML book.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from siamlab.models.siamrpn import SiamRPNConfig
from siamlab.trackers.siamrpn import SiamRPNStep, SiamRPNTracker
from siamlab.viz.schematics import _arrow, _canvas, _legend, _node
from siamlab.widgets.static import ExplorerBox, explorer, fixed_layout


def up_channel_schematic(config: SiamRPNConfig, in_channels: int = 256) -> Figure:
    """SiamRPN's up-channel head with the shapes of `config` (features of
    `in_channels` from the backbone): the template lifted into kernels, the search
    features adapted, two correlations and the 1×1 adjustment."""
    k, c = config.num_anchors, config.channels
    fig, ax = _canvas(10.0, 3.4, "SiamRPN's up-channel head")
    z, x = 6, 22  # feature sides for the paper's 127 / 255 crops
    kz, sx, s = z - 2, x - 2, config.score_size
    _node(ax, 0.9, 2.45, f"φ(z)\n{in_channels}×{z}×{z}", "input", w=1.3)
    _node(ax, 0.9, 0.75, f"φ(x)\n{in_channels}×{x}×{x}", "input", w=1.3)
    _node(ax, 3.1, 2.85, f"3×3 conv\n→ {2 * k}·{c}", "learned", w=1.5)
    _node(ax, 3.1, 2.0, f"3×3 conv\n→ {4 * k}·{c}", "learned", w=1.5)
    _node(ax, 3.1, 1.1, f"3×3 conv → {c}", "learned", w=1.5)
    _node(ax, 3.1, 0.4, f"3×3 conv → {c}", "learned", w=1.5)
    for y in (2.85, 2.0):
        _arrow(ax, (1.55, 2.45), (2.35, y))
    for y in (1.1, 0.4):
        _arrow(ax, (1.55, 0.75), (2.35, y))
    _node(ax, 5.4, 2.85, f"{2 * k} kernels\n{c}×{kz}×{kz}", "output", w=1.6)
    _node(ax, 5.4, 2.0, f"{4 * k} kernels\n{c}×{kz}×{kz}", "output", w=1.6)
    _arrow(ax, (3.85, 2.85), (4.6, 2.85))
    _arrow(ax, (3.85, 2.0), (4.6, 2.0))
    _node(ax, 7.2, 1.75, f"⋆ cls\n({c}×{sx}×{sx})", "fixed", w=1.2)
    _node(ax, 7.2, 0.75, f"⋆ reg\n({c}×{sx}×{sx})", "fixed", w=1.2)
    _arrow(ax, (6.2, 2.85), (7.0, 2.05))
    _arrow(ax, (6.2, 2.0), (7.0, 1.05))
    _arrow(ax, (3.85, 1.1), (6.6, 1.65))
    _arrow(ax, (3.85, 0.4), (6.6, 0.65))
    _node(ax, 9.05, 1.75, f"cls {2 * k}×{s}×{s}", "output", w=1.6)
    _node(ax, 9.05, 0.75, f"1×1 conv\nreg {4 * k}×{s}×{s}", "learned", w=1.6)
    _arrow(ax, (7.8, 1.75), (8.25, 1.75))
    _arrow(ax, (7.8, 0.75), (8.25, 0.75))
    ax.text(6.3, 3.3, "computed once, on the first frame", ha="center", fontsize=8)
    _legend(ax, 0.2, 3.25)
    return fig


def plot_score_maps(
    step: SiamRPNStep, ratios: tuple[float, ...], values: np.ndarray | None = None
) -> Figure:
    """The `k` maps `(S, S)` of one step (default: the softmax objectness), one per
    anchor shape `h/w = ratios[a]`, on one colour scale; the chosen anchor is ringed."""
    maps = step.maps(values)
    k = len(maps)
    fig = Figure(figsize=(2.1 * k, 2.5))
    axes = fig.subplots(1, k)
    chosen, position = divmod(step.best, step.score_size**2)
    row, col = divmod(position, step.score_size)
    for a, ax in enumerate(np.atleast_1d(axes)):
        image = ax.imshow(maps[a], cmap="viridis", vmin=0, vmax=maps.max())
        ax.set_title(f"anchor h/w = {ratios[a]:g}", fontsize=9)
        ax.set(xticks=[], yticks=[])
        if a == chosen:
            ax.plot(col, row, "o", ms=12, mfc="none", mec="red", mew=2)
    fig.colorbar(image, ax=axes, fraction=0.02, pad=0.02)
    return fig


def _draw_boxes(ax: Axes, boxes: np.ndarray, offset: float, **style: Any) -> None:
    """Draw cxcywh boxes relative to the crop centre (`offset` = half the crop)."""
    for cx, cy, w, h in np.atleast_2d(boxes):
        corner = (cx - w / 2 + offset, cy - h / 2 + offset)
        ax.add_patch(Rectangle(corner, w, h, fill=False, **style))


def draw_proposals(
    ax: Axes, step: SiamRPNStep, scores: np.ndarray, title: str, top: int = 5
) -> None:
    """The crop with the `top` proposals by `scores` (thin) and the chosen one."""
    ax.imshow(step.crop)
    half = step.crop.shape[0] / 2
    order = np.argsort(-scores)[:top]
    _draw_boxes(ax, step.proposals[order], half, edgecolor="yellow", linewidth=1)
    best = step.proposals[int(np.argmax(scores))]
    _draw_boxes(ax, best, half, edgecolor="red", linewidth=2.5)
    ax.set_title(title, fontsize=9)
    ax.set(xticks=[], yticks=[])


def plot_proposals(step: SiamRPNStep, top: int = 5) -> Figure:
    """The `top` proposals on the search crop by raw objectness (left) and after the
    penalty and the window (right); the best of each in red."""
    fig = Figure(figsize=(8.4, 4.3))
    left, right = fig.subplots(1, 2)
    draw_proposals(left, step, step.scores, f"top {top} by objectness", top)
    draw_proposals(right, step, step.pscore, "after penalty and window", top)
    fig.tight_layout()
    return fig


class SiamRPNExplorer:
    """One tracking step re-ranked with other `penalty_k` and `window_influence`.

    The network runs once (`tracker.search` on `frame` from the tracker's state); each
    redraw only re-ranks. `update(shape, penalty_k, window_influence)` draws the
    chosen shape's objectness map, its penalised and windowed map, and the crop with
    the box the step would choose.
    """

    def __init__(self, tracker: SiamRPNTracker, frame: np.ndarray) -> None:
        self.tracker = tracker
        self.searched = tracker.search(frame, tracker.center, tracker.target_size)
        self.frame = frame
        p = tracker.params
        self.values = {
            "shape": 0,
            "penalty_k": p.penalty_k,
            "window_influence": p.window_influence,
        }
        self.figure = Figure(figsize=(10.5, 3.6))
        self._layout: dict[str, float] | None = None

    def step(self, penalty_k: float, window_influence: float) -> SiamRPNStep:
        """The step with these two settings (the network is not run again)."""
        params = replace(
            self.tracker.params, penalty_k=penalty_k, window_influence=window_influence
        )
        return self.tracker.step(self.frame, params, self.searched)

    def update(self, **values: Any) -> Figure:
        """Redraw for a new `shape` (anchor index), `penalty_k`, `window_influence`."""
        unknown = set(values) - set(self.values)
        if unknown:
            raise ValueError(f"unknown values {sorted(unknown)}")
        v = self.values = {**self.values, **values}
        k = self.tracker.config.num_anchors
        if not 0 <= v["shape"] < k:
            raise ValueError(f"shape must lie in [0, {k}), got {v['shape']}")
        step = self.step(v["penalty_k"], v["window_influence"])
        self.figure.clear()
        axes = self.figure.subplots(1, 3)
        ratio = self.tracker.config.ratios[v["shape"]]
        for ax, values_, name in (
            (axes[0], step.scores, "objectness"),
            (axes[1], step.pscore, "penalised + window"),
        ):
            ax.imshow(step.maps(values_)[v["shape"]], cmap="viridis", vmin=0, vmax=1)
            ax.set_title(f"{name}, anchor h/w = {ratio:g}", fontsize=9)
            ax.set(xticks=[], yticks=[])
        title = f"chosen: anchor h/w = {self._chosen_ratio(step):g}"
        draw_proposals(axes[2], step, step.pscore, title)
        self._layout = fixed_layout(self.figure, self._layout)
        return self.figure

    def _chosen_ratio(self, step: SiamRPNStep) -> float:
        return self.tracker.config.ratios[step.best // step.score_size**2]

    def static_states(self) -> dict[str, list]:
        """The states the HTML book precomputes (5 shapes × 3 × 3 = 45 drawings)."""
        return {
            "shape": list(range(self.tracker.config.num_anchors)),
            "penalty_k": [0.0, self.values["penalty_k"], 0.5],
            "window_influence": [0.0, self.values["window_influence"], 0.8],
        }

    def widget(self) -> ExplorerBox:
        """Sliders for the anchor shape, `penalty_k` and `window_influence`."""
        import ipywidgets as widgets

        v, k = self.values, self.tracker.config.num_anchors
        controls = {
            "shape": widgets.IntSlider(v["shape"], 0, k - 1, description="anchor"),
            "penalty_k": widgets.FloatSlider(
                v["penalty_k"], min=0.0, max=0.5, step=0.005, description="penalty_k"
            ),
            "window_influence": widgets.FloatSlider(
                v["window_influence"], min=0.0, max=0.8, step=0.01, description="window"
            ),
        }
        return explorer(lambda **s: self.update(**s), controls, self.static_states())
