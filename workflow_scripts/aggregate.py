"""Rule `aggregate`: every fold's and repeat's metrics -> summary with intervals, per speaker and per clip."""

import _workflow  # noqa: F401  (this workflow's sendflow first)

from sendflow.atomic import write_csv, write_text
from sendflow.logs import setup
from sendflow.report.aggregate import clip_table, fold_table, speaker_table, summarise, summary_markdown

log = setup(snakemake.log[0])
folds = fold_table(snakemake.input.metrics)
speakers = speaker_table(snakemake.input.metrics)
clips = clip_table(snakemake.input.predictions)
summary = summarise(folds, clips, speakers)
write_csv(folds, snakemake.output.folds)
write_csv(speakers, snakemake.output.per_speaker)
write_csv(clips, snakemake.output.per_clip)
write_csv(summary, snakemake.output.summary)
markdown = summary_markdown(summary)
write_text(markdown, snakemake.output.summary_md)
log.info(
    "%d models over %d folds and %d repeats\n%s",
    len(summary),
    folds["fold"].nunique(),
    folds["repeat"].nunique(),
    markdown,
)
