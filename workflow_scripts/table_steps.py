"""Rule `table_steps`: every clip's file of a table source (tables.<name>) on the 0.5 s rating
grid, unstandardised -> results/features/<name>/steps.parquet. Needs no video unless the
format counts frames: limited-use clips are in where they have a file."""

import _workflow  # noqa: F401  (this workflow's sendflow first)
import numpy as np
import pandas as pd

from sendflow.feature_table import write_feature_table
from sendflow.ffmpeg_bin import video_fps
from sendflow.logs import setup
from sendflow.progress import ProgressBar
from sendflow.sources.formats import load
from sendflow.sources.table import clip_steps, table_columns

log = setup(snakemake.log[0])
name, table, files = snakemake.wildcards.extractor, snakemake.params.table, snakemake.params.files
columns = table_columns(table)
counts_frames = getattr(load(table["format"]), "NEEDS_FPS", False) and not table["fps"]
index = pd.read_parquet(snakemake.input.clips)
without = sorted(set(index["clip_id"]) - set(files))
if without:
    log.warning(
        "%d clip(s) have no %s file (%s) and are left out of that source: %s",
        len(without),
        name,
        table["path"],
        ", ".join(without),
    )
rows = index[index["clip_id"].isin(files)]
progress = ProgressBar(name, len(rows), unit="clips")
parts = []
for n, row in enumerate(rows.itertuples(), 1):
    fps = video_fps(row.video_path) if counts_frames and row.has_video else None
    parts.append(clip_steps(row.clip_id, row.speaker, files[row.clip_id], row.observer_path, table, fps))
    progress.update(n)
progress.close()
steps = pd.concat(parts, ignore_index=True)
x = np.stack(steps.pop("feature").to_numpy())  # planning refuses a table without any file
log.info(
    "%s: %d clips (%d without video), %d steps, %d of them without an observation",
    name,
    len(rows),
    int((~rows["has_video"]).sum()),
    len(steps),
    int((steps["n_frames"] == 0).sum()),
)
write_feature_table(steps, x, snakemake.output.steps, {f"sendflow.{table['format']}_columns": ",".join(columns)})
