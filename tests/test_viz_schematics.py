"""Tests of siamlab.viz.schematics: every schematic draws, with its title and shapes."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.patches import Rectangle

from siamlab.viz import schematics


def _texts(fig) -> str:
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts)


@pytest.mark.parametrize(
    "draw, expected",
    [
        (schematics.tracking_loop, "tracker.update"),
        (lambda: schematics.siamese_network((1, 8, 8), 16), "16 numbers"),
        (
            lambda: schematics.siamfc_pipeline(
                (3, 127, 127), (3, 255, 255), (64, 6, 6), (64, 22, 22), 17, 16
            ),
            "272×272",
        ),
        (lambda: schematics.rpn_head((512, 38, 63), 512, 9), "cls 18×38×63"),
    ],
)
def test_schematic_has_a_title_and_shows_its_shapes(draw, expected):
    fig = draw()
    assert fig.axes[0].get_title()
    assert expected in _texts(fig)
    plt.close(fig)


def test_context_figure_draws_the_padded_box_and_equal_area_square():
    w, h = 60.0, 30.0
    fig = schematics.context_figure(
        np.zeros((200, 300, 3), np.uint8), (100, 80, w, h), 127, 255
    )
    rects = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    sizes = [(r.get_width(), r.get_height()) for r in rects]
    p = (w + h) / 4
    assert sizes[0] == (w, h) and sizes[1] == (w + 2 * p, h + 2 * p)
    side = sizes[2][0]
    assert side**2 == pytest.approx((w + 2 * p) * (h + 2 * p))
    assert sizes[3][0] == pytest.approx(side * 255 / 127)
    plt.close(fig)
