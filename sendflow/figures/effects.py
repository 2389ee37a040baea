"""Forest plot of the paired comparisons: candidate minus reference, with its 95% interval."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..report.compare import fixed_settings
from ..report.questions import QUESTIONS
from ..report.stats import CANNOT_TELL
from .output import save_figure

# verdict -> (colour, legend label)
VERDICTS = {"better": ("tab:green", "better"), "worse": ("tab:red", "worse"), CANNOT_TELL: ("0.55", "cannot tell")}
ROW_INCHES = 0.26  # per row (comparison or heading): 8 pt labels never overlap


def _label(row, metric: bool) -> str:
    """'candidate vs reference (the fixed settings[; metric])', e.g. 'resattn vs resnet (mstcn, three)'."""
    fixed = fixed_settings(row)
    extra = "; ".join([fixed] * bool(fixed) + [row["metric"]] * metric)
    return f"{row['candidate']} vs {row['reference']}" + (f" ({extra})" if extra else "")


def effects_figure(comparisons: pd.DataFrame):
    """A row per comparison, under its question's title (QUESTIONS order, then input order): a point
    at mean_diff, a line from ci_low to ci_high (none where NaN; an arrow at the edge where infinite),
    coloured by verdict, a dotted one just below from ci_low_all to ci_high_all where a row left out
    extractor runs that never took off, and a line at 0.
    An empty table gives a small figure saying so. Returns the open figure."""
    if comparisons.empty:
        fig = plt.figure(figsize=(5, 1.5))
        fig.text(0.5, 0.5, "no comparison applies", ha="center", va="center")
        return fig
    unknown = set(comparisons["verdict"]) - set(VERDICTS)
    if unknown:
        raise ValueError(f"unknown verdicts {sorted(unknown)}; expected {', '.join(VERDICTS)}")
    titles = {key: title for key, *_, title in QUESTIONS}
    metrics = list(dict.fromkeys(comparisons["metric"]))
    labels, headings, groups = [], [], []
    for key in [*titles, *sorted(set(comparisons["question"]) - set(titles))]:  # unknown questions last
        group = comparisons[comparisons["question"] == key]
        if group.empty:
            continue
        headings.append(len(labels))
        labels.append(titles.get(key, key))
        groups.append(group.assign(y=len(labels) + np.arange(len(group))))
        labels += [_label(row, len(metrics) > 1) for _, row in group.iterrows()]
    shown = pd.concat(groups)
    fig, ax = plt.subplots(layout="constrained", figsize=(9, 1.3 + ROW_INCHES * len(labels)))
    ax.axvline(0, color="0.3", lw=0.8)
    # an interval too few speakers bound runs to the plot's edge, ending in an arrow
    ends = shown.filter(["mean_diff", "ci_low", "ci_high", "ci_low_all", "ci_high_all"]).to_numpy(float)
    finite = ends[np.isfinite(ends)]
    left, right = min(finite.min(initial=0), 0), max(finite.max(initial=0), 0)
    pad = 0.08 * (right - left or 1)
    left, right = left - pad, right + pad
    for verdict, (colour, name) in VERDICTS.items():
        part = shown[shown["verdict"] == verdict]
        interval = part.dropna(subset=["ci_low", "ci_high"])
        ax.hlines(
            interval["y"],
            interval["ci_low"].clip(lower=left),
            interval["ci_high"].clip(upper=right),
            color=colour,
            lw=1.6,
        )
        for side, edge, marker in (("ci_low", left, "<"), ("ci_high", right, ">")):
            unbounded = interval[np.isinf(interval[side])]
            if len(unbounded):
                ax.plot([edge] * len(unbounded), unbounded["y"], marker, ms=6, color=colour, clip_on=False)
        ax.plot(part["mean_diff"], part["y"], "o", ms=5, color=colour, label=name, zorder=3)
    # rows that left out runs that never took off: the interval with them
    every = shown.dropna(subset=["ci_low_all", "ci_high_all"]) if "ci_low_all" in shown else shown.iloc[:0]
    if len(every):
        low, high = every["ci_low_all"].clip(lower=left), every["ci_high_all"].clip(upper=right)
        ax.hlines(every["y"] + 0.3, low, high, color="0.3", lw=1, linestyles=":", label="with runs that never took off")
    ax.set_xlim(left, right)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    for i in headings:
        ax.get_yticklabels()[i].set_fontweight("bold")
        ax.axhspan(i - 0.5, i + 0.5, color="0.93", zorder=0)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel(
        f"difference in {' / '.join(metrics)} (candidate − reference)\nmean over test speakers, 95% CI", fontsize=9
    )
    fig.legend(loc="outside upper center", ncol=len(VERDICTS) + 1, fontsize=8, frameon=False)
    return fig


def plot_effects(comparisons: pd.DataFrame, path, dpi: int) -> Path:
    """Write effects_figure(comparisons) as a PNG at `path`."""
    return save_figure(effects_figure(comparisons), path, dpi)
