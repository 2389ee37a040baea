"""Rule `folds`: speaker-wise folds with train/select/test roles -> results/index/folds.parquet."""

import _workflow  # noqa: F401  (this workflow's sendflow first)
import pandas as pd

from sendflow.atomic import write_parquet
from sendflow.folds import make_folds
from sendflow.logs import setup

log = setup(snakemake.log[0])
cv = snakemake.params.cv
index = pd.read_parquet(snakemake.input.clips)
folds = make_folds(index, cv["mode"], k=cv["k"], select_fraction=cv["select_fraction"], seed=snakemake.params.seed)
summary = folds.groupby(["fold", "role"])["speaker"].agg(lambda s: sorted(set(s)))
for (fold, role), speakers in summary.items():
    log.info("fold %d %-6s %2d speakers: %s", fold, role, len(speakers), speakers)
write_parquet(folds, snakemake.output.folds)
