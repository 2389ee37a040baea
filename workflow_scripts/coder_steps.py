"""Rule `coder_steps`: a coder (coders.<name>) run on every usable clip's frame crops, its
outputs averaged per 0.5 s rating step, unstandardised -> results/features/<name>/steps.parquet.
One job for all folds: the coder is pretrained and frozen."""

import time

import _workflow  # noqa: F401  (this workflow's sendflow first)
import numpy as np
import pandas as pd

from sendflow.atomic import file_sha256
from sendflow.device import resolve_device
from sendflow.feature_table import write_feature_table
from sendflow.frames.files import EMBEDDED_KEYS, load_clip
from sendflow.logs import setup
from sendflow.pooling import pool_steps
from sendflow.progress import ProgressBar
from sendflow.ratings import RATING_STEP_S
from sendflow.sources.coder import load_coder

log = setup(snakemake.log[0])
name, spec = snakemake.wildcards.extractor, snakemake.params.coder
coder = load_coder(spec, snakemake.input.weights, resolve_device(spec["device"]))
index = pd.read_parquet(snakemake.input.clips).set_index("clip_id")
progress = ProgressBar(name, len(snakemake.input.frames), unit="clips")
parts, features, n_frames, started = [], [], 0, time.perf_counter()
for n, path in enumerate(snakemake.input.frames, 1):
    clip_id = path.rsplit("/", 1)[-1].removesuffix(".npz")
    arrays = load_clip(path, EMBEDDED_KEYS)
    if arrays["skipped"] or len(arrays["frames"]) == 0:
        log.info("clip %s has no frames (%s); left out of %s", clip_id, arrays["reason"], name)
        continue
    pooled = pool_steps(coder.encode(arrays["frames"]), arrays["steps"], arrays["valence"])
    parts.append(
        pd.DataFrame(
            {
                "clip_id": clip_id,
                "speaker": int(index.loc[clip_id, "speaker"]),
                "step": pooled["step"],
                "t": pooled["step"] * RATING_STEP_S,
                "n_frames": pooled["n_frames"],
                "valence": pooled["valence"],
            }
        )
    )
    features.append(pooled["feature"])
    n_frames += len(arrays["frames"])
    progress.update(n)
progress.close()
seconds = time.perf_counter() - started
log.info("%s: %d clips, %d frames in %.1f s (%.0f frames/s)", name, len(parts), n_frames, seconds, n_frames / seconds)

write_feature_table(
    pd.concat(parts, ignore_index=True),
    np.concatenate(features),
    snakemake.output.steps,
    {
        "sendflow.extractor_sha256": file_sha256(snakemake.input.weights),  # what made these features
        "sendflow.coder": spec["model"],
        "sendflow.coder_outputs": ",".join(spec["outputs"] or []),
    },
)
