import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from siamlab import boxes as B

coordinate = st.floats(-500, 500, allow_nan=False, width=64)
size = st.floats(0.01, 300, allow_nan=False, width=64)
box = st.tuples(coordinate, coordinate, size, size)


def test_conversions_of_a_hand_computed_box():
    xywh = np.array([10.0, 20.0, 30.0, 40.0])
    np.testing.assert_allclose(B.xywh_to_cxcywh(xywh), [25, 40, 30, 40])
    np.testing.assert_allclose(B.xywh_to_corners(xywh), [10, 20, 40, 60])
    np.testing.assert_allclose(B.cxcywh_to_corners([25, 40, 30, 40]), [10, 20, 40, 60])
    np.testing.assert_allclose(B.corners_to_cxcywh([10, 20, 40, 60]), [25, 40, 30, 40])


@given(box)
def test_xywh_cxcywh_round_trip(b):
    np.testing.assert_allclose(B.cxcywh_to_xywh(B.xywh_to_cxcywh(b)), b, atol=1e-9)


@given(box)
def test_xywh_corners_round_trip(b):
    np.testing.assert_allclose(B.corners_to_xywh(B.xywh_to_corners(b)), b, atol=1e-9)


def test_iou_of_identical_boxes_is_one():
    assert B.iou([1, 2, 3, 4], [1, 2, 3, 4]) == pytest.approx(1.0)


def test_iou_of_disjoint_boxes_is_zero():
    assert B.iou([0, 0, 10, 10], [10, 0, 10, 10]) == 0.0
    assert B.iou([0, 0, 10, 10], [50, 50, 1, 1]) == 0.0


def test_iou_hand_computed():
    # overlap 5x5 = 25, union 100 + 100 - 25 = 175
    assert B.iou([0, 0, 10, 10], [5, 5, 10, 10]) == pytest.approx(25 / 175)
    # a box inside another: 4 / 100
    assert B.iou([0, 0, 10, 10], [2, 2, 2, 2]) == pytest.approx(0.04)


def test_iou_of_two_empty_boxes_is_zero_not_nan():
    assert B.iou([0, 0, 0, 0], [0, 0, 0, 0]) == 0.0


@given(box, box)
def test_iou_is_symmetric_and_bounded(a, b):
    value = B.iou(a, b)
    assert 0.0 <= value <= 1.0 + 1e-12
    assert value == pytest.approx(B.iou(b, a))


def test_iou_matrix_matches_elementwise_iou():
    rng = np.random.default_rng(0)
    a = np.c_[rng.uniform(0, 50, (5, 2)), rng.uniform(1, 30, (5, 2))]
    b = np.c_[rng.uniform(0, 50, (7, 2)), rng.uniform(1, 30, (7, 2))]
    matrix = B.iou_matrix(a, b)
    assert matrix.shape == (5, 7)
    for i in range(5):
        for j in range(7):
            assert matrix[i, j] == pytest.approx(B.iou(a[i], b[j]))


def test_iou_matrix_needs_two_dimensional_inputs():
    with pytest.raises(ValueError, match="shape"):
        B.iou_matrix([0, 0, 1, 1], [[0, 0, 1, 1]])


def test_center_error_hand_computed():
    assert B.center_error([0, 0, 10, 10], [3, 4, 10, 10]) == pytest.approx(5.0)
    np.testing.assert_allclose(
        B.center_error([[0, 0, 2, 2]] * 2, [[0, 0, 2, 2], [0, 0, 4, 4]]),
        [0, np.sqrt(2)],
    )


@pytest.mark.parametrize(
    "bad, message",
    [
        ([1, 2, 3], "shape"),
        ([0, 0, -1, 5], "non-negative"),
        ([0, np.nan, 1, 1], "finite"),
        ("abcd", "numeric"),
    ],
)
def test_bad_boxes_are_rejected_with_the_argument_name(bad, message):
    with pytest.raises(ValueError, match=message):
        B.as_boxes(bad, "box")


def test_positive_check_rejects_zero_sizes():
    with pytest.raises(ValueError, match="positive"):
        B.as_boxes([0, 0, 0, 5], "box", positive=True)


def test_corners_with_x2_before_x1_are_rejected():
    with pytest.raises(ValueError, match="non-negative"):
        B.corners_to_xywh([10, 0, 5, 5])


def test_clip_keeps_a_box_inside_the_frame():
    clipped = B.clip_to_frame([-100, 50, 20, 20], (100, 200, 3))
    cx, cy, w, h = B.xywh_to_cxcywh(clipped)
    assert (cx, cy, w, h) == (0, 60, 20, 20)


def test_clip_caps_size_at_the_frame_and_floors_it():
    # centre (250, 0.05) is pulled to (200, 0.05); size (500, 0.1) becomes (200, 1)
    np.testing.assert_allclose(
        B.clip_to_frame([0, 0, 500, 0.1], (100, 200)), [100, -0.45, 200, 1]
    )


def test_clip_rejects_a_bad_frame_shape():
    with pytest.raises(ValueError, match="frame_shape"):
        B.clip_to_frame([0, 0, 1, 1], (0, 10))
