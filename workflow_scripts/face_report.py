"""Rule `face_report`, the frame check: per clip, whether its frames are used (`skipped` and
`reason`, by frames.on_bad_video and frames.max_rating_overhang_s: sendflow.frames.check) and
its face-detection rate -> results/frames/face_detection.tsv, which the later stages read."""

import _workflow  # noqa: F401  (this workflow's sendflow first)
import pandas as pd

from sendflow.atomic import write_csv
from sendflow.frames.check import clip_problem, decide
from sendflow.frames.files import load_clip
from sendflow.logs import setup

log = setup(snakemake.log[0])
check = snakemake.params.check
rows, problems = [], {}
for clip, path in zip(snakemake.params.clips, snakemake.input.npz):
    # Only the small members: the frames are never read.
    arrays = load_clip(
        path, keys=("times", "face_rate", "detector", "skipped", "reason", "overhang_s", "overhang_problem")
    )
    problems[clip] = clip_problem(arrays, check["max_rating_overhang_s"])
    rows.append(
        {
            "clip_id": clip,
            "frames": len(arrays["times"]),
            "face_rate": float(arrays["face_rate"]),
            "detector": str(arrays["detector"]),
            "skipped": bool(problems[clip]),
            "reason": problems[clip],
        }
    )
decide(problems, check["on_bad_video"])
table = pd.DataFrame(rows)
low = table[~table["skipped"] & (table["face_rate"] < snakemake.params.warn_below)]
for row in low.itertuples():
    log.warning("clip %s: face detected in only %.0f%% of frames", row.clip_id, 100 * row.face_rate)
used = table[~table["skipped"]]
log.info(
    "face detected in %.1f%% of frames overall (%d clips, %d skipped; detector: %s)",
    100 * (used["face_rate"] * used["frames"]).sum() / max(1, used["frames"].sum()),
    len(table),
    int(table["skipped"].sum()),
    ", ".join(f"{name} {n} clips" for name, n in table["detector"].value_counts().items()),
)
write_csv(table, snakemake.output.table, sep="\t", float_format="%.3f")
