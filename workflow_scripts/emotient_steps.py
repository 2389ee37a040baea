"""Rule `emotient_steps`: every clip's Emotient file on the 0.5 s rating grid (unstandardised)
-> results/features/emotient/steps.parquet. Needs no video: limited-use clips are in."""

import _workflow  # noqa: F401  (this workflow's sendflow first)
import numpy as np
import pandas as pd

from sendflow.emotient import clip_steps
from sendflow.feature_table import write_feature_table
from sendflow.logs import setup
from sendflow.progress import ProgressBar

log = setup(snakemake.log[0])
columns = snakemake.params.columns
index = pd.read_parquet(snakemake.input.clips)
without = index.loc[index["emotient_path"].isna(), "clip_id"].tolist()
if without:
    log.warning(
        "%d clip(s) have no Emotient file and are left out of the emotient source: %s", len(without), ", ".join(without)
    )
rows = index[index["emotient_path"].notna()]
progress = ProgressBar("emotient", len(rows), unit="clips")
parts = []
for n, row in enumerate(rows.itertuples(), 1):
    parts.append(clip_steps(row.clip_id, row.speaker, row.emotient_path, row.observer_path, columns))
    progress.update(n)
progress.close()
steps = pd.concat(parts, ignore_index=True)
x = np.stack(steps.pop("feature").to_numpy())  # planning refuses a root without Emotient files
log.info(
    "%d clips (%d without video), %d steps, %d of them without a face (no Emotient values)",
    len(rows),
    int((~rows["has_video"]).sum()),
    len(steps),
    int((steps["n_frames"] == 0).sum()),
)
write_feature_table(steps, x, snakemake.output.steps, {"sendflow.emotient_columns": ",".join(columns)})
