"""Generalisation study: do the video features learnt on the demo's faces carry over to faces
drawn otherwise? For each unseen style, a synthetic dataset whose Train and Valid speakers are
drawn in the training style and whose Test speakers in the unseen one runs through the real
workflow (`cv.mode: official`: train on Train, select on Valid, test on Test) with `--repeats`
training repeats; `--mixed` adds k-fold over a dataset whose speakers mix every style.

Prints per dataset, for the first of `--extractors` (default `resattn resnet`): its MS-TCN,
BiGRU and per-step test CCC with their 95% speaker intervals and MS-TCN minus framewise; for
the others, their MS-TCN CCC and the first minus each under MS-TCN (the attention ablation);
how many extractor runs of each kind took off (above the majority baseline on their select
speakers, after their restarts) and the restarts they needed; and the first's MS-TCN select
CCC (the only column to choose settings on). Then whether the acceptance bar holds: MS-TCN
CCC >= 0.5 on every unseen style, every extractor run of every kind took off, MS-TCN >=
framewise + 0.05.

Usage:
  python bench/generalise.py [--train-style demo] [--styles sketch unreal distant] [--mixed]
      [--extractors resattn resnet]
      [--repeats 3] [--speakers 20] [--seconds 30] [--out bench/out/generalise] [--cores 2]
Each dataset costs about as much as the demo with the same repeats (2 cores: ~10 min at
3 repeats with these sizes).
"""

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
import workflow  # bench/workflow.py

MODELS = ["mstcn", "bigru", "framewise"]


def run_workflow(workdir: Path, root: Path, extractors: list[str], config: list[str], cores: int) -> float:
    """The real Snakefile on `root` in `workdir`; returns its wall time in seconds."""
    models = [
        f"data.root={root}",
        f"extractor.kinds=[{','.join(extractors)}]",
        f"classifier.names=[{','.join(MODELS)}]",
    ]
    return workflow.run_workflow(workdir, "results/metrics/comparisons.csv", [*models, *config], cores)


def summarise(workdir: Path, extractors: list[str]) -> dict:
    from sendflow.report.runs import extractor_runs, restart_totals
    from sendflow.report.stats import interval_text

    results = workdir / "results"
    summary = pd.read_csv(results / "metrics/summary.csv").set_index(["extractor", "classifier"])
    comparisons = pd.read_csv(results / "metrics/comparisons.csv")

    def difference(row) -> str:
        return f"{row['mean_diff']:+.3f} {interval_text(row['ci_low'], row['ci_high'], digits=2)}"

    def score(extractor, model) -> str:
        cell = summary.loc[(extractor, model)]
        return f"{cell['ccc_mean']:.3f} " + interval_text(cell["ccc_ci_low"], cell["ccc_ci_high"], 2, signed=False)

    main = extractors[0]
    versus = comparisons[
        (comparisons["candidate"] == "mstcn")
        & (comparisons["reference"] == "framewise")
        & (comparisons["extractor"] == main)
    ].iloc[0]
    row = {f"{main} {m} CCC": score(main, m) for m in MODELS}
    row[f"{main} mstcn - framewise"] = difference(versus)
    for other in extractors[1:]:
        row[f"{other} mstcn CCC"] = score(other, "mstcn")
        pair = comparisons[
            (comparisons["candidate"] == main)
            & (comparisons["reference"] == other)
            & (comparisons["classifier"] == "mstcn")
        ]
        if len(pair):
            row[f"{main} - {other} (mstcn)"] = difference(pair.iloc[0])
    runs = {
        e: [json.loads(p.read_text()) for p in sorted(results.glob(f"extractor/{e}/*/summary.json"))]
        for e in extractors
    }
    took_off = {e: sum(r["took_off"] and r["over_majority"]["acc"] > 0 for r in rs) for e, rs in runs.items()}
    row["runs took off"] = ", ".join(f"{e} {took_off[e]}/{len(rs)}" for e, rs in runs.items())
    row["restarts"] = restart_totals(extractor_runs(sorted(results.glob("extractor/*/*/summary.json"))))
    select = [
        json.loads(p.read_text())["select_score"] for p in results.glob(f"classifier/{main}/mstcn/*/*/metrics.json")
    ]
    row[f"{main} mstcn select CCC"] = f"{sum(select) / len(select):.3f}"  # mean over folds and repeats
    checks = {
        "mstcn": summary.loc[(main, "mstcn"), "ccc_mean"],
        "took off": all(took_off[e] == len(rs) for e, rs in runs.items()),
        "margin": versus["mean_diff"],
    }
    return {"row": row, "checks": checks}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--train-style", default="demo")
    p.add_argument("--styles", nargs="+", default=["sketch", "unreal", "distant"])
    p.add_argument("--mixed", action="store_true", help="also k-fold over a dataset mixing every style")
    p.add_argument("--extractors", nargs="+", default=["resattn", "resnet"], help="the first is the one scored")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--speakers", type=int, default=20)
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--out", type=Path, default=workflow.PROJECT / "bench/out/generalise")
    a = p.parse_args(argv)
    from sendflow.config import schema_defaults
    from sendflow.synth import generate_dataset

    size = {k: schema_defaults()["data"]["demo"][k] for k in ("width", "height")}  # the demo's videos
    runs = [
        (f"{a.train_style} -> {s}", dict(style=a.train_style, test_style=s), ["cv.mode=official"]) for s in a.styles
    ]
    if a.mixed:
        runs.append(("mixed, 3-fold", dict(style="mixed"), ["cv.mode=kfold", "cv.k=3"]))
    rows, failures = [], []
    for name, styles, cv in runs:
        tag = name.replace(" -> ", "-to-").replace(", ", "-")
        root, workdir = a.out / "data" / tag, a.out / "runs" / tag
        if not root.exists():
            generate_dataset(
                root, a.speakers, 3, a.seconds, a.seed, fps=6, limited_fraction=0.0, jobs=a.cores, **size, **styles
            )
        workdir.mkdir(parents=True, exist_ok=True)
        seconds = run_workflow(workdir, root, a.extractors, [*cv, f"repeats={a.repeats}", f"seed={a.seed}"], a.cores)
        result = summarise(workdir, a.extractors)
        rows.append({"dataset": name, **result["row"], "wall s": round(seconds)})
        checks = result["checks"]
        unseen = "->" in name
        if unseen and checks["mstcn"] < 0.5:
            failures.append(f"{name}: {a.extractors[0]} + MS-TCN CCC {checks['mstcn']:.3f} < 0.5")
        if not checks["took off"]:
            failures.append(f"{name}: an extractor run never took off or is not above the majority baseline")
        if checks["margin"] < 0.05:
            failures.append(f"{name}: MS-TCN - framewise {checks['margin']:+.3f} < +0.05")
        print(pd.DataFrame(rows).to_string(index=False), flush=True)
    print("\nacceptance:", "holds" if not failures else "fails:\n  " + "\n  ".join(failures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
