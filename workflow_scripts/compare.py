"""Rule `compare`: paired comparisons (attention, features, temporal model, label scheme) at the
level of test speakers: mean difference, sign-flip p, the interval that inverts it, and verdict."""

import _workflow  # noqa: F401  (this workflow's sendflow first)
import pandas as pd

from sendflow.atomic import write_csv, write_text
from sendflow.logs import setup
from sendflow.report.compare import all_comparisons, comparisons_markdown
from sendflow.report.runs import extractor_runs

log = setup(snakemake.log[0])
metric = snakemake.params.metric
text_columns = {"labels": str, "clip_id": str}  # clip IDs like 111_1 must not become numbers
folds = pd.read_csv(snakemake.input.folds, dtype=text_columns)
clips = pd.read_csv(snakemake.input.per_clip, dtype=text_columns)
speakers = pd.read_csv(snakemake.input.per_speaker, dtype=text_columns)
runs = extractor_runs(snakemake.input.extractors)
comparisons = all_comparisons(folds, clips, speakers, metric, runs=runs, uses=dict(snakemake.params.uses))
if comparisons.empty:
    log.warning("no comparison applies: each needs both of its models in the run")
markdown = comparisons_markdown(comparisons, metric)
write_csv(comparisons, snakemake.output.table)
write_text(markdown, snakemake.output.markdown)
log.info("%d comparisons\n%s", len(comparisons), markdown)
