import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siamlab.datasets import Sequence
from siamlab.evaluation import (
    METRICS,
    SUCCESS_THRESHOLDS,
    format_table,
    frame_errors,
    precision_curve,
    run_benchmark,
    score_results,
    sequence_metrics,
    success_curve,
)
from siamlab.trackers import StaticTracker, TrackResult


def still_sequence(boxes, absent=None, attributes=("SV",), name="toy"):
    return Sequence(
        name,
        np.asarray(boxes, float),
        lambda i: np.zeros((40, 60, 3), np.uint8),
        absent=absent,
        attributes=attributes,
    )


def test_identical_boxes_score_perfectly_except_the_iou_above_one_threshold():
    boxes = np.tile([10.0, 10, 20, 10], (4, 1))
    metrics = sequence_metrics(boxes, still_sequence(boxes))
    assert metrics["success_auc"] == pytest.approx(
        20 / 21
    )  # IoU 1 is not above the threshold 1
    assert metrics["precision_20"] == metrics["norm_precision"] == 1
    assert metrics["ao"] == metrics["sr50"] == metrics["sr75"] == 1
    assert metrics["frames"] == 4  # OTB: the first frame counts too


def test_disjoint_boxes_have_zero_success_and_overlap():
    gt = np.tile([0.0, 0, 10, 10], (3, 1))
    pred = np.tile([100.0, 0, 10, 10], (3, 1))
    metrics = sequence_metrics(pred, still_sequence(gt), protocol="got10k")
    assert metrics["success_auc"] == metrics["ao"] == metrics["sr50"] == 0
    assert metrics["precision_20"] == 0 and metrics["norm_precision"] == 0
    # OTB scores the first frame as the given box: IoU 1 (20 of 21 thresholds), then
    # two misses: AUC = 20 / (21 * 3), AO = 1 / 3
    otb = sequence_metrics(pred, still_sequence(gt))
    assert otb["success_auc"] == pytest.approx(20 / 63)
    assert otb["ao"] == otb["sr50"] == otb["precision_20"] == pytest.approx(1 / 3)


def test_a_half_shifted_box_matches_the_hand_computed_scores():
    # IoU of (0,0,10,10) and (5,0,10,10) = 50 / 150; centre error 5 px; normalised 0.5
    overlaps, errors, normalized = frame_errors([[5.0, 0, 10, 10]], [[0.0, 0, 10, 10]])
    assert (
        overlaps[0] == pytest.approx(1 / 3)
        and errors[0] == 5
        and normalized[0] == pytest.approx(0.5)
    )
    curve = success_curve(overlaps)
    assert curve.tolist() == [1.0] * 7 + [0.0] * 14  # thresholds 0 … 0.30 are below 1/3
    assert np.mean(curve) == pytest.approx(1 / 3)
    precision = precision_curve(errors)
    assert precision[4] == 0 and precision[5] == 1  # "within" includes the threshold


def test_normalised_error_divides_by_the_ground_truth_size():
    _, errors, normalized = frame_errors([[10.0, 0, 20, 4]], [[0.0, 0, 20, 4]])
    assert errors[0] == 10 and normalized[0] == pytest.approx(0.5)


def test_invalid_predictions_count_as_misses():
    overlaps, errors, _ = frame_errors(
        [[np.nan] * 4, [0, 0, 0, 5]], [[0.0, 0, 10, 10]] * 2
    )
    assert overlaps.tolist() == [0, 0] and np.all(np.isinf(errors))


def test_absent_frames_do_not_count_whatever_the_prediction():
    gt = np.array([[0.0, 0, 10, 10], [0, 0, 10, 10], [np.nan] * 4, [0, 0, 10, 10]])
    sequence = still_sequence(gt, absent=[False, False, True, False])
    good = np.tile([0.0, 0, 10, 10], (4, 1))
    bad = good.copy()
    bad[2] = [200, 200, 5, 5]
    assert sequence_metrics(good, sequence) == sequence_metrics(bad, sequence)
    assert sequence_metrics(good, sequence)["frames"] == 3


def test_a_sequence_with_every_frame_absent_after_the_first_gives_nan_in_got10k():
    gt = np.array([[0.0, 0, 10, 10], [np.nan] * 4])
    pred = np.tile([0.0, 0, 10, 10], (2, 1))
    metrics = sequence_metrics(pred, still_sequence(gt), protocol="got10k")
    assert metrics["frames"] == 0 and np.isnan(metrics["ao"])
    assert np.isnan(metrics["success_auc"])
    assert sequence_metrics(pred, still_sequence(gt))["frames"] == 1  # OTB: frame 0


def test_sequence_metrics_rejects_a_wrong_number_of_boxes():
    with pytest.raises(ValueError, match="pred_boxes"):
        sequence_metrics(
            np.zeros((2, 4)), still_sequence(np.tile([0.0, 0, 5, 5], (3, 1)))
        )


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=30))
def test_success_curve_is_a_non_increasing_fraction(overlaps):
    curve = success_curve(overlaps)
    assert np.all(curve >= 0) and np.all(curve <= 1) and np.all(np.diff(curve) <= 0)
    assert curve[0] == np.mean(np.array(overlaps) > 0)


class MovingTarget:
    """A test double that reports the box one pixel to the right of the last one."""

    name = "mover"

    def init(self, frame, box):
        self.box = np.asarray(box, float)

    def update(self, frame):
        self.box = self.box + [1, 0, 0, 0]
        return TrackResult(self.box.copy(), 1.0)


def moving_sequences():
    right = np.array([[10.0 + i, 10, 10, 10] for i in range(6)])
    still = np.tile([10.0, 10, 10, 10], (6, 1))
    return [
        still_sequence(right, name="right", attributes=("FM",)),
        still_sequence(still, name="still", attributes=("FM", "SV")),
    ]


def test_run_benchmark_averages_sequences_and_breaks_down_by_attribute():
    table = run_benchmark(
        {"static": StaticTracker, "mover": MovingTarget()},
        moving_sequences(),
        progress=False,
    )
    static, mover = table["static"], table["mover"]
    assert set(METRICS) | {"fps", "sequences", "attributes", "success_curve"} <= set(
        static
    )
    assert (
        static["sequences"]["still"]["ao"] == 1
        and mover["sequences"]["right"]["ao"] == 1
    )
    assert static["ao"] == pytest.approx((1 + static["sequences"]["right"]["ao"]) / 2)
    assert (
        static["attributes"]["SV"]["ao"] == 1
        and static["attributes"]["SV"]["num_sequences"] == 1
    )
    assert static["attributes"]["FM"]["num_sequences"] == 2
    assert len(static["success_curve"]) == len(SUCCESS_THRESHOLDS)
    assert "static" in format_table(table) and "mover" in format_table(table)


def test_saved_results_are_one_based_and_score_back_the_same(tmp_path):
    sequences = moving_sequences()
    table = run_benchmark(
        {"mover": MovingTarget}, sequences, results_dir=tmp_path, progress=False
    )
    first_row = (tmp_path / "mover" / "right.txt").read_text().splitlines()[0]
    assert first_row == "11.0000,11.0000,10.0000,10.0000"
    scored = score_results(tmp_path / "mover", sequences)
    for key in METRICS:
        assert scored[key] == pytest.approx(table["mover"][key])
    assert scored["fps"] is None


def test_score_results_names_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="right"):
        score_results(tmp_path, moving_sequences())


def test_run_benchmark_rejects_something_that_is_not_a_tracker():
    with pytest.raises(ValueError, match="trackers"):
        run_benchmark({"x": 3}, moving_sequences(), progress=False)
