"""Rule `figure_effects`: the paired comparisons as a forest plot (mean speaker-level difference
and its 95% interval, grouped by question)."""

import _workflow  # noqa: F401  (this workflow's sendflow first)
import pandas as pd

from sendflow.figures.effects import plot_effects
from sendflow.logs import setup

log = setup(snakemake.log[0])
comparisons = pd.read_csv(snakemake.input.comparisons, dtype={"labels": str})
plot_effects(comparisons, snakemake.output.png, snakemake.params.dpi)
log.info("%d comparisons -> %s", len(comparisons), snakemake.output.png)
