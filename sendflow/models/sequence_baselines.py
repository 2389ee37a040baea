"""Temporal baselines for MS-TCN, with its interface: forward(x [B, D, T], mask [B, 1, T]) ->
[S, B, K, T] (K output channels per task, see heads.py), trained with `mstcn_loss`."""

import torch
import torch.nn as nn

from .heads import output_channels
from .mstcn import MSTCN


def single_stage_tcn(in_dim, num_classes, layers=10, channels=64, dropout=0.5, task="multitask"):
    """The single-stage TCN of the MS-TCN paper: MSTCN with one stage."""
    return MSTCN(in_dim, num_classes, stages=1, layers=layers, channels=channels, dropout=dropout, task=task)


class BiGRU(nn.Module):
    """Bidirectional GRU over packed sequences (padding never reaches the real steps)."""

    def __init__(self, in_dim, num_classes, hidden=64, layers=1, dropout=0.5, task="multitask"):
        super().__init__()
        self.task = task
        self.gru = nn.GRU(
            in_dim, hidden, layers, batch_first=True, bidirectional=True, dropout=dropout if layers > 1 else 0.0
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(2 * hidden, output_channels(task, num_classes))

    def forward(self, x, mask=None):
        mask = torch.ones_like(x[:, :1]) if mask is None else mask[:, :1].to(x.dtype)
        lengths = mask[:, 0].sum(1).long().clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(x.transpose(1, 2), lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.gru(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[2])
        out = self.head(self.dropout(out)).transpose(1, 2) * mask
        return out.unsqueeze(0)
