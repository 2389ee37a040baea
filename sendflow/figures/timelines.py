"""Per-clip timelines: rated vs predicted valence over time, with rated and predicted classes."""

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import BoundaryNorm
from matplotlib.patches import Patch

from sendflow.atomic import atomic_dir
from sendflow.labels import class_centres
from sendflow.metrics import ccc
from sendflow.ratings import RATING_STEP_S

from .output import save_figure


def class_colours(num_classes: int):
    """Classes are ordinal (negative to positive), so a diverging map; unrated (masked) is grey,
    which the map never uses (its middle is yellow), so it cannot be mistaken for neutral."""
    return matplotlib.colormaps["RdYlBu_r"].resampled(num_classes).with_extremes(bad="0.6")


def plot_clip_timeline(clip: pd.DataFrame, scheme: dict, path, dpi: int, context: str = "") -> Path:
    """One clip's predictions (rows of predictions.parquet) as a PNG at `path`."""
    clip = clip.sort_values("step")
    edges = sorted(scheme["edges"])
    num_classes = len(edges) + 1
    names = scheme.get("names") or [f"class {i}" for i in range(num_classes)]
    cmap = class_colours(num_classes)
    bounds = np.concatenate([[-1.0], edges, [1.0]])
    t = clip["t"].to_numpy()
    cells = np.append(t, t[-1] + RATING_STEP_S) - RATING_STEP_S / 2  # one cell per step, centred on t

    fig, (ax, strip) = plt.subplots(
        2, 1, sharex=True, figsize=(10, 3.8), layout="constrained", gridspec_kw=dict(height_ratios=[5, 1])
    )
    for i in range(num_classes):  # pale class bands, so the strip's colours read as valence ranges
        ax.axhspan(bounds[i], bounds[i + 1], color=cmap(i), alpha=0.15, lw=0)
    for edge in edges:
        ax.axhline(edge, color="0.5", lw=0.6, ls="--")
    ax.plot(t, clip["valence_true"], color="black", lw=1.6, label="rated")
    ax.plot(t, clip["valence_pred"], color="tab:purple", lw=1.4, label="predicted")
    ax.set(ylim=(-1, 1), ylabel="valence")
    handles = ax.get_legend_handles_labels()[0]
    if (clip["class_true"] < 0).any():
        handles.append(Patch(color=cmap.get_bad(), label="unrated"))
    handles += [Patch(color=cmap(i), alpha=0.4, label=name) for i, name in enumerate(names)]  # the class bands
    ax.legend(
        handles=handles, loc="lower left", bbox_to_anchor=(0, 1), ncol=min(len(handles), 6), fontsize=8, frameon=False
    )
    labels = ax.secondary_yaxis("right")
    labels.set_yticks(class_centres(edges), names, fontsize=7 if num_classes <= 5 else 6)
    labels.tick_params(length=0)

    classes = np.ma.masked_less(clip[["class_true", "class_pred"]].to_numpy().T, 0)
    strip.pcolormesh(
        cells, [0, 1, 2], classes, cmap=cmap, norm=BoundaryNorm(np.arange(num_classes + 1) - 0.5, num_classes)
    )
    strip.set_yticks([0.5, 1.5], ["rated class", "predicted class"], fontsize=8)
    strip.tick_params(axis="y", length=0)
    strip.set_xlabel("time (s)")
    strip.set_xlim(cells[0], cells[-1])

    score = ccc(clip["valence_true"], clip["valence_pred"])
    first = clip.iloc[0]
    fig.suptitle(
        f"{context + ' · ' if context else ''}clip {first['clip_id']} · speaker "
        f"{first['speaker']} · CCC {'n/a' if np.isnan(score) else f'{score:.3f}'}",
        fontsize=10,
    )
    return save_figure(fig, path, dpi)


def extremes_first(scores: pd.Series) -> list:
    """Clip IDs ordered best, worst, second best, second worst, ...; unscored (NaN) clips last."""
    ranked = scores.dropna().sort_values(ascending=False).index.tolist()
    order = []
    while ranked:
        order.append(ranked.pop(0))
        if ranked:
            order.append(ranked.pop())
    return order + scores[scores.isna()].index.tolist()


def plot_timelines(predictions: pd.DataFrame, scheme: dict, out_dir, dpi: int, context: str = "") -> list[Path]:
    """One PNG per clip in `predictions`, named `{order}_{clip_id}_ccc{CCC}.png` with the order
    of `extremes_first`, in a folder that appears only when complete."""
    out_dir = Path(out_dir)
    clips = dict(tuple(predictions.groupby("clip_id", sort=True)))
    scores = pd.Series({c: ccc(g["valence_true"], g["valence_pred"]) for c, g in clips.items()}, dtype=float)
    with atomic_dir(out_dir) as tmp:
        for order, clip_id in enumerate(extremes_first(scores), 1):
            name = f"{order:02d}_{clip_id}_ccc{'nan' if np.isnan(scores[clip_id]) else f'{scores[clip_id]:+.3f}'}.png"
            plot_clip_timeline(clips[clip_id], scheme, tmp / name, dpi, context)
    return sorted(out_dir.glob("*.png"))
