"""Rules `figure_curves` and `figure_curves_extractor`: training curves of the torch classifiers,
or of the extractors (params.stage says which)."""

import _workflow  # noqa: F401  (this workflow's sendflow first)

from sendflow.figures.curves import (
    load_classifier_histories,
    load_extractor_histories,
    plot_classifier_curves,
    plot_extractor_curves,
)
from sendflow.logs import setup

log = setup(snakemake.log[0])
load, plot = {
    "extractor": (load_extractor_histories, plot_extractor_curves),
    "classifier": (load_classifier_histories, plot_classifier_curves),
}[snakemake.params.stage]
plot(load(snakemake.input.histories), snakemake.output.png, snakemake.params.dpi)
log.info("curves of %d %s runs -> %s", len(snakemake.input.histories), snakemake.params.stage, snakemake.output.png)
