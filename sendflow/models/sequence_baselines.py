"""Baselines for MS-TCN.

Torch models share MSTCN's interface: forward(x [B, D, T], mask [B, 1, T]) -> [1, B, C, T]
(C = 1 for regression), trained with `mstcn_loss`. The non-torch ones share a small interface
of their own: `fit(sequences)` with (features [T, D], target [T]) pairs, where targets are
classes (-1 = unrated) or valence (NaN = unrated), and `predict(features) -> [T, C]` class
probabilities or [T] valence values.
"""

import numpy as np
import torch
import torch.nn as nn
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .mstcn import MSTCN


def SingleStageTCN(in_dim, num_classes, layers=10, channels=64, dropout=0.5, task="classification"):
    """The single-stage TCN of the MS-TCN paper: MSTCN with one stage."""
    return MSTCN(in_dim, num_classes, stages=1, layers=layers, channels=channels, dropout=dropout, task=task)


class BiGRU(nn.Module):
    """Bidirectional GRU over packed sequences (padding never reaches the real steps)."""

    def __init__(self, in_dim, num_classes, hidden=64, layers=1, dropout=0.5, task="classification"):
        super().__init__()
        self.task = task
        self.gru = nn.GRU(in_dim, hidden, layers, batch_first=True, bidirectional=True,
                          dropout=dropout if layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(2 * hidden, 1 if task == "regression" else num_classes)

    def forward(self, x, mask=None):
        mask = torch.ones_like(x[:, :1]) if mask is None else mask[:, :1].to(x.dtype)
        lengths = mask[:, 0].sum(1).long().clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(x.transpose(1, 2), lengths, batch_first=True,
                                                   enforce_sorted=False)
        out, _ = self.gru(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[2])
        out = self.head(self.dropout(out)).transpose(1, 2) * mask
        return out.unsqueeze(0)


def _stack(sequences, keep):
    xs = np.concatenate([x for x, _ in sequences])
    ys = np.concatenate([y for _, y in sequences])
    ok = keep(ys)
    return xs[ok], ys[ok]


class Framewise:
    """Each step on its own: standardised features into a class-balanced logistic regression
    (classification) or ridge regression."""

    def __init__(self, num_classes, task="classification", C=1.0, alpha=1.0, max_iter=1000):
        self.num_classes, self.task = num_classes, task
        model = (LogisticRegression(C=C, class_weight="balanced", max_iter=max_iter)
                 if task == "classification" else Ridge(alpha=alpha))
        self.model = make_pipeline(StandardScaler(), model)

    def fit(self, sequences):
        if self.task == "classification":
            x, y = _stack(sequences, lambda y: y >= 0)
            self.only_class = int(y[0]) if len(np.unique(y)) == 1 else None
            if self.only_class is None:  # a one-class training set is possible on tiny data
                self.model.fit(x, y.astype(int))
        else:
            x, y = _stack(sequences, lambda y: ~np.isnan(y))
            self.model.fit(x, y)
        return self

    def predict(self, features):
        if self.task != "classification":
            return self.model.predict(features).astype(np.float32)
        probs = np.zeros((len(features), self.num_classes), np.float32)
        if self.only_class is not None:
            probs[:, self.only_class] = 1.0
        else:
            probs[:, self.model.classes_] = self.model.predict_proba(features)  # unseen classes: 0
        return probs


class Mean:
    """No features: the training class frequencies (argmax = majority class) or mean valence."""

    def __init__(self, num_classes, task="classification"):
        self.num_classes, self.task = num_classes, task

    def fit(self, sequences):
        if self.task == "classification":
            _, y = _stack(sequences, lambda y: y >= 0)
            self.value = np.bincount(y.astype(int), minlength=self.num_classes) / max(len(y), 1)
        else:
            _, y = _stack(sequences, lambda y: ~np.isnan(y))
            self.value = np.float32(y.mean()) if len(y) else np.float32(0)
        return self

    def predict(self, features):
        shape = (len(features), self.num_classes) if self.task == "classification" else (len(features),)
        return np.broadcast_to(np.asarray(self.value, np.float32), shape).copy()
