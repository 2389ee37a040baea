"""Losses of the temporal models (MS-TCN and its baselines), over real, rated steps only:
the MS-TCN paper's cross-entropy plus truncated-MSE smoothing on the class head, and MSE or
1 - CCC on the valence head."""

import torch
import torch.nn.functional as F

from ..names import REGRESSION_LOSSES
from .heads import split_outputs


def class_loss(logits, classes, mask, *, smooth_weight, tau):
    """Cross-entropy averaged over rated real steps + smooth_weight * truncated MSE between
    neighbouring log-probabilities (previous step detached, squared difference clamped at
    tau**2), averaged over the classes of the step pairs whose two steps are both real.
    logits [B, C, T]; classes long [B, T] with -1 = unrated; mask bool [B, T]."""
    valid = mask & (classes >= 0)
    ce = F.cross_entropy(logits, classes.masked_fill(~valid, -100), ignore_index=-100, reduction="sum")
    loss = ce / valid.sum().clamp(min=1)
    if smooth_weight:
        logp = F.log_softmax(logits, dim=1)
        sq = torch.clamp((logp[:, :, 1:] - logp.detach()[:, :, :-1]) ** 2, min=0, max=tau**2)
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


def valence_loss(pred, valence, mask, kind):
    """MSE over rated real steps, or 1 - CCC per sequence. pred [B, T]; valence float [B, T]
    with NaN = unrated; mask bool [B, T]."""
    valid = mask & ~torch.isnan(valence)
    target = torch.nan_to_num(valence)
    if kind == "mse":
        return ((pred - target) ** 2 * valid).sum() / valid.sum().clamp(min=1)
    if kind == "ccc":
        return ccc_loss(pred, target, valid)
    raise ValueError(f"regression_loss must be one of {REGRESSION_LOSSES}, not {kind!r}")


def mstcn_loss(outputs, mask, classes, valence, *, task, smooth_weight, tau, regression_loss, regression_weight):
    """Sum over stages of the class loss (class head) + regression_weight * the valence loss
    (valence head), each over real, rated steps only, so padding never counts.
    outputs [S, B, K, T]; mask [B, 1, T]; classes long [B, T] (-1 = unrated); valence [B, T]
    (NaN = unrated); either may be None where the task does not read it. The settings have no
    defaults here: the config always sets them (classifier.training)."""
    mask = mask[:, 0].bool()
    logits, values = split_outputs(outputs, task)
    total = outputs.new_zeros(())
    for s in range(outputs.shape[0]):
        if logits is not None:
            total = total + class_loss(logits[s], classes, mask, smooth_weight=smooth_weight, tau=tau)
        if values is not None:
            total = total + regression_weight * valence_loss(values[s], valence, mask, regression_loss)
    return total
