"""Data: tracking sequences (SynthTrack and the public benchmarks' folder layouts) and
training pairs."""

from siamlab.datasets.sequence import Sequence

__all__ = ["Sequence"]

# SynthTrack and the benchmarks' folder layouts: `load_dataset("synth-test")`,
# `load_dataset("otb:DIR")`.
from siamlab.datasets import formats, synth  # noqa: E402
from siamlab.datasets.formats import load_dataset  # noqa: E402

__all__ += ["formats", "load_dataset", "synth"]
