"""Rule `emotient_features`: a fold's clips' action units, standardised with statistics of the
fold's training speakers only -> results/features/emotient/fold{k}.parquet."""

import json

import _workflow  # noqa: F401  (this workflow's sendflow first)
import pandas as pd

from sendflow.atomic import file_sha256
from sendflow.feature_table import fold_steps, read_feature_table, require_training_steps, write_feature_table
from sendflow.folds import fold_roles
from sendflow.logs import setup
from sendflow.names import EMOTIENT

log = setup(snakemake.log[0])
fold = int(snakemake.wildcards.fold)
roles = fold_roles(pd.read_parquet(snakemake.input.folds), fold)
steps, x, meta = read_feature_table(snakemake.input.steps)
require_training_steps(steps, x, roles, fold, "Emotient action units", snakemake.input.steps)
steps, x, stats = fold_steps(steps, x, roles)
log.info(
    "fold %d: %d clips, %d steps; standardised with the %d training clips' statistics",
    fold,
    steps["clip_id"].nunique(),
    len(steps),
    sum(r == "train" for r in roles.values()),
)
write_feature_table(
    steps,
    x,
    snakemake.output.features,
    {
        "sendflow.extractor": EMOTIENT,
        "sendflow.extractor_sha256": file_sha256(snakemake.input.steps),  # what made these features
        "sendflow.feature_dim": x.shape[1],
        "sendflow.fold": fold,
        "sendflow.emotient_columns": meta["sendflow.emotient_columns"],
        "sendflow.train_mean": json.dumps(stats["mean"]),
        "sendflow.train_std": json.dumps(stats["std"]),
    },
)
