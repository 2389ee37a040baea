"""The extractor runs behind a report: per extractor, fold and repeat, whether its training took
off and how many restarts it needed (from each run's summary.json)."""

import json

import pandas as pd

from .paths import extractor_result

RUN_COLUMNS = ["extractor", "fold", "repeat", "took_off", "restarts", "best_epoch", "epochs_run", "select", "why"]


def extractor_runs(summary_paths) -> pd.DataFrame:
    """One row per extractor summary.json. `fold` is the fold number, or None for a run shared
    by every fold (`extractor.scope: shared`); `select` is the chosen epoch's select score."""
    rows = []
    for path in summary_paths:
        with open(path) as handle:
            summary = json.load(handle)
        keys = extractor_result(path)
        scope = keys.pop("scope")
        rows.append(
            {
                **keys,
                "fold": None if scope == "shared" else int(scope.removeprefix("fold")),
                "took_off": bool(summary["took_off"]),
                "restarts": int(summary.get("restarts", 0)),  # runs trained before restarts existed: none
                "best_epoch": summary["best_epoch"],
                "epochs_run": summary["epochs_run"],
                "select": summary["select"][summary["select_metric"]],
                "why": "; ".join(summary["takeoff_problems"]),
            }
        )
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def restart_totals(runs: pd.DataFrame) -> str:
    """The restarts the runs needed, per extractor: 'resattn 0, resnet 1' ('' for no runs)."""
    return ", ".join(f"{e} {n}" for e, n in runs.groupby("extractor")["restarts"].sum().items())


def runs_of(runs: pd.DataFrame | None, extractors, uses: dict | None = None) -> pd.DataFrame:
    """The runs whose features `extractors` read, under the source's own name (`uses` maps a
    source built on another's features to it, e.g. fused -> resattn); none for a source
    without training (emotient), or without `runs`."""
    if runs is None:
        return pd.DataFrame(columns=RUN_COLUMNS).astype({"took_off": bool, "restarts": int})
    uses = uses or {}
    parts = [runs[runs["extractor"] == uses.get(e, e)].assign(extractor=e) for e in extractors]
    return pd.concat(parts, ignore_index=True)
