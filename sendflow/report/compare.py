"""Paired comparisons that answer the pipeline's questions: does channel attention help
(resattn vs resnet), do learned features beat SEND's Emotient action units, does the learned
extractor add anything to them (fused vs emotient), does MS-TCN beat each baseline, do nine
classes beat three?

Each comparison holds everything else fixed and pairs the two models on the same folds (and on
the same test clips). Where the two have different test clips (emotient also has the clips
without video), a fold's difference is the mean per-clip difference over the clips both have.

The Wilcoxon signed-rank test is two-sided; with k folds its smallest possible p is 2 / 2**k
(0.25 for 3 folds), so the clip-level test is the one with power on small runs, at the price
of treating clips of one speaker as independent.
"""

import warnings

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

from sendflow.report.aggregate import LOWER_IS_BETTER, MODEL_KEYS
from sendflow.report.questions import QUESTIONS


def signed_rank_p(differences) -> float:
    """Two-sided Wilcoxon signed-rank p of paired differences; zero differences are dropped
    (Wilcoxon's convention), and NaN when no non-zero difference is left."""
    d = np.asarray(differences, float)
    d = d[~np.isnan(d) & (d != 0)]
    if d.size == 0:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns about small samples; the exact p is right
        return float(wilcoxon(d, zero_method="wilcox", alternative="two-sided").pvalue)


def _paired(table, factor, candidate, reference, metric, on):
    fixed = [k for k in MODEL_KEYS if k != factor]
    a = table[table[factor] == candidate].drop(columns=factor)
    b = table[table[factor] == reference].drop(columns=factor)
    pairs = a.merge(b, on=[*fixed, *on], suffixes=("_a", "_b"))
    pairs["diff"] = pairs[f"{metric}_a"] - pairs[f"{metric}_b"]
    return pairs, fixed


def compare(folds: pd.DataFrame, clips: pd.DataFrame, factor: str, candidate: str,
            reference: str, metric: str = "ccc") -> pd.DataFrame:
    """One row per setting of the other model keys where both models ran: per-fold differences
    (candidate - reference), their mean, folds where the candidate is better, and Wilcoxon p
    across folds and across test clips."""
    sign = -1 if metric in LOWER_IS_BETTER else 1
    by_fold, fixed = _paired(folds, factor, candidate, reference, metric, ["fold"])
    by_clip, _ = _paired(clips, factor, candidate, reference, metric, ["fold", "clip_id"])
    on_shared = by_clip.groupby([*fixed, "fold"])["diff"].mean().rename("shared_diff").reset_index()
    by_fold = by_fold.merge(on_shared, on=[*fixed, "fold"], how="left")
    by_fold["diff"] = by_fold["diff"].where(by_fold["n_clips_a"] == by_fold["n_clips_b"], by_fold["shared_diff"])
    clip_diffs = {setting: group["diff"].dropna() for setting, group in by_clip.groupby(fixed)}
    rows = []
    for setting, pairs in by_fold.groupby(fixed, sort=True):
        pairs = pairs.sort_values("fold")
        clip_pairs = clip_diffs.get(setting, pd.Series(dtype=float))
        rows.append({
            "factor": factor, "candidate": candidate, "reference": reference, "metric": metric,
            **dict(zip(fixed, setting)),
            "fold_diffs": " ".join(f"{d:+.3f}" for d in pairs["diff"]),
            "mean_diff": pairs["diff"].mean(),
            "folds_better": int((sign * pairs["diff"] > 0).sum()), "n_folds": len(pairs),
            "p_folds": signed_rank_p(pairs["diff"]),
            "n_clips": len(clip_pairs), "mean_clip_diff": clip_pairs.mean() if len(clip_pairs) else np.nan,
            "p_clips": signed_rank_p(clip_pairs),
        })
    return pd.DataFrame(rows)


def all_comparisons(folds: pd.DataFrame, clips: pd.DataFrame, metric: str = "ccc") -> pd.DataFrame:
    """Every question the run can answer (a question needs both of its models in the run)."""
    tables = []
    for key, factor, candidates, references, _ in QUESTIONS:
        present = set(folds[factor])
        for candidate in candidates:
            for ref in references or sorted(present - {candidate}):
                if {candidate, ref} <= present:
                    tables.append(compare(folds, clips, factor, candidate, ref, metric).assign(question=key))
    columns = ["question", "factor", "candidate", "reference", "metric", *MODEL_KEYS]
    if not tables:
        return pd.DataFrame(columns=columns)
    table = pd.concat(tables, ignore_index=True)
    return table.reindex(columns=columns + [c for c in table.columns if c not in columns])


def _p(p: float) -> str:
    return "n/a" if np.isnan(p) else f"{p:.3g}"


def sentence(row) -> str:
    """A comparison stated plainly, e.g. 'mstcn vs framewise: ccc +0.041 on average (better); better in
    3 of 3 folds (...); Wilcoxon signed-rank p = 0.25 across folds, ...'."""
    gain = row["mean_diff"] * (-1 if row["metric"] in LOWER_IS_BETTER else 1)
    direction = "better" if gain > 0 else "worse" if gain < 0 else "no different"
    return (f"{row['candidate']} vs {row['reference']}: {row['metric']} {row['mean_diff']:+.3f} "
            f"on average ({direction}); better in {row['folds_better']} of {row['n_folds']} folds "
            f"(per fold {row['fold_diffs']}); Wilcoxon signed-rank p = {_p(row['p_folds'])} across "
            f"folds, p = {_p(row['p_clips'])} across {row['n_clips']} test clips "
            f"(mean clip difference {row['mean_clip_diff']:+.3f}).")


def comparisons_markdown(comparisons: pd.DataFrame, metric: str) -> str:
    lines = [f"# Comparisons ({metric})", "",
             "Differences are candidate minus reference on the same folds and test clips. "
             "With k folds the fold-level test cannot give p below 2/2^k; the clip-level test "
             "treats clips as independent (clips of one speaker are not quite).", ""]
    if comparisons.empty:
        return "\n".join(lines + ["No comparison applies: each question needs both of its "
                                  "models in the run.", ""])
    for key, factor, _, _, title in QUESTIONS:
        rows = comparisons[comparisons["question"] == key]
        if rows.empty:
            continue
        lines += [f"## {title}", ""]
        for _, row in rows.iterrows():
            fixed = ", ".join(f"{k} {row[k]}" for k in MODEL_KEYS if k != factor)
            lines.append(f"- **{fixed}**: {sentence(row)}")
        lines.append("")
    return "\n".join(lines)
