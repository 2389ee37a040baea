"""Rule `figure_curves`: training curves of the extractors and of the torch classifiers."""

import _workflow  # noqa: F401  (this workflow's sendflow first)

from sendflow.figures.curves import (
    load_classifier_histories,
    load_extractor_histories,
    plot_classifier_curves,
    plot_extractor_curves,
)
from sendflow.logs import setup

log = setup(snakemake.log[0])
dpi = snakemake.params.dpi
plot_extractor_curves(load_extractor_histories(snakemake.input.extractor_histories),
                      snakemake.output.extractor, dpi)
plot_classifier_curves(load_classifier_histories(snakemake.input.classifier_histories),
                       snakemake.output.classifier, dpi)
log.info("curves of %d extractor and %d classifier runs -> %s, %s",
         len(snakemake.input.extractor_histories), len(snakemake.input.classifier_histories),
         snakemake.output.extractor, snakemake.output.classifier)
