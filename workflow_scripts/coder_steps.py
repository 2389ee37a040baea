"""Rule `coder_steps`: a coder (coders.<name>) run on every usable clip's frame crops, its
outputs averaged per 0.5 s rating step, unstandardised -> results/features/<name>/steps.parquet.
One job for all folds: the coder is pretrained and frozen."""

import time

import _workflow  # noqa: F401  (this workflow's sendflow first)
import pandas as pd

from sendflow.atomic import file_sha256
from sendflow.device import resolve_device
from sendflow.feature_table import write_feature_table
from sendflow.logs import setup
from sendflow.progress import ProgressBar
from sendflow.sources.coder import code_clips, load_coder

log = setup(snakemake.log[0])
name, spec = snakemake.wildcards.extractor, snakemake.params.coder
coder = load_coder(spec, snakemake.input.weights, resolve_device(spec["device"]))
speakers = pd.read_parquet(snakemake.input.clips).set_index("clip_id")["speaker"].astype(int).to_dict()
progress = ProgressBar(name, len(snakemake.input.frames), unit="clips")
started = time.perf_counter()
steps, x, n_frames = code_clips(coder, snakemake.input.frames, speakers, log, progress.update)
progress.close()
seconds = time.perf_counter() - started
log.info(
    "%s: %d clips, %d frames in %.1f s (%.0f frames/s)",
    name,
    steps["clip_id"].nunique(),
    n_frames,
    seconds,
    n_frames / seconds,
)
write_feature_table(
    steps,
    x,
    snakemake.output.steps,
    {
        "sendflow.extractor_sha256": file_sha256(snakemake.input.weights),  # what made these features
        "sendflow.coder": spec["model"],
        "sendflow.coder_outputs": ",".join(spec["outputs"] or []),
    },
)
