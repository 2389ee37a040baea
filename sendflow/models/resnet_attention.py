"""ResNet frame encoders, optionally with RCAN-style channel attention in every residual block.

`resattn` gates the residual branch of each torchvision BasicBlock/Bottleneck, channel by
channel, before the skip connection is added (Zhang et al., RCAN, 2018). `resnet` is the same
network without the gates, kept as the ablation. Both start from torchvision's ResNet with
random weights, or with pretrained ones: `weights="imagenet"` loads torchvision's
IMAGENET1K_V1 through its weights API (downloaded once into the torch hub cache, then read from
there; offline, a missing file fails at once and says where to put it), any other string is a
local state_dict file.
"""

import contextlib
import logging
import os
import socket
from pathlib import Path
from urllib.parse import urlparse

import torch
from torch import Tensor, nn
from torchvision.models import WeightsEnum, get_model_weights
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

from ..names import EXTRACTORS

log = logging.getLogger(__name__)

# Per blocking socket call, so an unreachable host fails in seconds while a slow download still runs.
DOWNLOAD_TIMEOUT_S = 10


class ChannelAttention(nn.Module):
    """Squeeze (global average pool) and excite (1x1 conv bottleneck, sigmoid): one gate per
    channel, which scales that channel. `attention_gates` reads the gates."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, hidden, kernel_size=1),
                                  nn.ReLU(inplace=True), nn.Conv2d(hidden, channels, kernel_size=1), nn.Sigmoid())

    def forward(self, x: Tensor) -> Tensor:
        return x * self.gate(x)


class AttentionBasicBlock(BasicBlock):
    """torchvision's BasicBlock with its residual branch gated per channel before the identity
    is added (RCAN's residual channel attention block)."""

    reduction = 16

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

    reduction = 16

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
ARCHITECTURES = {10: (BasicBlock, [1, 1, 1, 1]), 18: (BasicBlock, [2, 2, 2, 2]),
                 34: (BasicBlock, [3, 4, 6, 3]), 50: (Bottleneck, [3, 4, 6, 3])}
WITH_ATTENTION = {BasicBlock: AttentionBasicBlock, Bottleneck: AttentionBottleneck}


class ScaledResNet(ResNet):
    """torchvision's ResNet with its four stages `width / 64` times as wide (64 is torchvision's
    and ImageNet's): half the width is about a quarter of the compute, for small CPU budgets."""

    def __init__(self, block, layers: list[int], width: int = 64) -> None:
        self.width = width
        super().__init__(block, layers)
        self.fc = nn.Linear(8 * width * block.expansion, self.fc.out_features)

    def _make_layer(self, block, planes: int, *args, **kwargs) -> nn.Sequential:
        return super()._make_layer(block, planes * self.width // 64, *args, **kwargs)


def resnet(kind: str, depth: int, reduction: int = 16, width: int = 64) -> ResNet:
    """torchvision's ResNet built from plain or attention blocks; parameter names stay
    torchvision's, so its weight files load as they are (the gates are new)."""
    block, layers = ARCHITECTURES[depth]
    if kind == "resattn":
        block = type(WITH_ATTENTION[block].__name__, (WITH_ATTENTION[block],), {"reduction": reduction})
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


class MissingWeightsError(RuntimeError):
    """ImageNet weights are not in the torch hub cache and could not be downloaded."""


def imagenet_weights(depth: int) -> WeightsEnum:
    if depth == 10:
        raise ValueError("extractor.weights: imagenet: torchvision has no ImageNet weights for ResNet-10; "
                         "set extractor.depth to 18, 34 or 50")
    # V1, not DEFAULT: DEFAULT moves with torchvision releases (ResNet-50 is already V2), and a
    # fixed choice keeps runs reproducible and the documented file names valid.
    return get_model_weights(f"resnet{depth}").IMAGENET1K_V1


def imagenet_cache_path(weights: WeightsEnum) -> Path:
    """Where torch.hub.load_state_dict_from_url keeps (and first looks for) this weights file."""
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(weights.url).path)


@contextlib.contextmanager
def _socket_timeout(seconds: float):
    # torch.hub's urlopen takes no timeout; the process-wide default is its only knob.
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _download_imagenet(weights: WeightsEnum, path: Path) -> dict:
    try:
        with _socket_timeout(DOWNLOAD_TIMEOUT_S):
            return weights.get_state_dict(progress=True, check_hash=True, map_location="cpu",
                                          weights_only=True)
    except (OSError, RuntimeError) as e:  # URLError and timeouts are OSErrors; a bad hash, RuntimeError
        path.unlink(missing_ok=True)  # torch.hub drops its .partial file; never keep a bad final one
        raise MissingWeightsError(
            f"ImageNet weights {weights} are not in the torch cache and could not be downloaded "
            f"({type(e).__name__}: {e}). On a machine with internet fetch\n  {weights.url}\n"
            f"and put it at\n  {path}\n(the torch hub cache; set TORCH_HOME to move it: files then go "
            f"to $TORCH_HOME/hub/checkpoints/).") from e


def _imagenet_state_dict(depth: int) -> tuple[dict, Path]:
    weights = imagenet_weights(depth)
    path = imagenet_cache_path(weights)
    if path.is_file():  # torchvision only reads the cached file; its errors are not "missing"
        return weights.get_state_dict(map_location="cpu", weights_only=True), path
    return _download_imagenet(weights, path), path


def _load_state(backbone: nn.Module, state: dict, source: str | Path) -> None:
    """Load a state_dict non-strictly; skip (and report) tensors of the wrong shape."""
    state = state.get("state_dict", state)
    own = backbone.state_dict()
    mismatched = [k for k, v in state.items() if k in own and own[k].shape != v.shape]
    result = backbone.load_state_dict({k: v for k, v in state.items() if k not in mismatched}, strict=False)
    log.info("loaded backbone weights from %s", source)
    missing = [k for k in result.missing_keys if ".attention." not in k]  # the gates are new
    for name, keys in (("missing", missing), ("unexpected", result.unexpected_keys),
                       ("shape-mismatched (skipped)", mismatched)):
        if keys:
            log.warning("%d %s keys in %s: %s", len(keys), name, source, ", ".join(keys[:8]))


def _load_weights(backbone: nn.Module, depth: int, weights: str) -> None:
    """`weights` is "imagenet" or a local state_dict file."""
    if weights == "imagenet":
        state, path = _imagenet_state_dict(depth)
    else:
        path = Path(weights)
        if not path.is_file():
            raise FileNotFoundError(f"extractor weights {weights!r} are neither 'imagenet' nor an existing "
                                    f"state_dict file (looked for {path.resolve()})")
        state = torch.load(path, map_location="cpu", weights_only=True)
    _load_state(backbone, state, path)


def build_extractor(kind: str, depth: int = 18, num_classes: int = 3, regression: bool = False,
                    reduction: int = 16, weights: str | None = None, width: int = 64) -> Extractor:
    """Frame encoder with `.embed(x) -> [B, D]` and `.forward(x) -> {"logits", ["valence"]}`."""
    if kind not in EXTRACTORS:
        raise ValueError(f"unknown extractor kind {kind!r}; expected one of {EXTRACTORS}")
    if depth not in ARCHITECTURES:
        raise ValueError(f"unsupported ResNet depth {depth}; expected one of {sorted(ARCHITECTURES)}")
    if weights and width != 64:
        raise ValueError(f"extractor.weights need extractor.width 64, the width they were trained at (got {width})")
    backbone = resnet(kind, depth, reduction, width)
    if weights:
        _load_weights(backbone, depth, weights)
    feature_dim = backbone.fc.in_features
    backbone.fc = nn.Identity()
    model = Extractor(backbone, feature_dim, num_classes, regression)
    model.config = dict(kind=kind, depth=depth, num_classes=num_classes, regression=regression,
                        reduction=reduction, width=width)
    return model


def load_extractor(model_pt_path, device="cpu") -> nn.Module:
    """Rebuild the model saved in model.pt, in eval mode; its metadata is `.meta`."""
    ckpt = torch.load(model_pt_path, map_location=device, weights_only=True)
    model = build_extractor(**ckpt["config"])
    model.load_state_dict(ckpt["state_dict"])
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
            lambda _module, _input, out, name=name: gates.append((name, out.detach().flatten(1))))
        for name, module in model.named_modules() if isinstance(module, ChannelAttention)
    ]
    try:
        yield gates
    finally:
        for handle in handles:
            handle.remove()
