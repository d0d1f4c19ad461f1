"""A figure that redraws when sliders move, shown as an image widget.

The explorers of the book draw with matplotlib and show the result as PNG bytes in an
`ipywidgets.Image`. An `Output` widget would be the obvious alternative, but notebook executors
(those of the HTML book among them) handle output-capturing widgets specially and can stall on
them; an image widget is a plain value, so a chapter executes the same way in every tool.
"""

from __future__ import annotations

import io
from typing import Any, Callable, Mapping

import matplotlib.pyplot as plt
from matplotlib.figure import Figure


def figure_png(figure: Figure, dpi: int = 90) -> bytes:
    """The figure rendered to PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def live_figure(
    draw: Callable[..., Figure],
    controls: Mapping[str, Any],
    layout: str = "vertical",
) -> Any:
    """Controls and the figure that `draw(**values)` returns, redrawn whenever a control changes.

    `controls` maps each keyword of `draw` to an ipywidgets control (a slider, a dropdown, …);
    `layout` puts the controls above the figure (`"vertical"`) or beside it (`"horizontal"`).
    Returns the ipywidgets box; the figure is drawn once immediately.
    """
    import ipywidgets as widgets

    if layout not in ("vertical", "horizontal"):
        raise ValueError(f"layout must be 'vertical' or 'horizontal', got {layout!r}")
    image = widgets.Image(format="png")

    def redraw(change: Any = None) -> None:
        figure = draw(**{name: control.value for name, control in controls.items()})
        image.value = figure_png(figure)
        plt.close(figure)  # drawn as an image: pyplot need not keep it (and must not show it again)

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    if layout == "horizontal":
        return widgets.HBox([widgets.VBox(list(controls.values())), image])
    return widgets.VBox([widgets.HBox(list(controls.values())), image])
