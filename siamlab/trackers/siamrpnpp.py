"""The SiamRPN++ tracker (Li et al. 2019): chapter 4's SiamRPN tracker with the deeper
network.

Nothing in the tracking loop changes: one search crop per frame, every anchor scored
and regressed, the proposals re-ranked by the size/ratio penalty and the cosine window.
What changes is the network (`SiamRPNPPNet`: a padded ResNet, a neck per stage,
depthwise correlation heads whose outputs are combined with learned weights) and the
settings, the release's `siamrpn_r50_l234_dwxcorr` ones by default.
"""

from __future__ import annotations

import os

import torch

from siamlab.models.siamrpnpp import SiamRPNPPNet, load_siamrpnpp
from siamlab.trackers.siamrpn import SiamRPNParams, SiamRPNTracker


class SiamRPNPPTracker(SiamRPNTracker):
    """SiamRPN++: `model` defaults to the shipped tiny checkpoint, or `weights`: a
    checkpoint of `siamlab train siamrpnpp` or a SiamRPN++ release file
    (`siamrpn_r50_l234_dwxcorr` or `siamrpn_alex_dwxcorr`), whose own settings become
    the default `params`; siamlab's checkpoints get the r50 release's settings.
    """

    name = "SiamRPN++"

    def __init__(
        self,
        model: SiamRPNPPNet | None = None,
        params: SiamRPNParams | None = None,
        *,
        weights: str | os.PathLike | None = None,
        device: torch.device | str | None = None,
        name: str | None = None,
    ) -> None:
        if model is not None and weights is not None:
            raise ValueError("give either model or weights, not both")
        if model is None:
            model = load_siamrpnpp(weights)
        if not isinstance(model, SiamRPNPPNet):
            kind = type(model).__name__
            raise ValueError(f"model must be a SiamRPNPPNet, got {kind}")
        if params is None:
            release = getattr(model, "release", None)
            params = SiamRPNParams.for_release(release or "r50_l234_dwxcorr")
        super().__init__(model, params, device=device, name=name)
