"""What a fold's extractor looks at: Grad-CAM on sample test frames, and its channel-attention gates.

With `include_faces=False` no pixel of a face crop reaches the figure (SEND's licence forbids
sharing faces): only heatmaps and gate statistics are drawn.
"""

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from torch import nn

from sendflow.extractor.data import clips_for_role, preprocess
from sendflow.frames.files import load_clip
from sendflow.labels import classify
from sendflow.models.resnet_attention import attention_gates

from .gradcam import cam_stage, grad_cam
from .output import save_figure


@dataclass
class Sample:
    clip_id: str
    index: int  # frame index within the clip's npz
    t: float  # seconds
    true_class: int  # -1: unrated
    image: np.ndarray  # uint8 [S, S, 3] face crop


def sample_frames(folds: pd.DataFrame, frame_paths, fold: int, n: int, seed: int, edges) -> list[Sample]:
    """`n` frames of the fold's test clips, the same for the same seed: detected faces first,
    rated before unrated, taking classes in turn so the samples spread over them."""
    test = set(clips_for_role(folds, fold, "test"))
    paths = {Path(p).stem: Path(p) for p in frame_paths if Path(p).stem in test}
    candidates = []
    for clip_id in sorted(paths):
        clip = load_clip(paths[clip_id], ["skipped", "detected", "valence", "times"])
        if clip["skipped"] or not len(clip["detected"]):
            continue
        candidates.append(
            pd.DataFrame(
                dict(
                    clip_id=clip_id,
                    index=np.arange(len(clip["detected"])),
                    t=clip["times"],
                    undetected=~clip["detected"],
                    true_class=classify(clip["valence"], edges),
                )
            )
        )
    if not candidates:
        raise ValueError(f"fold {fold}: no test clip with frames to sample")
    pool = pd.concat(candidates, ignore_index=True)
    pool = pool.iloc[np.random.default_rng(seed).permutation(len(pool))]
    pool["unrated"] = pool["true_class"] < 0
    pool["turn"] = pool.groupby(["undetected", "true_class"]).cumcount()
    chosen = pool.sort_values(["undetected", "unrated", "turn", "true_class"], kind="stable").head(n)
    chosen = chosen.sort_values(["true_class", "clip_id", "index"])
    frames = {c: load_clip(paths[c], ["frames"])["frames"] for c in chosen["clip_id"].unique()}
    return [
        Sample(r.clip_id, int(r.index), float(r.t), int(r.true_class), frames[r.clip_id][r.index])
        for r in chosen.itertuples()
    ]


def attention_figure(model: nn.Module, samples: list[Sample], include_faces: bool, title: str = ""):
    """Grad-CAM per sample (with the crop and an overlay only if `include_faces`) above a panel of
    the channel gates per block. Returns the open figure."""
    images = preprocess(np.stack([s.image for s in samples]))
    size = images.shape[-1]
    stage, side = cam_stage(model, size)
    with attention_gates(model) as recorded:  # from grad_cam's forward over exactly these samples
        cams, predicted = grad_cam(model, images, stage)
    gates = [(name.removeprefix("backbone.").removesuffix(".attention"), gate.numpy()) for name, gate in recorded]
    rows = ["face", "Grad-CAM", "overlay"] if include_faces else ["Grad-CAM"]
    gate_height = 1.8 if gates else 0.3  # a plain ResNet's panel only holds one line of text
    side = 2.2  # inches per crop: a 48 px face, smoothly upsampled, shows where the map sits
    fig = plt.figure(
        layout="constrained", figsize=(max(7.0, side * len(samples) + 1), side * (len(rows) + gate_height) + 0.5)
    )
    grid = fig.add_gridspec(len(rows) + 1, len(samples), height_ratios=[1] * len(rows) + [gate_height])
    heat_axes = []
    for col, (sample, cam, pred) in enumerate(zip(samples, cams, predicted)):
        true = "unrated" if sample.true_class < 0 else sample.true_class
        for row, kind in enumerate(rows):
            ax = fig.add_subplot(grid[row, col], xticks=[], yticks=[])
            if kind in ("face", "overlay"):
                ax.imshow(sample.image, interpolation="bicubic")
            if kind in ("Grad-CAM", "overlay"):
                ax.imshow(
                    cam,
                    cmap="inferno",
                    vmin=0,
                    vmax=1,
                    alpha=0.55 if kind == "overlay" else 1,
                    interpolation="bilinear",
                )
                heat_axes.append(ax)
                if kind == "Grad-CAM" and not cam.any():
                    ax.text(
                        0.5,
                        0.5,
                        "no positive\nevidence",
                        transform=ax.transAxes,
                        ha="center",
                        va="center",
                        color="white",
                        fontsize=7,
                    )
            if col == 0:
                ax.set_ylabel(kind, fontsize=9)
            if row == 0:
                ax.set_title(f"{sample.clip_id} @ {sample.t:.1f} s\ntrue {true} · pred {pred}", fontsize=8)
    fig.colorbar(ScalarMappable(Normalize(0, 1), "inferno"), ax=heat_axes, shrink=0.8, label="Grad-CAM")

    gate_ax = fig.add_subplot(grid[-1, :])
    if gates:
        per_channel = [gate.mean(axis=0) for _, gate in gates]  # mean over the samples
        gate_ax.boxplot(per_channel, tick_labels=[name for name, _ in gates], flierprops=dict(ms=2))
        gate_ax.set(ylim=(0, 1), xlabel="residual block", ylabel="gate per channel")
        gate_ax.set_title("Channel-attention gates (mean over the samples), spread over channels", fontsize=9)
        gate_ax.grid(axis="y", alpha=0.3)
    else:
        gate_ax.text(0.5, 0.5, "plain ResNet: no channel-attention gates", ha="center", va="center")
        gate_ax.set_axis_off()
    fig.suptitle(
        f"{title + ' · ' if title else ''}Grad-CAM of the predicted class on {stage} "
        f"({side}x{side} maps, {size} px crops)",
        fontsize=10,
    )
    return fig


def plot_attention(
    model: nn.Module, samples: list[Sample], include_faces: bool, path, dpi: int, title: str = ""
) -> Path:
    return save_figure(attention_figure(model, samples, include_faces, title), path, dpi)
