"""Tests of siamlab.boxes.nms against a brute-force reference."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siamlab.boxes import iou, nms


def reference_nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> list[int]:
    """Greedy NMS written as plainly as possible: visit boxes best first, keep unless
    overlapped."""
    order = sorted(range(len(boxes)), key=lambda i: (-scores[i], i))
    kept: list[int] = []
    for i in order:
        if all(iou(boxes[i], boxes[j]) <= threshold for j in kept):
            kept.append(i)
    return kept


def test_overlapping_lower_scored_box_is_suppressed():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 10, 10], [50, 50, 10, 10]], dtype=float)
    scores = np.array([0.9, 0.8, 0.1])
    np.testing.assert_array_equal(nms(boxes, scores, 0.5), [0, 2])
    np.testing.assert_array_equal(nms(boxes, scores, 0.95), [0, 1, 2])


def test_suppression_needs_iou_strictly_above_threshold():
    boxes = np.array(
        [[0, 0, 10, 10], [5, 0, 10, 10]], dtype=float
    )  # IoU = 50 / 150 = 1/3
    np.testing.assert_array_equal(nms(boxes, np.array([1.0, 0.5]), 1 / 3), [0, 1])
    np.testing.assert_array_equal(nms(boxes, np.array([1.0, 0.5]), 0.33), [0])


def test_kept_indices_come_in_decreasing_score_order_with_ties_by_index():
    boxes = np.array([[0, 0, 5, 5], [20, 0, 5, 5], [40, 0, 5, 5]], dtype=float)
    np.testing.assert_array_equal(nms(boxes, np.array([0.2, 0.7, 0.7]), 0.5), [1, 2, 0])


def test_empty_input_keeps_nothing():
    kept = nms(np.zeros((0, 4)), np.zeros(0), 0.5)
    assert kept.shape == (0,) and kept.dtype == np.int64


box = st.tuples(st.floats(0, 60), st.floats(0, 60), st.floats(1, 40), st.floats(1, 40))


@settings(max_examples=150, deadline=None)
@given(
    data=st.lists(st.tuples(box, st.floats(0, 1)), min_size=1, max_size=25),
    threshold=st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.7, 1.0]),
)
def test_nms_matches_the_brute_force_reference(data, threshold):
    boxes = np.array([b for b, _ in data], dtype=float)
    scores = np.array([s for _, s in data], dtype=float)
    assert nms(boxes, scores, threshold).tolist() == reference_nms(
        boxes, scores, threshold
    )


def test_kept_boxes_overlap_each_other_at_most_the_threshold():
    rng = np.random.default_rng(0)
    boxes = np.concatenate(
        [rng.uniform(0, 200, (300, 2)), rng.uniform(10, 60, (300, 2))], axis=1
    )
    kept = nms(boxes, rng.random(300), 0.4)
    pairwise = iou(boxes[kept][:, None], boxes[kept][None])
    np.fill_diagonal(pairwise, 0)
    assert pairwise.max() <= 0.4 and 1 < len(kept) < 300


@pytest.mark.parametrize(
    "boxes, scores, threshold",
    [
        (np.zeros((3, 4)), np.zeros(2), 0.5),
        (np.zeros((3, 3)), np.zeros(3), 0.5),
        (np.zeros((3, 4)), np.array([0.0, np.nan, 1.0]), 0.5),
        (np.zeros((3, 4)), np.zeros(3), 1.5),
    ],
)
def test_bad_input_raises_value_error(boxes, scores, threshold):
    with pytest.raises(ValueError):
        nms(boxes, scores, threshold)
