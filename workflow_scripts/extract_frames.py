"""Rule `frames`: one clip's face crops on the rating grid -> results/frames/{clip}.npz."""

import _workflow  # noqa: F401  (this workflow's sendflow first)

from sendflow.errors import SendDataError
from sendflow.frames.extract import extract_clip
from sendflow.frames.files import skipped_clip, write_clip
from sendflow.logs import setup

log = setup(snakemake.log[0])
cfg = snakemake.params.frames
clip = snakemake.wildcards.clip
try:
    arrays = extract_clip(snakemake.input.video, snakemake.input.observer, cfg)
except SendDataError as err:  # the frame check (rule face_report) stops the run or skips the clip
    log.warning("clip %s has no frames: %s", clip, err)
    arrays = skipped_clip(str(err), cfg["size"])
else:
    log.info(
        "clip %s: %d frames at %g fps, %.1f-%.1f s; face detected in %.0f%% of frames",
        clip,
        len(arrays["times"]),
        cfg["fps"],
        arrays["times"][0],
        arrays["times"][-1],
        100 * arrays["face_rate"],
    )
write_clip(arrays, snakemake.output.npz)
