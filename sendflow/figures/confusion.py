"""Confusion matrices of one label scheme: folds pooled, rows normalised, extractor x classifier grid."""

import json
from itertools import product
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize

from sendflow.report.paths import classifier_result

from .output import save_figure


def normalise_rows(counts) -> np.ndarray:
    """Each row (true class) as fractions of its total; a row with no samples stays all zeros."""
    counts = np.asarray(counts, dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def pooled_confusions(metrics_paths, labels: str) -> dict[tuple[str, str], np.ndarray]:
    """Confusion counts summed over folds and repeats, keyed by (extractor, classifier), from metrics.json files."""
    pooled: dict[tuple[str, str], np.ndarray] = {}
    for path in metrics_paths:
        keys = classifier_result(path)
        if keys["labels"] != labels:
            raise ValueError(f"{path}: label scheme {keys['labels']!r}, expected {labels!r}")
        counts = np.asarray(json.loads(Path(path).read_text())["confusion"], dtype=np.int64)
        key = (keys["extractor"], keys["classifier"])
        pooled[key] = pooled[key] + counts if key in pooled else counts
    return pooled


def plot_confusion(
    pooled: dict[tuple[str, str], np.ndarray], labels: str, path, dpi: int, class_names: list[str] | None = None
) -> Path:
    """Row-normalised matrices, rows of panels = extractors, columns = classifiers, one colour
    bar; the axes name the classes (`class_names`, the label scheme's names)."""
    extractors = sorted({e for e, _ in pooled})
    classifiers = sorted({c for _, c in pooled})
    num_classes = len(next(iter(pooled.values())))
    panel = 1.0 + 0.3 * num_classes  # inches per panel, so 9x9 annotations stay legible
    fig, axes = plt.subplots(
        len(extractors),
        len(classifiers),
        squeeze=False,
        layout="constrained",
        figsize=(panel * len(classifiers) + 1.2, panel * len(extractors) + 0.6),
    )
    ticks = np.arange(num_classes)
    for (row, extractor), (col, classifier) in product(enumerate(extractors), enumerate(classifiers)):
        ax = axes[row, col]
        counts = pooled.get((extractor, classifier))
        if counts is None:
            ax.set_axis_off()
            continue
        fractions = normalise_rows(counts)
        ax.imshow(fractions, cmap="Blues", vmin=0, vmax=1)
        for i, j in zip(*np.nonzero(counts)):  # zeros left blank: a 9x9 grid of "0.00" hides the signal
            ax.text(
                j,
                i,
                f"{fractions[i, j]:.2f}",
                ha="center",
                va="center",
                fontsize=8 if num_classes <= 5 else 6,
                color="white" if fractions[i, j] > 0.5 else "black",
            )
        for i in np.flatnonzero(counts.sum(axis=1) == 0):
            ax.text(
                (num_classes - 1) / 2,
                i,
                "no samples",
                ha="center",
                va="center",
                fontsize=7,
                color="0.5",
                style="italic",
            )
        ax.set_title(f"{extractor} · {classifier} (n={counts.sum()})", fontsize=9)
        names = class_names or [str(k) for k in ticks]
        slanted = num_classes > 3  # long names side by side would overlap
        ax.set_xticks(ticks, names, rotation=45 if slanted else 0, ha="right" if slanted else "center")
        ax.set_yticks(ticks, names)
        ax.tick_params(labelsize=7)
        if row == len(extractors) - 1:
            ax.set_xlabel("predicted class")
        if col == 0:
            ax.set_ylabel("true class")
    fig.colorbar(ScalarMappable(Normalize(0, 1), "Blues"), ax=axes, shrink=0.6, label="share of true class")
    fig.suptitle(f"Confusion, labels '{labels}': folds pooled, rows normalised")
    return save_figure(fig, path, dpi)
