"""Rule `report_pages`: every results table as a sortable HTML page for the report, the
summary (headline, verdicts) first -> results/report_pages/*.html."""

import json

import _workflow  # noqa: F401  (this workflow's sendflow first)
import pandas as pd

from sendflow.atomic import write_text
from sendflow.logs import setup
from sendflow.report.pages import headline_sentence, manifest_page, summary_page, table_page
from sendflow.report.runs import extractor_runs
from sendflow.report.stats import METHOD

log = setup(snakemake.log[0])
inputs, out = snakemake.input, snakemake.output
summary, comparisons = pd.read_csv(inputs.summary), pd.read_csv(inputs.comparisons)
runs = extractor_runs(inputs.extractors) if inputs.extractors else None  # None: no extractor ran
if runs is not None and not runs["took_off"].all():
    grounded = runs[~runs["took_off"]]
    log.warning("%d extractor run(s) never took off:\n%s", len(grounded), grounded.to_string(index=False))
write_text(
    summary_page(summary, comparisons, snakemake.params.official, runs, snakemake.params.modalities), out.summary
)
with open(inputs.home) as handle:  # the front page, with the headline in one sentence
    write_text(f"**{headline_sentence(summary)}**\n\n" + handle.read(), out.home)
tables = {
    "folds": ("Scores per fold", "Every score of every model on each fold's test speakers.", inputs.folds),
    "per_speaker": ("Scores per test speaker", "Every score per test speaker and fold.", inputs.per_speaker),
    "per_clip": (
        "Scores per test clip",
        "CCC, RMSE and accuracy of every test clip (sort by ccc to find the best and worst clips).",
        inputs.per_clip,
    ),
    "comparisons": (
        "Paired comparisons",
        "Candidate minus reference on the same folds, repeats and test "
        "clips, per test speaker: mean difference over speakers, sign-flip permutation p over "
        f"speakers, the 95% interval that inverts it ({METHOD}), and the verdict.",
        inputs.comparisons,
    ),
}
for name, (title, intro, path) in tables.items():
    write_text(table_page(title, intro, pd.read_csv(path)), out[name])
if inputs.faces:
    faces = pd.read_csv(inputs.faces, sep="\t", keep_default_na=False)
    intro = (
        "Per clip: frames sampled, the share with a detected face, and the detector that ran. Look here "
        "first when crops look wrong."
    )
else:  # extractor.kinds has no learned extractor: no video was decoded
    faces, intro = pd.DataFrame(), "No video stage ran: every feature source of this run needs no video."
write_text(table_page("Face detection", intro, faces), out.faces)
with open(inputs.manifest) as handle:
    write_text(manifest_page(json.load(handle)), out.manifest)
log.info("%d report pages", len(out))
