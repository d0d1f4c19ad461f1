"""The distractor explorer of DaSiamRPN (Zhu et al. 2018): score maps with and without
distractor-aware re-ranking.

A tracker runs once along a sequence in plain SiamRPN mode while remembering the
distractors it meets; for a few frames it keeps the objectness logits against the
target, `f(z, p)`, and against the remembered distractors, `Σ αᵢ f(dᵢ, p) / Σ αᵢ`.
The distractor-aware map for any α̂, `sigmoid(f(z, p) − α̂ · Σ αᵢ f(dᵢ, p) / Σ αᵢ)`,
is then arithmetic on two arrays: `plot_distractor_maps` draws one frame and one α̂,
`DistractorExplorer` slides over frames and α̂, live in JupyterLab and over precomputed
states in the HTML book.
"""

from __future__ import annotations

from collections.abc import Sequence as Values
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from siamlab.datasets.sequence import Sequence
from siamlab.trackers.dasiamrpn import DaSiamRPNTracker, distractor_aware_scores
from siamlab.widgets.static import ExplorerBox, explorer, fixed_layout


@dataclass
class DistractorFrame:
    """What one frame needs to redraw its maps for any α̂ (NumPy arrays).

    `index` the frame's number; `crop (s, s, 3)` its search crop; `target_logits` and
    `distractor_logits (A,)` the two logits per anchor (anchor-major, `A = k·S·S`);
    `truth (4,)` the ground-truth box and `distractors (n, 4)` the distractors found in
    this frame, xywh in crop pixels (`truth` NaN when the target is absent); `stride`
    the score map's step in crop pixels; `candidates` the tracker's top-k.
    """

    index: int
    crop: np.ndarray
    target_logits: np.ndarray
    distractor_logits: np.ndarray
    truth: np.ndarray
    distractors: np.ndarray
    num_anchors: int
    score_size: int
    stride: int
    candidates: int

    def scores(self, weight: float) -> np.ndarray:
        """The scores `(A,)` the tracker would rank by with α̂ = `weight` (0: the
        plain objectness; see `distractor_aware_scores`)."""
        return distractor_aware_scores(
            self.target_logits, self.distractor_logits, weight, self.candidates
        )

    def score_map(self, weight: float) -> np.ndarray:
        """The `(S, S)` map: each position's best anchor shape."""
        maps = self.scores(weight).reshape(self.num_anchors, self.score_size, -1)
        return maps.max(axis=0)

    def peak(self, weight: float) -> tuple[int, int]:
        """`(row, col)` of the map's maximum."""
        flat = int(np.argmax(self.score_map(weight)))
        return divmod(flat, self.score_size)

    def crop_position(self, row: int, col: int) -> tuple[float, float]:
        """Crop pixels `(x, y)` of score-map position `(row, col)`."""
        middle, half = (self.score_size - 1) / 2, self.crop.shape[0] / 2
        return half + (col - middle) * self.stride, half + (row - middle) * self.stride


def _to_crop(boxes: np.ndarray, center: np.ndarray, scale: float, side: int):
    """xywh frame boxes `(..., 4)` → xywh crop pixels, the crop centred on `center`."""
    b = np.asarray(boxes, dtype=np.float64)
    corner = (b[..., :2] - center) * scale + side / 2
    return np.concatenate([corner, b[..., 2:] * scale], axis=-1)


def record_frames(
    tracker: DaSiamRPNTracker,
    sequence: Sequence,
    frames: Values[int] | None = None,
    length: int = 60,
    max_frames: int = 4,
) -> list[DistractorFrame]:
    """Run `tracker` (a copy in plain mode: α̂ = 0, local search) over the first
    `length` frames of `sequence`, remembering distractors, and keep `frames` (default:
    up to `max_frames`, evenly spaced among those where distractors are found and
    remembered; failing enough of those, where they are remembered; failing that, all).
    """
    length = min(int(length), len(sequence))
    if length < 2:
        raise ValueError(f"length must be at least 2, got {length}")
    if frames is not None:
        frames = sorted({int(f) for f in frames})
        if not frames or frames[0] < 1 or frames[-1] >= length:
            raise ValueError(f"frames must lie in [1, {length}), got {frames}")
    plain = tracker.with_params(distractor_weight=0.0, long_term=False)
    plain.init(sequence.frame(0), sequence.boxes[0])
    config = plain.config
    records: dict[int, DistractorFrame] = {}
    for index in range(1, length):
        image = sequence.frame(index)
        center = plain.center.copy()
        step = plain.step(image)
        side = step.crop.shape[0]
        if frames is None or index in frames:
            records[index] = DistractorFrame(
                index, step.crop, step.target_logits, step.distractor_logits,
                _to_crop(sequence.boxes[index], center, step.scale, side),
                _to_crop(step.distractors, center, step.scale, side),
                step.num_anchors, step.score_size, config.total_stride,
                plain.params.candidates,
            )  # fmt: skip
        plain.advance(image, step, remember=True)
    if frames is None:
        remembered = [i for i, r in records.items() if np.any(r.distractor_logits)]
        seen = [i for i in remembered if len(records[i].distractors)]
        pool = seen if len(seen) >= max_frames else remembered or sorted(records)
        count = min(max_frames, len(pool))
        frames = [pool[int(k)] for k in np.linspace(0, len(pool) - 1, count)]
    return [records[i] for i in frames]


def _draw_box(ax: Axes, box: np.ndarray, **style: Any) -> None:
    if np.all(np.isfinite(box)):
        ax.add_patch(Rectangle(tuple(box[:2]), box[2], box[3], fill=False, **style))


def draw_distractor_maps(
    axes: Values[Axes], record: DistractorFrame, weight: float
) -> None:
    """Three panels on `axes`: the crop with the ground truth (green), the distractors
    found in this frame (orange) and both maps' peaks; the plain map (peak: red
    circle); the distractor-aware map for α̂ = `weight` (peak: cyan cross)."""
    crop_ax, plain_ax, aware_ax = axes
    crop_ax.imshow(record.crop)
    _draw_box(crop_ax, record.truth, edgecolor="lime", linewidth=2)
    for box in record.distractors:
        _draw_box(crop_ax, box, edgecolor="orange", linewidth=1.5, linestyle="--")
    plain_peak, aware_peak = record.peak(0.0), record.peak(weight)
    for (row, col), marker, color in (
        (plain_peak, "o", "red"),
        (aware_peak, "x", "cyan"),
    ):
        x, y = record.crop_position(row, col)
        crop_ax.plot(x, y, marker, ms=11, mfc="none", mec=color, mew=2)
    crop_ax.set_title(f"frame {record.index}: truth, distractors", fontsize=9)
    crop_ax.set(xlabel="x (crop pixels)", ylabel="y (crop pixels)")
    aware = f"distractor-aware, α̂ = {weight:g}"
    for ax, w, (row, col), marker, color, title in (
        (plain_ax, 0.0, plain_peak, "o", "red", "plain SiamRPN"),
        (aware_ax, weight, aware_peak, "x", "cyan", aware),
    ):
        ax.imshow(record.score_map(w), cmap="viridis", vmin=0, vmax=1)
        ax.plot(col, row, marker, ms=11, mfc="none", mec=color, mew=2)
        ax.set_title(title, fontsize=9)
        ax.set(xlabel="column", ylabel="row")
        ax.locator_params(integer=True)


def plot_distractor_maps(record: DistractorFrame, weight: float = 0.5) -> Figure:
    """One frame as a figure: the search crop with the ground truth and the
    distractors, the plain objectness map and the distractor-aware one for α̂ =
    `weight` (each position's best anchor; both on the scale 0 … 1)."""
    fig = Figure(figsize=(9.0, 3.1))
    draw_distractor_maps(fig.subplots(1, 3), record, weight)
    fig.tight_layout()
    return fig


class DistractorExplorer:
    """Score maps with and without distractor-aware re-ranking along one sequence.

    The tracker runs once (`record_frames`); each redraw is arithmetic on the kept
    logits. `update(frame=…, weight=…)` redraws `figure` for one of the kept frames
    and α̂; `widget()` gives the sliders, over `len(frames) × len(weights)`
    precomputed states in the HTML book.
    """

    def __init__(
        self,
        tracker: DaSiamRPNTracker,
        sequence: Sequence,
        frames: Values[int] | None = None,
        weights: Values[float] = (0.0, 0.25, 0.5, 1.0, 2.0),
        length: int = 60,
        max_frames: int = 4,
    ) -> None:
        weights = [float(w) for w in weights]
        if not weights or any(not np.isfinite(w) or w < 0 for w in weights):
            raise ValueError(f"weights must be numbers >= 0, got {weights}")
        self.records = {
            r.index: r
            for r in record_frames(tracker, sequence, frames, length, max_frames)
        }
        self.weights = weights
        default = tracker.params.distractor_weight or weights[len(weights) // 2]
        self.values: dict[str, Any] = {
            "frame": list(self.records)[len(self.records) // 2],
            "weight": min(weights, key=lambda w: abs(w - default)),
        }
        self.figure = Figure(figsize=(9.0, 3.1))
        self._layout: dict[str, float] | None = None

    def update(self, **values: Any) -> Figure:
        """Redraw for a kept `frame` (its number) and α̂ = `weight`."""
        unknown = set(values) - set(self.values)
        if unknown:
            raise ValueError(f"unknown values {sorted(unknown)}")
        v = {**self.values, **values}
        if v["frame"] not in self.records:
            kept = list(self.records)
            raise ValueError(f"frame must be one of {kept}, got {v['frame']}")
        if not np.isfinite(v["weight"]) or v["weight"] < 0:
            raise ValueError(f"weight must be a number >= 0, got {v['weight']}")
        self.values = v
        self.figure.clear()
        axes = self.figure.subplots(1, 3)
        draw_distractor_maps(axes, self.records[v["frame"]], float(v["weight"]))
        self._layout = fixed_layout(self.figure, self._layout)
        return self.figure

    def static_states(self) -> dict[str, list]:
        """The states the HTML book precomputes: every kept frame × every weight."""
        return {"frame": list(self.records), "weight": list(self.weights)}

    def widget(self) -> ExplorerBox:
        """A slider over the kept frames and one for α̂."""
        import ipywidgets as widgets

        v = self.values
        controls = {
            "frame": widgets.SelectionSlider(
                options=list(self.records), value=v["frame"], description="frame"
            ),
            "weight": widgets.FloatSlider(
                v["weight"], min=0.0, max=max(self.weights), step=0.05, description="α̂"
            ),
        }
        states = self.static_states()
        draw = lambda **s: self.update(**s)  # noqa: E731
        return explorer(draw, controls, states, dpi=64, quality=70)
