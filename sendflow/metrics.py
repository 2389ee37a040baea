"""Scores for valence predictions: continuous (SEND's per-clip CCC), class-wise and segmental.

A predictions frame has one row per 0.5 s step: clip_id, speaker, step, valence_true,
valence_pred, and, for classes, class_true (-1 where unrated) and class_pred. Steps without a
rating (NaN valence / class -1) are left out of every score.

Conventions:
* `ccc` uses population (1/n) variances. If both series are constant it is 1.0 when they are
  equal and 0.0 otherwise; if only one is constant the covariance is 0, so it is 0.0.
  Fewer than one valid pair gives NaN.
* Pearson r is NaN when either series is constant.
* Macro-F1 averages over the classes present in the truth or the prediction.
* Segmental scores follow the MS-TCN paper and are in percent (0-100): `edit` is
  100 * (1 - Levenshtein(segment labels) / max(#segments)), averaged over clips; `f1@10/25/50`
  match each predicted segment to the same-label ground-truth segment of highest IoU
  (each ground-truth segment at most once, IoU >= threshold), summing tp/fp/fn over clips
  before taking F1. Segments are formed from a clip's rated steps only (end index exclusive).
"""

import numpy as np
import pandas as pd

OVERLAPS = (0.10, 0.25, 0.50)


def _pairs(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true, float).ravel(), np.asarray(y_pred, float).ravel()
    keep = ~(np.isnan(y_true) | np.isnan(y_pred))
    return y_true[keep], y_pred[keep]


def ccc(y_true, y_pred) -> float:
    """Lin's concordance correlation coefficient, 2 cov / (var_t + var_p + (mean_t - mean_p)^2)."""
    t, p = _pairs(y_true, y_pred)
    if t.size == 0:
        return float("nan")
    t_const, p_const = np.ptp(t) == 0, np.ptp(p) == 0
    if t_const and p_const:
        return 1.0 if t[0] == p[0] else 0.0
    if t_const or p_const:
        return 0.0
    mt, mp = t.mean(), p.mean()
    cov = np.mean((t - mt) * (p - mp))
    return float(2 * cov / (t.var() + p.var() + (mt - mp) ** 2))


def pearson(y_true, y_pred) -> float:
    t, p = _pairs(y_true, y_pred)
    if t.size < 2 or np.ptp(t) == 0 or np.ptp(p) == 0:
        return float("nan")
    return float(np.corrcoef(t, p)[0, 1])


def rmse(y_true, y_pred) -> float:
    t, p = _pairs(y_true, y_pred)
    return float(np.sqrt(np.mean((t - p) ** 2))) if t.size else float("nan")


def ccc_per_clip(df: pd.DataFrame, true="valence_true", pred="valence_pred") -> pd.Series:
    """CCC of each clip's 0.5 s sequence, by clip_id (NaN for clips with fewer than two rated
    steps)."""
    return pd.Series(
        {
            clip: ccc(g[true], g[pred]) if g[true].notna().sum() >= 2 else np.nan
            for clip, g in df.groupby("clip_id", sort=True)
        },
        dtype=float,
    )


def ccc_per_clip_mean(df: pd.DataFrame, true="valence_true", pred="valence_pred") -> float:
    """SEND scoring: CCC of each clip's 0.5 s sequence, then the mean over clips
    (clips with fewer than two rated steps are skipped)."""
    scores = ccc_per_clip(df, true, pred).dropna()
    return float(scores.mean()) if len(scores) else float("nan")


def regression_metrics(df: pd.DataFrame) -> dict:
    t, p = df["valence_true"], df["valence_pred"]
    return {"ccc": ccc_per_clip_mean(df), "ccc_pooled": ccc(t, p), "pearson_r": pearson(t, p), "rmse": rmse(t, p)}


def class_metrics(y_true, y_pred, num_classes: int) -> dict:
    """Accuracy, macro-F1 (over the classes present in truth or prediction; a class never
    predicted scores 0), Cohen's kappa and the confusion matrix (rows: truth), from NumPy alone:
    importing scikit-learn costs a job seconds."""
    y_true, y_pred = np.asarray(y_true, int), np.asarray(y_pred, int)
    keep = y_true >= 0
    y_true, y_pred = y_true[keep], y_pred[keep]
    confusion = np.bincount(num_classes * y_true + y_pred, minlength=num_classes**2).reshape(num_classes, -1)
    if y_true.size == 0:
        return {
            "accuracy": float("nan"),
            "macro_f1": float("nan"),
            "kappa": float("nan"),
            "confusion": confusion.tolist(),
        }
    present = np.union1d(y_true, y_pred)
    hits, truths, predictions = np.diag(confusion), confusion.sum(1), confusion.sum(0)
    f1 = 2 * hits[present] / (truths[present] + predictions[present])  # never 0/0: each class is present
    n = confusion.sum()
    expected = (truths * predictions).sum() / n**2
    kappa = float("nan") if len(present) < 2 else float((np.trace(confusion) / n - expected) / (1 - expected))
    return {
        "accuracy": float(np.mean(y_true == y_pred)),
        "macro_f1": float(f1.mean()),
        "kappa": kappa,
        "confusion": confusion.tolist(),
    }


# --- segmental scores (MS-TCN paper) -------------------------------------------------------


def segments(labels) -> list[tuple[int, int, int]]:
    """Runs of equal labels as (label, start, end) with `end` exclusive."""
    labels = list(labels)
    runs, start = [], 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start]:
            runs.append((labels[start], start, i))
            start = i
    return runs


def levenshtein(a, b) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def edit_score(y_true, y_pred) -> float:
    g, p = [s[0] for s in segments(y_true)], [s[0] for s in segments(y_pred)]
    longest = max(len(g), len(p))
    return 100.0 if longest == 0 else 100.0 * (1 - levenshtein(p, g) / longest)


def segment_counts(y_true, y_pred, overlap: float) -> tuple[int, int, int]:
    """(tp, fp, fn) of predicted segments at IoU >= overlap, as the MS-TCN reference counts."""
    gt, pr = segments(y_true), segments(y_pred)
    hit = np.zeros(len(gt), bool)
    tp = fp = 0
    for label, start, end in pr:
        iou = [(min(end, e) - max(start, s)) / (max(end, e) - min(start, s)) if g == label else 0.0 for g, s, e in gt]
        best = int(np.argmax(iou)) if iou else -1
        if best >= 0 and iou[best] >= overlap and not hit[best]:
            tp, hit[best] = tp + 1, True
        else:
            fp += 1
    return tp, fp, len(gt) - int(hit.sum())


def _f1(tp, fp, fn) -> float:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return 0.0 if precision + recall == 0 else 100.0 * 2 * precision * recall / (precision + recall)


def segmental_metrics(sequences) -> dict:
    """`sequences`: (y_true, y_pred) label arrays per clip. Edit is the mean over clips,
    F1@k is micro over clips."""
    sequences = [(t, p) for t, p in sequences if len(t)]
    if not sequences:
        return {"edit": float("nan"), **{f"f1@{round(k * 100)}": float("nan") for k in OVERLAPS}}
    out = {"edit": float(np.mean([edit_score(t, p) for t, p in sequences]))}
    for k in OVERLAPS:
        counts = np.sum([segment_counts(t, p, k) for t, p in sequences], axis=0)
        out[f"f1@{round(k * 100)}"] = _f1(*counts)
    return out


# --- everything ------------------------------------------------------------------------------


def _scores(df: pd.DataFrame, num_classes: int) -> dict:
    out = {"n_clips": int(df["clip_id"].nunique()), "n_steps": int(df["valence_true"].notna().sum())}
    out.update(regression_metrics(df))
    if "class_true" in df and "class_pred" in df:
        out.update(class_metrics(df["class_true"], df["class_pred"], num_classes))
        seqs = []
        for _, g in df.sort_values(["clip_id", "step"]).groupby("clip_id", sort=True):
            rated = g["class_true"].to_numpy() >= 0
            seqs.append((g["class_true"].to_numpy()[rated], g["class_pred"].to_numpy()[rated]))
        out.update(segmental_metrics(seqs))
    return out


def evaluate(predictions: pd.DataFrame, num_classes: int) -> dict:
    """All scores over the whole frame, plus `per_speaker`: a list of the same scores with a
    `speaker` key for each speaker in the frame."""
    out = _scores(predictions, num_classes)
    out["per_speaker"] = [
        {"speaker": int(s), **_scores(g, num_classes)} for s, g in predictions.groupby("speaker", sort=True)
    ]
    return out
