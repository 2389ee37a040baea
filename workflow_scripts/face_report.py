"""Rule `face_report`: per-clip face-detection rates -> results/frames/face_detection.tsv."""

import _workflow  # noqa: F401  (this workflow's sendflow first)
import pandas as pd

from sendflow.atomic import write_csv
from sendflow.frames.files import load_clip
from sendflow.logs import setup

log = setup(snakemake.log[0])
rows = []
for clip, path in zip(snakemake.params.clips, snakemake.input.npz):
    # Only the small members: the frames are never read.
    arrays = load_clip(path, keys=("times", "face_rate", "detector", "skipped", "reason"))
    rows.append(
        {
            "clip_id": clip,
            "frames": len(arrays["times"]),
            "face_rate": float(arrays["face_rate"]),
            "detector": str(arrays["detector"]),
            "skipped": bool(arrays["skipped"]),
            "reason": str(arrays["reason"]),
        }
    )
table = pd.DataFrame(rows)
low = table[table["face_rate"] < snakemake.params.warn_below]
for row in low.itertuples():
    log.warning("clip %s: face detected in only %.0f%% of frames", row.clip_id, 100 * row.face_rate)
log.info(
    "face detected in %.1f%% of frames overall (%d clips, %d skipped; detector: %s)",
    100 * (table["face_rate"] * table["frames"]).sum() / max(1, table["frames"].sum()),
    len(table),
    int(table["skipped"].sum()),
    ", ".join(f"{name} {n} clips" for name, n in table["detector"].value_counts().items()),
)
write_csv(table, snakemake.output.table, sep="\t", float_format="%.3f")
