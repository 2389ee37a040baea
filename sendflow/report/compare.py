"""Paired comparisons that answer the pipeline's questions: does channel attention help
(resattn vs resnet), do learned features beat SEND's Emotient action units, does the learned
extractor add anything to them (fused vs emotient), does MS-TCN beat each baseline, do nine
classes beat three?

Each comparison holds everything else fixed and pairs the two models on the same folds,
repeats and test clips (where the two have different test clips, as emotient has the clips
without video, on the clips both have). The unit of analysis is the test speaker: clips of one
speaker are not independent, so the p-value is a sign-flip permutation test over the speakers'
mean differences and the interval the set of differences that test does not reject
(sendflow/report/stats.py): the verdict, read from the interval, and p always agree. Per-fold
differences stay as description: with k folds a fold-level test cannot give p below 2 / 2**k.
"""

import numpy as np
import pandas as pd

from sendflow.names import FEATURE_BLIND
from sendflow.report.aggregate import LOWER_IS_BETTER, MODEL_KEYS, markdown_table, unit_table
from sendflow.report.questions import QUESTIONS
from sendflow.report.runs import restart_totals, runs_of
from sendflow.report.stats import (
    CANNOT_TELL,
    EXACT_UP_TO,
    LEVEL,
    METHOD,
    interval_text,
    sign_flip,
    speaker_means,
    verdict,
)

# columns over every run, beside those without the runs that never took off
ALL_RUNS = {"mean_diff": "estimate", "ci_low": "low", "ci_high": "high", "p": "p"}


def _paired(table, factor, candidate, reference, metric, on):
    fixed = [k for k in MODEL_KEYS if k != factor]
    a = table[table[factor] == candidate].drop(columns=factor)
    b = table[table[factor] == reference].drop(columns=factor)
    pairs = a.merge(b, on=[*fixed, *on], suffixes=("_a", "_b"))
    pairs["diff"] = pairs[f"{metric}_a"] - pairs[f"{metric}_b"]
    return pairs, fixed


def _fold_differences(folds, units, factor, candidate, reference, metric):
    """Per setting and fold, the difference in the fold's score averaged over repeats; on the
    shared clips where the two models' test sets differ."""
    by_fold, fixed = _paired(folds, factor, candidate, reference, metric, ["fold", "repeat"])
    by_unit, _ = _paired(units, factor, candidate, reference, metric, ["fold", "repeat", "speaker", "clip_id"])
    shared = by_unit.groupby([*fixed, "fold", "repeat"])["diff"].mean().rename("shared_diff").reset_index()
    by_fold = by_fold.merge(shared, on=[*fixed, "fold", "repeat"], how="left")
    by_fold["diff"] = by_fold["diff"].where(by_fold["n_clips_a"] == by_fold["n_clips_b"], by_fold["shared_diff"])
    return by_fold.groupby([*fixed, "fold"])["diff"].mean().reset_index(), by_unit, fixed


def compare(
    folds: pd.DataFrame,
    units: pd.DataFrame,
    factor: str,
    candidate: str,
    reference: str,
    metric: str,
    seed: int = 0,
    runs: pd.DataFrame | None = None,
    uses: dict | None = None,
) -> pd.DataFrame:
    """One row per setting of the other model keys where both models ran: the mean over test
    speakers of candidate minus reference, its 95% interval, the permutation p over speakers,
    the verdict, and the per-fold differences as description. Settings that say nothing are
    left out: a feature-blind baseline across feature sources, and identical predictions.

    With the extractor runs (`sendflow.report.runs.extractor_runs`; `uses` maps a source built
    on another's features to it): the restarts the row's extractor runs needed, and, comparing
    two trained sources, the statistics on the folds and repeats whose runs all took off, with
    those over every run beside them (`*_all`) where any never took off: attention vs a plain
    network that never trained is not a comparison of networks. Where every run is left out,
    the row's own statistics are NaN."""
    lower_is_better = metric in LOWER_IS_BETTER
    sign = -1 if lower_is_better else 1
    by_fold, by_unit, fixed = _fold_differences(folds, units, factor, candidate, reference, metric)
    unit_diffs = {setting: group for setting, group in by_unit.groupby(fixed)}
    rows = []
    for setting, per_fold in by_fold.groupby(fixed, sort=True):
        keys = dict(zip(fixed, setting))
        pairs = unit_diffs.get(setting, by_unit.iloc[:0]).dropna(subset=["diff"])
        if factor == "extractor" and keys["classifier"] in FEATURE_BLIND or (pairs["diff"] == 0).all():
            continue
        involved = runs_of(runs, [candidate, reference] if factor == "extractor" else [keys["extractor"]], uses)
        # networks against networks only: against the untrained action units a failed run is the
        # learned side's own result
        of_networks = factor == "extractor" and involved["extractor"].nunique() == 2
        left_out = _grounded(pairs, involved) if of_networks else pd.Series(False, index=pairs.index)
        every_run = sign_flip(speaker_means(pairs, "diff"), seed=seed) if left_out.any() else None
        n_left_out = len(set(zip(pairs.loc[left_out, "fold"], pairs.loc[left_out, "repeat"])))
        pairs = pairs[~left_out]
        per_speaker = speaker_means(pairs, "diff")
        interval = sign_flip(per_speaker, seed=seed)
        rows.append(
            {
                "factor": factor,
                "candidate": candidate,
                "reference": reference,
                "metric": metric,
                **keys,
                "mean_diff": interval.estimate,
                "ci_low": interval.low,
                "ci_high": interval.high,
                "p": interval.p,
                "p_method": "exact" if interval.exact else "monte carlo",
                "n_speakers": interval.n_speakers,
                "n_clips": pairs["clip_id"].nunique(),
                "n_repeats": pairs["repeat"].nunique(),
                "speakers_better": int((sign * per_speaker > 0).sum()),
                "verdict": verdict(interval, lower_is_better),
                "fold_diffs": " ".join(f"{d:+.3f}" for d in per_fold.sort_values("fold")["diff"]),
                "folds_better": int((sign * per_fold["diff"] > 0).sum()),
                "n_folds": len(per_fold),
                "restarts": restart_totals(involved),
                "never_took_off": int((~involved["took_off"]).sum()),
                "runs_left_out": n_left_out,
                **{f"{k}_all": getattr(every_run, v) if every_run else np.nan for k, v in ALL_RUNS.items()},
            }
        )
    return pd.DataFrame(rows)


def _grounded(pairs: pd.DataFrame, involved: pd.DataFrame) -> pd.Series:
    """Which pairs come from a fold and repeat where one of the involved extractor runs never
    took off (a run shared by every fold, `fold` None, grounds its repeat in all of them)."""
    grounded = involved[~involved["took_off"]]
    every_fold = grounded["fold"].isna()
    shared = set(grounded.loc[every_fold, "repeat"])
    own = set(zip(grounded.loc[~every_fold, "fold"].astype(int), grounded.loc[~every_fold, "repeat"]))
    units = zip(pairs["fold"], pairs["repeat"])
    return pd.Series([r in shared or (f, r) in own for f, r in units], index=pairs.index, dtype=bool)


def all_comparisons(
    folds: pd.DataFrame,
    clips: pd.DataFrame,
    speakers: pd.DataFrame,
    metric: str,
    seed: int = 0,
    runs: pd.DataFrame | None = None,
    uses: dict | None = None,
) -> pd.DataFrame:
    """Every question the run can answer (a question needs both of its models in the run);
    `runs` and `uses` as in `compare`."""
    units = unit_table(clips, speakers, metric)
    tables, asked = [], set()
    for key, factor, candidates, references, _ in QUESTIONS:
        present = list(dict.fromkeys(folds[factor]))
        if candidates is None:
            pairs = [(b, a) for i, a in enumerate(present) for b in present[i + 1 :]]
            pairs = [pair for pair in pairs if (factor, *sorted(pair)) not in asked]
        else:
            pairs = [(c, r) for c in candidates for r in references or sorted(v for v in present if v != c)]
            pairs = [(c, r) for c, r in pairs if c in present and r in present]
        for candidate, ref in pairs:
            asked.add((factor, *sorted((candidate, ref))))
            table = compare(folds, units, factor, candidate, ref, metric, seed, runs, uses)
            tables.append(table.assign(question=key))
    columns = ["question", "factor", "candidate", "reference", "metric", *MODEL_KEYS]
    tables = [t for t in tables if not t.empty]
    if not tables:
        return pd.DataFrame(columns=columns)
    table = pd.concat(tables, ignore_index=True)
    return table.reindex(columns=columns + [c for c in table.columns if c not in columns])


def fixed_settings(row) -> str:
    """The model keys a comparison holds fixed, e.g. 'mstcn, three' (empty ones left out)."""
    return ", ".join(str(row[k]) for k in MODEL_KEYS if k != row["factor"] and pd.notna(row[k]) and str(row[k]))


def difference_text(value: float) -> str:
    """A signed difference, or 'n/a' where nothing was left to compare."""
    return "n/a" if np.isnan(value) else f"{value:+.3f}"


def p_text(p: float) -> str:
    """A p-value: n/a when undefined, small ones in scientific notation (never "0.000")."""
    if p is None or np.isnan(p):
        return "n/a"
    return f"{p:.1e}" if p < 0.001 else f"{p:.3f}"


def left_out_note(row) -> str:
    """Where runs that never took off were left out: how many, and the result with them."""
    if not row.get("runs_left_out"):
        return ""
    return (
        f"without the {row['runs_left_out']} fold and repeat runs where an extractor never took off; "
        f"with them {difference_text(row['mean_diff_all'])} {interval_text(row['ci_low_all'], row['ci_high_all'])}, "
        f"p = {p_text(row['p_all'])}"
    )


def sentence(row) -> str:
    """A comparison stated plainly, e.g. 'resattn vs resnet (mstcn, three): the data cannot tell;
    ccc +0.031, 95% CI [-0.052, +0.120] over 9 test speakers, p = 0.43; extractor restarts:
    resattn 0, resnet 1'."""
    note = left_out_note(row)
    restarts = row.get("restarts")
    return (
        f"{row['candidate']} vs {row['reference']} ({fixed_settings(row)}): {row['verdict']}; "
        f"{row['metric']} {difference_text(row['mean_diff'])}, "
        f"95% CI {interval_text(row['ci_low'], row['ci_high'])} over "
        f"{row['n_speakers']} test speakers, p = {p_text(row['p'])}"
        + (f"; extractor restarts: {restarts}" if isinstance(restarts, str) and restarts else "")
        + (f" ({note})" if note else "")
    )


MARKDOWN_COLUMNS = (
    "question",
    "fixed settings",
    "comparison",
    "mean difference",
    "95% CI",
    "p",
    "speakers",
    "verdict",
    "per fold",
    "extractor restarts",
)


def comparisons_markdown(comparisons: pd.DataFrame, metric: str) -> str:
    """comparisons.csv as one Markdown table, grouped by question."""
    lines = [
        f"# Comparisons ({metric})",
        "",
        "Candidate minus reference, paired on the same folds, repeats and test clips. The unit is "
        "the test speaker: the difference is the mean over speakers of each speaker's mean over "
        "clips and repeats; p is a two-sided sign-flip permutation test over those speaker means "
        f"(exact up to {EXACT_UP_TO} speakers), and the {LEVEL:.0%} CI every difference that test "
        f"does not reject ({METHOD}; '[unbounded]' with 5 or fewer speakers). The verdict is 'better' "
        f"or 'worse' exactly where the CI excludes 0, i.e. p <= {1 - LEVEL:.2f}, otherwise "
        f"'{CANNOT_TELL}'. Per-fold differences are description only. Comparing two networks, folds and "
        "repeats where either network never took off (even after its restarts) are left out, and the "
        "verdict says what including them gives; 'extractor restarts' counts the fresh starts the "
        "row's extractor runs needed to take off.",
        "",
    ]
    if comparisons.empty:
        return "\n".join(lines + ["No comparison applies: each question needs both of its models in the run.", ""])
    titles = {key: title for key, *_, title in QUESTIONS}
    table = pd.DataFrame(
        [
            (
                titles[row["question"]],
                fixed_settings(row),
                f"{row['candidate']} vs {row['reference']}",
                difference_text(row["mean_diff"]),
                interval_text(row["ci_low"], row["ci_high"]),
                p_text(row["p"]),
                str(row["n_speakers"]),
                row["verdict"] + (f" ({note})" if (note := left_out_note(row)) else ""),
                row["fold_diffs"],
                row["restarts"] if isinstance(row.get("restarts"), str) and row["restarts"] else "-",
            )
            for _, row in comparisons.iterrows()
        ],
        columns=MARKDOWN_COLUMNS,
    )
    return "\n".join(lines) + "\n" + markdown_table(table)
