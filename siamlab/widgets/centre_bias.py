"""Figures and the explorer of chapter 6's centre-bias experiment (SiamRPN++, Li et
al. 2019).

`plot_peak_heatmaps` draws, for each training shift, where the peaks of off-centre
targets landed on the score map. `CentreBiasExplorer` moves one target across the
search crop: pick the shift a network was trained with and where the target sits, and
see the response map and its peak, live in JupyterLab and over precomputed states in
the HTML book.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence as Values
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure

from siamlab.centre_bias import CentreBias, CentreBiasNet
from siamlab.crops import crop_square, exemplar_crop, search_side, to_tensor
from siamlab.datasets.sequence import Sequence
from siamlab.widgets.static import ExplorerBox, explorer, fixed_layout


def plot_translation_errors(maps: Mapping[str, np.ndarray]) -> Figure:
    """One panel per network: `translation_error_maps` for one shift, the largest
    difference at each cell, on one logarithmic colour scale shared by the panels."""
    from matplotlib.colors import LogNorm

    if not maps:
        raise ValueError("maps must hold at least one error map")
    figure = Figure(figsize=(3.0 * len(maps) + 0.8, 3.3), layout="constrained")
    axes = figure.subplots(1, len(maps), squeeze=False)[0]
    norm = LogNorm(vmin=1e-8, vmax=max(1.0, max(float(m.max()) for m in maps.values())))
    for ax, (name, error) in zip(axes, maps.items()):
        image = ax.imshow(np.maximum(error, 1e-8), cmap="inferno", norm=norm)
        ax.set_title(f"{name}\nlargest {float(error.max()):.1e}", fontsize=9)
        ax.set(xlabel="column", ylabel="row")
    figure.colorbar(image, ax=list(axes), fraction=0.03, pad=0.02,
                    label="difference / largest response")  # fmt: skip
    return figure


def plot_peak_heatmaps(results: Mapping[float, CentreBias]) -> Figure:
    """One panel per training shift: how many peaks of off-centre targets fell in each
    score-map cell, with the figures of `CentreBias` in the title."""
    if not results:
        raise ValueError("results must hold at least one CentreBias")
    figure = Figure(figsize=(2.6 * len(results), 3.0))
    axes = figure.subplots(1, len(results), squeeze=False)[0]
    peak = max(int(r.heat.max()) for r in results.values()) or 1
    for ax, (shift, result) in zip(axes, results.items()):
        size = result.heat.shape[0]
        ax.imshow(result.heat, cmap="magma", vmin=0, vmax=peak)
        ax.plot((size - 1) / 2, (size - 1) / 2, "c+", markersize=12, mew=1.5)
        ax.set_title(
            f"shift {shift:g} px\nat centre {result.centre_rate:.2f}, "
            f"found {result.accuracy:.2f}",
            fontsize=9,
        )
        ax.set_xticks([])
        ax.set_yticks([])
    figure.tight_layout()
    return figure


class CentreBiasExplorer:
    """One exemplar, one search frame, the target moved across the search crop.

    For every network (by training shift) and every horizontal target offset
    (`offsets`, search-crop pixels), the response is computed once;
    `update(shift=…, offset=…)` redraws `figure`: the search crop with the target's
    centre (green) and the peak (red), and the score map. `widget()` gives the two
    sliders, over every precomputed state in the HTML book.
    """

    def __init__(
        self,
        models: Mapping[float, CentreBiasNet],
        sequence: Sequence,
        frames: tuple[int, int] = (0, 20),
        offsets: Values[float] = tuple(range(-32, 33, 8)),
    ) -> None:
        if not models:
            raise ValueError("models must hold at least one CentreBiasNet")
        offsets = [float(o) for o in offsets]
        if not offsets:
            raise ValueError("offsets must not be empty")
        config = next(iter(models.values())).config
        if any(abs(o) > (config.search_size - 1) / 2 for o in offsets):
            raise ValueError(
                f"offsets must lie within ±{(config.search_size - 1) / 2:g} pixels, "
                f"got {offsets}"
            )
        first, second = (int(f) for f in frames)
        for index in (first, second):
            if not 0 <= index < len(sequence) or sequence.absent[index]:
                raise ValueError(
                    f"frames must be frames of the sequence with the target visible, "
                    f"got {index}"
                )
        box = np.asarray(sequence.boxes[first], dtype=np.float64)
        exemplar, _ = exemplar_crop(
            sequence.frame(first), box, config.exemplar_size, config.context
        )
        target = np.asarray(sequence.boxes[second], dtype=np.float64)
        side = search_side(
            target, config.exemplar_size, config.search_size, config.context
        )
        frame = sequence.frame(second)
        centre = target[:2] + target[2:] / 2
        # the crop moves the opposite way to put the target `offset` right of centre
        crops = [
            crop_square(
                frame,
                (centre[0] - o * side / config.search_size, centre[1]),
                side,
                config.search_size,
            )
            for o in offsets
        ]
        z, x = to_tensor(exemplar), to_tensor(np.stack(crops))
        with torch.no_grad():
            self.responses = {
                float(s): m.eval()(z.expand(len(crops), -1, -1, -1), x)[:, 0].numpy()
                for s, m in models.items()
            }
        self.crops, self.offsets, self.stride = crops, offsets, config.total_stride
        self.values: dict[str, Any] = {
            "shift": min(self.responses),
            "offset": offsets[-1],
        }
        self.figure = Figure(figsize=(6.4, 3.2))
        self._layout: dict[str, float] | None = None

    def update(self, **values: Any) -> Figure:
        """Redraw for a network (`shift`, its training shift) and a target `offset`."""
        unknown = set(values) - set(self.values)
        if unknown:
            raise ValueError(f"unknown values {sorted(unknown)}")
        v = {**self.values, **values}
        if float(v["shift"]) not in self.responses:
            raise ValueError(
                f"shift must be one of {sorted(self.responses)}, got {v['shift']}"
            )
        if float(v["offset"]) not in self.offsets:
            raise ValueError(f"offset must be one of {self.offsets}, got {v['offset']}")
        self.values = v
        index = self.offsets.index(float(v["offset"]))
        response = self.responses[float(v["shift"])][index]
        crop = self.crops[index]
        size = response.shape[0]
        row, col = np.unravel_index(int(np.argmax(response)), response.shape)
        middle = (crop.shape[0] - 1) / 2
        peak_x = middle + (col - (size - 1) / 2) * self.stride
        peak_y = middle + (row - (size - 1) / 2) * self.stride
        self.figure.clear()
        left, right = self.figure.subplots(1, 2)
        left.imshow(crop)
        left.axvline(middle, color="w", lw=0.6, ls="--")
        left.axhline(middle, color="w", lw=0.6, ls="--")
        left.plot(middle + float(v["offset"]), middle, "g+", markersize=14, mew=2)
        left.plot(peak_x, peak_y, "rx", markersize=10, mew=2)
        left.set_title(f"target {float(v['offset']):+g} px from the centre", fontsize=9)
        right.imshow(response, cmap="viridis")
        right.plot(col, row, "rx", markersize=10, mew=2)
        right.plot((size - 1) / 2 + float(v["offset"]) / self.stride, (size - 1) / 2,
                   "g+", markersize=14, mew=2)  # fmt: skip
        right.set_title(f"score map, trained with shift {float(v['shift']):g}",
                        fontsize=9)  # fmt: skip
        for ax in (left, right):
            ax.set_xticks([])
            ax.set_yticks([])
        self._layout = fixed_layout(self.figure, self._layout)
        return self.figure

    def static_states(self) -> dict[str, list]:
        """Every network × every offset."""
        return {"shift": sorted(self.responses), "offset": list(self.offsets)}

    def widget(self) -> ExplorerBox:
        """A slider over the training shifts and one over the target offsets."""
        import ipywidgets as widgets

        v = self.values
        controls = {
            "shift": widgets.SelectionSlider(
                options=sorted(self.responses), value=v["shift"],
                description="trained shift",
            ),
            "offset": widgets.SelectionSlider(
                options=list(self.offsets), value=v["offset"],
                description="target offset",
            ),
        }  # fmt: skip
        draw = lambda **s: self.update(**s)  # noqa: E731
        return explorer(draw, controls, self.static_states(), dpi=64, quality=70)
