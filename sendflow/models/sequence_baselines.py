"""Baselines for MS-TCN.

Torch models share MSTCN's interface: forward(x [B, D, T], mask [B, 1, T]) -> [1, B, K, T]
(K output channels per task, see `output_channels`), trained with `mstcn_loss`. The non-torch
ones share a small interface of their own: `fit(sequences)` with (features [T, D], classes [T],
valence [T]) triples (class -1 / valence NaN = unrated), and `predict(features)` ->
(class probabilities [T, C] or None, valence [T] or None), by task.
"""

import numpy as np
import torch
import torch.nn as nn
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .mstcn import MSTCN, output_channels


def SingleStageTCN(in_dim, num_classes, layers=10, channels=64, dropout=0.5, task="multitask"):
    """The single-stage TCN of the MS-TCN paper: MSTCN with one stage."""
    return MSTCN(in_dim, num_classes, stages=1, layers=layers, channels=channels, dropout=dropout, task=task)


class BiGRU(nn.Module):
    """Bidirectional GRU over packed sequences (padding never reaches the real steps)."""

    def __init__(self, in_dim, num_classes, hidden=64, layers=1, dropout=0.5, task="multitask"):
        super().__init__()
        self.task = task
        self.gru = nn.GRU(in_dim, hidden, layers, batch_first=True, bidirectional=True,
                          dropout=dropout if layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(2 * hidden, output_channels(task, num_classes))

    def forward(self, x, mask=None):
        mask = torch.ones_like(x[:, :1]) if mask is None else mask[:, :1].to(x.dtype)
        lengths = mask[:, 0].sum(1).long().clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(x.transpose(1, 2), lengths, batch_first=True,
                                                   enforce_sorted=False)
        out, _ = self.gru(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[2])
        out = self.head(self.dropout(out)).transpose(1, 2) * mask
        return out.unsqueeze(0)


def _stack(sequences):
    """All steps of all sequences: features [N, D], classes [N], valence [N]."""
    return tuple(np.concatenate(parts) for parts in zip(*sequences))


class _PerStep:
    """A per-step model for classes and/or valence, as the task asks."""

    def __init__(self, num_classes, task="multitask"):
        output_channels(task, num_classes)  # validates the task
        self.num_classes, self.task = num_classes, task
        self.classes, self.valence = task != "regression", task != "classification"

    def fit(self, sequences):
        x, y, v = _stack(sequences)
        if self.classes:
            self._fit_classes(x[y >= 0], y[y >= 0].astype(int))
        if self.valence:
            self._fit_valence(x[~np.isnan(v)], v[~np.isnan(v)])
        return self

    def predict(self, features):
        return (self._probs(features) if self.classes else None,
                self._values(features).astype(np.float32) if self.valence else None)


class Framewise(_PerStep):
    """Each step on its own: standardised features into a class-balanced logistic regression
    (classes) and a ridge regression (valence)."""

    def __init__(self, num_classes, task="multitask", C=1.0, alpha=1.0, max_iter=1000):
        super().__init__(num_classes, task)
        self.classifier = make_pipeline(
            StandardScaler(), LogisticRegression(C=C, class_weight="balanced", max_iter=max_iter))
        self.regressor = make_pipeline(StandardScaler(), Ridge(alpha=alpha))

    def _fit_classes(self, x, y):
        self.only_class = int(y[0]) if len(np.unique(y)) == 1 else None
        if self.only_class is None:  # a one-class training set is possible on tiny data
            self.classifier.fit(x, y)

    def _fit_valence(self, x, v):
        self.regressor.fit(x, v)

    def _probs(self, features):
        probs = np.zeros((len(features), self.num_classes), np.float32)
        if self.only_class is not None:
            probs[:, self.only_class] = 1.0
        else:
            probs[:, self.classifier.classes_] = self.classifier.predict_proba(features)  # unseen: 0
        return probs

    def _values(self, features):
        return self.regressor.predict(features)


class Mean(_PerStep):
    """No features: the training class frequencies (argmax = majority class) and mean valence."""

    def _fit_classes(self, x, y):
        self.frequencies = np.bincount(y, minlength=self.num_classes) / max(len(y), 1)

    def _fit_valence(self, x, v):
        self.mean = float(v.mean()) if len(v) else 0.0

    def _probs(self, features):
        return np.tile(self.frequencies.astype(np.float32), (len(features), 1))

    def _values(self, features):
        return np.full(len(features), self.mean)
