"""The ResNet extractors: shapes, and that attention gates only the residual branch."""

import os
import time

import pytest
import torch
import torchvision
from torchvision.models.resnet import BasicBlock, Bottleneck, conv1x1

from sendflow.models.pretrained import MissingWeightsError, imagenet_weights
from sendflow.models.resnet_attention import ChannelAttention, attention_gates, build_extractor, with_attention


def _set_gate(block, value: float) -> None:
    """Zero the last attention conv and saturate its bias, so sigmoid gives exactly `value`."""
    with torch.no_grad():
        block.attention.gate[3].weight.zero_()
        block.attention.gate[3].bias.fill_(1e4 if value == 1 else -1e4)


def _down(i, o):
    return torch.nn.Sequential(conv1x1(i, o, 2), torch.nn.BatchNorm2d(o))


# torchvision blocks: (class, constructor arguments), with and without downsampling.
BLOCKS = [
    (BasicBlock, (16, 16)),
    (BasicBlock, (16, 32, 2, "down")),
    (Bottleneck, (32, 8)),
    (Bottleneck, (16, 8, 2, "down")),
]


def _pair(index):
    """A plain torchvision block with non-trivial BatchNorm statistics (so eval-mode outputs
    differ from a plain identity of conv outputs), and its attention twin with the same weights."""
    torch.manual_seed(index)
    cls, args = BLOCKS[index]
    out = args[1] * cls.expansion

    def build(block_cls):
        torch.manual_seed(index)
        return block_cls(*args[:3], downsample=_down(args[0], out)) if len(args) > 2 else block_cls(*args)

    plain, gated = build(cls), build(with_attention(cls, 16))
    for m in plain.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    result = gated.load_state_dict(plain.state_dict(), strict=False)  # same names: torchvision's
    assert result.unexpected_keys == [] and all(".gate." in k for k in result.missing_keys)
    return plain.eval(), gated.eval()


def test_channel_attention_shapes_and_range():
    attn = ChannelAttention(32, reduction=8)
    x = torch.randn(3, 32, 5, 5)
    with attention_gates(attn) as gates:
        y = attn(x)
    assert y.shape == x.shape
    [(_, gate)] = gates
    assert gate.shape == (3, 32) and not gate.requires_grad
    assert (gate > 0).all() and (gate < 1).all()
    torch.testing.assert_close(y, x * gate[:, :, None, None])


@pytest.mark.parametrize("index", range(4))
def test_open_gate_equals_plain_block(index):
    plain, gated = _pair(index)
    _set_gate(gated, 1.0)
    x = torch.randn(2, plain.conv1.in_channels, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(gated(x), plain(x))


@pytest.mark.parametrize("index", range(4))
def test_closed_gate_leaves_relu_of_identity(index):
    plain, gated = _pair(index)
    _set_gate(gated, 0.0)
    x = torch.randn(2, plain.conv1.in_channels, 8, 8)
    with torch.no_grad():
        identity = x if plain.downsample is None else plain.downsample(x)
        torch.testing.assert_close(gated(x), torch.relu(identity))
        assert not torch.equal(plain(x), torch.relu(identity))  # the branch does matter normally


@pytest.mark.parametrize(
    "depth,width,dim,blocks", [(10, 64, 512, 4), (10, 32, 256, 4), (18, 64, 512, 8), (50, 64, 2048, 16)]
)
def test_shapes_and_attention_weights(depth, width, dim, blocks):
    model = build_extractor("resattn", depth, num_classes=3, regression=True, width=width, reduction=16).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        out = model(x)
        assert model.embed(x).shape == (2, dim)
    assert model.feature_dim == dim
    assert out["logits"].shape == (2, 3) and out["valence"].shape == (2,)
    assert out["valence"].abs().max() <= 1
    with attention_gates(model) as gates, torch.no_grad():
        model(x)
    assert len(gates) == blocks and gates[0][0] == "backbone.layer1.0.attention"
    assert all(g.shape[0] == 2 for _, g in gates) and gates[-1][1].shape[1] == dim
    # torchvision's parameter names, plus the gates
    names = set(model.backbone.state_dict())
    assert "layer4.0.conv2.weight" in names and "layer1.0.attention.gate.1.weight" in names
    assert model.backbone.layer1[0].conv1.out_channels == width  # the stages scale, the stem stays 64
    assert model.backbone.conv1.out_channels == 64


def test_narrow_resnet_costs_a_quarter_of_the_parameters_and_refuses_pretrained_weights():
    full, half = (
        sum(p.numel() for p in build_extractor("resnet", 10, width=w, reduction=16).parameters()) for w in (64, 32)
    )
    assert 0.2 < half / full < 0.3
    with pytest.raises(ValueError, match="need extractor.width 64"):
        build_extractor("resnet", 18, width=32, weights="imagenet", reduction=16)


def test_plain_resnet_has_no_attention_and_no_valence_head():
    model = build_extractor("resnet", 18, num_classes=5, reduction=16).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 32, 32))
    assert set(out) == {"logits"} and out["logits"].shape == (1, 5)
    with attention_gates(model) as gates, torch.no_grad():
        model(torch.randn(1, 3, 32, 32))
    assert gates == []


def test_local_weights_load_into_backbone(tmp_path):
    source = build_extractor("resnet", 18, reduction=16)
    path = tmp_path / "w.pth"
    torch.save(source.backbone.state_dict(), path)
    model = build_extractor("resattn", 18, weights=str(path), reduction=16)
    torch.testing.assert_close(model.backbone.conv1.weight, source.backbone.conv1.weight)
    torch.testing.assert_close(model.backbone.layer4[1].conv2.weight, source.backbone.layer4[1].conv2.weight)


def test_missing_local_weights_name_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pth"):
        build_extractor("resnet", 18, weights=str(tmp_path / "nope.pth"), reduction=16)
    with pytest.raises(FileNotFoundError, match="neither 'imagenet'"):
        build_extractor("resnet", 18, weights="imagenet1k", reduction=16)


def _cache_file(torch_home, weights):
    return torch_home / "hub" / "checkpoints" / os.path.basename(weights.url)


@pytest.mark.parametrize("kind", ["resattn", "resnet"])
def test_imagenet_weights_load_from_the_torch_cache(kind, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    state = torchvision.models.resnet18(weights=None).state_dict()
    state["conv1.weight"].fill_(0.25)  # distinctive: no random init produces these
    state["layer4.1.conv2.weight"].fill_(-0.5)
    state["layer2.0.downsample.1.running_var"].fill_(3.0)  # buffers load too
    path = _cache_file(tmp_path, imagenet_weights(18))
    assert path.name == "resnet18-f37072fd.pth"
    path.parent.mkdir(parents=True)
    torch.save(state, path)
    backbone = build_extractor(kind, 18, weights="imagenet", reduction=16).backbone
    torch.testing.assert_close(backbone.conv1.weight, state["conv1.weight"])
    torch.testing.assert_close(backbone.layer4[1].conv2.weight, state["layer4.1.conv2.weight"])
    torch.testing.assert_close(backbone.layer2[0].downsample[1].running_var, state["layer2.0.downsample.1.running_var"])


def test_imagenet_weights_offline_fail_fast_and_say_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    weights = imagenet_weights(18)
    path = _cache_file(tmp_path, weights)
    # The real torch.hub download, aimed at a closed local port instead of the internet.
    url = f"http://127.0.0.1:9/{path.name}"
    monkeypatch.setattr(weights.value, "url", url)
    start = time.monotonic()
    with pytest.raises(MissingWeightsError) as error:
        build_extractor("resattn", 18, weights="imagenet", reduction=16)
    assert time.monotonic() - start < 30
    message = str(error.value)
    assert str(path) in message and url in message and "TORCH_HOME" in message
    assert list(path.parent.iterdir()) == []  # no partial or empty file left behind


def test_resnet10_refuses_imagenet_weights_by_name():
    with pytest.raises(ValueError, match="no ImageNet weights for ResNet-10"):
        build_extractor("resattn", 10, weights="imagenet", reduction=16)


def test_unknown_kind():
    with pytest.raises(ValueError, match="vit"):
        build_extractor("vit", reduction=16)
