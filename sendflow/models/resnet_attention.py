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
from torchvision.models import WeightsEnum, get_model_weights, resnet18, resnet34, resnet50
from torchvision.models.resnet import BasicBlock, Bottleneck

from ..names import EXTRACTORS

log = logging.getLogger(__name__)

BACKBONES = {18: resnet18, 34: resnet34, 50: resnet50}
# Per blocking socket call, so an unreachable host fails in seconds while a slow download still runs.
DOWNLOAD_TIMEOUT_S = 10


class ChannelAttention(nn.Module):
    """Squeeze (global average pool) and excite (1x1 conv bottleneck, sigmoid) one gate per channel."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.conv1 = nn.Conv2d(channels, hidden, kernel_size=1)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(hidden, channels, kernel_size=1)
        self.last_weights: Tensor | None = None  # [B, C] gate of the latest forward, for inspection

    def forward(self, x: Tensor) -> Tensor:
        gate = torch.sigmoid(self.conv2(self.relu(self.conv1(self.pool(x)))))
        self.last_weights = gate.detach().flatten(1)
        return x * gate


class AttentionBlock(nn.Module):
    """A torchvision residual block whose residual branch is gated before the identity is added.

    The block's own layers are reused (same parameters, same order); only its forward is
    recomputed so the gate can sit between the branch's last BatchNorm and the addition.
    """

    def __init__(self, block: BasicBlock | Bottleneck, reduction: int = 16) -> None:
        super().__init__()
        self.block = block
        last_bn = block.bn3 if isinstance(block, Bottleneck) else block.bn2
        self.attn = ChannelAttention(last_bn.num_features, reduction)

    def residual(self, x: Tensor) -> Tensor:
        b = self.block
        out = b.relu(b.bn1(b.conv1(x)))
        if isinstance(b, Bottleneck):
            out = b.relu(b.bn2(b.conv2(out)))
            return b.bn3(b.conv3(out))
        return b.bn2(b.conv2(out))

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.block.downsample is None else self.block.downsample(x)
        return self.block.relu(self.attn(self.residual(x)) + identity)


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
    for name, keys in (("missing", result.missing_keys), ("unexpected", result.unexpected_keys),
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
                    reduction: int = 16, weights: str | None = None) -> Extractor:
    """Frame encoder with `.embed(x) -> [B, D]` and `.forward(x) -> {"logits", ["valence"]}`."""
    if kind not in EXTRACTORS:
        raise ValueError(f"unknown extractor kind {kind!r}; expected one of {EXTRACTORS}")
    if depth not in BACKBONES:
        raise ValueError(f"unsupported ResNet depth {depth}; expected one of {sorted(BACKBONES)}")
    backbone = BACKBONES[depth](weights=None)
    if weights:
        # Before any wrapping, so torchvision's own key names match the file.
        _load_weights(backbone, depth, weights)
    feature_dim = backbone.fc.in_features
    backbone.fc = nn.Identity()
    if kind == "resattn":
        for layer in (backbone.layer1, backbone.layer2, backbone.layer3, backbone.layer4):
            for i, block in enumerate(layer):
                layer[i] = AttentionBlock(block, reduction)
    model = Extractor(backbone, feature_dim, num_classes, regression)
    model.config = dict(kind=kind, depth=depth, num_classes=num_classes, regression=regression,
                        reduction=reduction)
    return model


def attention_weights(model: nn.Module) -> list[Tensor]:
    """The last gate [B, C] of every attention layer, in block order (empty for `resnet`)."""
    return [m.last_weights for m in model.modules() if isinstance(m, ChannelAttention)]
