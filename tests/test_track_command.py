"""`siamlab track` and `siamlab.video`: reading, annotating and writing videos."""

import os
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from siamlab import video
from siamlab.cli import main
from siamlab.trackers.base import TrackResult
from siamlab.trackers.registry import make_tracker

WIDTH, HEIGHT, COUNT = 64, 48, 10
BOX = "10,16,12,12"


def _frames(count: int = COUNT) -> list[np.ndarray]:
    """A textured square moving one pixel a frame over a noise background."""
    rng = np.random.default_rng(0)
    background = rng.integers(0, 120, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    patch = rng.integers(150, 256, (12, 12, 3), dtype=np.uint8)
    frames = []
    for i in range(count):
        frame = background.copy()
        frame[16:28, 10 + i : 22 + i] = patch
        frames.append(frame)
    return frames


@pytest.fixture
def png_folder(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, frame in enumerate(_frames(), start=1):
        Image.fromarray(frame).save(folder / f"{i}.png")
    return folder


@pytest.fixture
def gif_file(tmp_path):
    first, *rest = (Image.fromarray(f) for f in _frames())
    path = tmp_path / "input.gif"
    first.save(path, save_all=True, append_images=rest, duration=100, loop=0)
    return path


@pytest.fixture
def mp4_file(tmp_path):
    path = tmp_path / "input.mp4"
    with video.VideoWriter(path, fps=10) as writer:
        for frame in _frames():
            writer.write(frame)
    return path


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.rglob("*")}


def _track(*arguments: str) -> int:
    return main(["track", *arguments])


@pytest.mark.parametrize("source", ["png_folder", "gif_file", "mp4_file"])
@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_track_writes_every_frame_annotated_and_one_box_row_each(
    source, suffix, request, tmp_path, capsys
):
    path = request.getfixturevalue(source)
    output, boxes = tmp_path / f"out{suffix}", tmp_path / "boxes.txt"
    arguments = ["--tracker", "ncc", "--input", str(path), "--box", BOX]
    assert _track(*arguments, "--output", str(output), "--boxes", str(boxes)) == 0
    frames = list(video.read_frames(output))
    assert len(frames) == COUNT
    assert frames[0].shape == (HEIGHT, WIDTH, 3)
    rows = boxes.read_text().splitlines()
    assert len(rows) == COUNT
    assert [float(v) for v in rows[0].split(",")] == [11, 17, 12, 12]  # 1-based
    out = capsys.readouterr().out
    assert f"tracked {COUNT} frames" in out and "fps tracking only" in out
    assert f"wrote {output}" in out
    assert not [n for n in _files(tmp_path) if ".partial-" in n]
    umask = os.umask(0)
    os.umask(umask)
    assert output.stat().st_mode & 0o777 == 0o666 & ~umask  # not private to its owner


def test_track_follows_the_moving_square(png_folder, tmp_path):
    boxes = tmp_path / "boxes.txt"
    output = str(tmp_path / "out.mp4")
    arguments = ["--input", str(png_folder), "--box", BOX, "--output", output]
    assert _track("--tracker", "ncc", *arguments, "--boxes", str(boxes)) == 0
    last = [float(v) for v in boxes.read_text().splitlines()[-1].split(",")]
    assert abs(last[0] - 1 - (10 + COUNT - 1)) < 3  # the square moved 9 pixels


def test_siamfc_draws_its_response_map_as_an_inset(png_folder, tmp_path):
    plain, inset = tmp_path / "plain.gif", tmp_path / "inset.gif"
    arguments = ["--tracker", "siamfc", "--input", str(png_folder), "--box", BOX]
    assert _track(*arguments, "--output", str(plain), "--max-frames", "3") == 0
    assert (
        _track(*arguments, "--output", str(inset), "--max-frames", "3", "--inset") == 0
    )
    plain_frames = list(video.read_frames(plain))
    inset_frames = list(video.read_frames(inset))
    assert len(inset_frames) == 3
    corner = np.s_[: HEIGHT // 4, -WIDTH // 5 :]
    assert np.array_equal(plain_frames[0][corner], inset_frames[0][corner])  # no map
    assert not np.array_equal(plain_frames[2][corner], inset_frames[2][corner])


def test_max_frames_stops_early(mp4_file, tmp_path):
    output = tmp_path / "out.mp4"
    arguments = ["--tracker", "static", "--input", str(mp4_file), "--box", BOX]
    assert _track(*arguments, "--output", str(output), "--max-frames", "4") == 0
    assert video.probe(output).frames == 4


def test_a_dataset_sequence_starts_from_its_first_ground_truth_box(tmp_path):
    from siamlab.datasets import load_dataset

    sequence = load_dataset("synth-test", 4)[3]
    boxes = tmp_path / "boxes.txt"
    arguments = ["--dataset", "synth-test", "--sequence", sequence.name]
    output = ["--output", str(tmp_path / "out.gif"), "--boxes", str(boxes)]
    assert _track("--tracker", "static", *arguments, *output, "--max-frames", "2") == 0
    first = [float(v) for v in boxes.read_text().splitlines()[0].split(",")]
    np.testing.assert_allclose(first, sequence.boxes[0] + [1, 1, 0, 0], atol=1e-4)


def _truncated(tmp_path: Path, mp4_file: Path, fraction: float) -> Path:
    data = mp4_file.read_bytes()
    path = tmp_path / f"cut-{fraction}.mp4"
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def _moov_at_the_end(tmp_path: Path) -> Path:
    """An MP4 written without `faststart`: its index comes after the frames."""
    path = tmp_path / "late-index.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for frame in _frames():
            image = av.VideoFrame.from_ndarray(frame, format="rgb24")
            container.mux(stream.encode(image))
        container.mux(stream.encode())
    return path


BAD_INPUTS = {
    "missing input": (["--input", "{tmp}/nowhere.mp4"], "--input", "does not exist"),
    "empty folder": (["--input", "{tmp}/empty"], "--input", "no image files"),
    "not a video": (["--input", "{tmp}/notes.mp4"], "--input", "cannot be read"),
    "three numbers": (["--box", "1,2,3"], "--box", "4 numbers"),
    "not numbers": (["--box", "a,b,c,d"], "--box", "4 numbers"),
    "zero width": (["--box", "10,10,0,5"], "--box", "positive width"),
    "box outside": (["--box", "100,10,5,5"], "--box", "outside the frame"),
    "no folder": (["--output", "{tmp}/missing/out.mp4"], "--output", "not exist"),
    "bad suffix": (["--output", "{tmp}/out.avi"], "--output", ".mp4 or .gif"),
    "a folder": (["--output", "{tmp}/empty"], "--output", ".mp4 or .gif"),
    "folder.mp4": (["--output", "{tmp}/dir.mp4"], "--output", "is a folder"),
    "boxes folder": (["--boxes", "{tmp}/missing/b.txt"], "--boxes", "not exist"),
    "bad tracker": (["--tracker", "nope"], "--tracker", "must be one of"),
    "max frames": (["--max-frames", "0"], "--max-frames", "positive"),
    "weights for ncc": (["--weights", "{tmp}/w.pt"], "--weights", "'ncc'"),
    "missing weights": (
        ["--tracker", "siamfc", "--weights", "{tmp}/w.pt"],
        "w.pt",
        "does not exist",
    ),
    "no input": (["--input", None], "--input", "--dataset"),
    "unknown sequence": (
        ["--input", None, "--dataset", "synth-test", "--sequence", "x"],
        "--sequence",
        "synth-test-000",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_arguments_name_the_argument_and_leave_no_file(
    case, png_folder, tmp_path, capsys
):
    (tmp_path / "empty").mkdir()
    (tmp_path / "dir.mp4").mkdir()
    (tmp_path / "notes.mp4").write_text("not a video\n")
    changes, flag, expected = BAD_INPUTS[case]
    options = {
        "--tracker": "ncc",
        "--input": str(png_folder),
        "--box": BOX,
        "--output": str(tmp_path / "out.mp4"),
        "--boxes": str(tmp_path / "boxes.txt"),
    }
    for key, value in zip(changes[::2], changes[1::2]):
        options[key] = None if value is None else value.format(tmp=tmp_path)
    arguments = [a for k, v in options.items() if v is not None for a in (k, v)]
    before = _files(tmp_path)
    assert _track(*arguments) == 2
    error = capsys.readouterr().err
    assert error.startswith("siamlab: error: ") and "Traceback" not in error
    assert flag in error and expected in error, error
    assert _files(tmp_path) == before


@pytest.mark.parametrize("cut", ["half of the frames", "the index at the end"])
def test_a_truncated_video_is_a_clear_error(cut, mp4_file, tmp_path, capsys):
    if cut == "half of the frames":  # faststart: index first, frames cut off
        source = _truncated(tmp_path, mp4_file, 0.9)
    else:
        source = _truncated(tmp_path, _moov_at_the_end(tmp_path), 0.6)
    output = tmp_path / "out.mp4"
    before = _files(tmp_path)
    arguments = ["--tracker", "ncc", "--input", str(source), "--box", BOX]
    assert _track(*arguments, "--output", str(output)) == 2
    error = capsys.readouterr().err
    assert "--input" in error and "truncated" in error, error
    assert _files(tmp_path) == before


def test_a_truncated_gif_is_a_clear_error(gif_file, tmp_path, capsys):
    data = gif_file.read_bytes()
    source = tmp_path / "cut.gif"
    source.write_bytes(data[: len(data) // 2])
    before = _files(tmp_path)
    arguments = ["--tracker", "ncc", "--input", str(source), "--box", BOX]
    assert _track(*arguments, "--output", str(tmp_path / "out.gif")) == 2
    assert "--input" in capsys.readouterr().err
    assert _files(tmp_path) == before


def test_a_frame_of_another_size_stops_the_run_and_leaves_nothing(
    png_folder, tmp_path, capsys
):
    Image.new("RGB", (WIDTH + 2, HEIGHT)).save(png_folder / "5.png")
    before = _files(tmp_path)
    arguments = ["--tracker", "ncc", "--input", str(png_folder), "--box", BOX]
    assert _track(*arguments, "--output", str(tmp_path / "o.mp4")) == 2
    assert "the first frame had 64x48" in capsys.readouterr().err
    assert _files(tmp_path) == before


class _Interrupted:
    """A tracker whose third update is interrupted, as by Ctrl-C."""

    name = "interrupted"

    def __init__(self) -> None:
        self.updates = 0

    def init(self, frame, box) -> None:
        self.box = np.asarray(box, dtype=float)

    def update(self, frame) -> TrackResult:
        self.updates += 1
        if self.updates == 3:
            raise KeyboardInterrupt
        return TrackResult(self.box, 0.5)


def test_an_interrupted_run_removes_its_partial_files(tmp_path):
    before = _files(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        video.track_video(
            _Interrupted(),
            _frames(),
            [10, 16, 12, 12],
            tmp_path / "out.mp4",
            boxes_path=tmp_path / "boxes.txt",
            progress=False,
        )
    assert _files(tmp_path) == before


def test_track_video_returns_boxes_scores_and_speeds(tmp_path):
    tracker = make_tracker("ncc")
    output = tmp_path / "out.gif"
    stats = video.track_video(
        tracker, iter(_frames()), [10, 16, 12, 12], output, progress=False, fps=5
    )
    assert stats["frames"] == COUNT and stats["output"] == str(output)
    assert stats["boxes"].shape == (COUNT, 4) and stats["scores"][0] == 1
    assert stats["tracker_fps"] > 0 and stats["fps"] > 0
    assert stats["seconds"] >= stats["tracking_seconds"]
    assert video.probe(output) == video.VideoInfo(frames=COUNT, fps=5.0)


def test_read_frames_is_a_generator_of_rgb_frames(mp4_file, png_folder):
    frames = video.read_frames(mp4_file)
    first = next(frames)
    assert first.dtype == np.uint8 and first.shape == (HEIGHT, WIDTH, 3)
    assert len(list(frames)) == COUNT - 1
    np.testing.assert_array_equal(next(video.read_frames(png_folder)), _frames()[0])
    assert video.probe(mp4_file) == video.VideoInfo(frames=COUNT, fps=10.0)


def test_an_mp4_of_odd_size_is_padded_to_even(tmp_path):
    path = tmp_path / "odd.mp4"
    with video.VideoWriter(path, fps=10) as writer:
        for frame in _frames(3):
            writer.write(frame[:-1, :-1])
    frames = list(video.read_frames(path))
    assert len(frames) == 3 and frames[0].shape == (HEIGHT, WIDTH, 3)


def test_the_writer_refuses_frames_of_another_size(tmp_path):
    with pytest.raises(ValueError, match="first had 64x48"):
        with video.VideoWriter(tmp_path / "out.gif") as writer:
            writer.write(_frames(1)[0])
            writer.write(np.zeros((10, 10, 3), np.uint8))


def test_annotate_draws_the_box_score_and_inset_without_touching_the_input():
    frame = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    plain = video.annotate(frame, [10, 20, 12, 12], 0.75)
    assert plain.shape == frame.shape and not frame.any()
    assert tuple(plain[31, 10]) == video.BOX_COLOR  # bottom-left corner of the box
    assert not plain[: HEIGHT // 4, -WIDTH // 5 :].any()  # no inset asked for
    response = np.outer(np.hanning(17), np.hanning(17))
    inset = video.annotate(frame, [10, 20, 12, 12], 0.75, response)
    assert inset[: HEIGHT // 4, -WIDTH // 5 :].any()


def test_colorize_maps_the_peak_to_yellow_and_a_flat_map_to_the_minimum():
    response = np.zeros((5, 5))
    response[2, 2] = 3.0
    colours = video.colorize(response)
    assert colours.shape == (5, 5, 3) and colours.dtype == np.uint8
    assert colours[2, 2, 0] > 200 and colours[2, 2, 1] > 200  # viridis ends in yellow
    flat = video.colorize(np.full((3, 4), np.nan))
    assert (flat == flat[0, 0]).all()


def test_parse_box_names_the_argument():
    assert video.parse_box("1, 2.5,3,4") == [1.0, 2.5, 3.0, 4.0]
    with pytest.raises(ValueError, match="--box must be 4 numbers"):
        video.parse_box("1,2,3,4,5", "--box")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_output_folder_without_permission_is_refused(tmp_path, png_folder, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    arguments = ["--tracker", "ncc", "--input", str(png_folder), "--box", BOX]
    assert _track(*arguments, "--output", str(locked / "out.mp4")) == 2
    assert "--output" in capsys.readouterr().err
    assert not list(locked.iterdir())
