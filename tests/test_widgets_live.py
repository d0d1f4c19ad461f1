import ipywidgets as widgets
import matplotlib.pyplot as plt
import pytest

from siamlab.widgets.live import figure_png, live_figure


def draw_line(slope):
    figure, ax = plt.subplots()
    ax.plot([0, 1], [0, slope])
    ax.set_title(f"slope {slope}")
    return figure


def test_figure_png_is_a_png_image():
    figure = draw_line(1)
    assert figure_png(figure).startswith(b"\x89PNG")
    plt.close(figure)


def test_moving_a_control_redraws_the_image():
    slider = widgets.IntSlider(value=1, min=0, max=5)
    box = live_figure(draw_line, {"slope": slider})
    image = box.children[1]
    first = bytes(image.value)
    assert first.startswith(b"\x89PNG")
    slider.value = 4
    assert bytes(image.value) != first


def test_drawn_figures_are_released_from_pyplot():
    before = len(plt.get_fignums())
    slider = widgets.IntSlider(value=1, min=0, max=5)
    live_figure(draw_line, {"slope": slider})
    slider.value = 2
    slider.value = 3
    assert len(plt.get_fignums()) == before


def test_horizontal_layout_puts_controls_beside_the_figure():
    box = live_figure(
        draw_line, {"slope": widgets.IntSlider(value=1)}, layout="horizontal"
    )
    assert isinstance(box, widgets.HBox) and isinstance(box.children[0], widgets.VBox)
    with pytest.raises(ValueError, match="layout"):
        live_figure(draw_line, {"slope": widgets.IntSlider(value=1)}, layout="diagonal")
