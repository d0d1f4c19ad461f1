"""Tests of siamlab.anchors: shapes, the grid's order and geometry, encode/decode,
target assignment."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from siamlab import anchors

SIAMRPN = np.array([[104, 32], [88, 40], [64, 64], [40, 80], [32, 96]], dtype=float)


@pytest.fixture(scope="module")
def grid() -> np.ndarray:
    return anchors.anchor_grid(17, 8, anchors.anchor_shapes())


def test_siamrpn_shapes_follow_the_reference_convention():
    np.testing.assert_array_equal(
        anchors.anchor_shapes(8, (0.33, 0.5, 1, 2, 3), (8,)), SIAMRPN
    )


def test_faster_rcnn_has_nine_shapes_with_areas_near_128_256_512_squared():
    shapes = anchors.anchor_shapes(
        16, anchors.FASTER_RCNN_RATIOS, anchors.FASTER_RCNN_SCALES
    )
    assert shapes.shape == (9, 2)
    np.testing.assert_array_equal(shapes[3:6], [[128, 128], [256, 256], [512, 512]])
    sides = np.sqrt(shapes.prod(axis=1)).reshape(3, 3)  # ratio-major: rows are ratios
    np.testing.assert_allclose(sides, [[128, 256, 512]] * 3, rtol=0.04)


def test_faster_rcnn_rounding_gives_the_reference_anchors():
    # py-faster-rcnn's generate_anchors: widths and heights rounded to whole pixels.
    shapes = anchors.anchor_shapes(
        16, anchors.FASTER_RCNN_RATIOS, anchors.FASTER_RCNN_SCALES, rounding="round"
    )
    expected = [[184, 96], [368, 192], [736, 384], [128, 128], [256, 256], [512, 512]]
    expected += [[88, 176], [176, 352], [352, 704]]
    np.testing.assert_array_equal(shapes, expected)


def test_truncation_and_rounding_differ_only_where_the_fraction_is_large():
    kwargs = dict(stride=16, ratios=(0.5,), scales=(1.0,))
    np.testing.assert_array_equal(anchors.anchor_shapes(**kwargs), [[22, 11]])
    np.testing.assert_array_equal(
        anchors.anchor_shapes(**kwargs, rounding="round"), [[23, 12]]
    )


def test_unknown_rounding_raises_value_error():
    with pytest.raises(ValueError, match="rounding"):
        anchors.anchor_shapes(rounding="ceil")


def test_shapes_are_ratio_major_over_scales():
    shapes = anchors.anchor_shapes(8, (1.0, 2.0), (1.0, 2.0))
    np.testing.assert_array_equal(shapes, [[8, 8], [16, 16], [5, 10], [10, 20]])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"ratios": ()},
        {"ratios": (0.5, 0.0)},
        {"ratios": (-1.0,)},
        {"scales": ()},
        {"scales": (0.0,)},
        {"stride": 0},
        {"stride": 2.5},
        {"ratios": (0.001,)},  # height rounds down to 0 pixels
    ],
)
def test_bad_shape_arguments_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        anchors.anchor_shapes(**{"stride": 8, **kwargs})


def test_grid_has_k_times_s_squared_anchors(grid):
    assert grid.shape == (5 * 17 * 17, 4) == (1445, 4)


def test_grid_centre_anchor_sits_at_the_crop_centre(grid):
    centre = grid[anchors.indices_at(8, 8, 17, 5)]
    np.testing.assert_array_equal(centre[:, :2], 0.0)
    np.testing.assert_array_equal(centre[:, 2:], SIAMRPN)
    absolute = anchors.anchor_grid(17, 8, SIAMRPN, center=(127.5, 127.5))
    np.testing.assert_array_equal(absolute[anchors.indices_at(8, 8, 17, 5), :2], 127.5)


def test_grid_is_anchor_major_with_positions_row_by_row(grid):
    s = 17
    assert np.all(grid[: s * s, 2:] == SIAMRPN[0])
    assert np.all(grid[s * s : 2 * s * s, 2:] == SIAMRPN[1])
    # index a·S·S + row·S + col is column col (x) and row row (y)
    a, row, col = 3, 2, 11
    np.testing.assert_array_equal(
        grid[a * s * s + row * s + col], [(col - 8) * 8, (row - 8) * 8, 40, 80]
    )


def test_even_score_map_is_centred_between_positions():
    grid = anchors.anchor_grid(4, 8, [[10, 10]])
    np.testing.assert_array_equal(np.unique(grid[:, 0]), [-12, -4, 4, 12])


def test_per_anchor_rows_follow_the_grid_order():
    k, s = 5, 17
    cls = torch.arange(2 * k * s * s, dtype=torch.float32).reshape(1, 2 * k, s, s)
    rows = anchors.per_anchor(cls, 2)
    assert rows.shape == (1, k * s * s, 2)
    a, row, col = 4, 3, 7
    index = anchors.indices_at(row, col, s, k)[a]
    for c in range(2):  # channel c·k + a holds component c of shape a
        assert rows[0, index, c] == cls[0, c * k + a, row, col]
    reg = torch.randn(2, 4 * k, s, s)
    assert torch.equal(
        anchors.per_anchor(reg, 4)[1, index],
        reg[1, [c * k + a for c in range(4)], row, col],
    )


def test_per_anchor_rejects_channels_that_do_not_divide():
    with pytest.raises(ValueError, match="components"):
        anchors.per_anchor(torch.zeros(1, 10, 5, 5), 4)
    with pytest.raises(ValueError, match="output"):
        anchors.per_anchor(torch.zeros(10, 5, 5), 2)


def test_iou_matrix_of_cxcywh_boxes_matches_hand_computation():
    a = np.array([[5.0, 5.0, 10.0, 10.0]])
    b = np.array(
        [[5.0, 5.0, 10.0, 10.0], [10.0, 5.0, 10.0, 10.0], [50.0, 50.0, 4.0, 4.0]]
    )
    np.testing.assert_allclose(anchors.iou_matrix(a, b), [[1.0, 50 / 150, 0.0]])


def test_encode_hand_computed():
    box = np.array([12.0, 4.0, 128.0, 32.0])
    anchor = np.array([4.0, 8.0, 64.0, 64.0])
    np.testing.assert_allclose(
        anchors.encode(box, anchor), [0.125, -0.0625, np.log(2), np.log(0.5)]
    )


finite = st.floats(-200, 200, allow_nan=False)
size = st.floats(1, 400, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    box=st.tuples(finite, finite, size, size),
    anchor=st.tuples(finite, finite, size, size),
)
def test_decode_inverts_encode(box, anchor):
    np.testing.assert_allclose(
        anchors.decode(anchors.encode(box, anchor), anchor), box, rtol=1e-9, atol=1e-9
    )


@settings(max_examples=200, deadline=None)
@given(
    deltas=st.tuples(*[st.floats(-3, 3)] * 4),
    anchor=st.tuples(finite, finite, size, size),
)
def test_encode_inverts_decode(deltas, anchor):
    np.testing.assert_allclose(
        anchors.encode(anchors.decode(deltas, anchor), anchor), deltas, atol=1e-9
    )


def test_encode_of_a_zero_size_box_raises_value_error():
    with pytest.raises(ValueError, match="boxes"):
        anchors.encode([0, 0, 0, 10], [0, 0, 8, 8])
    with pytest.raises(ValueError, match="anchors"):
        anchors.decode([0, 0, 0, 0], [0, 0, 8, 0])


def _random_boxes(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-80, 80, size=(n, 2))
    sizes = np.exp(rng.uniform(np.log(16), np.log(200), size=(n, 2)))
    return np.concatenate([centres, sizes], axis=1)


def test_assignment_respects_thresholds_and_sampling_caps_on_many_boxes(grid):
    gts = _random_boxes(300, seed=1)
    t = anchors.assign_targets(
        grid, gts, positive=0.6, negative=0.3, num_positive=16, num_total=64, rng=0
    )
    overlap = anchors.iou_matrix(gts, grid)
    np.testing.assert_allclose(t.iou, overlap)
    assert np.all(overlap[t.labels == 1] > 0.6) and np.all(overlap[t.labels == 0] < 0.3)
    positives, negatives = (t.labels == 1).sum(1), (t.labels == 0).sum(1)
    assert positives.max() == 16 and np.all(positives + negatives <= 64)
    # sampling only drops anchors when there are more candidates than room
    available_pos = (overlap > 0.6).sum(1)
    available_neg = (overlap < 0.3).sum(1)
    np.testing.assert_array_equal(positives, np.minimum(available_pos, 16))
    np.testing.assert_array_equal(negatives, np.minimum(available_neg, 64 - positives))
    assert set(np.unique(t.labels)) <= {-1, 0, 1}


def test_regression_weights_are_one_over_positives_on_positives_only(grid):
    gts = _random_boxes(100, seed=2)
    t = anchors.assign_targets(grid, gts, rng=3)
    positives = (t.labels == 1).sum(1)
    assert np.all(t.weights[t.labels != 1] == 0)
    has = positives > 0
    np.testing.assert_allclose(t.weights.sum(1)[has], 1.0, rtol=1e-6)
    np.testing.assert_allclose(t.weights.max(1)[has], 1.0 / positives[has], rtol=1e-6)
    np.testing.assert_allclose(
        t.deltas, anchors.encode(gts[:, None], grid[None]), rtol=1e-5, atol=1e-6
    )


def test_single_box_and_batch_give_the_same_kind_of_result(grid):
    gt = np.array([4.0, -6.0, 60.0, 70.0])
    t = anchors.assign_targets(grid, gt, rng=5)
    assert t.labels.shape == t.weights.shape == t.iou.shape == (
        1445,
    ) and t.deltas.shape == (1445, 4)
    assert t.labels.dtype == np.int64 and t.deltas.dtype == np.float32
    assert 0 < (t.labels == 1).sum() <= 16


def test_sampling_is_random_but_repeatable_with_a_seed(grid):
    gt = np.array([0.0, 0.0, 64.0, 64.0])
    first, again = (
        anchors.assign_targets(grid, gt, rng=7),
        anchors.assign_targets(grid, gt, rng=7),
    )
    other = anchors.assign_targets(grid, gt, rng=8)
    np.testing.assert_array_equal(first.labels, again.labels)
    assert not np.array_equal(first.labels, other.labels)


def test_negative_pairs_get_no_positives_and_only_central_negatives(grid):
    gt = np.array([0.0, 0.0, 64.0, 64.0])
    t = anchors.assign_targets(grid, gt, negative_pair=True, rng=0)
    assert not np.any(t.labels == 1) and np.all(t.weights == 0)
    chosen = grid[t.labels == 0]
    assert len(chosen) == 64 - 16
    assert np.all(np.abs(chosen[:, :2]) <= 24)


def test_negative_pair_flags_apply_per_box(grid):
    gts = np.array([[0.0, 0.0, 64.0, 64.0]] * 2)
    t = anchors.assign_targets(grid, gts, negative_pair=[True, False], rng=0)
    assert (t.labels[0] == 1).sum() == 0 and (t.labels[1] == 1).sum() > 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"gt_box": [0, 0, 0, 10]},
        {"gt_box": [0, 0, 10]},
        {"positive": 0.2, "negative": 0.3},
        {"num_positive": 65},
        {"negative": -0.1},
        {"negative_pair": [True, False]},
    ],
)
def test_bad_assignment_arguments_raise_value_error(grid, kwargs):
    with pytest.raises(ValueError):
        anchors.assign_targets(grid, **{"gt_box": [0, 0, 64, 64], **kwargs})


def test_bad_grid_arguments_raise_value_error():
    with pytest.raises(ValueError, match="score_size"):
        anchors.anchor_grid(0, 8, SIAMRPN)
    with pytest.raises(ValueError, match="shapes"):
        anchors.anchor_grid(17, 8, [[10.0, 0.0]])
    with pytest.raises(ValueError, match="shapes"):
        anchors.anchor_grid(17, 8, np.zeros((0, 2)))
    with pytest.raises(ValueError, match="row"):
        anchors.indices_at(17, 0, 17, 5)
