"""Importing the SiamRPN++ releases of the authors' code (pysot): seeded random state
dicts with the releases' key layouts give, on RGB frames, the outputs a direct
re-implementation of the released networks gives on the same frames in BGR."""

from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F

from siamlab.models.siamrpnpp import (
    import_published_pp,
    is_published_pp_state,
    load_siamrpnpp,
)

K = 5  # anchors

# --- The release layouts, from the architecture description -------------------------


def _conv(state, key, cout, cin, k, bias=False):
    fan_in = cin * k * k * (255 if cin == 3 else 1)  # the first reads pixels 0-255
    state[f"{key}.weight"] = torch.randn(cout, cin, k, k) * (2.0 / fan_in) ** 0.5
    if bias:
        state[f"{key}.bias"] = torch.randn(cout) * 0.1


def _bn(state, key, c, scale=1.0):
    state[f"{key}.weight"] = torch.empty(c).uniform_(0.5, 1.5) * scale
    state[f"{key}.bias"] = torch.randn(c) * 0.1
    state[f"{key}.running_mean"] = torch.randn(c) * 0.1
    state[f"{key}.running_var"] = torch.empty(c).uniform_(0.5, 1.5)
    state[f"{key}.num_batches_tracked"] = torch.tensor(0)


def _depthwise_rpn(state, prefix, cin, hidden):
    for branch, out in (("cls", 2 * K), ("loc", 4 * K)):
        p = f"{prefix}.{branch}"
        for part in ("conv_kernel", "conv_search"):
            _conv(state, f"{p}.{part}.0", hidden, cin, 3)
            _bn(state, f"{p}.{part}.1", hidden)
        _conv(state, f"{p}.head.0", hidden, hidden, 1)
        _bn(state, f"{p}.head.1", hidden)
        _conv(state, f"{p}.head.3", out, hidden, 1, bias=True)


#: ResNet-50 stages: (blocks, width, stride, dilation) of layer1 … layer4.
R50_STAGES = ((3, 64, 1, 1), (4, 128, 2, 1), (6, 256, 1, 2), (3, 512, 1, 4))
#: Shortcut projections of the first blocks: (kernel, stride, padding, dilation).
R50_PROJECTIONS = {1: (1, 1, 0, 1), 2: (3, 2, 0, 1), 3: (3, 1, 1, 1), 4: (3, 1, 2, 2)}


def r50_release_state(seed: int = 0) -> OrderedDict:
    torch.manual_seed(seed)
    s = OrderedDict()
    _conv(s, "backbone.conv1", 64, 3, 7)
    _bn(s, "backbone.bn1", 64)
    inplanes = 64
    for stage, (blocks, width, _, _) in enumerate(R50_STAGES, start=1):
        for b in range(blocks):
            p = f"backbone.layer{stage}.{b}"
            _conv(s, f"{p}.conv1", width, inplanes, 1)
            _bn(s, f"{p}.bn1", width)
            _conv(s, f"{p}.conv2", width, width, 3)
            _bn(s, f"{p}.bn2", width)
            _conv(s, f"{p}.conv3", 4 * width, width, 1)
            _bn(s, f"{p}.bn3", 4 * width, scale=0.3)
            if b == 0:
                _conv(
                    s,
                    f"{p}.downsample.0",
                    4 * width,
                    inplanes,
                    R50_PROJECTIONS[stage][0],
                )
                _bn(s, f"{p}.downsample.1", 4 * width)
            inplanes = 4 * width
    for i, cin in zip((2, 3, 4), (512, 1024, 2048)):
        _conv(s, f"neck.downsample{i}.downsample.0", 256, cin, 1)
        _bn(s, f"neck.downsample{i}.downsample.1", 256, scale=0.01)
    for i in (2, 3, 4):
        _depthwise_rpn(s, f"rpn_head.rpn{i}", 256, 256)
    s["rpn_head.cls_weight"] = torch.randn(3)
    s["rpn_head.loc_weight"] = torch.randn(3)
    return s


#: AlexNet of the release: (index in `features`, channels, kernel) of the convolutions;
#: each is followed by batch norm at the next index.
ALEX_CONVS = ((0, 96, 11), (4, 256, 5), (8, 384, 3), (11, 384, 3), (14, 256, 3))


def alex_release_state(seed: int = 0) -> OrderedDict:
    torch.manual_seed(seed)
    s = OrderedDict()
    cin = 3
    for index, cout, k in ALEX_CONVS:
        _conv(s, f"backbone.features.{index}", cout, cin, k, bias=True)
        _bn(s, f"backbone.features.{index + 1}", cout)
        cin = cout
    _depthwise_rpn(s, "rpn_head", 256, 256)
    return s


# --- The released networks, written directly on the state dicts (BGR, 0-255) --------


def conv(s, x, key, stride=1, padding=0, dilation=1):
    return F.conv2d(
        x, s[f"{key}.weight"], s.get(f"{key}.bias"), stride, padding, dilation
    )


def bn(s, x, key):
    return F.batch_norm(
        x,
        s[f"{key}.running_mean"],
        s[f"{key}.running_var"],
        s[f"{key}.weight"],
        s[f"{key}.bias"],
        training=False,
        eps=1e-5,
    )


def reference_r50_backbone(s, image):
    x = F.relu(bn(s, conv(s, image, "backbone.conv1", 2), "backbone.bn1"))
    x = F.max_pool2d(x, 3, 2, 1)
    outputs = []
    for stage, (blocks, _, stride, dilation) in enumerate(R50_STAGES, start=1):
        for b in range(blocks):
            p = f"backbone.layer{stage}.{b}"
            first = b == 0
            d = dilation // 2 if first and dilation > 1 else dilation
            pad = d if d > 1 else (0 if stride == 2 and first else 1)
            step = stride if first else 1
            out = F.relu(bn(s, conv(s, x, f"{p}.conv1"), f"{p}.bn1"))
            out = F.relu(bn(s, conv(s, out, f"{p}.conv2", step, pad, d), f"{p}.bn2"))
            out = bn(s, conv(s, out, f"{p}.conv3"), f"{p}.bn3")
            if first:
                _, st, pd, dl = R50_PROJECTIONS[stage]
                x = bn(
                    s, conv(s, x, f"{p}.downsample.0", st, pd, dl), f"{p}.downsample.1"
                )
            x = F.relu(out + x)
        outputs.append(x)
    return outputs[1:]


def reference_neck(s, features):
    out = []
    for i, f in zip((2, 3, 4), features):
        f = bn(
            s,
            conv(s, f, f"neck.downsample{i}.downsample.0"),
            f"neck.downsample{i}.downsample.1",
        )
        out.append(f[:, :, 4:11, 4:11] if f.shape[-1] < 20 else f)
    return out


def reference_branch(s, p, zf, xf):
    kernel = F.relu(bn(s, conv(s, zf, f"{p}.conv_kernel.0"), f"{p}.conv_kernel.1"))
    search = F.relu(bn(s, conv(s, xf, f"{p}.conv_search.0"), f"{p}.conv_search.1"))
    c = kernel.shape[1]  # batch 1: each channel its own group
    corr = F.conv2d(search, kernel.reshape(c, 1, *kernel.shape[2:]), groups=c)
    hidden = F.relu(bn(s, conv(s, corr, f"{p}.head.0"), f"{p}.head.1"))
    return conv(s, hidden, f"{p}.head.3")


def reference_r50(s, z, x):
    zf = reference_neck(s, reference_r50_backbone(s, z))
    xf = reference_neck(s, reference_r50_backbone(s, x))
    cls_w, loc_w = (
        s["rpn_head.cls_weight"].softmax(0),
        s["rpn_head.loc_weight"].softmax(0),
    )
    cls = sum(
        w * reference_branch(s, f"rpn_head.rpn{i}.cls", a, b)
        for w, i, a, b in zip(cls_w, (2, 3, 4), zf, xf)
    )
    loc = sum(
        w * reference_branch(s, f"rpn_head.rpn{i}.loc", a, b)
        for w, i, a, b in zip(loc_w, (2, 3, 4), zf, xf)
    )
    return cls, loc


def reference_alex_backbone(s, image):
    x = image
    for index, _, _ in ALEX_CONVS:
        stride = 2 if index == 0 else 1
        x = bn(
            s,
            conv(s, x, f"backbone.features.{index}", stride),
            f"backbone.features.{index + 1}",
        )
        if index in (0, 4):
            x = F.max_pool2d(x, 3, 2)
        if index != 14:
            x = F.relu(x)
    return x


def reference_alex(s, z, x):
    zf, xf = reference_alex_backbone(s, z), reference_alex_backbone(s, x)
    return (
        reference_branch(s, "rpn_head.cls", zf, xf),
        reference_branch(s, "rpn_head.loc", zf, xf),
    )


# --- Tests ----------------------------------------------------------------------------


def _frames(search: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    z = torch.randint(0, 256, (1, 3, 127, 127), generator=g).float()
    x = torch.randint(0, 256, (1, 3, search, search), generator=g).float()
    return z, x


def _assert_same(ours, theirs):
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        scale = b.abs().max().item()
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4 * scale)


@pytest.fixture(scope="module")
def alex_state():
    return alex_release_state()


def test_imported_alexnet_release_gives_the_release_outputs(alex_state):
    model = import_published_pp(alex_state)
    assert model.release == "alex_dwxcorr" and model.config.search_size == 287
    z, x = _frames(287)
    with torch.no_grad():
        ours = model(z, x)  # RGB
        theirs = reference_alex(alex_state, z.flip(1), x.flip(1))  # BGR
    assert ours[0].shape == (1, 10, 21, 21) and ours[1].shape == (1, 20, 21, 21)
    _assert_same(ours, theirs)


def test_imported_resnet50_release_gives_the_release_outputs():
    state = r50_release_state()
    model = import_published_pp(state)
    assert model.release == "r50_l234_dwxcorr"
    z, x = _frames(255, seed=1)
    with torch.no_grad():
        ours = model(z, x)
        theirs = reference_r50(state, z.flip(1), x.flip(1))
    assert ours[0].shape == (1, 10, 25, 25) and ours[1].shape == (1, 20, 25, 25)
    _assert_same(ours, theirs)
    state["backbone.layer3.2.conv2.weight"] = torch.zeros(256, 256, 1, 1)
    with pytest.raises(ValueError, match=r"'backbone\.layer3\.2\.conv2\.weight'"):
        import_published_pp(state)


def _same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_wrappers_and_missing_batch_counters_are_accepted(alex_state):
    model = import_published_pp(alex_state)
    prefixed = {f"module.{k}": v for k, v in alex_state.items()}
    without_counters = {k: v for k, v in alex_state.items() if "num_batches" not in k}
    for variant in ({"state_dict": prefixed, "epoch": 20}, prefixed, without_counters):
        assert is_published_pp_state(variant)
        _same_weights(import_published_pp(variant), model)


def test_later_alexnet_layout_is_accepted(alex_state):
    stage_of = {0: 1, 4: 2, 8: 3, 11: 4, 14: 5}
    renamed = {}
    for key, value in alex_state.items():
        if key.startswith("backbone.features."):
            index = int(key.split(".")[2])
            conv_index = index if index in stage_of else index - 1
            part = 0 if index in stage_of else 1
            leaf = key.split(".", 3)[3]
            key = f"backbone.layer{stage_of[conv_index]}.{part}.{leaf}"
        renamed[key] = value
    _same_weights(import_published_pp(renamed), import_published_pp(alex_state))


@pytest.mark.parametrize(
    "change, key",
    [
        ("drop", "rpn_head.loc.head.3.bias"),
        ("drop", "backbone.features.9.running_var"),
        ("add", "rpn_head.cls.extra.weight"),
        ("reshape", "backbone.features.4.weight"),
        ("reshape", "rpn_head.cls.conv_search.0.weight"),
    ],
)
def test_bad_keys_are_named(alex_state, change, key):
    state = dict(alex_state)
    if change == "drop":
        del state[key]
    elif change == "add":
        state[key] = torch.zeros(1)
    else:
        state[key] = torch.zeros(2, 2, 1, 1)
    word = {"drop": "missing", "add": "unexpected", "reshape": "shape"}[change]
    with pytest.raises(ValueError, match=rf"{word}.*'{key}'|'{key}'.*{word}"):
        import_published_pp(state)


def test_other_state_dicts_are_not_releases():
    assert not is_published_pp_state({"featureExtract.0.weight": torch.zeros(1)})
    assert not is_published_pp_state({"config": {}, "model": {}})
    with pytest.raises(ValueError, match="not a SiamRPN\\+\\+ release"):
        import_published_pp({"backbone.conv1.weight": torch.zeros(1)})


def test_load_siamrpnpp_reads_a_release_file(tmp_path, alex_state):
    path = tmp_path / "model.pth"
    torch.save({"state_dict": {f"module.{k}": v for k, v in alex_state.items()}}, path)
    model = load_siamrpnpp(path)
    assert model.release == "alex_dwxcorr" and not model.training
    _same_weights(model, import_published_pp(alex_state))
