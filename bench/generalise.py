"""Generalisation study: do the video features learnt on the demo's faces carry over to faces
drawn otherwise? For each unseen style, a synthetic dataset whose Train and Valid speakers are
drawn in the training style and whose Test speakers in the unseen one runs through the real
workflow (`cv.mode: official`: train on Train, select on Valid, test on Test) with `--repeats`
training repeats; `--mixed` adds k-fold over a dataset whose speakers mix every style.

Prints per dataset: `resattn` with MS-TCN, BiGRU and the per-step baseline (test CCC with its
95% speaker interval), MS-TCN minus framewise, the extractor runs above the majority baseline
on their select speakers, and the select CCC (the only column to choose settings on), then
whether the acceptance bar holds: MS-TCN CCC >= 0.5 on every unseen style, every extractor
above majority in every repeat, MS-TCN >= framewise + 0.05.

Usage:
  python bench/generalise.py [--train-style demo] [--styles sketch unreal distant] [--mixed]
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


def run_workflow(workdir: Path, root: Path, config: list[str], cores: int) -> float:
    """The real Snakefile on `root` in `workdir`; returns its wall time in seconds."""
    models = [f"data.root={root}", "extractor.kinds=[resattn]", f"classifier.names=[{','.join(MODELS)}]"]
    return workflow.run_workflow(workdir, "results/metrics/comparisons.csv", [*models, *config], cores)


def summarise(workdir: Path) -> dict:
    from sendflow.report.stats import interval_text

    results = workdir / "results"
    summary = pd.read_csv(results / "metrics/summary.csv").set_index("classifier")
    comparisons = pd.read_csv(results / "metrics/comparisons.csv")
    versus = comparisons[(comparisons["candidate"] == "mstcn") & (comparisons["reference"] == "framewise")]
    extractors = [json.loads(p.read_text()) for p in sorted(results.glob("extractor/resattn/*/summary.json"))]
    select = [
        json.loads(p.read_text())["select_score"] for p in results.glob("classifier/resattn/mstcn/*/*/metrics.json")
    ]
    row = {
        f"{m} CCC": f"{summary.loc[m, 'ccc_mean']:.3f} "
        + interval_text(summary.loc[m, "ccc_ci_low"], summary.loc[m, "ccc_ci_high"], digits=2, signed=False)
        for m in MODELS
    }
    diff = versus.iloc[0]
    row["mstcn - framewise"] = f"{diff['mean_diff']:+.3f} {interval_text(diff['ci_low'], diff['ci_high'], digits=2)}"
    above = sum(e["over_majority"]["acc"] > 0 and e["took_off"] for e in extractors)
    row["extractors above majority"] = f"{above}/{len(extractors)}"
    row["mstcn select CCC"] = f"{sum(select) / len(select):.3f}"  # mean over folds and repeats
    checks = {"mstcn": summary.loc["mstcn", "ccc_mean"], "above": above == len(extractors), "margin": diff["mean_diff"]}
    return {"row": row, "checks": checks}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--train-style", default="demo")
    p.add_argument("--styles", nargs="+", default=["sketch", "unreal", "distant"])
    p.add_argument("--mixed", action="store_true", help="also k-fold over a dataset mixing every style")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--speakers", type=int, default=20)
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--out", type=Path, default=workflow.PROJECT / "bench/out/generalise")
    a = p.parse_args(argv)
    from sendflow.synth import generate_dataset

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
                root, a.speakers, 3, a.seconds, a.seed, fps=6, limited_fraction=0.0, jobs=a.cores, **styles
            )
        workdir.mkdir(parents=True, exist_ok=True)
        seconds = run_workflow(workdir, root, [*cv, f"repeats={a.repeats}", f"seed={a.seed}"], a.cores)
        result = summarise(workdir)
        rows.append({"dataset": name, **result["row"], "wall s": round(seconds)})
        checks = result["checks"]
        unseen = "->" in name
        if unseen and checks["mstcn"] < 0.5:
            failures.append(f"{name}: resattn + MS-TCN CCC {checks['mstcn']:.3f} < 0.5")
        if not checks["above"]:
            failures.append(f"{name}: an extractor run not above the majority baseline on its select speakers")
        if checks["margin"] < 0.05:
            failures.append(f"{name}: MS-TCN - framewise {checks['margin']:+.3f} < +0.05")
        print(pd.DataFrame(rows).to_string(index=False), flush=True)
    print("\nacceptance:", "holds" if not failures else "fails:\n  " + "\n  ".join(failures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
