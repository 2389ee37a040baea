"""Rule `fusion_features`: per step, a fusion's members side by side (fusions.<name>; the base
first) -> results/features/<name>/fold{k}{repeat}.parquet."""

import _workflow  # noqa: F401  (this workflow's sendflow first)
import pandas as pd

from sendflow.feature_table import MEMBERS_KEY, blocks_to_json, read_feature_table, write_feature_table
from sendflow.folds import fold_roles
from sendflow.logs import setup
from sendflow.sources.fusion import Member, fuse, transforms_to_json
from sendflow.sources.standardise import require_training_steps

log = setup(snakemake.log[0])
name, fusion = snakemake.wildcards.extractor, snakemake.params.fusion
fold = int(snakemake.wildcards.fold)
roles = fold_roles(pd.read_parquet(snakemake.input.folds), fold)
members, hashes = [], []
for member, path in zip(fusion["of"], snakemake.input.members):
    steps, x, meta = read_feature_table(path)
    require_training_steps(steps, x, roles, fold, f"{member} features", path)
    members.append(Member(member, steps, x, standardised="sendflow.train_mean" in meta))
    hashes.append(meta["sendflow.extractor_sha256"])
steps, x, blocks, transforms = fuse(members, roles, fusion["components"])
log.info("fold %d: %d clips, %d steps, dim %d", fold, steps["clip_id"].nunique(), len(steps), x.shape[1])
for block in blocks:
    has = int((x[:, block.stop - 1] == 1).sum()) if block.masked else len(steps)
    log.info(
        "  %s: columns %d-%d, on %d steps%s",
        block.name,
        block.start,
        block.stop - 1,
        has,
        " (mask last)" * block.masked,
    )
write_feature_table(
    steps,
    x,
    snakemake.output.features,
    {
        "sendflow.extractor": name,
        "sendflow.fused_with": ",".join(fusion["of"]),
        # what made these features: the trained members' (a fusion of tables: its base's)
        "sendflow.extractor_sha256": ",".join(h for h, m in zip(hashes, members) if not m.standardised) or hashes[0],
        "sendflow.feature_dim": x.shape[1],
        "sendflow.fold": fold,
        MEMBERS_KEY: blocks_to_json(blocks),
        # how each member became its columns (standardisation here, principal axes): what a
        # new video's features go through in a bundle
        "sendflow.member_transforms": transforms_to_json(transforms),
    },
)
