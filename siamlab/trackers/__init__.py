"""Trackers: the common protocol and loop (`base`), baselines and the Siamese
trackers."""

from siamlab.trackers.base import Tracker, TrackingRun, TrackResult, track

__all__ = ["Tracker", "TrackResult", "TrackingRun", "track"]

# The hand-crafted baselines of chapter 0; trackers by name are in
# `siamlab.trackers.registry`.
from siamlab.trackers.baselines import NCCConfig, NCCTracker, StaticTracker  # noqa: E402

__all__ += ["NCCConfig", "NCCTracker", "StaticTracker"]
