"""Rule `fused_features`: per step, an extractor's features beside the action units (clips
without video: action units only, with a mask) -> results/features/fused/fold{k}.parquet."""

import _workflow  # noqa: F401  (this workflow's sendflow first)
import pandas as pd

from sendflow.feature_table import fuse, read_feature_table, require_training_steps, write_feature_table
from sendflow.folds import fold_roles
from sendflow.logs import setup
from sendflow.names import FUSED

log = setup(snakemake.log[0])
fold = int(snakemake.wildcards.fold)
roles = fold_roles(pd.read_parquet(snakemake.input.folds), fold)
learned_steps, learned_x, learned_meta = read_feature_table(snakemake.input.learned)
unit_steps, unit_x, _ = read_feature_table(snakemake.input.emotient)
require_training_steps(learned_steps, learned_x, roles, fold, "video", snakemake.input.learned)
steps, x = fuse((learned_steps, learned_x), (unit_steps, unit_x), roles, snakemake.params.components)
video_columns = x.shape[1] - unit_x.shape[1]  # the learned part (or its components) and the mask
video = x[:, video_columns - 1] == 1
log.info(
    "fold %d: %d clips, %d steps (%d with %s features, %d action units only), dim %d",
    fold,
    steps["clip_id"].nunique(),
    len(steps),
    int(video.sum()),
    learned_meta["sendflow.extractor"],
    int((~video).sum()),
    x.shape[1],
)
write_feature_table(
    steps,
    x,
    snakemake.output.features,
    {
        "sendflow.extractor": FUSED,
        "sendflow.fused_with": learned_meta["sendflow.extractor"],
        "sendflow.extractor_sha256": learned_meta["sendflow.extractor_sha256"],
        "sendflow.feature_dim": x.shape[1],
        "sendflow.fold": fold,
        "sendflow.video_columns": video_columns,
    },
)
