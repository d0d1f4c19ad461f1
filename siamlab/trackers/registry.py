"""Trackers by name, for the command line and the benchmark chapter.

`TRACKERS` maps a name to a factory (a class or function) that builds a fresh tracker;
each tracker's module adds itself with one line. `make_tracker` passes on the keyword
arguments a factory accepts (e.g. `weights=`, `device=`), so the command line can offer
them to every tracker.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from siamlab.trackers.base import Tracker
from siamlab.trackers.baselines import NCCTracker, StaticTracker

TRACKERS: dict[str, Callable[..., Tracker]] = {
    "static": StaticTracker,
    "ncc": NCCTracker,
}


def _siamfc(weights: str | None = None, device: str | None = None) -> Tracker:
    """SiamFC (chapter 2) with the shipped tiny checkpoint, or the checkpoint
    `weights`."""
    from siamlab.trackers.siamfc import SiamFCTracker

    return SiamFCTracker(weights=weights, device=device)


TRACKERS["siamfc"] = _siamfc


def _siamrpn(weights: str | None = None, device: str | None = None) -> Tracker:
    """SiamRPN (chapter 4) with the shipped tiny checkpoint, or `weights`: a siamlab
    checkpoint or a DaSiamRPN release file (with that release's settings)."""
    from siamlab.trackers.siamrpn import SiamRPNTracker

    return SiamRPNTracker(weights=weights, device=device)


TRACKERS["siamrpn"] = _siamrpn


def _dasiamrpn(weights: str | None = None, device: str | None = None) -> Tracker:
    """DaSiamRPN (chapter 5), the full tracker: distractor-aware re-ranking and
    local-to-global search, with the shipped tiny checkpoint, or `weights`: a siamlab
    checkpoint or a DaSiamRPN release file (with that release's SiamRPN settings)."""
    from siamlab.trackers.dasiamrpn import DaSiamRPNTracker

    return DaSiamRPNTracker(weights=weights, device=device).with_params(long_term=True)


TRACKERS["dasiamrpn"] = _dasiamrpn


def _siamrpnpp(weights: str | None = None, device: str | None = None) -> Tracker:
    """SiamRPN++ (chapter 6) with the shipped tiny checkpoint, or `weights`: a
    siamlab checkpoint or a SiamRPN++ release file (`siamrpn_r50_l234_dwxcorr`,
    `siamrpn_alex_dwxcorr`, with that release's settings)."""
    from siamlab.trackers.siamrpnpp import SiamRPNPPTracker

    return SiamRPNPPTracker(weights=weights, device=device)


TRACKERS["siamrpnpp"] = _siamrpnpp


def _accepted(factory: Callable[..., Any]) -> set[str] | None:
    """Keyword names `factory` accepts, or None if it takes `**kwargs`."""
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return {
        p.name
        for p in parameters
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


def make_tracker(name: str, **kwargs: Any) -> Tracker:
    """A new tracker registered as `name` in `TRACKERS`.

    Keyword arguments set to `None` are dropped; the others go to the factory, which
    must accept them (`ValueError` otherwise, naming the argument), e.g.
    `make_tracker("siamfc", weights=path)`.
    """
    if name not in TRACKERS:
        raise ValueError(f"name must be one of {sorted(TRACKERS)}, got {name!r}")
    factory = TRACKERS[name]
    given = {key: value for key, value in kwargs.items() if value is not None}
    accepted = _accepted(factory)
    if accepted is not None:
        unknown = sorted(set(given) - accepted)
        if unknown:
            raise ValueError(
                f"tracker {name!r} does not take the argument(s) {', '.join(unknown)}"
            )
    return factory(**given)
