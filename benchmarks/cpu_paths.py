"""Reduced-cost CPU inference: the backbones in fp32 (NCHW, channels-last, batch norms
folded) and int8.

The backbone is most of every tracker's network time on a CPU (the correlation and
heads are a few per cent). For each tracker's backbone at the tiny and paper presets,
on the search batch the tracker feeds it every frame (SiamFC: three scales; SiamRPN and
SiamRPN++: one crop), four versions are timed side by side:

- `tracker`: as the trackers run it: eval mode, on the tensor `siamlab.crops.to_tensor`
  makes, which is channels-last already (a permuted view of the `(N, H, W, 3)` crops),
  so every convolution takes PyTorch's channels-last path;
- `nchw`: the same network on a contiguous NCHW copy of the input;
- `fused`: batch norms folded into the convolutions
  (`torch.fx.experimental.optimization.fuse`), channels-last;
- `int8`: static post-training quantisation with PyTorch's x86 backend
  (`torch.ao.quantization.quantize_fx`, the default x86 `QConfigMapping`), calibrated on
  16 crops of the same kind; its output is converted back to float.

Each line gives ms per call, the speed-up over `tracker` (median of the per-round
ratios) and the relative error of the features against it, ‖f − f_tracker‖ /
‖f_tracker‖. Shipped weights for the tiny presets, random ones for the paper presets;
the inputs are crops of synth-test frames. For SiamRPN++ only the ResNet is timed (its
necks crop the template with a shape test that FX cannot trace).

Run: `python benchmarks/cpu_paths.py [--rounds N] [--threads T]`.
"""

from __future__ import annotations

import argparse
import copy
import warnings

import numpy as np
import torch
from _common import add_common_arguments, alternate, machine, median, set_threads
from torch import nn

from siamlab.crops import crop_square, search_side, to_tensor
from siamlab.datasets.formats import load_dataset
from siamlab.models.siamfc import SiamFCConfig, SiamFCNet, load_siamfc
from siamlab.models.siamrpn import SiamRPNConfig, SiamRPNNet, load_siamrpn
from siamlab.models.siamrpnpp import SiamRPNPPConfig, SiamRPNPPNet, load_siamrpnpp


class _Features(nn.Module):
    """What a tracker runs on its search crops before the correlation."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        net = self.net
        if isinstance(net, SiamFCNet):
            return net.backbone(x)
        if isinstance(net, SiamRPNNet):
            return net.features(x)
        # SiamRPN++: the ResNet alone (the necks crop with a shape test FX cannot trace)
        return torch.cat([f.flatten(1) for f in net.backbone(x)], dim=1)


def crops(count: int, size: int = 255, seed: int = 0) -> torch.Tensor:
    """`count` search crops `(count, 3, size, size)` around SynthTrack targets."""
    rng = np.random.default_rng(seed)
    sequences = load_dataset("synth-test")
    out = []
    for _ in range(count):
        sequence = sequences[int(rng.integers(len(sequences)))]
        index = int(rng.integers(len(sequence)))
        if not np.all(np.isfinite(sequence.boxes[index])):
            index = 0  # the target is absent there; the first frame always has it
        x, y, w, h = sequence.boxes[index]
        side = search_side((x, y, w, h), 127, 255)  # SiamFC's search square
        out.append(
            crop_square(sequence.frame(index), (x + w / 2, y + h / 2), side, size)
        )
    return to_tensor(np.stack(out))


def fused_channels_last(model: nn.Module) -> nn.Module:
    from torch.fx.experimental.optimization import fuse

    return fuse(copy.deepcopy(model).eval()).to(memory_format=torch.channels_last)


def int8(model: nn.Module, calibration: torch.Tensor) -> nn.Module:
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    torch.backends.quantized.engine = "x86"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mapping = get_default_qconfig_mapping("x86")
        prepared = prepare_fx(copy.deepcopy(model).eval(), mapping, (calibration[:1],))
        with torch.no_grad():
            for start in range(0, len(calibration), 4):
                prepared(calibration[start : start + 4])
        return convert_fx(prepared)


def relative_error(output: torch.Tensor, reference: torch.Tensor) -> float:
    return float((output - reference).norm() / reference.norm())


def models() -> dict[str, tuple[nn.Module, int]]:
    """Name → (network, search batch per frame)."""
    torch.manual_seed(0)
    return {
        "siamfc tiny": (load_siamfc(), 3),
        "siamfc paper": (SiamFCNet(SiamFCConfig.paper()), 3),
        "siamrpn tiny": (load_siamrpn(), 1),
        "siamrpn paper": (SiamRPNNet(SiamRPNConfig.paper()), 1),
        "siamrpnpp tiny": (load_siamrpnpp(), 1),
        "siamrpnpp paper": (SiamRPNPPNet(SiamRPNPPConfig.paper()), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, rounds=5)
    args = parser.parse_args(argv)
    set_threads(args.threads)
    print(machine())
    print(
        "ms per call of the backbone on a frame's search batch, median of "
        f"{args.rounds} alternated rounds; × = median per-round ratio to `tracker`"
    )
    calibration = crops(16, seed=1)
    inputs = crops(3, seed=2)
    header = f"{'network':>15s}{'batch':>6s}"
    for name in ("tracker", "nchw", "fused", "int8"):
        header += f"{name + ' ms':>12s}{'×':>7s}{'error':>9s}"
    print(header)
    with torch.no_grad():
        for name, (net, batch) in models().items():
            net = _Features(net.float().eval())
            x = inputs[:batch]  # channels-last, as to_tensor makes it
            variants = {
                "tracker": (net, x),
                "nchw": (net, x.contiguous()),
                "fused": (fused_channels_last(net), x),
                "int8": (int8(net, calibration), x),
            }
            reference = net(x)
            times = alternate(
                {k: (lambda m=m, i=i: m(i)) for k, (m, i) in variants.items()},
                args.rounds,
            )
            line = f"{name:>15s}{batch:>6d}"
            for key, (model, tensor) in variants.items():
                ratio = median([a / b for a, b in zip(times["tracker"], times[key])])
                error = relative_error(model(tensor).float(), reference)
                line += f"{median(times[key]) * 1e3:>12.2f}{ratio:>6.2f}×{error:>9.1e}"
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
