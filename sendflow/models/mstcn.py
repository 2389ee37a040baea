"""MS-TCN (Farha & Gall, CVPR 2019), after github.com/yabufarha/ms-tcn, made correct for padded
batches and given a valence head beside the class head.

Shapes: features x [B, D, T]; mask [B, 1, T] with 1 on real steps and 0 on padding, which must
sit at the end of each sequence; outputs [S, B, K, T], one slice per stage, where the K output
channels depend on the task (`output_channels`): class logits, valence, or both (multitask:
the C logits first, valence last; see heads.py). The losses are in losses.py.

Padding: the reference masks only stage outputs. Here x, the input projection and every
residual layer are multiplied by the mask too, so padded positions hold zeros everywhere, which
is exactly what a dilated convolution's own zero padding sees at the end of an unpadded
sequence: a clip gives the same outputs alone or in a batch (tests/test_mstcn.py).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from .heads import output_channels, split_outputs


def stage_input(out: torch.Tensor, mask: torch.Tensor, task: str) -> torch.Tensor:
    """What a refinement stage sees of the previous one: class probabilities (as in the paper)
    and the raw valence."""
    logits, valence = split_outputs(out, task)
    parts = [] if logits is None else [F.softmax(logits, dim=1)]
    parts += [] if valence is None else [valence.unsqueeze(1)]
    return torch.cat(parts, dim=1) * mask


class DilatedResidualLayer(nn.Module):
    def __init__(self, dilation: int, channels: int, dropout: float):
        super().__init__()
        self.conv_dilated = nn.Conv1d(channels, channels, 3, padding=dilation, dilation=dilation)
        self.conv_1x1 = nn.Conv1d(channels, channels, 1)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, mask):
        out = self.dropout(self.conv_1x1(F.relu(self.conv_dilated(x))))
        return (x + out) * mask


class SingleStage(nn.Module):
    def __init__(self, in_dim: int, out_dim: int, layers: int, channels: int, dropout: float):
        super().__init__()
        self.conv_in = nn.Conv1d(in_dim, channels, 1)
        self.layers = nn.ModuleList(DilatedResidualLayer(2**i, channels, dropout) for i in range(layers))
        self.conv_out = nn.Conv1d(channels, out_dim, 1)

    def forward(self, x, mask):
        out = self.conv_in(x) * mask
        for layer in self.layers:
            out = layer(out, mask)
        return self.conv_out(out) * mask


class MSTCN(nn.Module):
    """S stages of L dilated residual layers; stage s > 1 refines stage s - 1's output."""

    def __init__(
        self, in_dim: int, num_classes: int, task: str, *, stages: int, layers: int, channels: int, dropout: float
    ):
        super().__init__()
        self.task = task
        out_dim = output_channels(task, num_classes)
        self.stages = nn.ModuleList(
            SingleStage(in_dim if s == 0 else out_dim, out_dim, layers, channels, dropout) for s in range(stages)
        )

    def forward(self, x, mask=None):
        mask = torch.ones_like(x[:, :1]) if mask is None else mask[:, :1].to(x.dtype)
        out = self.stages[0](x * mask, mask)
        outputs = [out]
        for stage in self.stages[1:]:
            out = stage(stage_input(out, mask, self.task), mask)
            outputs.append(out)
        return torch.stack(outputs)
