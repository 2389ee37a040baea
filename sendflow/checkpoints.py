"""Model files written atomically (kept apart from sendflow.atomic so that stages without
torch never import it)."""

import torch

from .atomic import atomic_path


def save_torch(obj, path) -> None:
    """torch.save atomically: a checkpoint is either the old one or the whole new one."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
