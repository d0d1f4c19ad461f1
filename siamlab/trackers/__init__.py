"""Trackers: the common protocol and loop (`base`), baselines and the Siamese trackers."""

from siamlab.trackers.base import Tracker, TrackingRun, TrackResult, track

__all__ = ["Tracker", "TrackResult", "TrackingRun", "track"]
