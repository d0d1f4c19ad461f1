"""Forms of the batched cross-correlation (SiamFC, Bertinetto et al. 2016), measured
side by side.

Exemplar features 6×6 over search features 22×22 (17×17 responses), the tiny (C=64)
and paper (C=256) channel counts, batches 1, 8 and 32, the forward pass alone and with
the backward pass (training). Every form is first checked against `xcorr_loop` (the
definition) in float64; then the forms are alternated round by round (a round calls
each form for at least 20 ms) and the table shows each one's median milliseconds per
call and its ratio to the loop (median of the per-round ratios). `xcorr_batched` is
the library's choice for the device (on a CPU: one matrix product and a sum of shifted
maps).

Run: `python benchmarks/bench_xcorr.py [--rounds N] [--threads T]`.
"""

from __future__ import annotations

import argparse

import torch
from _common import (
    add_common_arguments,
    alternate,
    machine,
    median,
    ratio_range,
    set_threads,
)

from siamlab.nn.xcorr import (
    xcorr_batched,
    xcorr_depthwise,
    xcorr_grouped,
    xcorr_loop,
)

#: (name, channels) of the exemplar (6×6) and search (22×22) features of the presets.
FEATURES = (("tiny", 64), ("paper", 256))
BATCHES = (1, 8, 32)


def depthwise_sum(z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Channel by channel (`groups=N·C`), then the sum over channels."""
    return xcorr_depthwise(z, x).sum(dim=1, keepdim=True)


def fft(z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Correlation theorem: the product of the spectra of `x` and of the conjugated
    `z`, summed over channels, transformed back and cropped to the valid part."""
    height, width = x.shape[-2:]
    h, w = z.shape[-2:]
    spectrum = torch.fft.rfft2(x) * torch.fft.rfft2(z, s=(height, width)).conj()
    out = torch.fft.irfft2(spectrum.sum(dim=1, keepdim=True), s=(height, width))
    return out[..., : height - h + 1, : width - w + 1]


FORMS = {
    "loop": xcorr_loop,
    "grouped": xcorr_grouped,
    "depthwise+sum": depthwise_sum,
    "fft": fft,
    "xcorr_batched": xcorr_batched,
}


def check(z: torch.Tensor, x: torch.Tensor) -> None:
    """Every form equals the loop in float64 (up to rounding)."""
    z, x = z.double(), x.double()
    expected = xcorr_loop(z, x)
    for name, form in FORMS.items():
        got = form(z, x)
        if not torch.allclose(got, expected, rtol=1e-9, atol=1e-9):
            raise AssertionError(f"{name} differs from the loop")


def timed(form, z: torch.Tensor, x: torch.Tensor, backward: bool):
    if not backward:
        return lambda: form(z, x)
    z, x = z.clone().requires_grad_(), x.clone().requires_grad_()
    return lambda: form(z, x).sum().backward()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, rounds=5)
    args = parser.parse_args()
    set_threads(args.threads)
    torch.manual_seed(0)
    print(machine())
    print(
        f"ms per call, median of {args.rounds} alternated rounds "
        "(median of the per-round ratios to the loop)"
    )
    print(
        f"{'pass':>8} {'features':>8} {'batch':>5} "
        + "".join(f"{n:>17}" for n in FORMS)
    )
    for backward in (False, True):
        for name, channels in FEATURES:
            for batch in BATCHES:
                z = torch.randn(batch, channels, 6, 6)
                x = torch.randn(batch, channels, 22, 22)
                check(z, x)
                contenders = {n: timed(f, z, x, backward) for n, f in FORMS.items()}
                with torch.set_grad_enabled(backward):
                    times = alternate(contenders, args.rounds)
                cells = []
                for form in FORMS:
                    ratio = ratio_range(times["loop"], times[form])[0]
                    cells.append(f"{median(times[form]) * 1e3:8.2f} ({ratio:4.1f}×)")
                kind = "fwd+bwd" if backward else "forward"
                print(
                    f"{kind:>8} {name:>8} {batch:>5} "
                    + "".join(f"{c:>17}" for c in cells)
                )


if __name__ == "__main__":
    main()
