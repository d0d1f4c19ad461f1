"""The scoring protocols on small hand-made cases whose numbers are worked out by hand.

Conventions (see `siamlab.evaluation`): success = fraction of frames with IoU strictly
above each of the 21 thresholds 0, 0.05, … 1, so a frame of IoU 1 passes 20, of IoU 1/3
passes 7 (0 … 0.30) and of IoU 0.5 passes 10 (0 … 0.45); AUC = mean of the curve.
"""

import json
import math

import numpy as np
import pytest
from PIL import Image

from siamlab.cli import main
from siamlab.datasets import Sequence, load_dataset
from siamlab.datasets.formats import polygon_box, read_vot, write_boxes
from siamlab.evaluation import (
    frame_errors,
    resolve_protocol,
    run_benchmark,
    score_results,
    sequence_metrics,
    summarize,
)
from siamlab.trackers import StaticTracker

BOX = [10.0, 10, 10, 10]
FAR = [40.0, 25, 10, 10]  # disjoint from BOX, centre 33.5 px away
SHIFT = [15.0, 10, 10, 10]  # half a width to the right: IoU 50 / 150 = 1/3, 5 px


def blank(i):
    return np.zeros((40, 60, 3), np.uint8)  # W = 60, H = 40


def still(length, absent=None, name="toy", **kwargs):
    boxes = np.tile(BOX, (length, 1))
    if absent is not None:
        boxes[np.asarray(absent)] = np.nan
    return Sequence(name, boxes, blank, absent=absent, **kwargs)


def test_sequences_carry_the_protocol_of_their_reader_and_synthtrack_is_otb():
    assert still(2).protocol == "otb"
    assert still(2, metadata={"format": "got10k"}).protocol == "got10k"
    assert still(2, metadata={"format": "lasot"}).protocol == "lasot"
    assert still(2, metadata={"format": "vot"}).protocol == "otb"
    assert load_dataset("synth-test", 1)[0].protocol == "otb"
    assert still(2, protocol="lasot").protocol == "lasot"
    with pytest.raises(ValueError, match="protocol"):
        still(2, protocol="vot")


def test_mixed_protocols_need_an_explicit_choice():
    mixed = [still(2, name="a"), still(2, name="b", protocol="got10k")]
    with pytest.raises(ValueError, match="mix the protocols"):
        resolve_protocol(mixed)
    assert resolve_protocol(mixed, "lasot") == "lasot"
    with pytest.raises(ValueError, match="protocol must be one of"):
        resolve_protocol(mixed, "OTB")


# 4 frames; the prediction of frame 0 is wrong on purpose (the OTB and LaSOT toolkits
# replace it by the ground truth), then IoU 1, 1/3 and 0.
PRED = np.array([FAR, BOX, SHIFT, FAR])


def test_otb_counts_every_frame_including_the_first():
    metrics = sequence_metrics(PRED, still(4))
    # frames 0..3 pass 20, 20, 7, 0 thresholds: AUC = 47 / (21 * 4)
    assert metrics["frames"] == 4
    assert metrics["success_auc"] == pytest.approx(47 / 84)
    assert metrics["ao"] == pytest.approx((1 + 1 + 1 / 3 + 0) / 4)
    assert metrics["sr50"] == pytest.approx(2 / 4)
    # centre errors 0, 0, 5, 33.5: three within 20 pixels
    assert metrics["precision_20"] == pytest.approx(3 / 4)
    assert metrics["protocol"] == "otb"


def test_otb_and_lasot_replace_an_invalid_box_by_the_previous_one():
    # frame 2 is NaN and frame 3 has width 0: both take frame 1's box (IoU 1), as the
    # MATLAB toolkits do; GOT-10k counts them as misses (IoU 0)
    pred = np.array([BOX, BOX, [np.nan] * 4, [10.0, 10, 0, 10]])
    for protocol in ("otb", "lasot"):
        assert sequence_metrics(pred, still(4), protocol=protocol)["ao"] == 1
    got10k = sequence_metrics(pred, still(4), protocol="got10k")
    assert got10k["ao"] == pytest.approx(1 / 3)


def test_got10k_leaves_out_the_first_frame():
    metrics = sequence_metrics(PRED, still(4), protocol="got10k")
    # frames 1..3 pass 20, 7, 0 thresholds: AUC = 27 / 63; IoUs 1, 1/3, 0
    assert metrics["frames"] == 3
    assert metrics["success_auc"] == pytest.approx(27 / 63)
    assert metrics["ao"] == pytest.approx(4 / 9)
    assert metrics["sr50"] == pytest.approx(1 / 3) and metrics["sr75"] == pytest.approx(
        1 / 3
    )


def test_got10k_leaves_out_frames_whose_cover_is_zero():
    cover = np.array([8, 8, 0, 4])  # frame 2: target fully hidden
    sequence = still(4, metadata={"cover_label": cover}, protocol="got10k")
    metrics = sequence_metrics(PRED, sequence)
    # frames 1 and 3 count: IoU 1 and 0
    assert metrics["frames"] == 2 and metrics["ao"] == pytest.approx(0.5)


def test_got10k_pools_frames_while_otb_averages_sequences():
    short = Sequence("short", np.tile(BOX, (2, 1)), blank)
    long = Sequence("long", np.tile(BOX, (4, 1)), blank)
    per = {
        "short": sequence_metrics(np.array([BOX, BOX]), short, True, protocol="got10k"),
        "long": sequence_metrics(
            np.array([BOX] + [FAR] * 3), long, True, protocol="got10k"
        ),
    }
    # GOT-10k scores frame 1 of "short" (IoU 1) and frames 1..3 of "long" (IoU 0):
    # pooled AO = 1 / 4, not the mean of the sequences' AOs (1 + 0) / 2
    pooled = summarize(per, [short, long])
    assert pooled["protocol"] == "got10k" and pooled["frames"] == 4
    assert pooled["ao"] == pytest.approx(0.25) and pooled["sr50"] == pytest.approx(0.25)
    assert pooled["success_curve_101"][0] == pytest.approx(0.25)
    assert len(pooled["success_curve_101"]) == 101
    # OTB on the same boxes: "short" has IoU 1, 1 (AO 1); "long" 1, 0, 0, 0 (AO 1/4);
    # each sequence weighs the same: AO = (1 + 1/4) / 2
    per_otb = {
        "short": sequence_metrics(np.array([BOX, BOX]), short, True),
        "long": sequence_metrics(np.array([BOX] + [FAR] * 3), long, True),
    }
    averaged = summarize(per_otb, [short, long])
    assert averaged["protocol"] == "otb"
    assert averaged["ao"] == pytest.approx(0.625)
    # success AUC: short 20/21, long 20/84, averaged
    assert averaged["success_auc"] == pytest.approx((20 / 21 + 20 / 84) / 2)


def test_got10k_clips_both_boxes_to_the_image():
    # W = 60. In the files' 1-based coordinates x = 51: w is clipped to 60 - 51 = 9 for
    # both boxes, which then coincide (IoU 1); unclipped, IoU = 100 / 200.
    gt, pred = [[50.0, 0, 20, 10]], [[50.0, 0, 10, 10]]
    assert frame_errors(pred, gt)[0][0] == pytest.approx(0.5)
    assert frame_errors(pred, gt, bound=(60, 40))[0][0] == pytest.approx(1.0)
    sequence = Sequence("edge", np.array([gt[0], gt[0]]), blank, protocol="got10k")
    assert sequence_metrics(np.array([gt[0], pred[0]]), sequence)["ao"] == 1.0
    assert sequence.metadata["resolution"] == (60, 40)  # read from frame 0
    otb = sequence_metrics(np.array([gt[0], pred[0]]), sequence, protocol="otb")
    assert otb["ao"] == pytest.approx((1 + 0.5) / 2)


def test_lasot_counts_absent_frames_as_misses_over_all_frames():
    sequence = still(4, absent=[False, False, True, False], protocol="lasot")
    pred = np.array([FAR, BOX, BOX, SHIFT])
    metrics = sequence_metrics(pred, sequence)
    # all 4 frames in the denominator: 20 + 20 + 0 (absent) + 7 thresholds
    assert metrics["frames"] == 4
    assert metrics["success_auc"] == pytest.approx(47 / 84)
    assert metrics["precision_20"] == pytest.approx(3 / 4)
    # OTB leaves the absent frame out: (20 + 20 + 7) / (21 * 3), all within 20 px
    otb = sequence_metrics(pred, sequence, protocol="otb")
    assert otb["frames"] == 3 and otb["success_auc"] == pytest.approx(47 / 63)
    assert otb["precision_20"] == 1


def test_normalised_precision_divides_by_a_size_of_at_least_one():
    # gt 0.5 px wide: the 2 px offset is divided by max(0.5, 1) = 1, not by 0.5
    _, errors, normalized = frame_errors([[12.0, 10, 0.5, 4]], [[10.0, 10, 0.5, 4]])
    assert errors[0] == pytest.approx(2) and normalized[0] == pytest.approx(2)
    # a 2.5 px offset of a 10 px box is 0.25: it passes 26 of the 51 thresholds
    # 0, 0.01, … 0.5; frame 0 (the given box) passes all 51; score = mean of the curve
    sequence = Sequence("n", np.tile([0.0, 0, 10, 10], (2, 1)), blank, protocol="lasot")
    metrics = sequence_metrics(np.array([[0.0, 0, 10, 10], [2.5, 0, 10, 10]]), sequence)
    assert metrics["norm_precision"] == pytest.approx((51 + 26) / 102)


# A square of side 5 * sqrt(2) turned by 45 degrees, centred on (11, 11) in the file's
# 1-based coordinates: vertices (11, 6), (16, 11), (11, 16), (6, 11).
DIAMOND = [11.0, 6, 16, 11, 11, 16, 6, 11]


def test_polygon_rules_on_a_rotated_square():
    # bounds: the rectangle 6..16 x 6..16
    assert polygon_box(DIAMOND) == pytest.approx([6, 6, 10, 10])
    # area: A1 = (5 sqrt 2)^2 = 50, A2 = 10 * 10 = 100, s = sqrt(1/2): a box of
    # side 10 / sqrt(2) = 7.0711 centred on the vertices' mean (11, 11)
    side = 10 / math.sqrt(2)
    assert polygon_box(DIAMOND, "area") == pytest.approx(
        [11 - side / 2] * 2 + [side] * 2
    )
    upright = [2.0, 3, 8, 3, 8, 7, 2, 7]  # an axis-aligned rectangle: the rules agree
    assert polygon_box(upright, "area") == pytest.approx(polygon_box(upright))
    with pytest.raises(ValueError, match="box_rule"):
        polygon_box(DIAMOND, "mean")


def vot_folder(root):
    folder = root / "diamond"
    (folder / "color").mkdir(parents=True)
    for index in (1, 2):
        Image.fromarray(blank(0)).save(folder / "color" / f"{index:08d}.jpg")
    row = ",".join(str(v) for v in DIAMOND)
    (folder / "groundtruth.txt").write_text(f"{row}\n{row}\n")
    return root


def test_vot_reader_applies_either_rule_to_0_based_boxes(tmp_path):
    root = vot_folder(tmp_path)
    side = 10 / math.sqrt(2)
    bounds = read_vot(root)[0]
    assert bounds.boxes[0] == pytest.approx([5, 5, 10, 10])  # 1-based 6 -> 0-based 5
    area = load_dataset(f"vot-area:{root}")[0]
    assert area.boxes[0] == pytest.approx([10 - side / 2] * 2 + [side] * 2)
    assert area.metadata["box_rule"] == "area" and area.protocol == "otb"
    with pytest.raises(ValueError, match="box_rule"):
        read_vot(root, box_rule="inner")


def test_run_benchmark_and_score_results_name_and_apply_the_protocol(tmp_path):
    sequence = still(4, protocol="lasot")
    table = run_benchmark({"static": StaticTracker}, [sequence], progress=False)
    assert table["static"]["protocol"] == "lasot" and table["static"]["ao"] == 1
    write_boxes(tmp_path / "toy.txt", PRED)
    assert score_results(tmp_path, [sequence])["success_auc"] == pytest.approx(47 / 84)
    got10k = score_results(tmp_path, [sequence], protocol="got10k")
    assert got10k["protocol"] == "got10k" and got10k["ao"] == pytest.approx(4 / 9)


def test_cli_score_reports_the_protocol(tmp_path, capsys):
    root = vot_folder(tmp_path / "vot")
    results = tmp_path / "results"
    write_boxes(results / "diamond.txt", np.array([[5.0, 5, 10, 10], [5, 5, 10, 5]]))
    report = tmp_path / "report.json"
    argv = ["score", "--results", str(results), "--dataset", f"vot:{root}"]
    assert main(argv + ["--json", str(report)]) == 0
    written = json.loads(report.read_text())
    # OTB: frame 0 IoU 1 and frame 1 IoU 1/2: AO 3/4
    assert written["protocol"] == "otb" and written["ao"] == pytest.approx(0.75)
    assert main(argv + ["--json", str(report), "--protocol", "got10k"]) == 0
    assert json.loads(report.read_text())["ao"] == pytest.approx(0.5)
    assert "protocol: got10k" in capsys.readouterr().out
