"""Model files written atomically and read back as plain tensors only (kept apart from
sendflow.atomic so that stages without torch never import it)."""

import pickle
import re

import torch

from .atomic import atomic_path
from .errors import OutputWriteError, SendDataError


def load_torch(path, map_location="cpu"):
    """torch.load with `weights_only=True`: tensors and plain values only, so a file from
    elsewhere cannot run code. A file holding other Python objects is a SendDataError naming it
    (torch's own message ends in advice to retry with weights_only=False, which would run them)."""
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        held = re.search(r"GLOBAL (\S+)", str(error))
        what = f"it holds {held.group(1)}, " if held else "it holds Python objects, "
        raise SendDataError(
            path, f"not a plain tensor file; refusing to unpickle it ({what}which a model file never holds)"
        ) from None


def _tensor_bytes(obj) -> int:
    """Bytes of the tensors in a (nested) checkpoint: about the size of its file."""
    if isinstance(obj, torch.Tensor):
        return obj.numel() * obj.element_size()
    if isinstance(obj, dict):
        return sum(_tensor_bytes(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(_tensor_bytes(v) for v in obj)
    return 0


def save_torch(obj, path) -> None:
    """torch.save atomically: a checkpoint is either the old one or the whole new one. A write
    the disk refuses is an OutputWriteError naming the file and the space it needs."""
    try:
        with atomic_path(path) as tmp:
            torch.save(obj, tmp)
    except OutputWriteError as error:
        raise OutputWriteError(path, error.reason, error.written, error.free, _tensor_bytes(obj)) from error.__cause__
