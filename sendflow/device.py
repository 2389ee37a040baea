"""Where torch work runs: `auto` means CUDA when present, else the CPU."""

import torch


class DeviceError(ValueError):
    """A device this machine does not have; the message names it and what to use instead."""


def resolve_device(name: str) -> torch.device:
    """The torch device `name` stands for, checked before any work is done on it."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise DeviceError(f"{name}: not a device; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"{name}: this machine has no CUDA device that torch can use; use cpu or auto")
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise DeviceError(f"{name}: this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}")
    return device
