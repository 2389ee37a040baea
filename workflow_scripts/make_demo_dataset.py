"""Rule `demo_dataset`: generate the synthetic SEND dataset configured under data.demo."""

import json
from pathlib import Path

import _workflow  # noqa: F401  (this workflow's sendflow first)

from sendflow.logs import setup
from sendflow.synth import generate_dataset

log = setup(snakemake.log[0])
demo = snakemake.params.demo
root = Path(snakemake.output.marker).parent  # data.demo.dir
generate_dataset(
    root,
    speakers=demo["speakers"],
    clips_per_speaker=demo["clips_per_speaker"],
    seconds=demo["seconds"],
    seed=snakemake.params.seed,
    width=demo["width"],
    height=demo["height"],
    fps=demo["fps"],
    limited_fraction=demo["limited_fraction"],
    style=demo["style"],
    jobs=snakemake.threads,
    force=True,  # Snakemake reruns this rule only when its output is missing or outdated
)
# The marker is written last: its presence means the whole dataset is complete.
Path(snakemake.output.marker).write_text(json.dumps({**demo, "seed": snakemake.params.seed}))
log.info("synthetic SEND dataset written to %s", root)
