"""A figure that redraws when sliders move, shown as an image widget.

The explorers of the book draw with matplotlib and show the result as PNG bytes in an
`ipywidgets.Image`. An `Output` widget would be the obvious alternative, but notebook
executors (those of the HTML book among them) handle output-capturing widgets specially
and can stall on them; an image widget is a plain value, so a chapter executes the same
way in every tool."""

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


def controls_and_image(
    draw: Callable[..., Figure], controls: Mapping[str, Any]
) -> tuple[list, Any]:
    """The controls (in a box that wraps onto new lines) and the image they redraw.

    Returns `[controls_box, image]` and the image widget; the figure is drawn once at
    once. The image shrinks to the width of the page, so a wide figure never pushes the
    controls out of a 1280-pixel window."""
    import ipywidgets as widgets

    image = widgets.Image(
        format="png", layout=widgets.Layout(max_width="100%", height="auto")
    )

    def redraw(change: Any = None) -> None:
        figure = draw(**{name: control.value for name, control in controls.items()})
        image.value = figure_png(figure)
        plt.close(
            figure
        )  # drawn as an image: pyplot need not keep it (nor show it again)

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    row = widgets.HBox(
        list(controls.values()), layout=widgets.Layout(flex_flow="row wrap")
    )
    return [row, image], image


def live_figure(
    draw: Callable[..., Figure],
    controls: Mapping[str, Any],
    layout: str = "vertical",
) -> Any:
    """Controls and the figure that `draw(**values)` returns, redrawn whenever one
    changes.

    `controls` maps each keyword of `draw` to an ipywidgets control (a slider, a
    dropdown, …); `layout` puts the controls above the figure (`"vertical"`) or beside
    it (`"horizontal"`). Returns the ipywidgets box; the figure is drawn once
    immediately. For an explorer that also works in the kernel-less HTML book, use
    `siamlab.widgets.static.explorer`."""
    import ipywidgets as widgets

    if layout not in ("vertical", "horizontal"):
        raise ValueError(f"layout must be 'vertical' or 'horizontal', got {layout!r}")
    (row, image), _ = controls_and_image(draw, controls)
    if layout == "horizontal":
        return widgets.HBox([widgets.VBox(list(row.children)), image])
    return widgets.VBox([row, image])
