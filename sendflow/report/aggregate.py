"""Fold results -> tables: one row per fold and repeat, the summary per model, and the same
scores per test speaker and per test clip.

The summary's `<score>_mean` is the mean over folds of each fold's mean over repeats;
`<score>_std` the sample standard deviation of those fold means (speaker sampling: which
speakers a fold tests), `<score>_std_repeats` the root mean over folds of the sample variance
across repeats (training noise), and `<score>_ci_low`/`_ci_high` a 95% interval of the mean over
test speakers (the sign-flip interval of sendflow/report/stats.py over the speaker means).
Sample statistics use ddof=1, so one fold or one repeat gives NaN rather than a misleading 0.
A NaN score (e.g. kappa when only one class was predicted) is left out of that score's
statistics; `n_folds` and `n_repeats` count what ran.
"""

import json

import numpy as np
import pandas as pd

from sendflow.metrics import ccc_per_clip, rmse
from sendflow.names import METRICS
from sendflow.report.paths import classifier_result
from sendflow.report.stats import METHOD, interval_text, speaker_interval

MODEL_KEYS = ["extractor", "classifier", "labels"]
RUN_KEYS = [*MODEL_KEYS, "fold", "repeat"]
LOWER_IS_BETTER = {"rmse"}
PER_CLIP = ("ccc", "rmse", "accuracy")  # the scores `clip_scores` gives each test clip


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
        rows.append(
            {**classifier_result(path), "n_clips": metrics["n_clips"], **{m: _score(metrics, m) for m in METRICS}}
        )
    return pd.DataFrame(rows).sort_values(RUN_KEYS, ignore_index=True)


def unit_table(clips: pd.DataFrame, speakers: pd.DataFrame, metric: str) -> pd.DataFrame:
    """What a score is resampled over: test clips where it is defined per clip (`PER_CLIP`), else
    test speakers, one row each (their clip_id is the speaker)."""
    if metric in PER_CLIP:
        return clips[[*RUN_KEYS, "speaker", "clip_id", metric]]
    table = speakers[[*RUN_KEYS, "speaker", metric]].copy()
    table["clip_id"] = table["speaker"].astype(str)
    return table


def summarise(folds: pd.DataFrame, clips: pd.DataFrame, speakers: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Per model: every score's mean over folds, its spread over folds and over repeats, and
    its 95% interval over test speakers (see the module docstring)."""
    per_fold = folds.groupby([*MODEL_KEYS, "fold"], sort=True)[list(METRICS)]
    fold_means, repeat_var = per_fold.mean().groupby(MODEL_KEYS), per_fold.var(ddof=1).groupby(MODEL_KEYS).mean()
    out = fold_means.size().rename("n_folds").to_frame()
    out["n_repeats"] = folds.groupby(MODEL_KEYS)["repeat"].nunique()
    for m in METRICS:
        units = dict(list(unit_table(clips, speakers, m).groupby(MODEL_KEYS)))
        intervals = [speaker_interval(units[model], m, seed) if model in units else None for model in out.index]
        out[f"{m}_mean"] = fold_means[m].mean()
        out[f"{m}_std"] = fold_means[m].std(ddof=1)
        out[f"{m}_std_repeats"] = np.sqrt(repeat_var[m])
        out[f"{m}_ci_low"] = [i.low if i else np.nan for i in intervals]
        out[f"{m}_ci_high"] = [i.high if i else np.nan for i in intervals]
    return out.reset_index()


def speaker_table(metrics_paths) -> pd.DataFrame:
    """Every test speaker's scores, for every model and fold."""
    rows = []
    for path in metrics_paths:
        keys = classifier_result(path)
        for speaker in _read_metrics(path)["per_speaker"]:
            rows.append(
                {
                    **keys,
                    "speaker": speaker["speaker"],
                    "n_clips": speaker["n_clips"],
                    **{m: _score(speaker, m) for m in METRICS},
                }
            )
    return pd.DataFrame(rows).sort_values([*RUN_KEYS, "speaker"], ignore_index=True)


def clip_scores(predictions: pd.DataFrame) -> pd.DataFrame:
    """Per test clip: rated steps, CCC, RMSE and class accuracy (NaN where nothing is rated)."""
    per_clip_ccc = ccc_per_clip(predictions)
    rows = []
    for clip_id, clip in predictions.groupby("clip_id", sort=True):
        classes = clip["class_true"].to_numpy() >= 0
        rows.append(
            {
                "clip_id": clip_id,
                "speaker": int(clip["speaker"].iloc[0]),
                "n_steps": int(clip["valence_true"].notna().sum()),
                "ccc": per_clip_ccc[clip_id],
                "rmse": rmse(clip["valence_true"], clip["valence_pred"]),
                "accuracy": float(
                    np.mean(clip["class_true"].to_numpy()[classes] == clip["class_pred"].to_numpy()[classes])
                )
                if classes.any()
                else np.nan,
            }
        )
    return pd.DataFrame(rows)


def clip_table(prediction_paths) -> pd.DataFrame:
    """`clip_scores` for every model and fold."""
    frames = []
    for path in prediction_paths:
        scores = clip_scores(pd.read_parquet(path))
        for key, value in reversed(classifier_result(path).items()):
            scores.insert(0, key, value)
        frames.append(scores)
    return pd.concat(frames, ignore_index=True).sort_values([*RUN_KEYS, "clip_id"], ignore_index=True)


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
    """The summary as `mean [low, high]` per score, best models first by the first score."""
    first = metrics[0]
    ordered = summary.sort_values(f"{first}_mean", ascending=first in LOWER_IS_BETTER, kind="stable")
    table = ordered[[*MODEL_KEYS, "n_folds", "n_repeats"]].copy()
    for m in metrics:
        table[m] = [mean_interval(row, m) for _, row in ordered.iterrows()]
    table[f"{first} sd folds / repeats"] = [
        f"{_num(row[f'{first}_std'])} / {_num(row[f'{first}_std_repeats'])}" for _, row in ordered.iterrows()
    ]
    return (
        f"# Summary over folds\n\nMean over folds (of the mean over repeats) [95% interval of the mean "
        f"over test speakers: {METHOD}]; sorted by {first}. "
        f"The sd over folds is speaker sampling, the sd over repeats training noise. All scores: "
        f"`summary.csv`.\n\n" + markdown_table(table)
    )


def _num(value: float) -> str:
    return "n/a" if np.isnan(value) else f"{value:.3f}"


def mean_interval(row, metric: str) -> str:
    """A summary row's score as `mean [low, high]`."""
    mean, low, high = (row[f"{metric}_{s}"] for s in ("mean", "ci_low", "ci_high"))
    if np.isnan(mean):
        return "n/a"
    return f"{mean:.3f}" if np.isnan(low) else f"{mean:.3f} {interval_text(low, high, signed=False)}"
