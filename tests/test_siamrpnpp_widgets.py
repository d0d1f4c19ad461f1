"""Chapter 6's figures: the SiamRPN++ schematic and training curves over seeds."""

import pytest
from matplotlib.figure import Figure

from siamlab.models.siamrpnpp import SiamRPNPPConfig
from siamlab.widgets import siamrpnpp as ppviz


def _texts(figure):
    return " ".join(t.get_text() for ax in figure.axes for t in ax.texts)


def test_schematic_shows_the_shapes_of_the_preset():
    text = _texts(ppviz.siamrpnpp_schematic(SiamRPNPPConfig.paper()))
    assert "z 2048×15², x 2048×31²" in text and "cls 10×25²" in text
    assert "z cropped to 7²" in text
    tiny = _texts(ppviz.siamrpnpp_schematic(SiamRPNPPConfig.tiny()))
    assert "→ 32" in tiny and "x 64×31²" in tiny
    alex = _texts(ppviz.siamrpnpp_schematic(SiamRPNPPConfig.alex()))
    assert "cls 10×21²" in alex


def test_seed_curves():
    figure = ppviz.plot_seed_curves(
        {"a": [[1.0, 0.5, 0.4, 0.3], [0.9, 0.6, 0.5, 0.4]], "b": [[0.7] * 4]}, window=2
    )
    assert isinstance(figure, Figure)
    assert len(figure.axes[0].lines) == 3
    labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert labels == ["a", "b"]
    with pytest.raises(ValueError, match="curves"):
        ppviz.plot_seed_curves({"a": []})
    with pytest.raises(ValueError, match="window"):
        ppviz.plot_seed_curves({"a": [[1.0]]}, window=0)
