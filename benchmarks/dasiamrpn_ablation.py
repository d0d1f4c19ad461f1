"""DaSiamRPN's ablation on all of synth-test: success AUC, failures per 100 frames
(VOT's supervised protocol) and recovery after the target comes back into view.

Rows: SiamRPN-tiny (chapter 4), the same network continued on SiamRPN's own pairs for
as many steps as DaSiamRPN-tiny (`--control PATH`, optional: the checkpoint of
`python -m siamlab train dasiamrpn --pairs plain …`), DaSiamRPN-tiny with plain
SiamRPN inference, + distractor-aware re-ranking, + local-to-global search. Groups:
all 30 sequences, those with look-alikes (SD), those whose target leaves the view
(OV). Chapter 5 runs the same on ten of these sequences; this script gives the full
table (a few minutes per row on 2 CPU cores). Accuracy, not speed: it prints no
timing ratios.

Run: `python benchmarks/dasiamrpn_ablation.py [--control PATH] [--json FILE]`.
"""

from __future__ import annotations

import argparse
import json

from _common import machine

from siamlab.datasets import load_dataset
from siamlab.evaluation import robustness_benchmark
from siamlab.models.siamrpn import load_siamrpn
from siamlab.shipped import shipped_weights
from siamlab.trackers.dasiamrpn import DaSiamRPNParams, DaSiamRPNTracker


def rows(control: str | None) -> dict:
    """Display name → tracker factory, in the order the changes are added."""
    siamrpn = load_siamrpn()
    dasiamrpn = load_siamrpn(shipped_weights("dasiamrpn_tiny.pt"))
    off = DaSiamRPNParams(distractor_weight=0.0)
    chosen = {"SiamRPN-tiny": (siamrpn, off)}
    if control:
        chosen["SiamRPN-tiny, plain pairs continued"] = (load_siamrpn(control), off)
    chosen["DaSiamRPN-tiny, SiamRPN inference"] = (dasiamrpn, off)
    chosen["+ distractor-aware inference"] = (dasiamrpn, DaSiamRPNParams())
    chosen["+ local-to-global search"] = (dasiamrpn, DaSiamRPNParams(long_term=True))
    return {
        name: (lambda net=net, params=params: DaSiamRPNTracker(net, params))
        for name, (net, params) in chosen.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--control", default=None, help="plain-pairs checkpoint")
    parser.add_argument("--json", default=None, help="also write the table here")
    args = parser.parse_args()
    test = load_dataset("synth-test")
    groups = {
        "all": test,
        "SD": [s for s in test if "SD" in s.attributes],
        "OV": [s for s in test if "OV" in s.attributes],
    }
    print(machine())
    table = robustness_benchmark(rows(args.control), groups)
    print(f"{'':38s}" + "".join(f"{'AUC ' + g:>9s}" for g in groups)
          + "".join(f"{'f/100 ' + g:>11s}" for g in groups)
          + f"{'recovered':>10s}{'frames':>8s}")  # fmt: skip
    for name, row in table.items():
        cells = "".join(f"{row[g]['success_auc']:>9.3f}" for g in groups)
        cells += "".join(f"{row[g]['failures_per_100']:>11.2f}" for g in groups)
        cells += (
            f"{row['OV']['recovered']:>10.2f}{row['OV']['frames_to_recover']:>8.1f}"
        )
        print(f"{name:38s}{cells}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(table, out, indent=1)


if __name__ == "__main__":
    main()
