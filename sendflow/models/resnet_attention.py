"""ResNet frame encoders, optionally with RCAN-style channel attention in every residual block.

`resattn` gates the residual branch of each torchvision BasicBlock/Bottleneck, channel by
channel, before the skip connection is added (Zhang et al., RCAN, 2018). `resnet` is the same
network without the gates, kept as the ablation. Both start from torchvision's ResNet with
random weights, or with pretrained ones (`sendflow.models.pretrained`: torchvision's ImageNet
weights or a local state_dict file).
"""

import contextlib

import torch
from torch import Tensor, nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

from ..checkpoints import load_torch
from ..names import EXTRACTORS
from .pretrained import load_weights


class ChannelAttention(nn.Module):
    """Squeeze (global average pool) and excite (1x1 conv bottleneck, sigmoid): one gate per
    channel, which scales that channel. `attention_gates` reads the gates."""

    def __init__(self, channels: int, reduction: int) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(channels, hidden, kernel_size=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, kernel_size=1),
            nn.Sigmoid(),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x * self.gate(x)


class AttentionBasicBlock(BasicBlock):
    """torchvision's BasicBlock with its residual branch gated per channel before the identity
    is added (RCAN's residual channel attention block)."""

    reduction: int  # channels / reduction in the gate's bottleneck; resnet() sets it

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.attention = ChannelAttention(self.bn2.num_features, self.reduction)

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.attention(self.bn2(self.conv2(out)))
        return self.relu(out + identity)


class AttentionBottleneck(Bottleneck):
    """torchvision's Bottleneck with its residual branch gated per channel."""

    reduction: int  # as AttentionBasicBlock's

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.attention = ChannelAttention(self.bn3.num_features, self.reduction)

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.attention(self.bn3(self.conv3(out)))
        return self.relu(out + identity)


# torchvision's ResNet layouts: block type and blocks per stage. ResNet-10 (one block per stage,
# no ImageNet weights) trains about twice as fast: the demo's CPU budget.
ARCHITECTURES = {
    10: (BasicBlock, [1, 1, 1, 1]),
    18: (BasicBlock, [2, 2, 2, 2]),
    34: (BasicBlock, [3, 4, 6, 3]),
    50: (Bottleneck, [3, 4, 6, 3]),
}
WITH_ATTENTION = {BasicBlock: AttentionBasicBlock, Bottleneck: AttentionBottleneck}


def with_attention(block: type, reduction: int) -> type:
    """The attention twin of torchvision's `block`, its gates' bottleneck channels / `reduction`."""
    return type(WITH_ATTENTION[block].__name__, (WITH_ATTENTION[block],), {"reduction": reduction})


class ScaledResNet(ResNet):
    """torchvision's ResNet with its four stages `width / 64` times as wide (64 is torchvision's
    and ImageNet's): half the width is about a quarter of the compute, for small CPU budgets."""

    def __init__(self, block, layers: list[int], width: int = 64) -> None:
        self.width = width
        super().__init__(block, layers)
        self.fc = nn.Linear(8 * width * block.expansion, self.fc.out_features)

    def _make_layer(self, block, planes: int, *args, **kwargs) -> nn.Sequential:
        return super()._make_layer(block, planes * self.width // 64, *args, **kwargs)


def resnet(kind: str, depth: int, reduction: int, width: int = 64) -> ResNet:
    """torchvision's ResNet built from plain or attention blocks; parameter names stay
    torchvision's, so its weight files load as they are (the gates are new)."""
    block, layers = ARCHITECTURES[depth]
    if kind == "resattn":
        block = with_attention(block, reduction)
    model = ScaledResNet(block, layers, width)
    for module in model.modules():  # ResNet's init is for its own convolutions: gates start
        if isinstance(module, ChannelAttention):  # from PyTorch's default init, as in RCAN
            for layer in module.gate:
                if isinstance(layer, nn.Conv2d):
                    layer.reset_parameters()
    return model


class Extractor(nn.Module):
    """Backbone (pooled features) + linear class head (+ optional tanh valence head)."""

    def __init__(self, backbone: nn.Module, feature_dim: int, num_classes: int, regression: bool) -> None:
        super().__init__()
        self.backbone = backbone
        self.feature_dim = feature_dim
        self.classifier = nn.Linear(feature_dim, num_classes)
        self.regressor = nn.Linear(feature_dim, 1) if regression else None
        self.config: dict = {}

    def embed(self, x: Tensor) -> Tensor:
        return self.backbone(x)  # fc is Identity: torchvision's forward ends at the flattened pool

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        z = self.embed(x)
        out = {"logits": self.classifier(z)}
        if self.regressor is not None:
            out["valence"] = torch.tanh(self.regressor(z)).squeeze(1)  # ratings live in [-1, 1]
        return out


def build_extractor(
    kind: str,
    depth: int = 18,
    num_classes: int = 3,
    regression: bool = False,
    *,
    reduction: int,
    weights: str | None = None,
    width: int = 64,
) -> Extractor:
    """Frame encoder with `.embed(x) -> [B, D]` and `.forward(x) -> {"logits", ["valence"]}`."""
    if kind not in EXTRACTORS:
        raise ValueError(f"unknown extractor kind {kind!r}; expected one of {EXTRACTORS}")
    if depth not in ARCHITECTURES:
        raise ValueError(f"unsupported ResNet depth {depth}; expected one of {sorted(ARCHITECTURES)}")
    if weights and width != 64:
        raise ValueError(f"extractor.weights need extractor.width 64, the width they were trained at (got {width})")
    backbone = resnet(kind, depth, reduction, width)
    if weights:
        load_weights(backbone, depth, weights)
    feature_dim = backbone.fc.in_features
    backbone.fc = nn.Identity()
    model = Extractor(backbone, feature_dim, num_classes, regression)
    model.config = dict(
        kind=kind, depth=depth, num_classes=num_classes, regression=regression, reduction=reduction, width=width
    )
    return model


def load_extractor(model_pt_path, device="cpu") -> nn.Module:
    """Rebuild the model saved in model.pt, in eval mode; its metadata is `.meta`."""
    ckpt = load_torch(model_pt_path, map_location=device)
    with torch.device("meta"):  # no random init of weights replaced at once (bench/README.md)
        model = build_extractor(**ckpt["config"])
    model.load_state_dict(ckpt["state_dict"], assign=True)
    model.meta = {k: v for k, v in ckpt.items() if k != "state_dict"}
    return model.to(device).eval()


@contextlib.contextmanager
def attention_gates(model: nn.Module):
    """Inside the block, every forward pass appends (block name, gate [B, C]) per attention
    block to the yielded list, in block order (nothing for `resnet`): forward hooks, so the
    model itself keeps no state."""
    gates: list[tuple[str, Tensor]] = []
    handles = [
        module.gate.register_forward_hook(
            lambda _module, _input, out, name=name: gates.append((name, out.detach().flatten(1)))
        )
        for name, module in model.named_modules()
        if isinstance(module, ChannelAttention)
    ]
    try:
        yield gates
    finally:
        for handle in handles:
            handle.remove()
