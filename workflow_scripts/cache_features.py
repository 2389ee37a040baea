"""Rule `features`: embed a fold's clips with its extractor, once per training repeat ->
results/features/{extractor}/fold{k}{repeat}.parquet."""

from pathlib import Path

import _workflow  # noqa: F401  (this workflow's sendflow first)
import pandas as pd
import torch

from sendflow.features import cache_features
from sendflow.logs import setup

log = setup(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
fold = int(snakemake.wildcards.fold)
folds = pd.read_parquet(snakemake.input.folds)
rows = folds[folds["fold"] == fold].drop_duplicates("clip_id")
frames = {Path(p).stem: Path(p) for p in snakemake.input.frames}
clips = [(r.clip_id, int(r.speaker), frames[r.clip_id]) for r in rows.itertuples() if r.clip_id in frames]
for model, features in zip(snakemake.input.models, snakemake.output.features):
    log.info("fold %d: embedding %d clips with %s", fold, len(clips), model)
    result = cache_features(
        model,
        clips,
        features,
        batch_size=snakemake.params.extractor["feature_batch_size"],
        device=snakemake.params.extractor["device"],
        extra_metadata={"sendflow.fold": fold},
    )
    log.info(
        "%d frames in %.1f s (%.0f frames/s), feature dim %s",
        result["frames"],
        result["seconds"],
        result["frames"] / max(result["seconds"], 1e-9),
        result["sendflow.feature_dim"],
    )
