"""Rule `figure_comparison`: one metric's mean ± sd over folds per extractor, classifier and label scheme."""

import _workflow  # noqa: F401  (this workflow's sendflow first)
import pandas as pd

from sendflow.figures.comparison import plot_comparison
from sendflow.logs import setup

log = setup(snakemake.log[0])
summary = pd.read_csv(snakemake.input.summary)
plot_comparison(
    summary, snakemake.params.metric, snakemake.output.png, snakemake.params.dpi, pd.read_csv(snakemake.input.folds)
)
log.info("%s of %d models -> %s", snakemake.params.metric, len(summary), snakemake.output.png)
