"""Pretrained backbone weights: `weights="imagenet"` loads torchvision's IMAGENET1K_V1 through
its weights API (downloaded once into the torch hub cache, then read from there; offline, a
missing file fails at once and says where to put it); any other string is a local state_dict
file."""

import contextlib
import logging
import os
import socket
from pathlib import Path
from urllib.parse import urlparse

import torch
from torch import nn
from torchvision.models import WeightsEnum, get_model_weights

from ..atomic import file_sha256
from ..checkpoints import load_torch

log = logging.getLogger(__name__)

# Per blocking socket call, so an unreachable host fails in seconds while a slow download still runs.
DOWNLOAD_TIMEOUT_S = 10


class MissingWeightsError(RuntimeError):
    """ImageNet weights are not in the torch hub cache and could not be downloaded."""


def imagenet_weights(depth: int) -> WeightsEnum:
    if depth == 10:
        raise ValueError(
            "extractor.weights: imagenet: torchvision has no ImageNet weights for ResNet-10; "
            "set extractor.depth to 18, 34 or 50"
        )
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
            return weights.get_state_dict(progress=True, check_hash=True, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError) as e:  # URLError and timeouts are OSErrors; a bad hash, RuntimeError
        path.unlink(missing_ok=True)  # torch.hub drops its .partial file; never keep a bad final one
        raise MissingWeightsError(
            f"ImageNet weights {weights} are not in the torch cache and could not be downloaded "
            f"({type(e).__name__}: {e}). On a machine with internet fetch\n  {weights.url}\n"
            f"and put it at\n  {path}\n(the torch hub cache; set TORCH_HOME to move it: files then go "
            f"to $TORCH_HOME/hub/checkpoints/)."
        ) from e


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
    for name, keys in (
        ("missing", missing),
        ("unexpected", result.unexpected_keys),
        ("shape-mismatched (skipped)", mismatched),
    ):
        if keys:
            log.warning("%d %s keys in %s: %s", len(keys), name, source, ", ".join(keys[:8]))


def load_weights(backbone: nn.Module, depth: int, weights: str) -> None:
    """`weights` is "imagenet" or a local state_dict file."""
    if weights == "imagenet":
        state, path = _imagenet_state_dict(depth)
    else:
        path = Path(weights)
        if not path.is_file():
            raise FileNotFoundError(
                f"extractor weights {weights!r} are neither 'imagenet' nor an existing "
                f"state_dict file (looked for {path.resolve()})"
            )
        state = load_torch(path)
    _load_state(backbone, state, path)


def initial_weights_sha256(weights: str | None) -> str | None:
    """sha256 of a local initial-weights file (`extractor.weights` as a path): a training job's
    checkpoint and its records are keyed on the file's content, so a replaced file is noticed
    whatever its name and time. None for a random start, or torchvision's ImageNet weights
    (fixed by their version's name)."""
    return None if weights in (None, "imagenet") else file_sha256(weights)
