"""Tests of siamlab.widgets.static: explorers over precomputed states, no kernel."""

import base64
import re

import matplotlib

matplotlib.use("Agg")

import ipywidgets as widgets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from siamlab.viz.tracking import offline_player  # noqa: E402
from siamlab.widgets.static import (  # noqa: E402
    ExplorerBox,
    check_states,
    explorer,
    figure_jpeg,
    render_states,
    states_html,
)

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def draw_line(slope: int, width: float = 1.0) -> Figure:
    figure = Figure(figsize=(2, 1.5))
    ax = figure.subplots()
    ax.plot([0, 1], [0, slope], linewidth=width)
    ax.set_ylim(-1, 4)
    return figure


def make_explorer(states: dict) -> ExplorerBox:
    controls = {
        "slope": widgets.IntSlider(value=1, min=0, max=3, description="slope"),
        "width": widgets.FloatSlider(value=1.0, min=0.5, max=4, description="width"),
    }
    return explorer(draw_line, controls, states, dpi=40)


def images_of(html: str) -> list[bytes]:
    data = re.search(r'"images": (\[[^\]]*\])', html).group(1)
    return [base64.b64decode(s) for s in re.findall(r'"([A-Za-z0-9+/=]+)"', data)]


def test_figure_jpeg_is_a_jpeg_of_the_requested_size():
    figure = draw_line(1)
    jpeg = figure_jpeg(figure, dpi=50)
    assert jpeg[:3] == b"\xff\xd8\xff"
    assert figure.dpi == 100  # the figure's own resolution is restored
    import io

    from PIL import Image

    assert Image.open(io.BytesIO(jpeg)).size == (100, 75)


def test_html_holds_one_image_per_distinct_state():
    box = make_explorer({"slope": [0, 1, 2], "width": [1.0, 3.0]})
    html = box.static_html()
    images = images_of(html)
    assert len(images) == 6 and len(set(images)) == 6
    assert all(image[:3] == b"\xff\xd8\xff" for image in images)
    assert html.count('type="range"') == 2
    assert '"order": [0, 1, 2, 3, 4, 5]' in html


def test_equal_drawings_are_stored_once():
    images, order = render_states(lambda slope: draw_line(0), {"slope": [0, 1, 2]})
    assert len(images) == 1 and order == [0, 0, 0]


def test_html_is_self_contained():
    html = make_explorer({"slope": [0, 1]}).static_html()
    assert "http://" not in html and "https://" not in html
    assert " src=" not in html.replace(' src="data:image/jpeg;base64,', "")
    assert "<script>" in html and "<script src" not in html
    assert "getElementById" in html


def test_initial_state_is_the_controls_state():
    box = make_explorer({"slope": [0, 1, 2, 3]})
    html = box.static_html()
    assert re.search(r'max="3" step="1" value="1"', html)
    shown = re.search(r'<img[^>]* src="data:image/jpeg;base64,([^"]+)"', html).group(1)
    assert base64.b64decode(shown) == images_of(html)[1]


def test_mime_bundle_holds_the_live_widget_and_the_static_html():
    box = make_explorer({"slope": [0, 1]})
    bundle = box._repr_mimebundle_()
    assert WIDGET_VIEW in bundle and bundle[WIDGET_VIEW]["model_id"] == box.model_id
    assert bundle["text/html"].startswith('<div class="siamlab-explorer"')


def test_static_states_are_drawn_lazily_and_leave_the_live_state_alone():
    calls = []

    def draw(slope: int) -> Figure:
        calls.append(slope)
        return draw_line(slope)

    slider = widgets.IntSlider(value=2, min=0, max=3)
    box = explorer(draw, {"slope": slider}, {"slope": [0, 1, 3]}, dpi=30)
    assert calls == [2]  # the live figure only
    box.static_html()
    assert calls == [2, 0, 1, 3, 2]  # the states, then the sliders' state again
    box.static_html()
    assert len(calls) == 5
    slider.value = 1
    assert calls[-1] == 1


def test_pyplot_figures_are_released():
    before = len(plt.get_fignums())

    def draw(slope: int) -> Figure:
        figure, ax = plt.subplots(figsize=(2, 1.5))
        ax.plot([0, 1], [0, slope])
        return figure

    explorer(
        draw, {"slope": widgets.IntSlider(1, 0, 3)}, {"slope": [0, 1]}
    ).static_html()
    assert len(plt.get_fignums()) == before


@pytest.mark.parametrize(
    "states, match",
    [
        ({}, "at least one"),
        ({"slope": []}, "non-empty"),
        ({"slope": "012"}, "non-empty"),
        ({"zoom": [1, 2]}, "not controls"),
        ({"slope": list(range(30)), "width": list(range(30))}, "max_states"),
    ],
)
def test_bad_states_raise_value_error(states, match):
    with pytest.raises(ValueError, match=match):
        make_explorer(states)


def test_bad_arguments_raise_value_error():
    with pytest.raises(ValueError, match="dpi"):
        figure_jpeg(draw_line(1), dpi=0)
    with pytest.raises(ValueError, match="quality"):
        figure_jpeg(draw_line(1), quality=100)
    with pytest.raises(ValueError, match="keyword"):
        check_states({"not a name": [1]})
    with pytest.raises(ValueError, match="order"):
        states_html([b"x"], [0, 1], {"slope": [0]})


def test_animation_player_requests_nothing_outside_the_page():
    html = (
        '<link rel="stylesheet"\nhref="https://maxcdn.bootstrapcdn.com/font-awesome/'
        '4.4.0/css/font-awesome.min.css">\n<button><i class="fa fa-play"></i></button>'
        '<button><i class="fa fa-play fa-flip-horizontal"></i></button>'
    )
    cleaned = offline_player(html)
    assert "http" not in cleaned and "fa-" not in cleaned
    assert "&#9654;" in cleaned and "&#9664;" in cleaned
