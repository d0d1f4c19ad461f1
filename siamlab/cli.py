"""The command line: `python -m siamlab <command> …` (or `siamlab <command> …` once
installed).

Each command is a function `_add_<name>(subparsers)` that declares its arguments and
sets `handler`, a function of the parsed arguments that returns the exit status. Heavy
imports happen inside the handlers so that `--help` stays instant.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

from siamlab import __version__

CommandAdder = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def _add_info(
    subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]",
) -> None:
    parser = subparsers.add_parser(
        "info", help="show the versions, the device and where the shipped weights are"
    )

    def handler(args: argparse.Namespace) -> int:
        import torch

        from siamlab import shipped
        from siamlab.device import get_device

        print(f"siamlab {__version__}")
        print(f"torch   {torch.__version__}")
        print(f"device  {get_device()} (set SIAMLAB_DEVICE to choose)")
        print(f"weights {shipped.weights_dir()}")
        for name in shipped.available():
            size = shipped.shipped_weights(name).stat().st_size / 2**20
            print(f"        {name} ({size:.1f} MiB)")
        return 0

    parser.set_defaults(handler=handler)


# Commands in the order `--help` lists them; each issue's command adds itself here.
COMMANDS: list[CommandAdder] = [_add_info]


def _add_synth(
    subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]",
) -> None:
    parser = subparsers.add_parser(
        "synth",
        help="write SynthTrack sequences to disk in the OTB or GOT-10k layout",
        description="Write SynthTrack sequences as image files with their ground "
        "truth. Without --num/--length/--seed the split's fixed configuration is "
        "written (e.g. synth-test).",
    )
    parser.add_argument(
        "--split",
        choices=["train", "test"],
        default="test",
        help="photographs to use (default: test)",
    )
    parser.add_argument(
        "--num",
        type=int,
        default=None,
        help="number of sequences (default: the split's)",
    )
    parser.add_argument(
        "--length",
        type=int,
        default=None,
        help="frames per sequence (default: the split's)",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="random seed (default: the split's)"
    )
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument(
        "--format",
        choices=["otb", "got10k"],
        default="got10k",
        help="folder layout (default: got10k)",
    )

    def handler(args: argparse.Namespace) -> int:
        from dataclasses import replace

        from tqdm.auto import tqdm

        from siamlab.datasets import formats, synth

        preset = (
            synth.SynthConfig.test()
            if args.split == "test"
            else synth.SynthConfig.train()
        )
        changes = {
            k: v
            for k, v in (
                ("num_sequences", args.num),
                ("length", args.length),
                ("seed", args.seed),
            )
            if v is not None
        }
        _check_output(args.out, "--out", folder=True)
        config = replace(preset, **changes)
        sequences = (
            synth.make_sequence(config, i) for i in range(config.num_sequences)
        )
        bar = tqdm(sequences, total=config.num_sequences, desc=f"synth-{args.split}")
        with _Staged(args.out) as staged:
            formats.WRITERS[args.format](bar, staged)
        root = args.out
        print(
            f"wrote {config.num_sequences} sequences x {config.length} frames "
            f"({args.format} layout) to {root}"
        )
        return 0

    parser.set_defaults(handler=handler)


def _jsonable(value):
    """`value` with NumPy numbers and arrays as Python ones and NaN / infinity as None
    (strict JSON)."""
    import math

    import numpy as np

    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [
            _jsonable(v)
            for v in (value.tolist() if isinstance(value, np.ndarray) else value)
        ]
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _check_output(path: str | None, flag: str, folder: bool = False) -> None:
    """Before any work: `ValueError` naming `flag` when `path` cannot be written (a file
    in the way of its folder, a folder where a file goes or the reverse, no permission),
    so a typo never throws away an evaluation or a training run."""
    import os
    from pathlib import Path

    if path is None:
        return
    target = Path(path)
    if not str(path).strip():
        raise ValueError(f"{flag} must be a path, got {path!r}")
    if target.exists() and target.is_dir() != folder:
        expected, found = ("a folder", "a file") if folder else ("a file", "a folder")
        raise ValueError(f"{flag} {str(path)!r} is {found}, expected {expected}")
    existing = next(
        p for p in (target, *target.parents) if p.exists() or p == Path(p.anchor)
    )
    if existing != target and not existing.is_dir():
        raise ValueError(
            f"{flag} {str(path)!r} cannot be created: {str(existing)!r} is a file"
        )
    if not os.access(existing, os.W_OK):
        raise ValueError(
            f"{flag} {str(path)!r} cannot be written: "
            f"no permission on {str(existing)!r}"
        )


def _write_report(row: dict, args: argparse.Namespace, **extra) -> None:
    import json
    import os
    import tempfile
    from pathlib import Path

    from siamlab.evaluation import format_table

    print(format_table({extra.get("tracker", "results"): row}))
    if args.json:
        target = Path(args.json)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(
            _jsonable({**extra, "dataset": args.dataset, **row}), indent=1
        )
        handle, tmp = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
        )
        try:  # written whole or not at all
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text)
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)
        print(f"wrote {args.json}")


class _Staged:
    """A temporary folder beside `target` whose files are moved into `target` only when
    the `with` block succeeds, so a failed command leaves no partial output (None: no
    folder)."""

    def __init__(self, target: str | None) -> None:
        self.target = target
        self.tmp: str | None = None

    def __enter__(self) -> str | None:
        import tempfile
        from pathlib import Path

        if self.target is None:
            return None
        parent = Path(self.target).absolute().parent
        parent.mkdir(parents=True, exist_ok=True)
        self.tmp = tempfile.mkdtemp(
            dir=parent, prefix=f".{Path(self.target).name}.partial-"
        )
        return self.tmp

    def __exit__(self, kind, error, trace) -> None:
        import os
        import shutil
        from pathlib import Path

        if self.tmp is None:
            return
        try:
            if kind is None:
                for source in sorted(
                    p for p in Path(self.tmp).rglob("*") if p.is_file()
                ):
                    destination = Path(self.target) / source.relative_to(self.tmp)
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(source, destination)
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


DATASETS_HELP = (
    "synth-test, synth-train, otb:DIR, got10k:DIR, lasot:DIR, vot:DIR or vot-area:DIR"
)

#: How `eval` and `score` choose the scoring protocol (`siamlab.evaluation` has the
# details).
PROTOCOL_HELP = (
    "The scores follow the conventions of the dataset's public toolkit: otb:, vot:, "
    "vot-area: and SynthTrack by the OTB toolkit (every frame counts, the first "
    "included; curves averaged per sequence); got10k: by the got10k toolkit (the "
    "first frame and absent frames left out, boxes clipped to the image; AO and SR "
    "pooled over all frames); lasot: by the LaSOT toolkit (every frame counts, the "
    "first included, absent frames as misses; normalised precision is the mean of "
    "its curve over 0-0.5 of the box size). --protocol overrides the choice; the "
    "report names the protocol used."
)


def _add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    """`--dataset`, `--max-sequences` and `--json`, shared by `eval` and `score`."""
    parser.add_argument(
        "--dataset",
        required=True,
        help=DATASETS_HELP,
    )
    parser.add_argument(
        "--max-sequences", type=int, default=None, help="only the first N sequences"
    )
    parser.add_argument(
        "--json",
        default=None,
        help="write the scores (with per-sequence ones) to this file",
    )


def _add_protocol(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--protocol",
        choices=["otb", "got10k", "lasot"],
        default=None,
        help="score by this toolkit's conventions (default: the dataset's own)",
    )


def _add_eval(
    subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]",
) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="run a tracker on a dataset and score it",
        description="Run a tracker on a dataset and score it. " + PROTOCOL_HELP,
    )
    parser.add_argument(
        "--tracker", required=True, help="tracker name (see siamlab.trackers.registry)"
    )
    _add_dataset_arguments(parser)
    parser.add_argument(
        "--results", default=None, help="save raw boxes as DIR/<tracker>/<sequence>.txt"
    )
    parser.add_argument(
        "--weights", default=None, help="checkpoint for trackers that take one"
    )
    parser.add_argument(
        "--device", default=None, help="cpu, cuda, mps (for trackers that take one)"
    )
    _add_protocol(parser)

    def handler(args: argparse.Namespace) -> int:
        from siamlab.datasets import load_dataset
        from siamlab.evaluation import run_benchmark
        from siamlab.trackers.registry import make_tracker

        _check_output(args.json, "--json")
        _check_output(args.results, "--results", folder=True)
        make_tracker(
            args.tracker, weights=args.weights, device=args.device
        )  # fail early on bad names
        sequences = load_dataset(args.dataset, args.max_sequences)
        factory = lambda: make_tracker(  # noqa: E731
            args.tracker, weights=args.weights, device=args.device
        )  # noqa: E731
        with _Staged(args.results) as results_dir:
            table = run_benchmark(
                {args.tracker: factory},
                sequences,
                results_dir=results_dir,
                protocol=args.protocol,
            )
        print(f"protocol: {table[args.tracker]['protocol']}")
        _write_report(table[args.tracker], args, tracker=args.tracker)
        return 0

    parser.set_defaults(handler=handler)


def _add_score(
    subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]",
) -> None:
    parser = subparsers.add_parser(
        "score",
        help="score stored result files (<sequence>.txt) against a dataset",
        description="Score stored result files against a dataset's ground truth. "
        + PROTOCOL_HELP,
    )
    parser.add_argument(
        "--results",
        required=True,
        help="folder with one <sequence>.txt per sequence (1-based x,y,w,h rows)",
    )
    _add_dataset_arguments(parser)
    _add_protocol(parser)

    def handler(args: argparse.Namespace) -> int:
        from siamlab.datasets import load_dataset
        from siamlab.evaluation import score_results

        _check_output(args.json, "--json")
        sequences = load_dataset(args.dataset, args.max_sequences)
        row = score_results(args.results, sequences, protocol=args.protocol)
        print(f"protocol: {row['protocol']}")
        _write_report(row, args, tracker="results", results=args.results)
        return 0

    parser.set_defaults(handler=handler)


COMMANDS += [_add_synth, _add_eval, _add_score]


def _train_siamfc(args: argparse.Namespace) -> int:
    """`train siamfc`: SiamFC (chapter 2) on pairs from `--dataset`, checkpoint written
    to `--out`."""
    import time

    from siamlab.datasets import load_dataset
    from siamlab.device import get_device
    from siamlab.nn.models import SiamFCConfig, train_siamfc

    presets = {"tiny": SiamFCConfig.tiny, "paper": SiamFCConfig.paper}
    if args.preset not in presets:
        raise ValueError(
            f"--preset must be one of {sorted(presets)} for siamfc, got {args.preset!r}"
        )
    if args.steps < 1 or args.batch_size < 1:
        raise ValueError(
            "--steps and --batch-size must be positive, "
            f"got {args.steps} and {args.batch_size}"
        )
    for flag in ("pairs", "init"):
        if getattr(args, flag, None) is not None:
            raise ValueError(f"--{flag} is for the RPN trackers, not siamfc")
    _check_output(args.out, "--out")
    get_device(
        args.device
    )  # an unknown or absent device is an error before the data load
    sequences = load_dataset(args.dataset, args.max_sequences)
    start = time.perf_counter()
    _, history = train_siamfc(
        presets[args.preset](),
        sequences,
        args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        checkpoint=args.out,
        resume=args.resume,
        device=args.device,
        workers=getattr(args, "workers", 0),
    )
    tail = history.losses[-min(50, len(history.losses)) :] or [float("nan")]
    print(
        f"trained siamfc ({args.preset}) to step {history.step} "
        f"in {time.perf_counter() - start:.0f} s; mean loss of the last {len(tail)} "
        f"steps {sum(tail) / len(tail):.4f}; wrote {args.out}"
    )
    return 0


#: Models `siamlab train MODEL` knows, each a handler of the parsed arguments;
#: chapters add theirs.
TRAINABLE: dict[str, Callable[[argparse.Namespace], int]] = {"siamfc": _train_siamfc}


def _train_siamrpn(args: argparse.Namespace) -> int:
    """`train siamrpn`: SiamRPN (chapter 4), see
    `siamlab.models.siamrpn.train_from_args`."""
    from siamlab.models.siamrpn import train_from_args

    return train_from_args(args)


TRAINABLE["siamrpn"] = _train_siamrpn


def _train_dasiamrpn(args: argparse.Namespace) -> int:
    """`train dasiamrpn`: DaSiamRPN (chapter 5), SiamRPN continued on distractor-aware
    pairs, see `siamlab.models.siamrpn.train_from_args`."""
    from siamlab.models.siamrpn import train_from_args

    return train_from_args(args, family="dasiamrpn")


TRAINABLE["dasiamrpn"] = _train_dasiamrpn


def _train_siamrpnpp(args: argparse.Namespace) -> int:
    """`train siamrpnpp`: SiamRPN++ (chapter 6), see
    `siamlab.models.siamrpn.train_from_args`."""
    from siamlab.models.siamrpn import train_from_args

    return train_from_args(args, family="siamrpnpp")


TRAINABLE["siamrpnpp"] = _train_siamrpnpp


def _train_centre_bias(args: argparse.Namespace) -> int:
    """`train centre-bias`: chapter 6's padded networks, one per training shift, see
    `siamlab.centre_bias.train_from_args`."""
    from siamlab.centre_bias import train_from_args

    if getattr(args, "workers", 0):
        raise ValueError("--workers is for siamfc and the RPN models, not centre-bias")
    _check_output(args.out, "--out")
    return train_from_args(args)


TRAINABLE["centre-bias"] = _train_centre_bias


def _add_train(
    subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]",
) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a model of the book and write its checkpoint",
        description="Train a model on SynthTrack-train (or another dataset) with "
        "atomic checkpoints; --resume continues from --out when it exists.",
    )
    parser.add_argument("model", choices=sorted(TRAINABLE), help="which model to train")
    parser.add_argument(
        "--preset",
        default="tiny",
        help="model size: tiny (CPU) or paper; siamrpnpp also alex (default: tiny)",
    )
    parser.add_argument(
        "--steps", type=int, required=True, help="total optimiser steps"
    )
    parser.add_argument("--out", required=True, help="checkpoint file to write")
    parser.add_argument(
        "--resume", action="store_true", help="continue from --out if it exists"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument(
        "--batch-size", type=int, default=16, help="pairs per step (default: 16)"
    )
    parser.add_argument(
        "--lr", type=float, default=1e-3, help="initial learning rate (default: 1e-3)"
    )
    parser.add_argument(
        "--dataset",
        default="synth-train",
        help="training sequences (default: synth-train)",
    )
    parser.add_argument(
        "--max-sequences", type=int, default=None, help="only the first N sequences"
    )
    parser.add_argument(
        "--device",
        default=None,
        help="cpu, cuda or mps (default: the fastest available)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="processes that draw the training pairs beside the training (default: 0, "
        "in the training process); not for centre-bias",
    )
    parser.add_argument(
        "--pairs",
        choices=["plain", "distractor"],
        default=None,
        help="siamrpn/dasiamrpn: positive pairs only, or with semantic negatives and "
        "augmented stills (default: plain for siamrpn, distractor for dasiamrpn)",
    )
    parser.add_argument(
        "--init",
        default=None,
        help="dasiamrpn: the SiamRPN checkpoint to continue (default for tiny: the "
        "shipped SiamRPN-tiny)",
    )
    parser.set_defaults(handler=_run_train)


def _run_train(args: argparse.Namespace) -> int:
    """The options every model shares, checked; under torchrun, the process group
    joined (`siamlab.train.init_distributed`); then the model's own handler, whose
    summary only the first process prints (it alone writes the checkpoint)."""
    import contextlib
    import io

    from siamlab.train import init_distributed

    if args.workers < 0:
        raise ValueError(f"--workers must be 0 or more, got {args.workers}")
    rank, _ = init_distributed()
    quiet = contextlib.redirect_stdout(io.StringIO()) if rank > 0 else None
    with quiet or contextlib.nullcontext():
        return TRAINABLE[args.model](args)


COMMANDS.append(_add_train)


def _add_track(
    subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]",
) -> None:
    parser = subparsers.add_parser(
        "track",
        help="track an object in your own video and write it annotated (MP4 or GIF)",
        description="Run a tracker on a video file (MP4, AVI, GIF, ...), a folder of "
        "frames or a dataset sequence, from the box given on the first frame, and "
        "write the video with the box and score drawn on every frame (and the "
        "response map, with --inset). The output's suffix chooses MP4 or GIF; it "
        "appears only when the whole run succeeds.",
    )
    parser.add_argument(
        "--tracker", required=True, help="tracker name (see siamlab.trackers.registry)"
    )
    parser.add_argument(
        "--weights", default=None, help="checkpoint for trackers that take one"
    )
    parser.add_argument(
        "--input",
        default=None,
        help="a video file (MP4, AVI, GIF, ...) or a folder of frames (sorted image "
        "files)",
    )
    parser.add_argument(
        "--dataset",
        default=None,
        help="instead of --input, a dataset (" + DATASETS_HELP + ") with --sequence",
    )
    parser.add_argument(
        "--sequence", default=None, help="the sequence of --dataset to track"
    )
    parser.add_argument(
        "--box",
        default=None,
        help="the target on the first frame as x,y,w,h (pixels, 0-based; default "
        "with --dataset: its first ground-truth box)",
    )
    parser.add_argument(
        "--output", required=True, help="annotated video to write (.mp4 or .gif)"
    )
    parser.add_argument(
        "--boxes",
        default=None,
        help="also write the boxes to this file (1-based x,y,w,h rows, as the "
        "benchmarks' toolkits read them)",
    )
    parser.add_argument(
        "--inset",
        action="store_true",
        help="draw the tracker's response map in the top-right corner",
    )
    parser.add_argument(
        "--device", default=None, help="cpu, cuda, mps (for trackers that take one)"
    )
    parser.add_argument(
        "--max-frames", type=int, default=None, help="only the first N frames"
    )

    def handler(args: argparse.Namespace) -> int:
        import itertools

        from siamlab import video
        from siamlab.datasets import load_dataset
        from siamlab.trackers import registry

        box = None if args.box is None else video.parse_box(args.box, "--box")
        if args.max_frames is not None and args.max_frames < 1:
            raise ValueError(f"--max-frames must be positive, got {args.max_frames}")
        if args.tracker not in registry.TRACKERS:
            raise ValueError(
                f"--tracker must be one of {sorted(registry.TRACKERS)}, "
                f"got {args.tracker!r}"
            )
        accepted = registry._accepted(registry.TRACKERS[args.tracker])
        for flag, value in (("--weights", args.weights), ("--device", args.device)):
            if value is not None and accepted is not None and flag[2:] not in accepted:
                raise ValueError(
                    f"{flag} does not apply to tracker {args.tracker!r}, which takes "
                    f"no {flag[2:]}"
                )
        output = video.check_output(args.output, "--output")
        if args.boxes is not None:
            video.check_output(args.boxes, "--boxes", suffixes=None)
        if (args.input is None) == (args.dataset is None):
            raise ValueError(
                "give either --input (a video file or a folder of frames) or "
                "--dataset with --sequence"
            )
        if args.input is not None:
            if args.sequence is not None:
                raise ValueError("--sequence goes with --dataset, not with --input")
            if box is None:
                raise ValueError(
                    "--box x,y,w,h is required with --input (the target on the "
                    "first frame)"
                )
            info = video.probe(args.input, "--input")
            frames = video.read_frames(args.input, "--input")
            total, fps, source = info.frames, info.fps, args.input
        else:
            if args.sequence is None:
                raise ValueError("--sequence is required with --dataset")
            sequences = {s.name: s for s in load_dataset(args.dataset)}
            if args.sequence not in sequences:
                names = sorted(sequences)
                raise ValueError(
                    f"--sequence must be a sequence of {args.dataset} ("
                    f"{', '.join(names[:3])}{', ...' if len(names) > 3 else ''}), "
                    f"got {args.sequence!r}"
                )
            sequence = sequences[args.sequence]
            frames, total, fps = sequence.frames(), len(sequence), None
            source = f"{args.dataset} {sequence.name}"
            if box is None:
                box = sequence.boxes[0]
        if args.max_frames is not None:
            frames = itertools.islice(frames, args.max_frames)
            total = min(total or args.max_frames, args.max_frames)
        tracker = registry.make_tracker(
            args.tracker, weights=args.weights, device=args.device
        )
        stats = video.track_video(
            tracker,
            frames,
            box,
            output,
            inset=args.inset,
            boxes_path=args.boxes,
            fps=fps,
            total=total,
            name="--box",
        )
        print(
            f"tracked {stats['frames']} frames of {source} with {args.tracker} in "
            f"{stats['seconds']:.1f} s: {stats['tracker_fps']:.1f} fps tracking "
            f"only, {stats['fps']:.1f} fps overall (reading, drawing, writing)"
        )
        print(f"wrote {args.output}")
        if args.boxes is not None:
            print(f"wrote {args.boxes} (1-based x,y,w,h rows)")
        return 0

    parser.set_defaults(handler=handler)


COMMANDS.append(_add_track)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered command."""
    parser = argparse.ArgumentParser(
        prog="siamlab",
        description="Siamese trackers from the book: generate data, train, track "
        "and evaluate.",
    )
    parser.add_argument("--version", action="version", version=f"siamlab {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for add in COMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` (default: `sys.argv[1:]`) and run the command; returns the exit
    status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except (ValueError, OSError) as error:
        # expected errors (bad values, devices, files, images: PIL's are OSErrors) are
        # one line and status 2; any other exception is a bug and keeps its traceback
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"siamlab: error: {message}", file=sys.stderr)
        return 2
