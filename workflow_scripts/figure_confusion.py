"""Rule `figure_confusion`: one label scheme's confusion matrices, folds pooled, per extractor and
classifier."""

import _workflow  # noqa: F401  (this workflow's sendflow first)

from sendflow.figures.confusion import plot_confusion, pooled_confusions
from sendflow.logs import setup

log = setup(snakemake.log[0])
labels = snakemake.params.labels
pooled = pooled_confusions(snakemake.input.metrics, labels)
plot_confusion(pooled, labels, snakemake.output.png, snakemake.params.dpi, snakemake.params.class_names)
log.info(
    "labels %s: %d models from %d metrics files -> %s",
    labels,
    len(pooled),
    len(snakemake.input.metrics),
    snakemake.output.png,
)
