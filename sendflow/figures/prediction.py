"""Valence over time predicted for a new video, with the class bands of its label scheme."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import BoundaryNorm
from matplotlib.patches import Patch

from sendflow.ratings import RATING_STEP_S

from .output import save_figure
from .timelines import class_colours


def plot_prediction(table: pd.DataFrame, labels: dict, path, title: str, dpi: int):
    """`table`: rows of a predict CSV (t, valence, class, face_found); `labels`: edges, names.
    Above: valence over the class bands; below: the predicted class per step (from the class
    head where the model has one, so it may differ from the band the valence line is in)."""
    edges, names = sorted(labels["edges"]), list(labels["names"])
    cmap = class_colours(len(names))
    bounds = np.concatenate([[-1.0], edges, [1.0]])
    t = table["t"].to_numpy()
    cells = np.append(t, t[-1] + RATING_STEP_S) - RATING_STEP_S / 2  # one cell per step
    fig, (ax, strip) = plt.subplots(
        2, 1, sharex=True, figsize=(10, 3.8), layout="constrained", gridspec_kw=dict(height_ratios=[5, 1])
    )
    handles = []
    for i, name in enumerate(names):  # the class bands: which class each valence falls in
        ax.axhspan(bounds[i], bounds[i + 1], color=cmap(i), alpha=0.25, lw=0)
        handles.append(Patch(color=cmap(i), alpha=0.6, label=name))
    no_face = ~table["face_found"].to_numpy(bool)
    for start in t[no_face]:  # steps cut from the fallback centre crop
        ax.axvspan(start - RATING_STEP_S / 2, start + RATING_STEP_S / 2, color="0.6", alpha=0.35, lw=0)
    if no_face.any():
        handles.insert(0, Patch(color="0.6", alpha=0.5, label="no face found"))
    (line,) = ax.plot(t, table["valence"], color="black", lw=1.6, label="predicted valence")
    ax.set(ylim=(-1, 1), ylabel="valence", title=title)
    ax.legend(handles=[line, *handles[::-1]], loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)

    classes = table["class"].map({name: i for i, name in enumerate(names)}).to_numpy()[None, :]
    strip.pcolormesh(cells, [0, 1], classes, cmap=cmap, norm=BoundaryNorm(np.arange(len(names) + 1) - 0.5, len(names)))
    strip.set_yticks([0.5], ["class"], fontsize=8)
    strip.tick_params(axis="y", length=0)
    strip.set(xlabel="time (s)", xlim=(cells[0], cells[-1]))
    return save_figure(fig, path, dpi)
