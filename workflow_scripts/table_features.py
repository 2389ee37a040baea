"""Rule `table_features`: a fold's clips' steps of a table or coder source, standardised with
statistics of the fold's training speakers only -> results/features/<name>/fold{k}.parquet."""

import json

import _workflow  # noqa: F401  (this workflow's sendflow first)
import pandas as pd

from sendflow.atomic import file_sha256
from sendflow.feature_table import read_feature_table, write_feature_table
from sendflow.folds import fold_roles
from sendflow.logs import setup
from sendflow.sources.standardise import fold_steps, require_training_steps

log = setup(snakemake.log[0])
name = snakemake.wildcards.extractor
fold = int(snakemake.wildcards.fold)
roles = fold_roles(pd.read_parquet(snakemake.input.folds), fold)
steps, x, meta = read_feature_table(snakemake.input.steps)
require_training_steps(steps, x, roles, fold, f"{name} features", snakemake.input.steps)
steps, x, stats = fold_steps(steps, x, roles)
log.info(
    "fold %d: %d clips, %d steps of %s; standardised with the %d training clips' statistics",
    fold,
    steps["clip_id"].nunique(),
    len(steps),
    name,
    sum(r == "train" for r in roles.values()),
)
columns = {key: value for key, value in meta.items() if key.endswith("_columns")}  # which columns were read
write_feature_table(
    steps,
    x,
    snakemake.output.features,
    {
        "sendflow.extractor": name,
        # what made these features: a coder's weights, or a table's steps
        "sendflow.extractor_sha256": meta.get("sendflow.extractor_sha256") or file_sha256(snakemake.input.steps),
        "sendflow.feature_dim": x.shape[1],
        "sendflow.fold": fold,
        **columns,
        "sendflow.train_mean": json.dumps(stats["mean"]),
        "sendflow.train_std": json.dumps(stats["std"]),
    },
)
