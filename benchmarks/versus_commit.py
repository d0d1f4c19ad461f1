"""This checkout against an earlier commit, side by side: training steps per second
and tracking frames per second of the tiny presets.

The library of `--commit` is exported (`git archive`) into a temporary folder, and
each round runs the same measurement twice in fresh processes, once with that
library first on `PYTHONPATH` and once with this checkout's, alternating which goes
first. A measurement:

- `siamfc train`, `siamrpn train`: seconds of `train_siamfc` / `train_siamrpn` for
  `--steps` steps of 16 pairs from synth-train, the tiny presets as `siamlab train
  … --preset tiny` trains them (SiamRPN from SiamFC-tiny's backbone, three stages
  fixed), each in a fresh process, so the time includes the start of a run;
- `siamfc track`, `siamrpn track`: frames per second of `update` with the shipped
  tiny weights on 60 frames of 640×480 (`_common.random_frames`, the frames of
  `trackers.py`: a textured target moving over a smooth random background).

The table shows each side's median over the rounds and the ratio (this checkout's
speed over the commit's, median of the per-round ratios). The two sides draw their
pairs from their own SynthTrack, which may differ between commits; the networks and
the batch are the same.

Run: `python benchmarks/versus_commit.py --commit REV [--steps N] [--rounds R]
[--threads T]`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import add_common_arguments, machine, median

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

MEASURE = """
import json, sys, time
import torch

steps, threads = int(sys.argv[1]), int(sys.argv[2])
sys.path.append(sys.argv[3])  # benchmarks/, for _common (which imports no siamlab)
from _common import random_frames

if threads > 0:
    torch.set_num_threads(threads)
import siamlab
from siamlab.datasets import load_dataset
from siamlab.models.siamfc import SiamFCConfig, train_siamfc
from siamlab.models.siamrpn import SiamRPNConfig, train_siamrpn
from siamlab.trackers.registry import make_tracker

result = {"library": siamlab.__file__}
train = load_dataset("synth-train")
start = time.perf_counter()
train_siamfc(SiamFCConfig.tiny(), train, steps, batch_size=16, seed=0, progress=False)
result["siamfc train"] = time.perf_counter() - start
start = time.perf_counter()
train_siamrpn(
    SiamRPNConfig.tiny(), train, steps, batch_size=16, seed=0, pretrained=True,
    frozen_stages=3, progress=False,
)
result["siamrpn train"] = time.perf_counter() - start

frames, first = random_frames(61)
for name in ("siamfc", "siamrpn"):
    tracker = make_tracker(name)
    tracker.init(frames[0], first)
    start = time.perf_counter()
    for frame in frames[1:]:
        tracker.update(frame)
    result[f"{name} track"] = 60 / (time.perf_counter() - start)
print(json.dumps(result))
"""

#: measurement → True where larger is faster (fps), False for seconds
MEASURES = {
    "siamfc train": False,
    "siamrpn train": False,
    "siamfc track": True,
    "siamrpn track": True,
}


def export(commit: str, folder: Path) -> Path:
    """The `siamlab` package of `commit`, written under `folder`; returns `folder`."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit, "siamlab"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def measure(library: Path, steps: int, threads: int) -> dict:
    """One measurement in a fresh process with `library` first on the path."""
    env = {**os.environ, "PYTHONPATH": str(library), "TQDM_DISABLE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(steps), str(threads), str(HERE)],
        env=env,
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"the measurement with {library} failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    expected = library / "siamlab" / "__init__.py"
    if Path(result["library"]).resolve() != expected.resolve():
        raise SystemExit(f"imported {result['library']}, expected {expected}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, rounds=3)
    parser.add_argument("--commit", required=True, help="the earlier commit")
    parser.add_argument("--steps", type=int, default=60, help="training steps")
    args = parser.parse_args()
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", args.commit],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    threads = args.threads or 0
    results: dict[str, list[dict]] = {"commit": [], "this": []}
    with tempfile.TemporaryDirectory() as folder:
        sides = {"commit": export(commit, Path(folder)), "this": ROOT}
        for index in range(args.rounds):
            order = ["commit", "this"] if index % 2 == 0 else ["this", "commit"]
            for side in order:
                results[side].append(measure(sides[side], args.steps, threads))
    print(machine())
    print(
        f"{commit} against this checkout; {args.steps} training steps of 16 pairs "
        f"in a fresh process, 60 tracked 640×480 frames; median of {args.rounds} "
        "alternated rounds"
    )
    print(f"{'':>15}{commit:>12}{'this':>12}{'speed-up':>10}")
    for name, higher_is_faster in MEASURES.items():
        old = [r[name] for r in results["commit"]]
        new = [r[name] for r in results["this"]]
        ratios = [n / o if higher_is_faster else o / n for o, n in zip(old, new)]
        unit = "fps" if higher_is_faster else "s"
        print(
            f"{name:>15}{median(old):>8.1f} {unit:<3}{median(new):>8.1f} {unit:<3}"
            f"{median(ratios):>9.2f}×"
        )


if __name__ == "__main__":
    main()
