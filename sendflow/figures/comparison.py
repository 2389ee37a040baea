"""Model comparison: one metric's mean over folds (± sd) per extractor, classifier and label scheme."""

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..models.registry import classifier_names
from .output import save_figure


def plot_comparison(summary: pd.DataFrame, metric: str, path, dpi: int, folds: pd.DataFrame | None = None) -> Path:
    """Bars of `{metric}_mean` with `{metric}_std` error bars: classifiers on x (MS-TCN first,
    then the others in the schema's order), a colour per extractor, a panel per label scheme,
    and each fold's score as a point (`folds`: folds.csv). A single fold (NaN sd) gets no error bar."""
    mean, std = f"{metric}_mean", f"{metric}_std"
    if mean not in summary:
        available = sorted(c.removesuffix("_mean") for c in summary if c.endswith("_mean"))
        raise ValueError(f"no metric {metric!r} in the summary; it has {', '.join(available)}")
    schemes = list(dict.fromkeys(summary["labels"]))
    present = set(summary["classifier"])
    known = classifier_names()
    classifiers = [c for c in known if c in present] + sorted(present - set(known))
    extractors = sorted(summary["extractor"].unique())
    colours = dict(zip(extractors, matplotlib.colormaps["tab10"].colors))
    width = 0.8 / len(extractors)
    panel_width = (0.9 + 0.5 * len(extractors)) * len(classifiers)
    fig, axes = plt.subplots(
        1, len(schemes), squeeze=False, sharey=True, layout="constrained", figsize=(1.2 + panel_width * len(schemes), 4)
    )
    for ax, scheme in zip(axes[0], schemes):
        rows = summary[summary["labels"] == scheme].set_index(["extractor", "classifier"])
        for i, extractor in enumerate(extractors):
            keys = [(extractor, c) for c in classifiers]
            values = rows[mean].reindex(keys).to_numpy(float)
            errors = rows[std].reindex(keys).to_numpy(float)  # NaN (one fold): matplotlib draws no bar
            x = np.arange(len(classifiers)) + (i - (len(extractors) - 1) / 2) * width
            bars = ax.bar(
                x,
                values,
                width,
                yerr=errors,
                capsize=3,
                color=colours[extractor],
                label=extractor,
                error_kw=dict(lw=1, ecolor="0.2"),
            )
            ax.bar_label(bars, [f"{v:.2f}" if np.isfinite(v) else "" for v in values], fontsize=7, padding=2)
            if folds is not None:  # each fold's score, so the spread behind the sd shows
                own = folds[(folds["labels"] == scheme) & (folds["extractor"] == extractor)]
                for xi, classifier in zip(x, classifiers):
                    points = own.loc[own["classifier"] == classifier, metric].to_numpy(float)
                    ax.scatter(
                        np.full(len(points), xi),
                        points,
                        s=10,
                        color="black",
                        zorder=3,
                        label="fold" if (i, classifier) == (0, classifiers[0]) else None,
                    )
        ax.axhline(0, color="0.3", lw=0.8)
        ax.set_xticks(np.arange(len(classifiers)), classifiers)
        ax.set_title(f"labels {scheme}", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].set_ylabel(f"{metric} (mean ± sd over folds)")
    fig.legend(
        *axes[0, 0].get_legend_handles_labels(),
        loc="outside upper center",
        ncol=len(extractors),
        fontsize=8,
        frameon=False,
    )
    return save_figure(fig, path, dpi)
