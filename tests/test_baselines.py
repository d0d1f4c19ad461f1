import numpy as np
import pytest

from siamlab.boxes import iou
from siamlab.datasets import Sequence
from siamlab.trackers import NCCConfig, NCCTracker, StaticTracker, Tracker, track
from siamlab.trackers.registry import TRACKERS, make_tracker


def textured_sequence(n=12, step=(3.0, 2.0), size=(24, 18)):
    """A random-texture patch sliding over a flat grey background."""
    rng = np.random.default_rng(0)
    patch = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    boxes = np.array(
        [[40 + step[0] * i, 30 + step[1] * i, size[0], size[1]] for i in range(n)]
    )

    def load_frame(i):
        frame = np.full((120, 160, 3), 128, np.uint8)
        x, y = int(boxes[i, 0]), int(boxes[i, 1])
        frame[y : y + size[1], x : x + size[0]] = patch
        return frame

    return Sequence("slide", boxes, load_frame)


def test_static_tracker_repeats_the_first_box():
    sequence = textured_sequence()
    run = track(StaticTracker(), sequence, progress=False)
    np.testing.assert_allclose(
        run.boxes, np.tile(sequence.boxes[0], (len(sequence), 1))
    )


def test_ncc_follows_a_sliding_textured_patch():
    sequence = textured_sequence()
    run = track(NCCTracker(), sequence, progress=False)
    assert iou(run.boxes[-1], sequence.boxes[-1]) > 0.8


def test_ncc_response_is_a_correlation_map_and_its_score_the_peak():
    sequence = textured_sequence(n=2)
    tracker = NCCTracker()
    tracker.init(sequence.frame(0), sequence.boxes[0])
    result = tracker.update(sequence.frame(1))
    assert result.response.ndim == 2 and result.response.max() <= 1 + 1e-5
    assert (
        result.score == pytest.approx(result.response.max(), abs=1e-6)
        and result.score > 0.9
    )


def test_trackers_refuse_update_before_init():
    for tracker in (StaticTracker(), NCCTracker()):
        with pytest.raises(ValueError, match="init"):
            tracker.update(np.zeros((10, 10, 3), np.uint8))


def test_trackers_validate_the_initial_box():
    with pytest.raises(ValueError, match="box"):
        NCCTracker().init(np.zeros((10, 10, 3), np.uint8), [0, 0, 0, 5])


def test_ncc_config_rejects_bad_values():
    with pytest.raises(ValueError, match="search_factor"):
        NCCConfig(search_factor=1.0)
    with pytest.raises(ValueError, match="scales"):
        NCCConfig(scales=())


def test_baselines_satisfy_the_tracker_protocol():
    assert isinstance(StaticTracker(), Tracker) and isinstance(NCCTracker(), Tracker)


def test_registry_builds_trackers_by_name():
    assert {"static", "ncc"} <= set(TRACKERS)
    assert isinstance(make_tracker("ncc"), NCCTracker)
    assert isinstance(make_tracker("static", weights=None, device=None), StaticTracker)


def test_registry_rejects_unknown_names_and_arguments():
    with pytest.raises(ValueError, match="name must be one of"):
        make_tracker("siamxyz")
    with pytest.raises(ValueError, match="weights"):
        make_tracker("static", weights="model.pt")


def test_registry_passes_arguments_on_to_factories_that_take_them(monkeypatch):
    seen = {}

    def factory(weights=None, device=None):
        seen.update(weights=weights, device=device)
        return StaticTracker()

    monkeypatch.setitem(TRACKERS, "fake", factory)
    make_tracker("fake", weights="w.pt", device=None)
    assert seen == {"weights": "w.pt", "device": None}
