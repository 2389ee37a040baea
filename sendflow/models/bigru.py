"""A bidirectional GRU, the recurrent baseline for MS-TCN, with its interface: forward(x [B, D, T],
mask [B, 1, T]) -> [1, B, K, T] (one "stage"; K output channels per task, see heads.py)."""

import torch
import torch.nn as nn

from .heads import output_channels


class BiGRU(nn.Module):
    """Bidirectional GRU over packed sequences (padding never reaches the real steps)."""

    def __init__(self, in_dim: int, num_classes: int, task: str, *, hidden: int, layers: int, dropout: float):
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
