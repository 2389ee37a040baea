"""MS-TCN (Farha & Gall, CVPR 2019), after github.com/yabufarha/ms-tcn, made correct for padded
batches and given a valence head beside the class head.

Shapes: features x [B, D, T]; mask [B, 1, T] with 1 on real steps and 0 on padding, which must
sit at the end of each sequence; outputs [S, B, K, T], one slice per stage, where the K output
channels depend on the task (`output_channels`): class logits, valence, or both (multitask:
the C logits first, valence last). `split_outputs` separates them.

Padding: the reference masks only stage outputs. Here x, the input projection and every
residual layer are multiplied by the mask too, so padded positions hold zeros everywhere, which
is exactly what a dilated convolution's own zero padding sees at the end of an unpadded
sequence: a clip gives the same outputs alone or in a batch (tests/test_mstcn.py).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..names import REGRESSION_LOSSES, TASKS


def output_channels(task: str, num_classes: int) -> int:
    """Class logits for `classification`, one valence channel for `regression`, both for `multitask`."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, not {task!r}")
    return {"classification": num_classes, "regression": 1, "multitask": num_classes + 1}[task]


def split_outputs(outputs: torch.Tensor, task: str):
    """(class logits [..., C, T] or None, valence [..., T] or None) of model outputs [..., K, T]."""
    if task == "classification":
        return outputs, None
    if task == "regression":
        return None, outputs[..., 0, :]
    return outputs[..., :-1, :], outputs[..., -1, :]


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
        self.layers = nn.ModuleList(DilatedResidualLayer(2 ** i, channels, dropout) for i in range(layers))
        self.conv_out = nn.Conv1d(channels, out_dim, 1)

    def forward(self, x, mask):
        out = self.conv_in(x) * mask
        for layer in self.layers:
            out = layer(out, mask)
        return self.conv_out(out) * mask


class MSTCN(nn.Module):
    """S stages of L dilated residual layers; stage s > 1 refines stage s - 1's output."""

    def __init__(self, in_dim: int, num_classes: int, stages: int = 4, layers: int = 10,
                 channels: int = 64, dropout: float = 0.5, task: str = "multitask"):
        super().__init__()
        self.task = task
        out_dim = output_channels(task, num_classes)
        self.stages = nn.ModuleList(
            SingleStage(in_dim if s == 0 else out_dim, out_dim, layers, channels, dropout) for s in range(stages))

    def forward(self, x, mask=None):
        mask = torch.ones_like(x[:, :1]) if mask is None else mask[:, :1].to(x.dtype)
        out = self.stages[0](x * mask, mask)
        outputs = [out]
        for stage in self.stages[1:]:
            out = stage(stage_input(out, mask, self.task), mask)
            outputs.append(out)
        return torch.stack(outputs)


# --- losses -----------------------------------------------------------------------------------

def class_loss(logits, classes, mask, smooth_weight=0.15, tau=4.0):
    """Cross-entropy averaged over rated real steps + smooth_weight * truncated MSE between
    neighbouring log-probabilities (previous step detached, squared difference clamped at
    tau**2), averaged over the classes of the step pairs whose two steps are both real.
    logits [B, C, T]; classes long [B, T] with -1 = unrated; mask bool [B, T]."""
    valid = mask & (classes >= 0)
    ce = F.cross_entropy(logits, classes.masked_fill(~valid, -100), ignore_index=-100, reduction="sum")
    loss = ce / valid.sum().clamp(min=1)
    if smooth_weight:
        logp = F.log_softmax(logits, dim=1)
        sq = torch.clamp((logp[:, :, 1:] - logp.detach()[:, :, :-1]) ** 2, min=0, max=tau ** 2)
        pairs = (mask[:, 1:] & mask[:, :-1]).unsqueeze(1)
        n = pairs.sum() * logits.shape[1]
        loss = loss + smooth_weight * (sq * pairs).sum() / n.clamp(min=1)
    return loss


def ccc_loss(pred, target, valid):
    """Mean over sequences (with >= 2 valid steps) of 1 - CCC, population variances: SEND's
    score (per clip, then the mean over clips) as a loss."""
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


def valence_loss(pred, valence, mask, kind="ccc"):
    """MSE over rated real steps, or 1 - CCC per sequence. pred [B, T]; valence float [B, T]
    with NaN = unrated; mask bool [B, T]."""
    valid = mask & ~torch.isnan(valence)
    target = torch.nan_to_num(valence)
    if kind == "mse":
        return ((pred - target) ** 2 * valid).sum() / valid.sum().clamp(min=1)
    if kind == "ccc":
        return ccc_loss(pred, target, valid)
    raise ValueError(f"regression_loss must be one of {REGRESSION_LOSSES}, not {kind!r}")


def mstcn_loss(outputs, mask, classes=None, valence=None, task="multitask", smooth_weight=0.15,
               tau=4.0, regression_loss="ccc", regression_weight=1.0):
    """Sum over stages of the class loss (class head) + regression_weight * the valence loss
    (valence head), each over real, rated steps only, so padding never counts.
    outputs [S, B, K, T]; mask [B, 1, T]; classes long [B, T] (-1 = unrated); valence [B, T]
    (NaN = unrated)."""
    mask = mask[:, 0].bool()
    logits, values = split_outputs(outputs, task)
    total = outputs.new_zeros(())
    for s in range(outputs.shape[0]):
        if logits is not None:
            total = total + class_loss(logits[s], classes, mask, smooth_weight, tau)
        if values is not None:
            total = total + regression_weight * valence_loss(values[s], valence, mask, regression_loss)
    return total
