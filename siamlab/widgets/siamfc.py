"""A score-map explorer for SiamFC (Bertinetto et al. 2016): re-run one tracker step
with other knobs.

Slide through a tracked sequence, and change the window influence and the scale penalty:
the explorer re-runs the decision part of the step (the network's responses are cached
per frame) from the box the tracker had on the frame before, and redraws the frame, the
chosen search crop and the final map."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from siamlab.datasets.sequence import Sequence
from siamlab.trackers.siamfc import SiamFCStep, SiamFCTracker
from siamlab.viz.siamfc import step_panels
from siamlab.widgets.static import ExplorerBox, explorer, fixed_layout


class ScoreMapExplorer:
    """SiamFC's step on frame `frame` of `sequence`, starting from `boxes[frame − 1]`.

    `tracker` must have been initialised on the sequence's first frame; `boxes (N, 4)`
    are the boxes of a run of it (`siamlab.trackers.track`). `update(frame=…,
    window_influence=…, scale_penalty=…)` redraws `figure` and returns it; the default
    state is the middle frame with the tracker's own parameters."""

    def __init__(
        self, tracker: SiamFCTracker, sequence: Sequence, boxes: np.ndarray
    ) -> None:
        if tracker.kernel is None:
            raise ValueError(
                "tracker must be initialised (tracker.init) before exploring"
            )
        boxes = np.asarray(boxes, dtype=np.float64)
        if boxes.shape != (len(sequence), 4):
            raise ValueError(
                f"boxes must have shape ({len(sequence)}, 4), got {boxes.shape}"
            )
        self.tracker, self.sequence, self.boxes = tracker, sequence, boxes
        self.values: dict[str, Any] = {
            "frame": len(sequence) // 2,
            "window_influence": tracker.params.window_influence,
            "scale_penalty": tracker.params.scale_penalty,
        }
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.figure = Figure(figsize=(11.5, 3.8))
        self._layout: dict[str, float] | None = None  # margins of the first drawing

    def step(
        self, frame: int, window_influence: float, scale_penalty: float
    ) -> SiamFCStep:
        """The tracker's step on `frame` with these two parameters (responses cached per
        frame)."""
        image = self.sequence.frame(frame)
        previous = self.boxes[frame - 1]
        params = replace(
            self.tracker.params,
            window_influence=window_influence,
            scale_penalty=scale_penalty,
        )
        if frame not in self._cache:
            center, size = previous[:2] + previous[2:] / 2, previous[2:]
            self._cache[frame] = self.tracker.responses(image, center, size, params)
        return self.tracker.step(image, previous, params, searched=self._cache[frame])

    def update(self, **values: Any) -> Figure:
        """Redraw for new `frame` (1 … N−1), `window_influence` and `scale_penalty` (0 …
        1)."""
        unknown = set(values) - set(self.values)
        if unknown:
            raise ValueError(
                f"unknown values {sorted(unknown)}; "
                f"expected some of {sorted(self.values)}"
            )
        v = {**self.values, **values}
        if not 1 <= int(v["frame"]) < len(self.sequence):
            raise ValueError(
                f"frame must lie in [1, {len(self.sequence)}), got {v['frame']}"
            )
        for name in ("window_influence", "scale_penalty"):
            if not 0 <= v[name] <= 1:
                raise ValueError(f"{name} must lie in [0, 1], got {v[name]}")
        self.values = v
        frame = int(v["frame"])
        step = self.step(frame, v["window_influence"], v["scale_penalty"])
        previous = self.boxes[frame - 1]
        side = self.tracker.search_side(previous[2:])
        truth = None if self.sequence.absent[frame] else self.sequence.boxes[frame]
        self.figure.clear()
        axes = self.figure.subplots(1, 3)
        step_panels(
            axes,
            self.sequence.frame(frame),
            step,
            previous[:2] + previous[2:] / 2,
            side,
            truth,
        )
        self.figure.suptitle(
            f"{self.sequence.name}, frame {frame}: "
            f"window influence {v['window_influence']:.3f}, "
            f"scale penalty {v['scale_penalty']:.4f}",
            fontsize=10,
        )
        self._layout = fixed_layout(self.figure, self._layout)
        return self.figure

    def static_states(self, frames: int = 6) -> dict[str, list]:
        """The states the HTML book precomputes: `frames` frames evenly spread over the
        sequence (with the default one), window influence 0, the tracker's own and 0.5,
        and the tracker's scale penalty and 1 (no penalty)."""
        n, v = len(self.sequence), self.values
        spread = np.linspace(1, n - 1, frames).round().astype(int).tolist()
        window = sorted({0.0, float(v["window_influence"]), 0.5})
        penalty = sorted({float(v["scale_penalty"]), 1.0})
        return {
            "frame": sorted(set(spread) | {int(v["frame"])}),
            "window_influence": window,
            "scale_penalty": penalty,
        }

    def widget(self) -> ExplorerBox:
        """A frame slider and two parameter sliders above the figure: live (ipywidgets)
        in JupyterLab; over the states of `static_states`, drawn ahead of time, in the
        book."""
        import ipywidgets as widgets

        v = self.values
        sliders = {
            "frame": widgets.IntSlider(
                v["frame"], 1, len(self.sequence) - 1, description="frame"
            ),
            "window_influence": widgets.FloatSlider(
                v["window_influence"], min=0, max=1, step=0.01, description="window"
            ),
            "scale_penalty": widgets.FloatSlider(
                v["scale_penalty"],
                min=0.8,
                max=1,
                step=0.005,
                description="penalty",
                readout_format=".3f",
            ),
        }
        return explorer(self.update, sliders, self.static_states())
