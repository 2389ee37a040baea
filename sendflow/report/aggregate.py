"""Fold results -> tables: one row per fold, mean and standard deviation over folds, and the
same scores per test speaker and per test clip.

Standard deviations are sample standard deviations over folds (ddof=1), so a single fold gives
NaN rather than a misleading 0. A fold whose score is NaN (e.g. kappa when only one class was
predicted) is left out of that score's mean and standard deviation; `n_folds` counts the folds.
"""

import json

import numpy as np
import pandas as pd

from sendflow.metrics import ccc_per_clip, rmse
from sendflow.names import METRICS
from sendflow.report.paths import classifier_result

MODEL_KEYS = ["extractor", "classifier", "labels"]
LOWER_IS_BETTER = {"rmse"}


def _read_metrics(path) -> dict:
    with open(path) as f:
        return json.load(f)


def _score(metrics: dict, name: str) -> float:
    """A score as a float: metrics.json writes an undefined score (and omits a missing one) as null."""
    value = metrics.get(name)
    return np.nan if value is None else float(value)


def fold_table(metrics_paths) -> pd.DataFrame:
    """One row per metrics.json: the model keys, the fold, the test set's size and every score."""
    rows = []
    for path in metrics_paths:
        metrics = _read_metrics(path)
        rows.append({**classifier_result(path), "n_clips": metrics["n_clips"],
                     **{m: _score(metrics, m) for m in METRICS}})
    return pd.DataFrame(rows).sort_values([*MODEL_KEYS, "fold"], ignore_index=True)


def summarise(folds: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over folds of every score, one row per model."""
    grouped = folds.groupby(MODEL_KEYS, sort=True)
    out = grouped.size().rename("n_folds").to_frame()
    for m in METRICS:
        out[f"{m}_mean"] = grouped[m].mean()
        out[f"{m}_std"] = grouped[m].std(ddof=1)
    return out.reset_index()


def speaker_table(metrics_paths) -> pd.DataFrame:
    """Every test speaker's scores, for every model and fold."""
    rows = []
    for path in metrics_paths:
        keys = classifier_result(path)
        for speaker in _read_metrics(path)["per_speaker"]:
            rows.append({**keys, "speaker": speaker["speaker"], "n_clips": speaker["n_clips"],
                         **{m: _score(speaker, m) for m in METRICS}})
    return pd.DataFrame(rows).sort_values([*MODEL_KEYS, "fold", "speaker"], ignore_index=True)


def clip_scores(predictions: pd.DataFrame) -> pd.DataFrame:
    """Per test clip: rated steps, CCC, RMSE and class accuracy (NaN where nothing is rated)."""
    per_clip_ccc = ccc_per_clip(predictions)
    rows = []
    for clip_id, clip in predictions.groupby("clip_id", sort=True):
        classes = clip["class_true"].to_numpy() >= 0
        rows.append({
            "clip_id": clip_id, "speaker": int(clip["speaker"].iloc[0]),
            "n_steps": int(clip["valence_true"].notna().sum()), "ccc": per_clip_ccc[clip_id],
            "rmse": rmse(clip["valence_true"], clip["valence_pred"]),
            "accuracy": float(np.mean(clip["class_true"].to_numpy()[classes]
                                      == clip["class_pred"].to_numpy()[classes])) if classes.any() else np.nan,
        })
    return pd.DataFrame(rows)


def clip_table(prediction_paths) -> pd.DataFrame:
    """`clip_scores` for every model and fold."""
    frames = []
    for path in prediction_paths:
        scores = clip_scores(pd.read_parquet(path))
        for key, value in reversed(classifier_result(path).items()):
            scores.insert(0, key, value)
        frames.append(scores)
    return pd.concat(frames, ignore_index=True).sort_values([*MODEL_KEYS, "fold", "clip_id"],
                                                            ignore_index=True)


def markdown_table(df: pd.DataFrame, floatfmt: str = ".3f") -> str:
    """A GitHub-flavoured Markdown table (pandas' own needs the optional `tabulate`)."""
    def cell(value):
        if isinstance(value, float):
            return "n/a" if np.isnan(value) else format(value, floatfmt)
        return str(value)

    lines = ["| " + " | ".join(map(str, df.columns)) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def summary_markdown(summary: pd.DataFrame, metrics=("ccc", "accuracy", "macro_f1", "f1@25")) -> str:
    """The summary as `mean ± sd` per score, best models first by the first score."""
    first = metrics[0]
    ordered = summary.sort_values(f"{first}_mean", ascending=first in LOWER_IS_BETTER, kind="stable")
    table = ordered[[*MODEL_KEYS, "n_folds"]].copy()
    for m in metrics:
        table[m] = [_mean_sd(mean, sd) for mean, sd in zip(ordered[f"{m}_mean"], ordered[f"{m}_std"])]
    return (f"# Summary over folds\n\nMean ± sample standard deviation over folds; "
            f"sorted by {first}. All scores: `summary.csv`.\n\n" + markdown_table(table))


def _mean_sd(mean: float, sd: float) -> str:
    if np.isnan(mean):
        return "n/a"
    return f"{mean:.3f}" if np.isnan(sd) else f"{mean:.3f} ± {sd:.3f}"
