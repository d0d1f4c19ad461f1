"""Batched vs per-sample cross-correlation (SiamFC, Bertinetto et al. 2016), measured
side by side.

Prints, for the tiny and paper feature sizes and batches of 8 and 32, the best-of-N time
of `xcorr_loop` (one convolution per pair) and `xcorr_batched` (one grouped convolution)
and their ratio. Run: `python benchmarks/bench_xcorr.py [--repeats N]`.
"""

from __future__ import annotations

import argparse
import time

import torch

from siamlab.nn.xcorr import xcorr_batched, xcorr_depthwise, xcorr_loop

#: (name, channels) of the exemplar (6×6) and search (22×22) features of the two
# presets.
FEATURES = (("tiny", 64), ("paper", 256))


def best_seconds(fn, *args, repeats: int) -> float:
    fn(*args)  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)  # the least disturbed run: the machine may be shared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(
        f"{'features':>9} {'batch':>5} {'loop ms':>9} {'batched ms':>11} "
        f"{'depthwise ms':>13} {'loop/batched':>13}"
    )
    with torch.no_grad():
        for name, channels in FEATURES:
            for batch in (8, 32):
                z, x = (
                    torch.randn(batch, channels, 6, 6),
                    torch.randn(batch, channels, 22, 22),
                )
                loop = best_seconds(xcorr_loop, z, x, repeats=args.repeats)
                batched = best_seconds(xcorr_batched, z, x, repeats=args.repeats)
                depthwise = best_seconds(xcorr_depthwise, z, x, repeats=args.repeats)
                print(
                    f"{name:>9} {batch:>5} {loop * 1e3:>9.2f} {batched * 1e3:>11.2f} "
                    f"{depthwise * 1e3:>13.2f} "
                    f"{loop / batched:>12.1f}×"
                )


if __name__ == "__main__":
    main()
