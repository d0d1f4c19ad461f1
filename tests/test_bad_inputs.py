"""Bad input, by area: each row of a table is an input and the error it must raise.

The contract: a clear `ValueError` (or `FileNotFoundError`) naming the argument, path or
file and what is wrong, never a traceback from deep inside torch, PIL or the standard
library, and never a silently wrong answer. The command line turns the same errors into
one line `siamlab: error: …` and exit status 2, and leaves no partial output behind.
Inputs are built in `tmp_path`: truncated checkpoints, random bytes, foreign pickles,
16-bit and corrupt images, ground truth in other encodings, ….
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
import torch
from PIL import Image

from siamlab import boxes
from siamlab.cli import main
from siamlab.datasets import formats, synth
from siamlab.nn.models import (
    SiamFCConfig,
    SiamFCNet,
    config_dict,
    load_siamfc,
    train_siamfc,
)
from siamlab.trackers.baselines import NCCConfig, NCCTracker, StaticTracker
from siamlab.trackers.registry import make_tracker
from siamlab.trackers.siamfc import SiamFCParams, SiamFCTracker
from siamlab.train import fit, load_checkpoint, save_checkpoint

NO_CUDA = pytest.mark.skipif(
    torch.cuda.is_available(), reason="needs a machine without CUDA"
)


class Foreign:
    """A class that no checkpoint loader should instantiate."""


# --------------------------------------------------------------------------------------
# Builders of bad files


@pytest.fixture(scope="module")
def tiny_state() -> dict[str, Any]:
    """A valid SiamFC checkpoint state: the tiny config and randomly initialised
    weights."""
    torch.manual_seed(0)
    return {
        "config": config_dict(SiamFCConfig.tiny()),
        "model": SiamFCNet(SiamFCConfig.tiny()).state_dict(),
    }


def _saved(tmp: Path, state: Any, name: str = "model.pt") -> Path:
    path = tmp / name
    torch.save(state, path)
    return path


def _bytes(tmp: Path, data: bytes, name: str = "model.pt") -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


def _with_weight(state: dict, value: float) -> dict:
    """`state` with one value of its first weight replaced by `value`."""
    weights = {k: v.clone() for k, v in state["model"].items()}
    first = next(k for k, v in weights.items() if v.is_floating_point())
    weights[first].view(-1)[3] = value
    return {**state, "model": weights}


def _frames(folder: Path, count: int, names: list[str] | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names or [f"{i:08d}.png" for i in range(1, count + 1)]):
        Image.fromarray(np.full((32, 40, 3), 20 * i, np.uint8)).save(folder / name)


def _rows(count: int) -> bytes:
    return "".join(f"{3 + i},4,10,8\n" for i in range(count)).encode()


def got10k(
    tmp: Path,
    frames: int = 3,
    rows: int | None = None,
    truth: bytes | None = None,
    names: list[str] | None = None,
    name: str = "seq",
) -> Path:
    """A GOT-10k folder `tmp/got/<name>/` with `frames` PNGs and `rows` box rows."""
    folder = tmp / "got" / name
    _frames(folder, frames, names)
    (folder / "groundtruth.txt").write_bytes(
        truth if truth is not None else _rows(rows or frames)
    )
    return tmp / "got"


def lasot(tmp: Path, frames: int, rows: int) -> Path:
    folder = tmp / "lasot" / "cat" / "cat-1"
    _frames(folder / "img", frames)
    (folder / "groundtruth.txt").write_bytes(_rows(rows))
    return tmp / "lasot"


def otb(tmp: Path, frames: int, rows: int) -> Path:
    folder = tmp / "otb" / "Walker"
    _frames(folder / "img", frames, [f"{i:04d}.jpg" for i in range(1, frames + 1)])
    (folder / "groundtruth_rect.txt").write_bytes(_rows(rows))
    return tmp / "otb"


def corrupt_frame(
    tmp: Path, data: Callable[[bytes], bytes], suffix: str = "png"
) -> Path:
    """A GOT-10k folder whose second frame's bytes are replaced by `data(original)`."""
    names = [f"{i:08d}.{suffix}" for i in range(1, 4)]
    root = got10k(tmp, names=names)
    second = root / "seq" / names[1]
    second.write_bytes(data(second.read_bytes()))
    return root


def read_all_frames(root: Path) -> None:
    for sequence in formats.read_got10k(root):
        list(sequence.frames())


# --------------------------------------------------------------------------------------
# Checkpoints: one ValueError naming the path and what is wrong

CHECKPOINTS = [
    ("missing file", lambda t, s: t / "none.pt", FileNotFoundError, "does not exist"),
    ("a folder", lambda t, s: t, ValueError, "is not a file"),
    ("empty file", lambda t, s: _bytes(t, b""), ValueError, "cannot be read"),
    (
        "truncated",
        lambda t, s: _bytes(t, _saved(t, s, "x.pt").read_bytes()[:3000]),
        ValueError,
        "cannot be read",
    ),
    (
        "random bytes",
        lambda t, s: _bytes(t, np.random.default_rng(0).bytes(4096)),
        ValueError,
        "cannot be read",
    ),
    (
        "plain pickle of a foreign class",
        lambda t, s: _bytes(t, pickle.dumps(Foreign(), protocol=2)),
        ValueError,
        "cannot be read",
    ),
    (
        "torch.save of a foreign class",
        lambda t, s: _saved(t, {**s, "extra": Foreign()}),
        ValueError,
        "could run code",
    ),
    (
        "top level a list",
        lambda t, s: _saved(t, [1, 2]),
        ValueError,
        "must hold a dict",
    ),
    (
        "no model state",
        lambda t, s: _saved(t, {"config": s["config"]}),
        ValueError,
        "not a SiamFC checkpoint",
    ),
    (
        "config as a string",
        lambda t, s: _saved(t, {**s, "config": "tiny"}),
        ValueError,
        "bad config.*stored as a dict",
    ),
    (
        "config with an unknown field",
        lambda t, s: _saved(t, {**s, "config": {**s["config"], "colour": 1}}),
        ValueError,
        r"unknown \['colour'\]",
    ),
    (
        "config missing a field",
        lambda t, s: _saved(
            t, {**s, "config": {k: v for k, v in s["config"].items() if k != "context"}}
        ),
        ValueError,
        r"missing \['context'\]",
    ),
    (
        "config field of the wrong type",
        lambda t, s: _saved(t, {**s, "config": {**s["config"], "width": "x"}}),
        ValueError,
        "width must be a number",
    ),
    (
        "config float size",
        lambda t, s: _saved(
            t, {**s, "config": {**s["config"], "exemplar_size": 127.0}}
        ),
        ValueError,
        "exemplar_size must be a positive integer",
    ),
    (
        "another preset (paper config, tiny weights)",
        lambda t, s: _saved(t, {**s, "config": config_dict(SiamFCConfig.paper())}),
        ValueError,
        "another model or preset",
    ),
    (
        "another model's weights",
        lambda t, s: _saved(t, {**s, "model": torch.nn.Linear(2, 2).state_dict()}),
        ValueError,
        "another model or preset",
    ),
    (
        "NaN weight",
        lambda t, s: _saved(t, _with_weight(s, float("nan"))),
        ValueError,
        r"NaN or infinite values in model\.backbone",
    ),
    (
        "infinite weight",
        lambda t, s: _saved(t, _with_weight(s, float("inf"))),
        ValueError,
        r"NaN or infinite values in model\.backbone",
    ),
]


@pytest.mark.parametrize(
    "build, error, message",
    [c[1:] for c in CHECKPOINTS],
    ids=[c[0] for c in CHECKPOINTS],
)
def test_bad_checkpoint_is_one_clear_error_naming_the_path(
    tmp_path, tiny_state, build, error, message
):
    path = build(tmp_path, tiny_state)
    with pytest.raises(error, match=message) as caught:
        load_siamfc(path)
    assert str(path) in str(caught.value)


def _resume_other_preset(tmp: Path, state: dict) -> None:
    path = _saved(
        tmp, {**state, "config": config_dict(SiamFCConfig.paper()), "step": 3}
    )
    train_siamfc(
        SiamFCConfig.tiny(), [], 5, checkpoint=path, resume=True, progress=False
    )


def _fit_resume_random(tmp: Path, state: dict) -> None:
    path = _bytes(tmp, b"\x80\x02not a checkpoint")
    model = torch.nn.Linear(2, 1)
    fit(
        model,
        torch.optim.SGD(model.parameters(), lr=0.1),
        iter([]),
        lambda m, b: b,
        1,
        checkpoint=path,
        resume=True,
        progress=False,
    )


CHECKPOINT_USES = [
    ("resume with another config", _resume_other_preset, "differs from the requested"),
    ("fit resumes through the same loader", _fit_resume_random, "cannot be read"),
    (
        "map_location unknown",
        lambda t, s: load_siamfc(_saved(t, s), map_location="gpu"),
        "device must be one of",
    ),
    ("save over a folder", lambda t, s: save_checkpoint(t, s), "is a folder"),
    (
        "save below a file",
        lambda t, s: save_checkpoint(_bytes(t, b"x", "f") / "m.pt", s),
        "is a file",
    ),
    (
        "fit runs out of batches",
        lambda t, s: _fit_out_of_batches(),
        "batches ran out after 1 of 3",
    ),
]


def _fit_out_of_batches() -> None:
    model = torch.nn.Linear(2, 1)
    fit(
        model,
        torch.optim.SGD(model.parameters(), lr=0.1),
        iter([torch.zeros(2)]),
        lambda m, b: m(b).sum(),
        3,
        progress=False,
    )


@pytest.mark.parametrize(
    "use, message",
    [c[1:] for c in CHECKPOINT_USES],
    ids=[c[0] for c in CHECKPOINT_USES],
)
def test_bad_checkpoint_use_is_a_value_error(tmp_path, tiny_state, use, message):
    with pytest.raises(ValueError, match=message):
        use(tmp_path, tiny_state)


@NO_CUDA
def test_checkpoint_for_cuda_on_a_machine_without_it(tmp_path, tiny_state):
    with pytest.raises(ValueError, match="cuda is not available"):
        load_siamfc(_saved(tmp_path, tiny_state), map_location="cuda")


def test_save_removes_leftovers_of_an_interrupted_save_and_stays_atomic(tmp_path):
    path = tmp_path / "run.pt"
    leftover = tmp_path / ".run.pt.abc123.tmp"  # what a save killed mid-write leaves
    leftover.write_bytes(b"partial")
    other = (
        tmp_path / ".other.pt.abc123.tmp"
    )  # another checkpoint's: not ours to remove
    other.write_bytes(b"partial")
    save_checkpoint(path, {"step": 1, "w": torch.ones(2)})
    assert not leftover.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".other.pt.abc123.tmp",
        "run.pt",
    ]
    assert load_checkpoint(path)["step"] == 1


# --------------------------------------------------------------------------------------
# Dataset readers: the file (and frame) named, no silent cut


def _latin1_list(tmp: Path) -> Path:
    root = got10k(tmp)
    (root / "list.txt").write_bytes("seq\ncaf\xe9\n".encode("latin-1"))
    return root


def _float_frame(tmp: Path) -> Path:
    root = got10k(tmp, frames=2)
    image = Image.fromarray(np.full((32, 40), 0.5, np.float32), mode="F")
    image.save(root / "seq" / "00000001.png", format="TIFF")  # decoded by content
    return root


READERS = [
    (
        "GOT-10k: fewer rows than frames",
        lambda t: formats.read_got10k(got10k(t, frames=5, rows=3)),
        r"seq/groundtruth.txt: 3 box rows for 5 images",
    ),
    (
        "LaSOT: fewer rows than frames",
        lambda t: formats.read_lasot(lasot(t, frames=5, rows=3)),
        r"cat-1/groundtruth.txt: 3 box rows for 5 images",
    ),
    (
        "GOT-10k: more rows than frames",
        lambda t: formats.read_got10k(got10k(t, frames=2, rows=3)),
        r"groundtruth.txt: 3 boxes but only 2 images",
    ),
    (
        "OTB: more rows than frames",
        lambda t: formats.read_otb(otb(t, frames=2, rows=3)),
        r"groundtruth_rect.txt: 3 boxes but only 2 images",
    ),
    (
        "latin-1 ground truth",
        lambda t: formats.read_got10k(
            got10k(t, truth="3,4,10,8\n4,4,10,8 caf\xe9\n3,4,1,1\n".encode("latin-1"))
        ),
        r"groundtruth.txt: not UTF-8 text",
    ),
    (
        "UTF-16 ground truth",
        lambda t: formats.read_got10k(
            got10k(t, truth=_rows(3).decode().encode("utf-16"))
        ),
        r"groundtruth.txt: not UTF-8 text",
    ),
    (
        "latin-1 list.txt",
        lambda t: formats.read_got10k(_latin1_list(t)),
        r"list.txt: not UTF-8 text",
    ),
    (
        "infinite coordinate",
        lambda t: formats.read_got10k(
            got10k(t, truth=b"3,4,10,8\ninf,4,10,8\n3,4,1,1\n")
        ),
        r"groundtruth.txt:2: infinite value",
    ),
    (
        "overflowing coordinate",
        lambda t: formats.read_got10k(
            got10k(t, truth=b"3,4,10,8\n1e999,4,10,8\n3,4,1,1\n")
        ),
        r"groundtruth.txt:2: infinite value",
    ),
    (
        "corrupt PNG",
        lambda t: read_all_frames(corrupt_frame(t, lambda b: b"\x89PNG garbage")),
        r"frame 1 .*00000002.png.*cannot be read",
    ),
    (
        "truncated JPEG",
        lambda t: read_all_frames(corrupt_frame(t, lambda b: b[: len(b) // 2], "jpg")),
        r"frame 1 .*00000002.jpg.*cannot be read",
    ),
    (
        "empty image file",
        lambda t: read_all_frames(corrupt_frame(t, lambda b: b"")),
        r"frame 1 .*00000002.png.*cannot be read",
    ),
    (
        "floating-point image",
        lambda t: read_all_frames(_float_frame(t)),
        r"frame 0 .*00000001.png.*floating-point",
    ),
    (
        "max_sequences=True",
        lambda t: formats.read_got10k(got10k(t), True),
        "max_sequences must be a positive integer",
    ),
    (
        "max_sequences as a string",
        lambda t: formats.read_got10k(got10k(t), "2"),
        "max_sequences must be a positive integer",
    ),
]


@pytest.mark.parametrize(
    "read, message", [c[1:] for c in READERS], ids=[c[0] for c in READERS]
)
def test_bad_dataset_file_is_a_value_error_naming_it(tmp_path, read, message):
    with pytest.raises(ValueError, match=message):
        read(tmp_path)


def test_frames_are_read_in_numeric_order(tmp_path):
    names = [f"{i}.png" for i in range(1, 13)]  # 1.png … 12.png, unpadded
    sequence = formats.read_got10k(got10k(tmp_path, frames=12, names=names))[0]
    assert [Path(f).name for f in sequence.metadata["files"]] == names
    assert [int(sequence.frame(i)[0, 0, 0]) for i in (0, 1, 9, 11)] == [0, 20, 180, 220]


def test_sixteen_bit_images_are_scaled_not_clipped(tmp_path):
    root = got10k(tmp_path, frames=2)
    gradient = np.tile(np.array([0, 257 * 100, 65535], np.uint16), (32, 1))
    Image.fromarray(gradient).save(root / "seq" / "00000001.png")
    frame = formats.read_got10k(root)[0].frame(0)
    assert frame.dtype == np.uint8 and frame.shape == (32, 3, 3)
    assert frame[0, :, 0].tolist() == [0, 100, 255]


def test_otb_ignores_images_after_the_last_annotated_frame(tmp_path):
    sequence = formats.read_otb(otb(tmp_path, frames=5, rows=3))[0]
    assert len(sequence) == 3 and len(sequence.metadata["files"]) == 3


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    root = got10k(tmp_path, truth=b"\xef\xbb\xbf" + _rows(3))
    assert formats.read_got10k(root)[0].boxes[0].tolist() == [2, 3, 10, 8]


# --------------------------------------------------------------------------------------
# Trackers

FRAME = np.zeros((60, 80, 3), np.uint8)


def _tracker(name: str):
    if name == "siamfc":
        torch.manual_seed(0)
        return SiamFCTracker(SiamFCNet(SiamFCConfig.tiny()))
    return {"static": StaticTracker, "ncc": NCCTracker}[name]()


def _init(box):
    return lambda tracker: tracker.init(FRAME, box)


def _other_size(tracker):
    tracker.init(FRAME, [10, 10, 20, 20])
    tracker.update(np.zeros((30, 80, 3), np.uint8))


TRACKER_INPUTS = [
    (
        "box right of the frame",
        _init([500, 10, 10, 10]),
        "outside the frame of width 80",
    ),
    ("box above the frame", _init([10, -30, 10, 10]), "outside the frame"),
    ("box touching the right edge", _init([80, 10, 10, 10]), "must overlap the frame"),
    ("frame of another size", _other_size, "first frame had 80x60"),
    ("two boxes", _init([[1, 1, 5, 5], [2, 2, 5, 5]]), r"one \(x, y, w, h\) box"),
    ("NaN box", _init([np.nan, 1, 5, 5]), "box must be finite"),
    ("zero-width box", _init([1, 1, 0, 5]), "positive width"),
    ("float frame", lambda t: t.init(FRAME.astype(float), [1, 1, 5, 5]), "uint8"),
]


@pytest.mark.parametrize("name", ["static", "ncc", "siamfc"])
@pytest.mark.parametrize(
    "use, message", [c[1:] for c in TRACKER_INPUTS], ids=[c[0] for c in TRACKER_INPUTS]
)
def test_every_tracker_rejects_bad_boxes_and_frames(name, use, message):
    with pytest.raises(ValueError, match=message):
        use(_tracker(name))


PARAMETERS = [
    (
        "SiamFC scale_step NaN",
        lambda: SiamFCParams(scale_step=float("nan")),
        "scale_step",
    ),
    (
        "SiamFC scale_step infinite",
        lambda: SiamFCParams(scale_step=float("inf")),
        "scale_step",
    ),
    (
        "SiamFC window_influence NaN",
        lambda: SiamFCParams(window_influence=float("nan")),
        "window_influence",
    ),
    ("SiamFC num_scales True", lambda: SiamFCParams(num_scales=True), "num_scales"),
    ("SiamFC upsample huge", lambda: SiamFCParams(upsample=10**6), "upsample"),
    (
        "NCC search_factor NaN",
        lambda: NCCConfig(search_factor=float("nan")),
        "search_factor",
    ),
    ("NCC scale NaN", lambda: NCCConfig(scales=(float("nan"),)), "scales"),
    (
        "NCC scale_penalty NaN",
        lambda: NCCConfig(scale_penalty=float("nan")),
        "scale_penalty",
    ),
    ("NCC scales as a string", lambda: NCCConfig(scales="abc"), "scales"),
    ("NCC template_size float", lambda: NCCConfig(template_size=24.5), "template_size"),
    (
        "SiamFC device unknown",
        lambda: SiamFCTracker(SiamFCNet(SiamFCConfig.tiny()), device="gpu"),
        "device must be one of",
    ),
    (
        "registry device unknown",
        lambda: make_tracker("siamfc", device="tpu"),
        "device must be one of",
    ),
    (
        "SiamFC with_params unknown field",
        lambda: SiamFCTracker(SiamFCNet(SiamFCConfig.tiny())).with_params(speed=2),
        r"unknown .*\['speed'\]",
    ),
    (
        "registry device for a CPU-only tracker",
        lambda: make_tracker("ncc", device="cpu"),
        "does not take the argument",
    ),
]


@pytest.mark.parametrize(
    "build, message", [c[1:] for c in PARAMETERS], ids=[c[0] for c in PARAMETERS]
)
def test_tracker_parameters_reject_nan_and_unknown_devices(build, message):
    with pytest.raises(ValueError, match=message):
        build()


@NO_CUDA
def test_cuda_tracker_on_a_machine_without_it():
    with pytest.raises(ValueError, match="cuda is not available"):
        SiamFCTracker(SiamFCNet(SiamFCConfig.tiny()), device="cuda")


# --------------------------------------------------------------------------------------
# Numbers


def _train(**changes):
    arguments = {"steps": 5, "batch_size": 2, "lr": 1e-3, "final_lr": 1e-4, **changes}
    steps = arguments.pop("steps")
    return lambda: train_siamfc(
        SiamFCConfig.tiny(), [], steps, progress=False, **arguments
    )


NUMBERS = [
    (
        "corners overflow float64",
        lambda: boxes.xywh_to_corners([1e308, 0, 1e308, 1]),
        "overflow float64",
    ),
    (
        "negative min_size",
        lambda: boxes.clip_to_frame([0, 0, 1, 1], (10, 10), min_size=-1),
        "min_size",
    ),
    (
        "NaN frame height",
        lambda: boxes.clip_to_frame([0, 0, 1, 1], (float("nan"), 10)),
        "frame_shape",
    ),
    ("lr 0", _train(lr=0.0), r"lr \(learning rate\) must be positive"),
    ("lr NaN", _train(lr=float("nan")), r"lr \(learning rate\) must be positive"),
    (
        "final_lr 0",
        _train(final_lr=0.0),
        r"final_lr \(learning rate\) must be positive",
    ),
    ("batch_size 0", _train(batch_size=0), "batch_size must be a positive integer"),
    ("steps True", _train(steps=True), "steps must be a positive integer"),
    (
        "synth length 1",
        lambda: synth.SynthConfig(length=1),
        "length must be an integer >= 2",
    ),
    (
        "synth length 2.5",
        lambda: synth.SynthConfig(length=2.5),
        "length must be an integer",
    ),
    (
        "synth num_sequences True",
        lambda: synth.SynthConfig(num_sequences=True),
        "num_sequences",
    ),
    (
        "synth attribute_rate NaN",
        lambda: synth.SynthConfig(attribute_rate=float("nan")),
        "attribute_rate",
    ),
    (
        "synth frame_size a string",
        lambda: synth.SynthConfig(frame_size="ab"),
        "frame_size",
    ),
    (
        "synth max_sequences=True",
        lambda: synth.synth_test(True),
        "max_sequences must be a positive integer",
    ),
    (
        "synth max_sequences=1.5",
        lambda: synth.synth_test(1.5),
        "max_sequences must be a positive integer",
    ),
    (
        "model width infinite",
        lambda: SiamFCConfig(width=float("inf")),
        "width must be a finite",
    ),
    (
        "model context NaN",
        lambda: SiamFCConfig(context=float("nan")),
        "context must be a finite",
    ),
    (
        "model exemplar_size True",
        lambda: SiamFCConfig(exemplar_size=True),
        "exemplar_size",
    ),
]


@pytest.mark.parametrize(
    "call, message", [c[1:] for c in NUMBERS], ids=[c[0] for c in NUMBERS]
)
def test_bad_numbers_are_a_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (
            [0, 0, 1e308, 1e308],
            [0, 0, 1e308, 1e308],
            1.0,
        ),  # areas overflow: inf / inf before
        ([0, 0, 1e200, 1e200], [1, 1, 1e200, 1e200], 1.0),
        ([1e308, 0, 1e308, 1], [1e308, 0, 1e308, 1], 1.0),  # corners overflow
        ([0, 0, 1e308, 1e308], [0, 0, 0.5e308, 1e308], 0.5),
        ([0, 0, 2, 2], [0, 0, 1e300, 1e300], 0.0),
        ([0, 0, 1e-300, 1e-300], [0, 0, 1e-300, 1e-300], 1.0),  # areas underflow to 0
        ([0, 0, 2, 2], [1, 1, 2, 2], 1 / 7),  # ordinary boxes keep their exact value
    ],
    ids=[
        "equal 1e308",
        "shifted 1e200",
        "corners overflow",
        "half of 1e308",
        "tiny in huge",
        "equal 1e-300",
        "ordinary",
    ],
)
def test_iou_of_huge_boxes_is_right(a, b, expected):
    assert boxes.iou(a, b) == pytest.approx(expected, abs=1e-12)


def test_two_frame_synth_sequences_generate():
    config = synth.SynthConfig(
        num_sequences=9, length=2, seed=3
    )  # every attribute once
    for index in range(9):
        frames = list(synth.make_sequence(config, index).frames())
        assert len(frames) == 2 and frames[0].shape == (192, 256, 3)


# --------------------------------------------------------------------------------------
# Command line: one line, status 2, checked before the work, nothing partial left


def _cli_cases(t: Path) -> dict[str, tuple[list[str], str]]:
    """Every case's argv (built in `t`) and the message expected after
    `siamlab: error: `."""
    afile = t / "afile"
    afile.write_text("x")
    good = got10k(t / "good")
    bad_frames = corrupt_frame(t / "bad", lambda b: b"")
    latin = got10k(t / "latin", truth="3,4,10,8\n\xe9\n3,4,1,1\n".encode("latin-1"))
    weights = _bytes(t, np.random.default_rng(1).bytes(512), "random.pt")
    paper = _saved(
        t, {"config": config_dict(SiamFCConfig.paper()), "step": 1}, "paper.pt"
    )
    ev = ["eval", "--tracker", "static", "--dataset", f"got10k:{good}"]
    tr = ["train", "siamfc", "--steps", "1", "--dataset", f"got10k:{good}"]
    return {
        "eval --json below a file": (
            ev + ["--json", f"{afile}/r.json"],
            "--json .* cannot be created",
        ),
        "eval --json a folder": (
            ev + ["--json", str(t)],
            "--json .* is a folder, expected a file",
        ),
        "eval --results a file": (
            ev + ["--results", str(afile)],
            "--results .* is a file",
        ),
        "eval unknown tracker": (
            ["eval", "--tracker", "nope", "--dataset", "synth-test"],
            "name must be one of",
        ),
        "eval --device unknown": (
            [
                "eval",
                "--tracker",
                "siamfc",
                "--dataset",
                "synth-test",
                "--device",
                "gpu",
            ],
            "device must be one of",
        ),
        "eval --weights random bytes": (
            [
                "eval",
                "--tracker",
                "siamfc",
                "--dataset",
                "synth-test",
                "--weights",
                str(weights),
            ],
            "random.pt' cannot be read",
        ),
        "eval --max-sequences 0": (ev + ["--max-sequences", "0"], "max_sequences"),
        "eval missing dataset folder": (
            ["eval", "--tracker", "static", "--dataset", f"got10k:{t / 'none'}"],
            "does not exist",
        ),
        "eval corrupt frame": (
            ["eval", "--tracker", "ncc", "--dataset", f"got10k:{bad_frames}"],
            "00000002.png.*cannot be read",
        ),
        "eval latin-1 ground truth": (
            ["eval", "--tracker", "static", "--dataset", f"got10k:{latin}"],
            "groundtruth.txt: not UTF-8",
        ),
        "score --json below a file": (
            [
                "score",
                "--results",
                str(t),
                "--dataset",
                f"got10k:{good}",
                "--json",
                f"{afile}/s.json",
            ],
            "--json .* cannot be created",
        ),
        "score missing results": (
            ["score", "--results", str(t / "none"), "--dataset", f"got10k:{good}"],
            "is not a folder",
        ),
        "train --out below a file": (
            tr + ["--out", f"{afile}/m.pt"],
            "--out .* cannot be created",
        ),
        "train --out a folder": (tr + ["--out", str(t)], "--out .* is a folder"),
        "train --lr 0": (
            tr + ["--out", str(t / "m.pt"), "--lr", "0"],
            r"lr \(learning rate\)",
        ),
        "train --device unknown": (
            tr + ["--out", str(t / "m.pt"), "--device", "tpu"],
            "device must be one of",
        ),
        "train --preset unknown": (
            tr + ["--out", str(t / "m.pt"), "--preset", "huge"],
            "--preset",
        ),
        "train --resume another preset": (
            tr + ["--out", str(paper), "--resume"],
            "paper.pt' was written with config .* differs",
        ),
        "synth --out a file": (
            ["synth", "--out", str(afile), "--num", "1", "--length", "2"],
            "--out .* is a file, expected a folder",
        ),
        "synth --length 1": (
            ["synth", "--out", str(t / "s"), "--num", "1", "--length", "1"],
            "length must be an integer >= 2",
        ),
    }


CLI_NAMES = [  # the keys of _cli_cases, spelled out for the test ids
    "eval --json below a file",
    "eval --json a folder",
    "eval --results a file",
    "eval unknown tracker",
    "eval --device unknown",
    "eval --weights random bytes",
    "eval --max-sequences 0",
    "eval missing dataset folder",
    "eval corrupt frame",
    "eval latin-1 ground truth",
    "score --json below a file",
    "score missing results",
    "train --out below a file",
    "train --out a folder",
    "train --lr 0",
    "train --device unknown",
    "train --preset unknown",
    "train --resume another preset",
    "synth --out a file",
    "synth --length 1",
]


@pytest.mark.parametrize("case", CLI_NAMES)
def test_cli_error_is_one_line_and_status_2(tmp_path, capsys, case):
    argv, message = _cli_cases(tmp_path)[case]
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) >= 1 and err[-1].startswith("siamlab: error: ")
    assert re.search(message, err[-1]), err[-1]
    assert "Traceback" not in "\n".join(err)
    assert (
        sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    )  # nothing left


def test_cli_failed_eval_leaves_no_partial_results(tmp_path, capsys):
    """The first sequence tracks fine, the second has a corrupt frame: no results of
    either, and no report, are left behind."""
    root = got10k(tmp_path, name="a")
    got10k(tmp_path, name="b")
    (root / "b" / "00000002.png").write_bytes(b"not an image")
    results, report = tmp_path / "results", tmp_path / "out" / "report.json"
    argv = [
        "eval",
        "--tracker",
        "static",
        "--dataset",
        f"got10k:{root}",
        "--results",
        str(results),
        "--json",
        str(report),
    ]
    assert main(argv) == 2
    assert "b/00000002.png" in capsys.readouterr().err
    assert not report.exists()
    assert not results.exists() or not any(p.is_file() for p in results.rglob("*"))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_cli_success_writes_results_and_report(tmp_path):
    root = got10k(tmp_path)
    results, report = tmp_path / "results", tmp_path / "report.json"
    assert (
        main(
            [
                "eval",
                "--tracker",
                "static",
                "--dataset",
                f"got10k:{root}",
                "--results",
                str(results),
                "--json",
                str(report),
            ]
        )
        == 0
    )
    assert (results / "static" / "seq.txt").is_file() and report.is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "got",
        "report.json",
        "results",
    ]


@pytest.mark.parametrize(
    "raised, expected",
    [
        (PermissionError(13, "Permission denied", "x.json"), 2),
        (Image.UnidentifiedImageError("cannot identify image file 'f.png'"), 2),
        (ValueError("bad\nvalue"), 2),
    ],
)
def test_cli_expected_errors_become_status_2(monkeypatch, capsys, raised, expected):
    import siamlab.cli as cli

    def handler(args):
        raise raised

    monkeypatch.setattr(cli, "COMMANDS", [_command("boom", handler)])
    assert cli.main(["boom"]) == expected
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("siamlab: error: ")


def test_cli_genuine_bug_keeps_its_traceback(monkeypatch):
    import siamlab.cli as cli

    def handler(args):
        raise KeyError("a bug")

    monkeypatch.setattr(cli, "COMMANDS", [_command("boom", handler)])
    with pytest.raises(KeyError):
        cli.main(["boom"])


def _command(name: str, handler):
    def add(subparsers):
        subparsers.add_parser(name).set_defaults(handler=handler)

    return add
