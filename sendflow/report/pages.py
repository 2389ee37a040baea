"""Tables as HTML pages for the Snakemake report: self-contained, sortable by a click on a
column header, numbers as text. The summary page leads with the headline: the best model per
extractor and label scheme, and the paired comparisons' verdicts in words."""

import html
import math

import pandas as pd

from .aggregate import mean_interval
from .compare import sentence
from .published import PUBLISHED, beside_published
from .questions import QUESTIONS
from .runs import restart_totals
from .stats import METHOD

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1e293b; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 1.6rem; }
p, li { max-width: 60rem; line-height: 1.45; }
table { border-collapse: collapse; font-size: 0.85rem; margin-top: 0.5rem; }
th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid #e2e8f0; text-align: right; }
th { cursor: pointer; background: #f1f5f9; position: sticky; top: 0; }
td.text, th.text { text-align: left; }
"""
# Click a header to sort by it (again: the other way round); numbers sort as numbers.
SORT = """
document.querySelectorAll("table.sortable th").forEach((th, col) => th.addEventListener("click", () => {
  const body = th.closest("table").tBodies[0];
  const up = th.dataset.order !== "up"; th.dataset.order = up ? "up" : "down";
  const key = r => { const t = r.cells[col].dataset.value ?? r.cells[col].textContent;
                     const n = parseFloat(t); return isNaN(n) ? t : n; };
  [...body.rows].sort((a, b) => { const x = key(a), y = key(b);
    return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1); }).forEach(r => body.appendChild(r));
}));
"""


def fmt(value, digits: int = 3) -> str:
    """A number as the pages show it ('' for missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (int, bool)) or (isinstance(value, float) and value.is_integer() and abs(value) >= 1000):
        return str(value)
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def table_html(frame: pd.DataFrame, digits: int = 3) -> str:
    """A sortable table of `frame` (text columns left-aligned)."""
    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    head = "".join(f'<th class="{"text" if c in text else "num"}">{html.escape(str(c))}</th>' for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, record):
            if column in text:
                cells.append(f'<td class="text">{html.escape("" if pd.isna(value) else str(value))}</td>')
            else:
                cells.append(f'<td data-value="{value}">{fmt(value, digits)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def page(title: str, body: str) -> str:
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}"
        f"<script>{SORT}</script></body></html>"
    )


def table_page(title: str, intro: str, frame: pd.DataFrame, digits: int = 3) -> str:
    return page(title, f"<p>{intro}</p>{table_html(frame, digits)}")


HEADLINE = ("ccc", "accuracy", "macro_f1", "rmse")


def best_models(summary: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The best classifier per (extractor, label scheme) by mean `metric` over folds."""
    ranked = summary.sort_values(f"{metric}_mean", ascending=metric == "rmse", na_position="last")
    return (
        ranked.groupby(["extractor", "labels"], sort=True)
        .head(1)
        .sort_values(["labels", f"{metric}_mean"], ascending=[True, False])
    )


def headline_sentence(summary: pd.DataFrame) -> str:
    """One sentence: what the best model of the run scored, with its 95% interval."""
    best = best_models(summary, "ccc").iloc[0]  # the sentence is about CCC, SEND's score
    repeats = int(best["n_repeats"])
    return (
        f"The best model, {best['extractor']} features with {best['classifier']} "
        f"(labels {best['labels']}), scored CCC {mean_interval(best, 'ccc')} and "
        f"accuracy {mean_interval(best, 'accuracy')} over {int(best['n_folds'])} folds"
        f"{f' and {repeats} training repeats' if repeats > 1 else ''} (95% intervals over test speakers)."
    )


def verdicts(comparisons: pd.DataFrame) -> list[str]:
    """The paired comparisons in words, one line each, verdict first."""
    return [sentence(row) for _, row in comparisons.iterrows()]


def published_section(summary: pd.DataFrame, modalities: dict[str, str]) -> str:
    """official mode: every model's Test CCC beside the published SENDv1 figures."""
    return (
        "<h2>Beside the published SENDv1 results</h2><p>Test CCC of each model of this run, then "
        f"results published on the real SENDv1 Test split (rows marked <em>{PUBLISHED}</em>, from the "
        "leaderboard in the SEND repository's README) for the modalities this run's feature sources "
        "read (visual: the face, which SEND's models read as Emotient action units): those were "
        "measured on the real data, so they compare with this run only where it ran on SENDv1. Every "
        "published model overfits Train badly (train CCC 0.25 to 0.8).</p>"
        + table_html(beside_published(summary, modalities))
    )


def training_section(runs: pd.DataFrame | None) -> str:
    """How the extractor runs (`sendflow.report.runs.extractor_runs`) trained: the restarts they
    needed, and those that never took off even after their restarts, with why."""
    if runs is None:
        return ""
    restarts = runs[runs["restarts"] > 0]
    needed = (
        f"{len(restarts)} of {len(runs)} runs needed restarts to take off ({restart_totals(runs)} in all)"
        if len(restarts)
        else f"none of the {len(runs)} runs needed a restart"
    )
    grounded = runs[~runs["took_off"]].drop(columns="took_off")
    if grounded.empty:
        return (
            f"<h2>Extractor training</h2><p>Every extractor took off: train accuracy above the "
            f"majority class's share and the select score above always predicting the majority; "
            f"{html.escape(needed)}.</p>"
        )
    return (
        "<h2>Extractors that never took off</h2><p>These runs stayed at chance in every attempt "
        "(summary.json <code>took_off: false</code>); their folds' scores come from features of a "
        "network that learnt little, and comparisons of two networks leave them out. Look at "
        f"<code>training_extractor.png</code>. Restarts: {html.escape(needed)}.</p>" + table_html(grounded)
    )


def summary_page(
    summary: pd.DataFrame,
    comparisons: pd.DataFrame,
    official: bool = False,
    runs: pd.DataFrame | None = None,
    modalities: dict[str, str] | None = None,
) -> str:
    """The report's summary page; `modalities` (source -> modality) places each source beside
    SEND's published results in official mode."""
    best = best_models(summary, "ccc")  # ranked by SEND's score, as the headline sentence
    headline = best[["extractor", "labels", "classifier", "n_folds"]].copy()
    for metric in HEADLINE:
        headline[metric] = [mean_interval(row, metric) for _, row in best.iterrows()]
    shown = [q for q in QUESTIONS if q[0] != "labels"]
    listing = {
        key: "".join(f"<li>{html.escape(line)}</li>" for line in verdicts(comparisons[comparisons["question"] == key]))
        or "<li>not run in this workflow</li>"
        for key, *_ in shown
    }
    every = summary[["extractor", "classifier", "labels", "n_folds", "n_repeats"]].copy()
    for metric in HEADLINE:
        every[f"{metric}"] = [mean_interval(row, metric) for _, row in summary.iterrows()]
    every["ccc sd folds"], every["ccc sd repeats"] = summary["ccc_std"], summary["ccc_std_repeats"]
    body = (
        f"<p>{html.escape(headline_sentence(summary))} Scores are means over folds (of the mean over "
        "training repeats) on each fold's held-out test speakers, with a 95% interval of the mean over "
        f"test speakers ({METHOD}); CCC is SEND's (per clip, "
        "then the mean over clips), accuracy and macro-F1 are over 0.5 s steps. A comparison reads "
        "better or worse only where its interval excludes 0.</p>"
        "<h2>Best model per extractor and label scheme</h2>"
        + table_html(headline)
        + (published_section(summary, modalities or {}) if official else "")
        + training_section(runs)
        + "".join(f"<h2>{html.escape(title)}</h2><ul>{listing[key]}</ul>" for key, *_, title in shown)
        + "<h2>Every model</h2>"
        + table_html(every)
    )
    return page("Summary", body)


def manifest_page(manifest: dict) -> str:
    """What produced the run: commit, versions, device, and wall time per stage."""
    project, device = manifest["project"], manifest["device"]
    facts = pd.DataFrame(
        [
            ("created", manifest["created"]),
            (
                "commit",
                f"{project.get('commit') or 'unknown'}{' (uncommitted changes)' if project.get('dirty') else ''}",
            ),
            ("python", manifest["python"]),
            ("platform", manifest["platform"]),
            ("CPUs", str(device.get("cpu_count"))),
            ("GPUs", ", ".join(device.get("gpus") or []) or "none"),
            *((name, version or "not installed") for name, version in manifest["packages"].items()),
        ],
        columns=["what", "value"],
    )
    stages = pd.DataFrame(manifest["stages"])
    body = (
        "<p>The full resolved config is in results/metrics/manifest.json.</p>"
        "<h2>Provenance</h2>" + table_html(facts) + "<h2>Time per stage</h2>" + table_html(stages, 1)
    )
    return page("Run manifest", body)
