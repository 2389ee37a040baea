"""Rule `figure_attention`: Grad-CAM on sample test frames and the channel-attention gates of one
fold's extractor. Face crops appear only if `include_faces` (SEND's licence: never share them)."""

import json

import _workflow  # noqa: F401  (this workflow's sendflow first)
import pandas as pd
import torch

from sendflow.figures.attention import plot_attention, sample_frames
from sendflow.logs import setup
from sendflow.models.resnet_attention import load_extractor

log = setup(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
params = snakemake.params
# The fold whose extractor scored best on its select speakers (or the one configured).
scores = []
for path in snakemake.input.summaries:
    with open(path) as handle:
        summary = json.load(handle)
    score = summary["select"][summary["select_metric"]]
    scores.append(float("-inf") if score is None else score)  # null: undefined on select
best = max(range(len(scores)), key=scores.__getitem__)
fold, model_path = int(params.folds[best]), snakemake.input.models[best]
model = load_extractor(model_path, device="cpu")
samples = sample_frames(
    pd.read_parquet(snakemake.input.folds),
    snakemake.input.frames,
    fold,
    int(params.n_frames),
    int(params.seed),
    model.meta["edges"],
)
title = f"{snakemake.wildcards.extractor}, fold {fold} (select score {scores[best]:.3f})"
plot_attention(model, samples, bool(params.include_faces), snakemake.output.png, params.dpi, title)
log.info(
    "%s: %d test frames (%s), faces %s -> %s",
    title,
    len(samples),
    ", ".join(f"{s.clip_id}#{s.index}" for s in samples),
    "shown" if params.include_faces else "left out",
    snakemake.output.png,
)
