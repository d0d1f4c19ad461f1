"""A margin explorer for the contrastive loss (Hadsell et al. 2006; chapter 1).

Models trained with a few margins are evaluated once, ahead of time; the slider only
switches between their stored test distances, so the loss curves and the distance
histograms redraw instantly."""

from __future__ import annotations

from typing import Mapping

import numpy as np
from matplotlib.figure import Figure

from siamlab.viz.siamese import new_figure, plot_margin_panel
from siamlab.widgets.static import ExplorerBox, explorer


class MarginExplorer:
    """Loss curves and test-pair distance histograms, one margin at a time.

    `distances` maps each margin to the test-pair distances `(P,)` of a model trained
    with it; `same` `(P,)` is 1 for same-digit pairs. `accuracies` (optional) maps each
    margin to its verification accuracy, shown in the histogram's title.
    `update(margin=...)` redraws `figure`."""

    def __init__(
        self,
        distances: Mapping[float, np.ndarray],
        same: np.ndarray,
        *,
        metric: str = "cosine",
        d_max: float = 2.0,
        accuracies: Mapping[float, float] | None = None,
        margin: float | None = None,
    ) -> None:
        if not distances:
            raise ValueError(
                "distances must map at least one margin to an array of distances"
            )
        self.distances = {float(m): np.asarray(d) for m, d in sorted(distances.items())}
        self.same = np.asarray(same)
        for m, d in self.distances.items():
            if d.shape != self.same.shape:
                raise ValueError(
                    f"distances[{m}] has shape {d.shape}, "
                    f"expected {self.same.shape} like same"
                )
        self.metric, self.d_max = metric, d_max
        self.accuracies = dict(accuracies or {})
        self.figure = new_figure((10.0, 3.8))
        self.figure.subplots(1, 2)
        self.margin = float("nan")
        self.update(
            margin=margin
            if margin is not None
            else list(self.distances)[len(self.distances) // 2]
        )

    @property
    def margins(self) -> list[float]:
        return list(self.distances)

    def update(self, margin: float) -> Figure:
        """Redraw the figure for `margin`, one of `margins`, and return it."""
        if float(margin) not in self.distances:
            raise ValueError(f"margin must be one of {self.margins}, got {margin!r}")
        self.margin = float(margin)
        plot_margin_panel(
            self.margin,
            self.distances[self.margin],
            self.same,
            metric=self.metric,
            d_max=self.d_max,
            figure=self.figure,
        )
        if self.margin in self.accuracies:
            right = self.figure.axes[1]
            right.set_title(
                f"Test pairs, model trained with $m={self.margin:g}$: "
                f"accuracy {self.accuracies[self.margin]:.3f}"
            )
        return self.figure

    def widget(self) -> ExplorerBox:
        """A margin slider above the figure: live (ipywidgets) in JupyterLab, and over
        every margin's precomputed figure in the HTML book."""
        import ipywidgets as widgets

        slider = widgets.SelectionSlider(
            options=[(f"{m:g}", m) for m in self.margins],
            value=self.margin,
            description="margin m",
            continuous_update=True,
        )
        return explorer(self.update, {"margin": slider}, {"margin": self.margins})
