"""Rule `index`: one row per clip of the dataset root -> results/index/clips.parquet."""

import _workflow  # noqa: F401  (this workflow's sendflow first)

from sendflow.atomic import write_parquet
from sendflow.index import build_index, describe
from sendflow.logs import setup

log = setup(snakemake.log[0])
root = snakemake.params.root
log.info("indexing SEND root %s", root)
index = build_index(
    root,
    threads=snakemake.threads,
    min_rating_span=snakemake.params.min_rating_span,
    unknown_split=snakemake.params.unknown_split,
    rating_checks=snakemake.params.rating_checks,
)
log.info("%d clips\n%s", len(index), describe(index))
write_parquet(index, snakemake.output.clips, metadata={"sendflow.root": root})
