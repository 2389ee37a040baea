"""The single-stage TCN of the MS-TCN paper: MSTCN with one stage, a baseline for its refinement
stages."""

from .mstcn import MSTCN


def single_stage_tcn(in_dim: int, num_classes: int, task: str, *, layers: int, channels: int, dropout: float):
    return MSTCN(in_dim, num_classes, task, stages=1, layers=layers, channels=channels, dropout=dropout)
