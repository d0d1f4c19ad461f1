"""Chapter 6's centre-bias experiment: the translation test, the shifted pairs, where
the peaks land, the checkpoint of trained networks and the explorer."""

import json
import re
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from siamlab import centre_bias as cb
from siamlab.datasets.synth import synth_test
from siamlab.nn.backbones import AlexNet, ResNet
from siamlab.widgets import centre_bias as wcb


@pytest.fixture(scope="module")
def sequences():
    return synth_test(2)


def _image(height=127, width=127 + 4 * 8, seed=0):
    rng = np.random.default_rng(seed)
    return torch.from_numpy(rng.uniform(0, 255, (3, height, width))).float()


def test_unpadded_alexnet_is_translation_equivariant():
    torch.manual_seed(0)
    net = AlexNet(0.25, padding=False).eval()
    errors = cb.translation_error(net, _image(), 127, shifts=(1, 2, 4))
    assert set(errors) == {1, 2, 4}
    assert max(errors.values()) < 1e-5


def test_padded_resnet_is_not():
    torch.manual_seed(0)
    net = ResNet.tiny(used_layers=(4,)).eval()
    errors = cb.translation_error(lambda x: net(x)[-1], _image(), 127, shifts=(1, 2))
    assert min(errors.values()) > 1e-2


def test_translation_error_on_built_functions():
    conv = torch.nn.Conv2d(3, 2, 8, stride=8)  # no padding: exactly equivariant
    assert max(cb.translation_error(conv, _image(), 64).values()) < 1e-5

    def ramp(x):  # adds where it is: not equivariant
        maps = conv(x)
        return maps + torch.arange(maps.shape[-1], dtype=maps.dtype)

    assert min(cb.translation_error(ramp, _image(), 64).values()) > 1e-3


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"image": torch.zeros(4, 127, 200)}, "image must be a"),
        ({"image": torch.zeros(3, 127, 130)}, "at least 127 high and 159 wide"),
        ({"shifts": ()}, "shifts"),
        ({"shifts": (0,)}, "shifts"),
        ({"size": 0}, "size"),
        ({"respond": "net"}, "respond must be callable"),
    ],
)
def test_translation_error_bad_input(kwargs, match):
    args = {"respond": lambda x: x, "image": _image(), "size": 127, "shifts": (1, 4)}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        cb.translation_error(**args)


def test_config_and_shapes():
    config = cb.CentreBiasConfig()
    assert config.score_size == 9
    net = cb.CentreBiasNet(config).eval()
    out = net(torch.zeros(2, 3, 63, 63), torch.zeros(2, 3, 127, 127))
    assert out.shape == (2, 1, 9, 9)
    assert cb.CentreBiasConfig(backbone="alexnet_padded").score_size == 9
    for field, value in [("backbone", "vgg"), ("channels", 0), ("radius", -1.0)]:
        with pytest.raises(ValueError, match=field):
            cb.CentreBiasConfig(**{field: value})


def test_shifted_pairs_keep_the_target_inside_and_are_uniform(sequences):
    config = cb.CentreBiasConfig()
    batch = cb.shift_sampler(sequences, config, 32.0, seed=3).batch(400)
    offsets = batch.offsets.numpy()
    assert np.abs(offsets).max() <= 32.0
    # uniform on [-32, 32]: mean 0, variance 64²/12, each quarter about a quarter
    assert abs(offsets.mean()) < 3.0
    assert abs(offsets.var() - 64**2 / 12) < 0.15 * 64**2 / 12
    quarters = np.histogram(offsets, bins=4, range=(-32, 32))[0] / offsets.size
    assert np.all(np.abs(quarters - 0.25) < 0.05)
    assert batch.search.shape == (400, 3, 127, 127)
    centred = cb.shift_sampler(sequences, config, 0.0, seed=3).batch(8)
    assert torch.all(centred.offsets == 0)
    for bad in (-1.0, 64.0, True):
        with pytest.raises(ValueError, match="shift"):
            cb.shift_sampler(sequences, config, bad)


def test_peak_offsets():
    maps = torch.zeros(2, 1, 9, 9)
    maps[0, 0, 4, 4] = 1  # the centre
    maps[1, 0, 0, 8] = 1  # top right
    assert np.array_equal(cb.peak_offsets(maps), [[0, 0], [32, -32]])
    with pytest.raises(ValueError, match="response"):
        cb.peak_offsets(torch.zeros(9, 9))


class _Centred(cb.CentreBiasNet):
    """A network whose peak is always the centre cell."""

    def forward(self, z, x):
        out = torch.zeros(len(x), 1, 9, 9)
        out[:, :, 4, 4] = 1
        return out


def test_centre_bias_figures(sequences):
    config = cb.CentreBiasConfig()
    pairs = cb.offset_pairs(sequences, config, 32.0, 64, seed=0)
    result = cb.centre_bias(_Centred(config), pairs)
    off = np.abs(result.targets).max(axis=1) >= 16
    assert result.centre_rate == 1.0
    assert result.heat.sum() == off.sum() and result.heat[4, 4] == off.sum()
    near = np.abs(result.targets).max(axis=1) <= 8
    assert result.accuracy == pytest.approx(near.mean())
    with pytest.raises(ValueError, match="CentreBiasNet"):
        cb.centre_bias(torch.nn.Identity(), pairs)


def test_training_saving_and_loading(sequences, tmp_path):
    model, history = cb.train_centre_bias(sequences, 8.0, 2, batch_size=2)
    assert history.step == 2 and all(np.isfinite(history.losses))
    other = cb.CentreBiasNet(model.config)
    path = cb.save_centre_bias(tmp_path / "cb.pt", {0.0: other, 8.0: model},
                               {8.0: history.losses})  # fmt: skip
    loaded = cb.load_centre_bias(path)
    assert sorted(loaded) == [0.0, 8.0]
    z, x = torch.rand(1, 3, 63, 63) * 255, torch.rand(1, 3, 127, 127) * 255
    with torch.no_grad():
        expected = model.eval()(z, x)
        # the weights are stored as float16
        assert torch.allclose(loaded[8.0](z, x), expected, atol=0.05, rtol=0.05)
    with pytest.raises(ValueError, match="not a centre-bias checkpoint"):
        torch.save({"model": {}}, tmp_path / "other.pt")
        cb.load_centre_bias(tmp_path / "other.pt")


def test_cli_refuses_options_of_other_models():
    args = SimpleNamespace(pairs="plain", init=None, preset="tiny")
    with pytest.raises(ValueError, match="--pairs"):
        cb.train_from_args(args)
    args = SimpleNamespace(pairs=None, init=None, preset="paper")
    with pytest.raises(ValueError, match="tiny"):
        cb.train_from_args(args)


def test_explorer_and_heatmaps(sequences):
    torch.manual_seed(0)
    config = cb.CentreBiasConfig()
    models = {0.0: _Centred(config), 32.0: cb.CentreBiasNet(config)}
    explorer = wcb.CentreBiasExplorer(models, sequences[0], offsets=(-16, 0, 16))
    assert explorer.update(shift=0.0, offset=16) is explorer.figure
    assert len(explorer.figure.axes) == 2
    with pytest.raises(ValueError, match="shift"):
        explorer.update(shift=5.0)
    with pytest.raises(ValueError, match="offset"):
        explorer.update(offset=3)
    with pytest.raises(ValueError, match="offsets"):
        wcb.CentreBiasExplorer(models, sequences[0], offsets=(100,))
    html = explorer.widget().static_html()
    data = json.loads(re.search(r"data = (\{.*?\});", html).group(1))
    assert data["sizes"] == [2, 3]
    pairs = cb.offset_pairs(sequences, config, 32.0, 16, seed=0)
    results = {s: cb.centre_bias(m, pairs) for s, m in models.items()}
    figure = wcb.plot_peak_heatmaps(results)
    assert isinstance(figure, Figure) and len(figure.axes) == 2
    assert "shift 32 px" in figure.axes[1].get_title()


def test_error_maps_locate_the_border_effect():
    torch.manual_seed(0)
    padded = AlexNet(0.25, padding=True).eval()
    maps = cb.translation_error_maps(padded, _image(), 127, shifts=(1, 2))
    assert maps[1].shape == (15, 14) and maps[2].shape == (15, 13)
    # cells far from both borders do not see the padding: exact there
    assert maps[1][:, 6].max() < 1e-5 and maps[1][:, 0].max() > 1e-2
    figure = wcb.plot_translation_errors({"padded": maps[1], "other": maps[2]})
    assert isinstance(figure, Figure) and "largest" in figure.axes[0].get_title()
    with pytest.raises(ValueError, match="maps"):
        wcb.plot_translation_errors({})
