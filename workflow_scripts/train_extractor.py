"""Rule `train_extractor`: one frame-level extractor per (extractor, fold) -> model.pt."""

from pathlib import Path

import _workflow  # noqa: F401  (this workflow's sendflow first)
import pandas as pd
import torch

from sendflow.extractor.data import frame_files_for_fold
from sendflow.extractor.train import train_extractor
from sendflow.folds import make_folds
from sendflow.logs import setup

log = setup(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
scope = snakemake.wildcards.scope
if scope == "shared":
    # Train on the release's Train split and select on Valid: leaky for kfold test folds.
    folds, fold = make_folds(pd.read_parquet(snakemake.input.clips), "official"), 0
else:
    folds, fold = pd.read_parquet(snakemake.input.folds), int(scope.removeprefix("fold"))
frames = {Path(path).stem: Path(path) for path in snakemake.input.frames}  # those the frame check passed
files = frame_files_for_fold(folds, fold, frames, roles=("train", "select"))
out_dir = Path(snakemake.output.model).parent
cfg = {**snakemake.params.extractor, "kind": snakemake.wildcards.extractor}
try:
    summary = train_extractor(files, out_dir, cfg, snakemake.params.edges, snakemake.params.seed, log)
except ValueError as err:  # say which fold, so the message leads to the clips
    raise ValueError(f"{cfg['kind']} extractor, {scope}: {err}") from err
log.info(
    "select speakers: accuracy %+.3f and macro-F1 %+.3f over always predicting the majority class",
    summary["over_majority"]["acc"],
    summary["over_majority"]["f1"],
)
