"""Training curves: per-epoch loss and select scores of the extractors and the torch classifiers."""

import json
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from sendflow.report.paths import classifier_result, extractor_result

from .output import save_figure

TRAIN, SELECT = "--", "-"  # line styles: the train split dashed, the select split solid
FOLD_STYLES = ("-", "--", ":", "-.")  # classifier curves: one line style per fold


def load_extractor_histories(paths) -> pd.DataFrame:
    """Extractor history.csv files in one frame, with `extractor`, `scope` and the `best_epoch`
    from the summary.json beside each (NaN where there is none)."""
    frames = []
    for path in map(Path, paths):
        summary = path.with_name("summary.json")
        best = json.loads(summary.read_text())["best_epoch"] if summary.exists() else float("nan")
        frames.append(pd.read_csv(path).assign(**extractor_result(path), best_epoch=best))
    return pd.concat(frames, ignore_index=True)


def load_classifier_histories(paths) -> pd.DataFrame:
    """Classifier history.csv files in one frame, keyed by extractor, classifier, labels and fold;
    the file's `select_<metric>` column becomes `select_metric` (the name) and `select_score`."""
    frames = []
    for path in map(Path, paths):
        history = pd.read_csv(path)
        (column,) = [c for c in history.columns if c.startswith("select_")]
        history = history.rename(columns={column: "select_score"})
        frames.append(history.assign(**classifier_result(path), select_metric=column.removeprefix("select_")))
    return pd.concat(frames, ignore_index=True)


def _line(ax, history, column, colour, style, best_epoch=None):
    """One run's curve; a star marks its best epoch."""
    ax.plot(history["epoch"], history[column], color=colour, ls=style, lw=1.2, marker=".", ms=4)
    best = history[history["epoch"] == best_epoch]
    if len(best):
        ax.plot(best["epoch"], best[column], color=colour, marker="*", ms=10, ls="none")


def _style_axes(axes, epochs):
    for ax in axes.flat:
        ax.set_xlim(epochs.min() - 0.5, epochs.max() + 0.5)  # a one-epoch run still gets a sane axis
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("epoch")


def _best_handle():
    return Line2D([], [], color="0.3", marker="*", ms=10, ls="none", label="best epoch")


def plot_extractor_curves(histories: pd.DataFrame, path, dpi: int) -> Path:
    """Per extractor kind (rows): loss, accuracy, select macro-F1 and select CCC of the valence head
    per epoch, one colour per fold."""
    kinds = sorted(histories["extractor"].unique())
    scopes = sorted(histories["scope"].unique())
    colours = dict(zip(scopes, matplotlib.colormaps["tab10"].colors))
    panels = [
        ("loss", ["train_loss", "select_loss"]),
        ("accuracy", ["train_acc", "select_acc"]),
        ("select macro-F1", ["select_f1"]),
        ("select CCC", ["select_ccc"]),
    ]
    fig, axes = plt.subplots(
        len(kinds), len(panels), squeeze=False, layout="constrained", figsize=(4 * len(panels), 2.8 * len(kinds) + 0.6)
    )
    for row, kind in enumerate(kinds):
        for scope, run in histories[histories["extractor"] == kind].groupby("scope"):
            run = run.sort_values("epoch")
            for ax, (_, columns) in zip(axes[row], panels):
                for column in columns:
                    _line(
                        ax,
                        run,
                        column,
                        colours[scope],
                        TRAIN if column.startswith("train") else SELECT,
                        run["best_epoch"].iloc[0] if column.startswith("select") else None,
                    )
        for ax, (title, _) in zip(axes[row], panels):
            ax.set_title(f"{kind}: {title}", fontsize=10)
    _style_axes(axes, histories["epoch"])
    handles = [Line2D([], [], color=colours[s], label=s) for s in scopes] + [
        Line2D([], [], color="0.3", ls=TRAIN, label="train"),
        Line2D([], [], color="0.3", ls=SELECT, label="select"),
        _best_handle(),
    ]
    fig.legend(handles=handles, loc="outside upper center", ncol=len(handles), fontsize=8, frameon=False)
    return save_figure(fig, path, dpi)


def plot_classifier_curves(histories: pd.DataFrame, path, dpi: int) -> Path:
    """Per (classifier, labels) row: train loss and select score per epoch of the trained (torch)
    models, one line per (extractor, fold): colour by extractor, line style by fold. Baselines
    have no curve."""
    trained = histories[histories["train_loss"].notna()] if "train_loss" in histories else histories.iloc[:0]
    if trained.empty:
        fig, ax = plt.subplots(figsize=(6, 1.5))
        ax.text(
            0.5, 0.5, "no trained classifier in this run (baselines have no training curves)", ha="center", va="center"
        )
        ax.set_axis_off()
        return save_figure(fig, path, dpi)
    groups = sorted(trained.groupby(["classifier", "labels"]).groups)
    extractors = sorted(trained["extractor"].unique())
    colours = dict(zip(extractors, matplotlib.colormaps["tab10"].colors))
    fig, axes = plt.subplots(len(groups), 2, squeeze=False, layout="constrained", figsize=(9, 2.6 * len(groups) + 0.6))
    folds = sorted(trained["fold"].unique())
    styles = {fold: FOLD_STYLES[i % len(FOLD_STYLES)] for i, fold in enumerate(folds)}
    for row, (classifier, labels) in enumerate(groups):
        rows = trained[(trained["classifier"] == classifier) & (trained["labels"] == labels)]
        for (extractor, fold), run in rows.groupby(["extractor", "fold"]):
            run = run.sort_values("epoch")
            best = run["best_epoch"].iloc[-1] if "best_epoch" in run else None  # the final choice
            _line(axes[row, 0], run, "train_loss", colours[extractor], styles[fold])
            _line(axes[row, 1], run, "select_score", colours[extractor], styles[fold], best)
        metrics = " / ".join(sorted(rows["select_metric"].unique()))
        axes[row, 0].set_title(f"{classifier}, labels {labels}: train loss", fontsize=10)
        axes[row, 1].set_title(f"{classifier}, labels {labels}: select {metrics}", fontsize=10)
    _style_axes(axes, trained["epoch"])
    handles = (
        [Line2D([], [], color=colours[e], label=e) for e in extractors]
        + [Line2D([], [], color="0.3", ls=styles[f], label=f"fold {f}") for f in folds]
        + [_best_handle()]
    )
    fig.legend(handles=handles, loc="outside upper center", ncol=len(handles), fontsize=8, frameon=False)
    return save_figure(fig, path, dpi)
