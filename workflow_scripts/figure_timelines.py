"""Rule `figure_timelines`: one PNG per test clip of one model and fold (rated vs predicted valence)."""

import _workflow  # noqa: F401  (this workflow's sendflow first)
import pandas as pd

from sendflow.figures.timelines import plot_timelines
from sendflow.logs import setup
from sendflow.report.paths import classifier_result

log = setup(snakemake.log[0])
keys = classifier_result(snakemake.input.predictions)
context = f"{keys['extractor']} / {keys['classifier']} / {keys['labels']}, fold {keys['fold']}"
predictions = pd.read_parquet(snakemake.input.predictions)
written = plot_timelines(predictions, snakemake.params.scheme, snakemake.output.folder, snakemake.params.dpi, context)
log.info("%s: %d clip timelines in %s", context, len(written), snakemake.output.folder)
