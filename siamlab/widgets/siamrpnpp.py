"""Figures of chapter 6 (SiamRPN++, Li et al. 2019): the network as a schematic with its
shapes, and training curves of several seeds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from siamlab.models.siamrpnpp import SiamRPNPPConfig, SiamRPNPPNet
from siamlab.viz.schematics import _arrow, _canvas, _legend, _node


def _sides(net: SiamRPNPPNet, config: SiamRPNPPConfig) -> dict[str, list]:
    """Channels and sides of the backbone's used stages, of the neck's outputs and of
    the head's, for one exemplar and one search crop (a forward pass on the meta
    device: shapes only, no arithmetic)."""
    with torch.no_grad():
        net.eval()
        z = torch.zeros(1, 3, config.exemplar_size, config.exemplar_size, device="meta")
        x = torch.zeros(1, 3, config.search_size, config.search_size, device="meta")
        stages_z, stages_x = net.backbone(z), net.backbone(x)
        neck_z, neck_x = net.features(z), net.features(x)
        cls, loc = net(z, x)
    as_list = lambda f: f if isinstance(f, list) else [f]  # noqa: E731
    return {
        "stages": [(f.shape[1], f.shape[-1], g.shape[-1])
                   for f, g in zip(as_list(stages_z), as_list(stages_x))],
        "neck": [(f.shape[1], f.shape[-1], g.shape[-1])
                 for f, g in zip(as_list(neck_z), as_list(neck_x))],
        "cls": tuple(cls.shape[1:]),
        "loc": tuple(loc.shape[1:]),
    }  # fmt: skip


def siamrpnpp_schematic(config: SiamRPNPPConfig | None = None) -> Figure:
    """SiamRPN++ with the shapes of `config` (default: the paper's): three ResNet
    stages, each through a 1×1 neck (the template's features cropped to their
    centre) into a depthwise RPN, the three outputs summed with learned weights."""
    config = config or SiamRPNPPConfig.paper()
    with torch.device("meta"):
        net = SiamRPNPPNet(config)
    sides = _sides(net, config)
    rows = len(sides["stages"])
    height = 0.9 + 0.85 * rows
    title = "SiamRPN++: layer-wise aggregation of depthwise RPNs"
    fig, ax = _canvas(12.0, height, title)
    ys = [height - 0.95 - i * 0.85 for i in range(rows)]
    names = {2: "conv3 (layer2)", 3: "conv4 (layer3)", 4: "conv5 (layer4)"}
    used = config.used_layers if config.backbone != "alexnet" else (5,)
    middle = float(np.mean(ys))
    e, x = config.exemplar_size, config.search_size
    _node(ax, 0.8, middle, f"z 3×{e}²\nx 3×{x}²", "input", w=1.2)
    for y, layer, stage, neck in zip(ys, used, sides["stages"], sides["neck"]):
        c, zs, xs = stage
        _arrow(ax, (1.4, middle), (1.85, y))
        _node(ax, 3.0, y, f"φ {names.get(layer, f'stage {layer}')}\n"
              f"z {c}×{zs}², x {c}×{xs}²", "learned", w=2.2)  # fmt: skip
        nc, nz, nx = neck
        _node(ax, 5.55, y, f"neck: 1×1 conv → {nc}\nz cropped to {nz}²",
              "learned", w=2.1)  # fmt: skip
        _arrow(ax, (4.1, y), (4.5, y))
        _node(ax, 8.05, y, "depthwise RPN: 3×3 convs,\n⋆ per channel, 1×1 head",
              "learned", w=2.4)  # fmt: skip
        _arrow(ax, (6.6, y), (6.85, y))
        _arrow(ax, (9.25, y), (9.8, middle))
    k2, s, _ = sides["cls"]
    k4 = sides["loc"][0]
    _node(ax, 10.85, middle, f"Σ softmax(w)·out\ncls {k2}×{s}²\nloc {k4}×{s}²",
          "output", w=2.0)  # fmt: skip
    _legend(ax, 0.2, height - 0.3)
    return fig


def plot_seed_curves(
    curves: Mapping[str, Sequence[Sequence[float]]],
    window: int = 25,
    title: str = "training loss",
) -> Figure:
    """One colour per model, one line per seed: running means over `window` steps of
    each run's losses."""
    if not curves or any(len(runs) == 0 for runs in curves.values()):
        raise ValueError("curves must map each name to at least one run's losses")
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ValueError(f"window must be a positive integer, got {window!r}")
    figure = Figure(figsize=(6.4, 3.4))
    ax = figure.subplots()
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:red"]
    for (name, runs), colour in zip(curves.items(), colours * 4):
        for index, losses in enumerate(runs):
            values = np.asarray(losses, dtype=float)
            kernel = np.ones(min(window, len(values))) / min(window, len(values))
            smooth = np.convolve(values, kernel, mode="valid")
            steps = np.arange(len(smooth)) + len(values) - len(smooth) + 1
            ax.plot(steps, smooth, color=colour, lw=1.2, alpha=0.85,
                    label=name if index == 0 else None)  # fmt: skip
    ax.set(xlabel="step", ylabel=f"loss (mean of {window} steps)", title=title)
    ax.legend()
    ax.grid(alpha=0.3)
    figure.tight_layout()
    return figure
