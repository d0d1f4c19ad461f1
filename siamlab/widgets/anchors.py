"""An explorer of anchors on a search crop (Faster R-CNN, Ren et al. 2015; SiamRPN, Li
et al. 2018).

Pick a score-map position and an anchor shape and move the two IoU thresholds: the
explorer draws the `k` anchors of that position on the crop with their IoU with the
target and their labels, and the label map of the chosen shape over the whole score map.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from siamlab.anchors import anchor_grid, indices_at, iou_matrix
from siamlab.boxes import as_boxes
from siamlab.crops import as_frame
from siamlab.viz.anchors import (
    LABEL_COLORS,
    ON_IMAGE,
    TARGET,
    _label_legend,
    draw_box,
    show_crop,
)
from siamlab.widgets.static import ExplorerBox, explorer, fixed_layout

_LABEL_NAMES = {1: "positive", 0: "negative", -1: "ignored"}


class AnchorExplorer:
    """Anchors, IoUs and labels at one score-map position of a search crop.

    `crop` is the `uint8 (H, W, 3)` search crop, `gt_box` the target as cxcywh in crop
    pixels, `shapes (k, 2)` the anchor sizes (`siamlab.anchors.anchor_shapes`). The grid
    is centred on the crop centre. `update(row, col, shape, positive, negative)` redraws
    `figure` and returns it; the default state shows the anchor with the highest IoU and
    SiamRPN's thresholds 0.6 and 0.3."""

    def __init__(
        self,
        crop: ArrayLike,
        gt_box: Sequence[float],
        shapes: ArrayLike,
        score_size: int = 17,
        stride: int = 8,
    ) -> None:
        self.crop = as_frame(crop, "crop")
        self.gt_box = as_boxes(gt_box, "gt_box", positive=True).reshape(4)
        self.shapes = np.asarray(shapes, dtype=np.float64)
        self.score_size = score_size
        height, width = self.crop.shape[:2]
        self.anchors = anchor_grid(
            score_size, stride, self.shapes, center=(width / 2, height / 2)
        )
        self.iou = iou_matrix(self.gt_box[None], self.anchors)[0]
        shape, position = divmod(
            int(np.argmax(self.iou)), score_size * score_size
        )  # the best anchor
        row, col = divmod(position, score_size)
        self.values: dict[str, Any] = {"row": row, "col": col, "shape": shape}
        self.values.update(positive=0.6, negative=0.3)
        self.figure = Figure(figsize=(11, 5.2))
        self._layout: dict[str, float] | None = (
            None  # margins of the first drawing, reused
        )

    def labels(self, positive: float, negative: float) -> np.ndarray:
        """Threshold labels of every anchor (1, 0, −1), before sampling."""
        return np.where(self.iou > positive, 1, np.where(self.iou < negative, 0, -1))

    def update(self, **values: Any) -> Figure:
        """Redraw for new `row`, `col`, `shape` (index), `positive` and `negative`
        thresholds."""
        unknown = set(values) - set(self.values)
        if unknown:
            raise ValueError(
                f"unknown values {sorted(unknown)}; "
                f"expected some of {sorted(self.values)}"
            )
        v = {**self.values, **values}
        if not (0 <= v["row"] < self.score_size and 0 <= v["col"] < self.score_size):
            raise ValueError(
                f"row and col must lie in [0, {self.score_size}), "
                f"got {v['row']}, {v['col']}"
            )
        if not 0 <= v["shape"] < len(self.shapes):
            raise ValueError(
                f"shape must lie in [0, {len(self.shapes)}), got {v['shape']}"
            )
        if not 0 <= v["negative"] <= v["positive"] <= 1:
            raise ValueError(
                f"need 0 <= negative <= positive <= 1, "
                f"got {v['negative']}, {v['positive']}"
            )
        self.values = v
        self.figure.clear()
        left, right = self.figure.subplots(
            1, 2, gridspec_kw={"width_ratios": [1.15, 1]}
        )
        labels = self.labels(v["positive"], v["negative"])
        self._draw_position(left, labels)
        self._draw_label_map(right, labels)
        legend = _label_legend(v["positive"], v["negative"])
        self.figure.legend(
            handles=legend,
            loc="lower right",
            ncol=3,
            fontsize=8,
            bbox_to_anchor=(0.98, 0.0),
        )
        self._layout = fixed_layout(self.figure, self._layout, rect=(0, 0.06, 1, 0.97))
        return self.figure

    def _draw_position(self, ax, labels: np.ndarray) -> None:
        v, k = self.values, len(self.shapes)
        show_crop(
            ax, self.crop, f"The {k} anchors at row {v['row']}, column {v['col']}"
        )
        draw_box(
            ax, self.gt_box, TARGET, linewidth=2.5, linestyle="--", label="ground truth"
        )
        for a, index in enumerate(indices_at(v["row"], v["col"], self.score_size, k)):
            (w, h), label, chosen = self.shapes[a], int(labels[index]), a == v["shape"]
            text = f"{w:.0f}×{h:.0f}: IoU {self.iou[index]:.2f}, {_LABEL_NAMES[label]}"
            text = f"▶ {text}" if chosen else text
            style = (
                {"linewidth": 3, "linestyle": "-"}
                if chosen
                else {"linewidth": 1.2, "linestyle": ":"}
            )
            draw_box(ax, self.anchors[index], ON_IMAGE[label], label=text, **style)
        ax.legend(
            loc="lower left",
            fontsize=7.5,
            facecolor="0.35",
            labelcolor="white",
            framealpha=0.9,
        )

    def _draw_label_map(self, ax, labels: np.ndarray) -> None:
        v, s = self.values, self.score_size
        shape = v["shape"]
        block = labels.reshape(len(self.shapes), s, s)[shape]
        ax.imshow(block + 1, cmap=LABEL_COLORS, vmin=0, vmax=2)
        ax.plot(
            v["col"],
            v["row"],
            "s",
            markersize=11,
            markerfacecolor="none",
            markeredgecolor="k",
            mew=2,
        )
        counts = {
            name: int((labels == value).sum()) for value, name in _LABEL_NAMES.items()
        }
        w, h = self.shapes[shape]
        ax.set(
            xlabel="column", ylabel="row", xticks=range(0, s, 4), yticks=range(0, s, 4)
        )
        ax.set_title(
            f"Labels of the {w:.0f}×{h:.0f} anchors\n"
            f"all shapes: {counts['positive']} positive, "
            f"{counts['negative']} negative, {counts['ignored']} ignored",
            fontsize=10,
        )

    def static_states(self) -> dict[str, list]:
        """The states the HTML book precomputes: positions around the best anchor, every
        shape, and SiamRPN's and Faster R-CNN's positive thresholds (90 drawings)."""
        last = self.score_size - 1
        v = self.values
        around = {
            name: sorted({min(max(v[name] + step, 0), last) for step in (-2, 0, 2)})
            for name in ("row", "col")
        }
        return {
            **around,
            "shape": list(range(len(self.shapes))),
            "positive": [0.6, 0.7],
        }

    def widget(self) -> ExplorerBox:
        """Sliders for row, column, shape and the two thresholds above the figure.

        Live (ipywidgets) in JupyterLab; in the HTML book, the same sliders over the
        states of `static_states`, drawn ahead of time."""
        import ipywidgets as widgets

        last = self.score_size - 1
        v = self.values
        sliders = {
            "row": widgets.IntSlider(v["row"], 0, last, description="row"),
            "col": widgets.IntSlider(v["col"], 0, last, description="column"),
            "shape": widgets.IntSlider(
                v["shape"], 0, len(self.shapes) - 1, description="shape"
            ),
            "positive": widgets.FloatSlider(
                v["positive"], min=0.05, max=1, step=0.05, description="IoU >"
            ),
            "negative": widgets.FloatSlider(
                v["negative"], min=0, max=0.95, step=0.05, description="IoU <"
            ),
        }

        def draw(**values: Any) -> Figure:
            values["negative"] = min(values["negative"], values["positive"])
            return self.update(**values)

        return explorer(draw, sliders, self.static_states())
