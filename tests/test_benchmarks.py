"""The benchmark scripts' own computations are right (their timings are not tested)."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import bench_xcorr  # noqa: E402
import scoring  # noqa: E402
import trackers  # noqa: E402
from _common import alternate, ratio_range  # noqa: E402

from siamlab.evaluation import METRICS, sequence_metrics  # noqa: E402
from siamlab.trackers import siamfc  # noqa: E402
from siamlab.trackers.registry import make_tracker  # noqa: E402


def test_alternate_runs_every_contender_every_round_in_turn():
    calls = []
    contenders = {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}
    times = alternate(contenders, 3, min_seconds=0)
    assert calls == ["a"] * 3 + ["b"] * 3 + ["a", "b"] * 3  # warm-ups, rounds
    assert [len(t) for t in times.values()] == [3, 3]
    assert ratio_range([2.0, 4.0, 6.0], [1.0, 1.0, 2.0]) == (3.0, 2.0, 4.0)


def test_alternate_repeats_short_calls_within_a_round():
    calls = []
    alternate({"a": lambda: calls.append("a")}, 2, min_seconds=1e-3)
    assert len(calls) > 3  # the warm-up call, then more than one call a round


@pytest.mark.parametrize("batch_z", [1, 3])
def test_every_xcorr_form_of_the_benchmark_equals_the_loop(batch_z):
    generator = torch.Generator().manual_seed(0)
    z = torch.randn(batch_z, 5, 3, 4, generator=generator)
    x = torch.randn(3, 5, 9, 8, generator=generator)
    bench_xcorr.check(z, x)  # raises if a form differs


def test_per_frame_scoring_equals_sequence_metrics():
    rng = np.random.default_rng(1)
    for index in range(3):
        sequence, pred = scoring.random_run(rng, 60, index)
        got = sequence_metrics(pred, sequence)
        expected = scoring.per_frame_metrics(pred, sequence.boxes)
        for key in METRICS:
            assert got[key] == pytest.approx(expected[key], abs=1e-12), key


def test_stage_timing_wraps_the_trackers_pieces_and_restores_them():
    frames, box = trackers.random_frames(3)
    tracker = make_tracker("siamfc")
    tracker.init(frames[0], box)
    originals = (siamfc.scale_pyramid, siamfc.locate, tracker.model.head)
    watch = trackers.Stopwatch()
    with trackers.patched(watch, tracker):
        tracker.update(frames[1])
    assert all(watch.seconds[stage] > 0 for stage in trackers.STAGES)
    assert (siamfc.scale_pyramid, siamfc.locate, tracker.model.head) == originals
    assert "_embed" not in vars(tracker)
    assert trackers.network_gflop(tracker, frames[2]) > 1.0  # 1.62 GFLOP at 3 scales


def test_book_budget_table_sums_the_chapters_against_the_budget():
    import book

    table = book.budget_table({"01_b": 300.0, "00_a": 150.0}, budget=900)
    lines = table.splitlines()
    assert lines[1].split() == ["00_a", "150.0", "16.7%"]  # sorted by chapter
    assert lines[3].split() == ["all", "chapters", "450.0", "50.0%"]
    assert lines[4].endswith("within")
    assert book.budget_table({"00_a": 901.0}, budget=900).endswith("OVER")
    with pytest.raises(ValueError, match="budget"):
        book.budget_table({"00_a": 1.0}, budget=0)


def test_cpu_paths_fused_network_matches_and_int8_stays_close():
    import cpu_paths

    from siamlab.models.siamrpn import load_siamrpn

    net = cpu_paths._Features(load_siamrpn().eval())
    x = cpu_paths.crops(2, size=127)
    assert x.is_contiguous(memory_format=torch.channels_last)  # as to_tensor makes it
    fused_net = cpu_paths.fused_channels_last(net)
    with torch.no_grad():
        reference = net(x)
        fused = fused_net(x)
        quantised = cpu_paths.int8(net, cpu_paths.crops(4, size=127, seed=1))(x)

    def batch_norms(model):
        return sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())

    assert batch_norms(net) > 0 and batch_norms(fused_net) == 0
    assert cpu_paths.relative_error(fused, reference) < 1e-5
    assert 0 < cpu_paths.relative_error(quantised.float(), reference) < 0.2


@pytest.mark.parametrize("name", ["siamfc", "siamrpn"])
def test_gpu_script_times_an_update_and_its_network_call(name):
    import gpu

    frames, box = trackers.random_frames(3)
    tracker = make_tracker(name)
    device = torch.device("cpu")
    update, network = gpu.time_tracker(tracker, frames, box, device, amp=False)
    assert update > 0 and network > 0  # seconds per call; no test compares times
    assert np.all(np.isfinite(tracker.center))  # the tracker did update


def test_roofline_measures_a_rate_each_time_it_is_asked():
    roofline = trackers.Roofline(size=64)
    assert roofline.flop == 2 * 64**3
    rates = [roofline.measure(), roofline.measure()]
    assert roofline.rates == rates and all(np.isfinite(r) and r > 0 for r in rates)


@pytest.mark.skipif(
    not (BENCHMARKS.parent / ".git").exists(), reason="needs the git repository"
)
def test_versus_commit_exports_the_library_of_a_commit(tmp_path):
    import subprocess

    import versus_commit

    folder = versus_commit.export("HEAD", tmp_path)
    committed = subprocess.run(
        ["git", "-C", str(BENCHMARKS.parent), "show", "HEAD:siamlab/__init__.py"],
        capture_output=True,
        check=True,
    ).stdout
    assert (folder / "siamlab" / "__init__.py").read_bytes() == committed
    assert sorted(p.name for p in folder.iterdir()) == ["siamlab"]
