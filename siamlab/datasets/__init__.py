"""Data: tracking sequences (SynthTrack and the public benchmarks' folder layouts) and training pairs."""

from siamlab.datasets.sequence import Sequence

__all__ = ["Sequence"]
