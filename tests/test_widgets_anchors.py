"""Tests of siamlab.widgets.anchors: the anchor explorer redraws from slider values
without a browser."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from siamlab import anchors  # noqa: E402
from siamlab.widgets.anchors import AnchorExplorer  # noqa: E402


@pytest.fixture
def explorer() -> AnchorExplorer:
    crop = np.full((255, 255, 3), 120, dtype=np.uint8)
    return AnchorExplorer(
        crop, gt_box=(127.5, 127.5, 64.0, 64.0), shapes=anchors.anchor_shapes()
    )


def _legend_texts(explorer: AnchorExplorer) -> list[str]:
    return [t.get_text() for t in explorer.figure.axes[0].get_legend().get_texts()]


def test_default_state_shows_the_centre_position_and_middle_shape(explorer):
    figure = explorer.update()
    assert explorer.values == {
        "row": 8,
        "col": 8,
        "shape": 2,
        "positive": 0.6,
        "negative": 0.3,
    }
    texts = _legend_texts(explorer)
    assert "▶ 64×64: IoU 1.00, positive" in texts and len(texts) == 1 + 5
    assert "row 8, column 8" in figure.axes[0].get_title()


def test_iou_of_each_anchor_matches_the_library(explorer):
    explorer.update(row=8, col=9)
    index = anchors.indices_at(8, 9, 17, 5)[2]
    expected = anchors.iou_matrix(
        np.array([[127.5, 127.5, 64, 64]]), explorer.anchors[index][None]
    )[0, 0]
    assert f"IoU {expected:.2f}" in _legend_texts(explorer)[3]


def test_thresholds_change_the_labels(explorer):
    explorer.update(
        row=8, col=9, shape=2, positive=0.6, negative=0.3
    )  # IoU 0.78 → positive
    assert _legend_texts(explorer)[3].endswith("positive")
    explorer.update(positive=0.9, negative=0.8)
    assert _legend_texts(explorer)[3].endswith("negative")
    explorer.update(positive=0.9, negative=0.5)
    assert _legend_texts(explorer)[3].endswith("ignored")


def test_counts_in_the_title_follow_the_thresholds(explorer):
    labels = explorer.labels(0.6, 0.3)
    explorer.update(positive=0.6, negative=0.3)
    assert f"{(labels == 1).sum()} positive" in explorer.figure.axes[1].get_title()


@pytest.mark.parametrize(
    "values",
    [
        {"row": 17},
        {"col": -1},
        {"shape": 5},
        {"positive": 0.2, "negative": 0.3},
        {"size": 3},
    ],
)
def test_bad_values_raise_value_error(explorer, values):
    with pytest.raises(ValueError):
        explorer.update(**values)


def test_widget_sliders_drive_update(explorer):
    box = explorer.widget()
    sliders = box.children[0].children
    assert [s.description for s in sliders] == [
        "row",
        "column",
        "shape",
        "IoU >",
        "IoU <",
    ]
    sliders[0].value = 3
    assert explorer.values["row"] == 3
    sliders[
        3
    ].value = 0.2  # positive below negative: the negative threshold follows it down
    assert (
        explorer.values["negative"] <= explorer.values["positive"] == pytest.approx(0.2)
    )


def test_default_state_starts_at_the_best_anchor():
    crop = np.zeros((255, 255, 3), dtype=np.uint8)
    gt_box = (
        127.5 + 16,
        127.5 - 8,
        88.0,
        40.0,
    )  # exactly the 88×40 anchor at row 7, column 10
    explorer = AnchorExplorer(crop, gt_box=gt_box, shapes=anchors.anchor_shapes())
    assert (
        explorer.values["row"],
        explorer.values["col"],
        explorer.values["shape"],
    ) == (7, 10, 1)
    explorer.update()
    assert "▶ 88×40: IoU 1.00, positive" in _legend_texts(explorer)
