"""Explorers that work with and without a kernel: live widgets, precomputed states.

A notebook output may carry several representations of one object. `explorer` returns an
ipywidgets box whose output bundle holds both the live widget (JupyterLab draws it, and
the sliders redraw the figure through the kernel) and a `text/html` page fragment: the
figure of every combination of a few slider positions, drawn ahead of time as JPEG data
URIs, with range inputs and a few lines of JavaScript that swap the image. The HTML book
has no kernel; it is told to prefer `text/html` (`nb_mime_priority_overrides` in
`_config.yml`), so its readers move the same sliders over the precomputed states. The
fragment requests nothing outside itself.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
from typing import Any, Callable, Mapping, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from siamlab.widgets.live import controls_and_image

MAX_STATES = 400
"""The most states one explorer precomputes: each costs a drawing and ~30 kB of page."""


def figure_jpeg(figure: Figure, dpi: int = 72, quality: int = 80) -> bytes:
    """The figure rendered to JPEG bytes (a tenth of a PNG's size for photographs).

    Drawn once on an Agg canvas and encoded with Pillow (`savefig` would draw it twice).
    """
    if not 10 <= dpi <= 300:
        raise ValueError(f"dpi must lie in [10, 300], got {dpi}")
    if not 1 <= quality <= 95:
        raise ValueError(f"quality must lie in [1, 95], got {quality}")
    canvas, original_dpi = figure.canvas, figure.dpi
    try:
        figure.dpi = dpi
        agg = FigureCanvasAgg(figure)
        agg.draw()
        rgb = np.asarray(agg.buffer_rgba())[..., :3]
    finally:
        figure.dpi = original_dpi
        figure.set_canvas(canvas)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def _label(value: Any) -> str:
    """How a state's value reads beside its slider: floats in short form, the rest as
    text."""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def check_states(
    states: Mapping[str, Sequence[Any]], max_states: int = MAX_STATES
) -> int:
    """Validate `states` (control name → the values to precompute) and return their
    count."""
    if not states:
        raise ValueError("states must name at least one control and its values")
    count = 1
    for name, values in states.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"states keys must be keyword names, got {name!r}")
        if isinstance(values, (str, bytes)) or len(values) == 0:
            raise ValueError(f"states[{name!r}] must be a non-empty list of values")
        count *= len(values)
    if count > max_states:
        raise ValueError(
            f"states make {count} combinations, more than max_states={max_states}: "
            "precompute fewer values"
        )
    return count


def render_states(
    draw: Callable[..., Figure],
    states: Mapping[str, Sequence[Any]],
    fixed: Mapping[str, Any] | None = None,
    dpi: int = 72,
    quality: int = 80,
) -> tuple[list[bytes], list[int]]:
    """Draw every combination of `states` (the last name varies fastest) as JPEG.

    `draw(**fixed, **state)` returns the figure of one state. Returns the distinct
    images and, for each combination in order, the index of its image (equal drawings
    are stored once)."""
    images: list[bytes] = []
    seen: dict[bytes, int] = {}
    order: list[int] = []
    names = list(states)
    for combination in itertools.product(*(states[name] for name in names)):
        figure = draw(**{**(fixed or {}), **dict(zip(names, combination))})
        jpeg = figure_jpeg(figure, dpi=dpi, quality=quality)
        plt.close(figure)  # stored as an image: pyplot must not keep or show it
        if jpeg not in seen:
            seen[jpeg] = len(images)
            images.append(jpeg)
        order.append(seen[jpeg])
    return images, order


_SCRIPT = """(function () {
  var root = document.getElementById(%(id)s), data = %(data)s;
  var inputs = root.querySelectorAll("input[type=range]");
  var image = root.querySelector("img");
  function show() {
    var index = 0;
    inputs.forEach(function (input, k) {
      var position = Number(input.value);
      index = index * data.sizes[k] + position;
      input.nextElementSibling.textContent = data.labels[k][position];
    });
    image.src = "data:image/jpeg;base64," + data.images[data.order[index]];
  }
  inputs.forEach(function (input) { input.addEventListener("input", show); });
  show();
})();"""


def _control_html(description: str, labels: list[str], position: int) -> str:
    """A labelled range input over `labels`, starting at `position`."""
    return (
        '<label style="display:inline-flex;align-items:center;gap:6px;">'
        f"<span>{html.escape(description)}</span>"
        f'<input type="range" min="0" max="{len(labels) - 1}" step="1"'
        f' value="{position}"'
        ' style="width:160px;">'
        f"<output>{html.escape(labels[position])}</output></label>"
    )


def states_html(
    images: list[bytes],
    order: list[int],
    states: Mapping[str, Sequence[Any]],
    descriptions: Mapping[str, str] | None = None,
    initial: Mapping[str, Any] | None = None,
    alt: str = "explorer figure",
) -> str:
    """The self-contained HTML fragment: sliders over `states` and the image they
    select.

    `images` and `order` come from `render_states`; `descriptions` names each slider
    (default: its keyword), `initial` is the state shown first (default: the first value
    of each)."""
    names = list(states)
    count = check_states(states, max_states=10**9)
    if count != len(order) or not all(0 <= k < len(images) for k in order):
        raise ValueError(
            f"order must give one of the {len(images)} images for each of the {count} "
            f"states, got {len(order)} entries"
        )
    labels = [[_label(value) for value in states[name]] for name in names]
    positions = [_position(states[name], (initial or {}).get(name)) for name in names]
    encoded = [base64.b64encode(image).decode("ascii") for image in images]
    digest = hashlib.sha1("".join(encoded).encode("ascii")).hexdigest()[:12]
    element_id = f"siamlab-explorer-{digest}"
    data = {"sizes": [len(states[n]) for n in names], "labels": labels, "order": order}
    data["images"] = encoded
    controls = "".join(
        _control_html((descriptions or {}).get(name, name), labels[k], positions[k])
        for k, name in enumerate(names)
    )
    first = encoded[order[_flat_index(positions, data["sizes"])]]
    script = _SCRIPT % {"id": json.dumps(element_id), "data": json.dumps(data)}
    return (
        f'<div class="siamlab-explorer" id="{element_id}">'
        '<div style="display:flex;flex-wrap:wrap;gap:4px 20px;margin:0 0 6px 0;">'
        f"{controls}</div>"
        f'<img alt="{html.escape(alt)}" style="max-width:100%;height:auto;"'
        f' src="data:image/jpeg;base64,{first}">'
        f"<script>{script}</script></div>"
    )


def _position(values: Sequence[Any], value: Any) -> int:
    """The index of `value` in `values` (the closest one for numbers), 0 when `value` is
    None."""
    if value is None:
        return 0
    if value in list(values):
        return list(values).index(value)
    if all(isinstance(v, (int, float)) for v in values) and isinstance(
        value, (int, float)
    ):
        return min(range(len(values)), key=lambda k: abs(values[k] - value))
    return 0


def _flat_index(positions: list[int], sizes: list[int]) -> int:
    index = 0
    for position, size in zip(positions, sizes):
        index = index * size + position
    return index


class ExplorerBox(widgets.VBox):
    """Controls above a figure (a live ipywidgets box) that also renders as static HTML.

    `static_html()` draws the precomputed states the first time the box is displayed, so
    building an explorer stays cheap when nobody shows it (unit tests, scripts).
    """

    def __init__(self, children: list, static_html: Callable[[], str], **kwargs: Any):
        super().__init__(children=children, **kwargs)
        self._static_html = static_html
        self._html: str | None = None

    def static_html(self) -> str:
        """The HTML fragment over the precomputed states (drawn once, then kept)."""
        if self._html is None:
            self._html = self._static_html()
        return self._html

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        return {**bundle, "text/html": self.static_html()}


def explorer(
    draw: Callable[..., Figure],
    controls: Mapping[str, Any],
    states: Mapping[str, Sequence[Any]],
    dpi: int = 72,
    quality: int = 80,
    max_states: int = MAX_STATES,
) -> ExplorerBox:
    """A live explorer for JupyterLab that the kernel-less HTML book shows as static
    states.

    `controls` maps each keyword of `draw` to an ipywidgets control, as in
    `live_figure`; `states` maps some of them to the values precomputed for the HTML
    (the others stay at their control's value). Returns the box; its static states are
    drawn when it is shown."""
    unknown = set(states) - set(controls)
    if unknown:
        raise ValueError(f"states names {sorted(unknown)} that are not controls")
    check_states(states, max_states)
    children, image = controls_and_image(draw, controls)

    def static_html() -> str:
        current = {name: control.value for name, control in controls.items()}
        try:
            images, order = render_states(draw, states, current, dpi, quality)
        finally:
            # The explorer's own state goes back to what the sliders show.
            plt.close(draw(**current))
        descriptions = {n: controls[n].description or n for n in states}
        return states_html(images, order, states, descriptions, current)

    return ExplorerBox(children, static_html)


_MARGINS = ("left", "right", "bottom", "top", "wspace", "hspace")


def fixed_layout(
    figure: Figure, layout: Mapping[str, float] | None, **tight: Any
) -> dict[str, float]:
    """Lay out `figure` as the first time: `tight_layout(**tight)` once, then its
    margins.

    An explorer redraws the same panels for every state; measuring the layout again each
    time would double the cost of a drawing. Returns the margins to pass next time.
    """
    if layout is None:
        figure.tight_layout(**tight)
        return {name: getattr(figure.subplotpars, name) for name in _MARGINS}
    figure.subplots_adjust(**layout)
    return dict(layout)
