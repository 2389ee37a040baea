"""MS-TCN (Farha & Gall, CVPR 2019), after github.com/yabufarha/ms-tcn, made correct for padded
batches and extended with a regression head.

Shapes: features x [B, D, T]; mask [B, 1, T] with 1 on real steps and 0 on padding, which must
sit at the end of each sequence; outputs [S, B, C, T] (one slice per stage; C = 1 for regression).

Padding: the reference masks only stage outputs. Here x, the input projection and every
residual layer are multiplied by the mask too, so padded positions hold zeros everywhere, which
is exactly what a dilated convolution's own zero padding sees at the end of an unpadded
sequence: a clip gives the same outputs alone or in a batch (tests/test_mstcn.py).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

TASKS = ("classification", "regression")


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
        self.layers = nn.ModuleList(DilatedResidualLayer(2 ** i, channels, dropout) for i in range(layers))
        self.conv_out = nn.Conv1d(channels, out_dim, 1)

    def forward(self, x, mask):
        out = self.conv_in(x) * mask
        for layer in self.layers:
            out = layer(out, mask)
        return self.conv_out(out) * mask


class MSTCN(nn.Module):
    """S stages of L dilated residual layers. Classification: stage s > 1 refines the softmax of
    stage s - 1. Regression: one output channel, and stage s > 1 refines the raw output."""

    def __init__(self, in_dim: int, num_classes: int, stages: int = 4, layers: int = 10,
                 channels: int = 64, dropout: float = 0.5, task: str = "classification"):
        super().__init__()
        if task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, not {task!r}")
        self.task = task
        out_dim = 1 if task == "regression" else num_classes
        self.stages = nn.ModuleList(
            SingleStage(in_dim if s == 0 else out_dim, out_dim, layers, channels, dropout) for s in range(stages))

    def forward(self, x, mask=None):
        mask = torch.ones_like(x[:, :1]) if mask is None else mask[:, :1].to(x.dtype)
        out = self.stages[0](x * mask, mask)
        outputs = [out]
        for stage in self.stages[1:]:
            inp = F.softmax(out, dim=1) * mask if self.task == "classification" else out
            out = stage(inp, mask)
            outputs.append(out)
        return torch.stack(outputs)


def _ccc_loss(pred, target, valid):
    """Mean over sequences (with >= 2 valid steps) of 1 - CCC, population variances."""
    losses = []
    for p, t, v in zip(pred, target, valid):
        p, t = p[v], t[v]
        if p.numel() < 2:
            continue
        mp, mt = p.mean(), t.mean()
        cov = ((p - mp) * (t - mt)).mean()
        ccc = 2 * cov / (p.var(unbiased=False) + t.var(unbiased=False) + (mp - mt) ** 2 + 1e-8)
        losses.append(1 - ccc)
    return torch.stack(losses).mean() if losses else pred.sum() * 0


def mstcn_loss(outputs, targets, mask, task="classification", smooth_weight=0.15, tau=4.0,
               regression_loss="mse"):
    """Sum over stages of the masked loss.

    Classification (targets: long [B, T], -1 = ignore): cross-entropy averaged over valid steps
    + smooth_weight * truncated MSE between neighbouring log-probabilities (previous step
    detached, squared difference clamped at tau**2), averaged over the classes of the step pairs
    whose two steps are both real. Padding therefore never dilutes either term.
    Regression (targets: float [B, T], NaN = ignore): MSE over valid steps, or mean over
    sequences of 1 - CCC (regression_loss="ccc"); no smoothing term.
    """
    mask = mask[:, 0].bool()
    total = outputs.new_zeros(())
    for p in outputs:
        if task == "classification":
            valid = mask & (targets >= 0)
            ce = F.cross_entropy(p, targets.masked_fill(~valid, -100), ignore_index=-100, reduction="sum")
            total = total + ce / valid.sum().clamp(min=1)
            if smooth_weight:
                logp = F.log_softmax(p, dim=1)
                sq = torch.clamp((logp[:, :, 1:] - logp.detach()[:, :, :-1]) ** 2, min=0, max=tau ** 2)
                pairs = (mask[:, 1:] & mask[:, :-1]).unsqueeze(1)
                n = pairs.sum() * p.shape[1]
                total = total + smooth_weight * (sq * pairs).sum() / n.clamp(min=1)
        elif task == "regression":
            valid = mask & ~torch.isnan(targets)
            pred, target = p[:, 0], torch.nan_to_num(targets)
            if regression_loss == "mse":
                total = total + ((pred - target) ** 2 * valid).sum() / valid.sum().clamp(min=1)
            elif regression_loss == "ccc":
                total = total + _ccc_loss(pred, target, valid)
            else:
                raise ValueError(f"regression_loss must be 'mse' or 'ccc', not {regression_loss!r}")
        else:
            raise ValueError(f"task must be one of {TASKS}, not {task!r}")
    return total
