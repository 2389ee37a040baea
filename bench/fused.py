"""Modality dropout for `fused`: does it make `fused` at least as good as `emotient` on clips
without video, and at least as good as the better of `emotient` and the learned features on
clips with it? Runs the real workflow (k-fold, MS-TCN, `extractor.kinds=[resattn, emotient,
fused]`) once per `fusions.fused.modality_dropout` rate in one work folder, so each later rate
reruns only the `fused` classifiers.

Prints per rate: MS-TCN's select CCC on `fused` (mean over folds and repeats: the only column to
choose the rate on), then test CCC on clips without and with video for each source, and
`fused` minus the reference with its 95% speaker interval (the report's sign-flip interval).

`--components` adds runs with `fusions.fused.components` (the learned part cut to that many
principal components), each at every rate.

Usage:
  python bench/fused.py [--rates 0 0.6] [--components 0 20] [--style mixed] [--repeats 3] [--speakers 12]
      [--out bench/out/fused] [--cores 2]
"""

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
import workflow  # bench/workflow.py

SOURCES = ["resattn", "emotient", "fused"]


def run_workflow(workdir: Path, root: Path, config: list[str], cores: int) -> float:
    """MS-TCN on each feature source of `root`, in `workdir`; its wall seconds."""
    sources = [f"data.root={root}", f"extractor.kinds=[{','.join(SOURCES)}]", "classifier.names=[mstcn]"]
    return workflow.run_workflow(workdir, "results/metrics/summary.csv", [*sources, *config], cores)


def scores(results: Path) -> tuple[pd.DataFrame, float]:
    """Per-clip test CCC with has_video, and fused MS-TCN's mean select CCC."""
    clips = pd.read_csv(results / "metrics/per_clip.csv")
    video = pd.read_parquet(results / "index/clips.parquet").set_index("clip_id")["has_video"]
    clips["has_video"] = clips["clip_id"].map(video)
    select = [
        json.loads(p.read_text())["select_score"] for p in results.glob("classifier/fused/mstcn/*/*/metrics.json")
    ]
    return clips, sum(select) / len(select)


def difference(clips: pd.DataFrame, candidate: str, reference: str) -> str:
    from sendflow.report.stats import interval_text, speaker_interval

    keys = ["speaker", "clip_id", "repeat"]
    pair = clips[clips["extractor"] == candidate].merge(clips[clips["extractor"] == reference], on=keys)
    if pair.empty:
        return "-"
    pair["diff"] = pair["ccc_x"] - pair["ccc_y"]
    i = speaker_interval(pair, "diff")
    return f"{i.estimate:+.3f} {interval_text(i.low, i.high, digits=2)}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rates", nargs="+", type=float, default=[0.0, 0.6])
    p.add_argument("--components", nargs="+", type=int, default=[0, 20])
    p.add_argument("--style", default="mixed")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--speakers", type=int, default=12)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--out", type=Path, default=workflow.PROJECT / "bench/out/fused")
    a = p.parse_args(argv)
    from sendflow.config import schema_defaults
    from sendflow.synth import generate_dataset

    root, workdir = a.out / f"data-{a.style}", a.out / f"work-{a.style}"
    if not (root / "videos").is_dir():
        demo = {k: schema_defaults()["data"]["demo"][k] for k in ("width", "height", "limited_fraction")}
        generate_dataset(
            root, speakers=a.speakers, clips_per_speaker=3, seconds=30, seed=a.seed, fps=6, style=a.style, **demo
        )
    workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for components, rate in ((c, r) for c in a.components for r in a.rates):
        wall = run_workflow(
            workdir,
            root.resolve(),
            [
                f"repeats={a.repeats}",
                f"seed={a.seed}",
                f"fusions.fused.modality_dropout={rate}",
                f"fusions.fused.components={components}",
            ],
            a.cores,
        )
        clips, select = scores(workdir / "results")
        row = {"run": f"rate {rate}, components {components or 'all'}", "fused select CCC": f"{select:.3f}"}
        for has_video, name in ((False, "no video"), (True, "video")):
            part = clips[clips["has_video"] == has_video]
            for source in SOURCES:
                if (part["extractor"] == source).any():
                    row[f"{source} ({name})"] = f"{part.loc[part['extractor'] == source, 'ccc'].mean():.3f}"
            row[f"fused - emotient ({name})"] = difference(part, "fused", "emotient")
        row["fused - resattn (video)"] = difference(clips[clips["has_video"]], "fused", "resattn")
        row["wall s"] = f"{wall:.0f}"
        rows.append(row)
        print(json.dumps(row), flush=True)
    table = pd.DataFrame(rows).set_index("run").T
    print(f"\nstyle {a.style}, {a.speakers} speakers, {a.repeats} repeats, MS-TCN test CCC (mean over clips)")
    print(table.to_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
