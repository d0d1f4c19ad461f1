import numpy as np
import pytest

from siamlab.datasets import Sequence
from siamlab.trackers import TrackResult, track


class ShiftingTracker:
    """A test double: moves its box one pixel right per frame."""

    name = "shift"

    def init(self, frame, box):
        self.box = np.asarray(box, dtype=float)

    def update(self, frame):
        self.box = self.box + [1, 0, 0, 0]
        return TrackResult(self.box.copy(), 0.5)


def make_sequence(n=5):
    boxes = np.array([[10.0 + i, 10, 5, 5] for i in range(n)])
    return Sequence(
        "toy", boxes, lambda i: np.zeros((32, 48, 3), np.uint8), attributes=("FM",)
    )


def test_track_returns_one_box_and_score_per_frame():
    run = track(ShiftingTracker(), make_sequence(), progress=False)
    np.testing.assert_allclose(run.boxes, make_sequence().boxes)
    np.testing.assert_allclose(run.scores, [1, 0.5, 0.5, 0.5, 0.5])
    assert run.fps > 0


def test_track_rejects_an_object_that_is_not_a_tracker():
    with pytest.raises(ValueError, match="tracker"):
        track(object(), make_sequence(), progress=False)


def test_sequence_validates_its_boxes_and_absence_flags():
    with pytest.raises(ValueError, match="boxes"):
        Sequence("bad", np.zeros((3, 3)), lambda i: None)
    with pytest.raises(ValueError, match="absent"):
        Sequence("bad", np.ones((3, 4)), lambda i: None, absent=np.zeros(2, bool))
    with pytest.raises(ValueError, match="first frame"):
        Sequence(
            "bad",
            np.ones((3, 4)),
            lambda i: None,
            absent=np.array([True, False, False]),
        )


def test_rows_with_nan_are_marked_absent():
    boxes = np.array([[0, 0, 1, 1], [np.nan] * 4, [0, 0, 1, 1]])
    sequence = Sequence("gap", boxes, lambda i: None)
    assert sequence.absent.tolist() == [False, True, False]


def test_frame_index_out_of_range_is_an_index_error():
    with pytest.raises(IndexError):
        make_sequence().frame(10)
