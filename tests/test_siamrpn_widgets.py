"""Figures and explorer of a SiamRPN step: they draw, and the explorer re-ranks."""

import numpy as np
import pytest
import skimage.data
import torch
from matplotlib.figure import Figure

from siamlab.models.siamrpn import SiamRPNConfig, SiamRPNNet
from siamlab.trackers.siamrpn import SiamRPNTracker
from siamlab.widgets import siamrpn as ws

SMALL = SiamRPNConfig(width=0.125, groups=1, channels=8)
BACKGROUND = skimage.data.astronaut()[::2, ::2].copy()


@pytest.fixture(scope="module")
def explorer() -> ws.SiamRPNExplorer:
    torch.manual_seed(0)
    tracker = SiamRPNTracker(SiamRPNNet(SMALL).eval())
    tracker.init(BACKGROUND, [100, 100, 60, 40])
    return ws.SiamRPNExplorer(tracker, BACKGROUND)


def test_schematic_and_step_figures_draw(explorer):
    assert isinstance(ws.up_channel_schematic(SiamRPNConfig.paper()), Figure)
    step = explorer.step(0.055, 0.42)
    assert len(ws.plot_score_maps(step, SMALL.ratios).axes) == 5 + 1  # + colour bar
    assert len(ws.plot_proposals(step).axes) == 2


def test_explorer_reranks_without_running_the_network(explorer):
    centre = explorer.step(0.0, 1.0)  # the window alone: the centre position wins
    position = centre.best % centre.score_size**2
    assert position == (centre.score_size**2 - 1) // 2
    raw = explorer.step(0.0, 0.0)
    assert raw.best == int(np.argmax(raw.scores))
    assert explorer.update(shape=2, penalty_k=0.2) is explorer.figure
    assert explorer.values["shape"] == 2


def test_explorer_states_and_bad_values(explorer):
    states = explorer.static_states()
    assert len(states["shape"]) == 5 and len(states["penalty_k"]) == 3
    with pytest.raises(ValueError, match="shape"):
        explorer.update(shape=5)
    with pytest.raises(ValueError, match="unknown"):
        explorer.update(scale=2)
