"""The distractor explorer: it records a plain run, redraws for any α̂, and renders
its precomputed states."""

import json
import re

import numpy as np
import pytest
from matplotlib.figure import Figure

from siamlab.datasets.synth import synth_test
from siamlab.models.siamrpn import load_siamrpn
from siamlab.shipped import shipped_weights
from siamlab.trackers.dasiamrpn import DaSiamRPNTracker
from siamlab.widgets import dasiamrpn as wd

WEIGHTS = (0.0, 1.0, 2.0)


@pytest.fixture(scope="module")
def setup():
    sequence = synth_test(1)[0]  # synth-test-000 has semantic distractors ("SD")
    tracker = DaSiamRPNTracker(load_siamrpn(shipped_weights("siamrpn_tiny.pt")))
    explorer = wd.DistractorExplorer(
        tracker, sequence, weights=WEIGHTS, length=30, max_frames=3
    )
    return tracker, sequence, explorer


def test_recorded_frames_remember_distractors(setup):
    _, _, explorer = setup
    assert len(explorer.records) == 3
    assert all(np.any(r.distractor_logits) for r in explorer.records.values())


def test_weight_zero_is_the_plain_map(setup):
    tracker, sequence, explorer = setup
    record = explorer.records[explorer.values["frame"]]
    plain = 1 / (1 + np.exp(-record.target_logits))
    np.testing.assert_allclose(
        record.score_map(0.0), plain.reshape(5, record.score_size, -1).max(axis=0)
    )
    assert not np.allclose(record.score_map(2.0), record.score_map(0.0))


def test_the_first_frame_matches_a_plain_tracker_step(setup):
    tracker, sequence, _ = setup
    record = wd.record_frames(tracker, sequence, frames=[1], length=2)[0]
    plain = tracker.with_params(distractor_weight=0.0)
    plain.init(sequence.frame(0), sequence.boxes[0])
    step = plain.step(sequence.frame(1))
    np.testing.assert_array_equal(record.crop, step.crop)
    np.testing.assert_allclose(
        record.score_map(0.0), step.maps(step.plain_scores).max(axis=0), atol=1e-6
    )


def test_figure_and_explorer_draw(setup):
    _, _, explorer = setup
    record = explorer.records[explorer.values["frame"]]
    figure = wd.plot_distractor_maps(record, 1.0)
    assert isinstance(figure, Figure) and len(figure.axes) == 3
    assert "α̂ = 1" in figure.axes[2].get_title()
    assert explorer.update(weight=2.0) is explorer.figure
    with pytest.raises(ValueError, match="frame"):
        explorer.update(frame=-1)
    with pytest.raises(ValueError, match="unknown"):
        explorer.update(alpha=1.0)


def test_static_html_holds_every_state(setup):
    _, _, explorer = setup
    html = explorer.widget().static_html()
    data = json.loads(re.search(r"data = (\{.*?\});", html).group(1))
    assert data["sizes"] == [3, len(WEIGHTS)]
    assert len(data["order"]) == 3 * len(WEIGHTS)
    assert len(data["images"]) > 3  # the α̂ = 0 states differ from the others
    assert len(html) < 600_000
