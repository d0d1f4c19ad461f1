"""Up-channel against depthwise correlation (SiamRPN++, Li et al. 2019, Sec. 3.4):
parameters, training curves over several seeds, and success AUC on synth-test.

Both networks are SiamRPN-tiny (chapter 4) but for the head: SiamRPN's `UpChannelRPN`
(C = 64) or SiamRPN++'s `DepthwiseRPN` (64 hidden channels). Both start from
SiamFC-tiny's backbone with its first three stages fixed and train as
`siamlab train siamrpn --preset tiny` does (plain pairs, shift 32), for `--steps`
steps from each seed; the only difference is the head. Chapter 6 plots the curves this
script records (`--json`). Accuracy and stability, not speed: no timing ratios.

Run: `python benchmarks/head_comparison.py [--steps 300] [--seeds 0 1 2] [--json F]`.
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from _common import machine

from siamlab.datasets import load_dataset
from siamlab.evaluation import run_benchmark
from siamlab.models.siamrpn import SiamRPNConfig, SiamRPNNet, train_siamrpn
from siamlab.nn.backbones import count_parameters
from siamlab.nn.heads import DepthwiseRPN
from siamlab.trackers.siamrpn import SiamRPNTracker


def network(head: str) -> SiamRPNNet:
    """SiamRPN-tiny with its own head ("up-channel") or a depthwise one."""
    model = SiamRPNNet(SiamRPNConfig.tiny())
    if head == "depthwise":
        channels = model.backbone.out_channels
        model.head = DepthwiseRPN(model.config.num_anchors, channels, channels)
        # outputs near 0 at the start, as SiamRPN's small template lifts give
        torch.nn.init.normal_(model.head.cls.head[3].weight, std=0.01)
        torch.nn.init.normal_(model.head.loc.head[3].weight, std=0.001)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()
    print(machine())
    train, test = load_dataset("synth-train"), load_dataset("synth-test")
    results: dict = {"steps": args.steps, "seeds": args.seeds, "heads": {}}
    for head in ("up-channel", "depthwise"):
        runs = []
        for seed in args.seeds:
            start = time.perf_counter()
            model, history = train_siamrpn(
                SiamRPNConfig.tiny(), train, args.steps, seed=seed,
                model=network(head), pretrained=True, frozen_stages=3,
                progress=False,
            )  # fmt: skip
            seconds = time.perf_counter() - start
            table = run_benchmark(
                {head: SiamRPNTracker(model.eval())}, test, progress=False
            )[head]
            runs.append(
                {
                    "seed": seed,
                    "losses": [round(v, 5) for v in history.losses],
                    "success_auc": round(float(table["success_auc"]), 4),
                    "train_seconds": round(seconds, 1),
                }
            )
            print(
                f"{head:>10s} seed {seed}: final loss (mean of 50) "
                f"{sum(history.losses[-50:]) / 50:.4f}, AUC "
                f"{runs[-1]['success_auc']:.3f}, {seconds:.0f} s",
                flush=True,
            )
        results["heads"][head] = {
            "head_parameters": count_parameters(network(head).head),
            "runs": runs,
        }
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(results, file)


if __name__ == "__main__":
    main()
