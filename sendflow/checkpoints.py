"""Model files written atomically (kept apart from sendflow.atomic so that stages without
torch never import it)."""

import torch

from .atomic import atomic_path
from .errors import OutputWriteError


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
