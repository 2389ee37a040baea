"""Benchmark: the workflow at SENDv1's size, planned (not run), and projected from a finished run.

1. Writes a SENDv1-sized root: 49 speakers, 193 clips (112 with video), 35 to 240 s each, real
   rating files and placeholder videos (only their names matter to the plan). Runs the index
   and folds for real, then times `snakemake --dry-run` of the whole DAG with both label schemes
   and 5 folds, against the dry run of the default demo in the same way (goal: under 3 s).
2. With --run DIR (a finished run's working directory, e.g. `.` after `make demo`): peak memory
   (max_rss) of each rule from its benchmark files, and the CPU hours the real dataset would take,
   projected from that run's measured cost per video second, per training image and per frame.
Usage: python bench/scale.py [--run .] [--keep DIR]
"""

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from workflow import sendflow  # bench/workflow.py

SPEAKERS, CLIPS, WITH_VIDEO = 49, 193, 112


def write_root(root: Path, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    speakers = np.arange(101, 101 + SPEAKERS)
    split_of = dict(zip(speakers, np.repeat(["Train", "Valid", "Test"], [29, 10, 10])))
    owners = np.concatenate([speakers, rng.choice(speakers, CLIPS - SPEAKERS)])  # every speaker has a clip
    has_video = np.zeros(CLIPS, bool)
    has_video[rng.choice(CLIPS, WITH_VIDEO, replace=False)] = True
    rows, count = [], {}
    for speaker, video in zip(owners, has_video):
        count[speaker] = clip = count.get(speaker, 0) + 1
        seconds = float(rng.uniform(35, 240))
        split = split_of[speaker]
        ratings = root / f"ratings/{split}/observer_EWE/results_{speaker}_{clip}.csv"
        ratings.parent.mkdir(parents=True, exist_ok=True)
        t = np.arange(0, seconds, 0.5)
        ewe = np.clip(50 + 20 * np.sin(t / 9 + speaker), 0, 100)
        pd.DataFrame({"time": t, "evaluatorWeightedEstimate": ewe, "SDofEWE": 3.0}).to_csv(ratings, index=False)
        names = [f"features/{split}/emotient/ID{speaker}_vid{clip}_crop_downsized.txt"]  # every clip has one
        names += [f"videos/{split}/ID{speaker}_vid{clip}_crop_downsized.mp4"] if video else []
        for name in names:  # planning reads no content
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).touch()
        rows.append(dict(split=split, seconds=seconds, video=video))
    return pd.DataFrame(rows)


def timed_dry_run(workdir: Path, config: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    proc = sendflow(workdir, "--dry-run", "--quiet", "rules", "--config", *config)
    seconds = time.perf_counter() - start
    if proc.returncode:
        sys.exit(proc.stderr[-3000:])
    total = re.search(r"^total\s+(\d+)", proc.stdout + proc.stderr, re.M)
    return seconds, int(total.group(1)) if total else 0


def plan(workdir: Path) -> None:
    root = workdir / "SENDv1"
    clips = write_root(root)
    config = [f"data.root={root}", "cv.k=5", "classifier.labels=[three,nine]"]
    proc = sendflow(workdir, "--cores", "2", "results/index/folds.parquet", "--config", *config)
    if proc.returncode:
        sys.exit(proc.stderr[-3000:])
    video_s = clips.loc[clips["video"], "seconds"].sum()
    print(
        f"SENDv1-sized root: {SPEAKERS} speakers, {CLIPS} clips, {WITH_VIDEO} with video "
        f"({video_s / 3600:.1f} h of video)"
    )
    seconds, jobs = timed_dry_run(workdir, config)
    demo_dir = workdir / "demo"
    demo = sendflow(demo_dir, "--cores", "2", "results/index/folds.parquet")  # the demo's index
    if demo.returncode:
        sys.exit(demo.stderr[-3000:])
    demo_seconds, demo_jobs = timed_dry_run(demo_dir, [])
    print(
        f"dry run, whole DAG (5 folds, labels three and nine): {seconds:.1f} s for {jobs} jobs "
        f"(goal < 3 s); the demo's: {demo_seconds:.1f} s for {demo_jobs} jobs; ratio {seconds / demo_seconds:.2f}"
    )


def benchmarks(run: Path) -> pd.DataFrame:
    rows = []
    for tsv in (run / "results/benchmarks").rglob("*.tsv"):
        rule = tsv.relative_to(run / "results/benchmarks").parts[0].removesuffix(".tsv")
        row = pd.read_csv(tsv, sep="\t").iloc[-1]
        rows.append(dict(rule=rule, job=tsv.stem, s=row["s"], max_rss=row["max_rss"], cpu_time=row["cpu_time"]))
    return pd.DataFrame(rows)


def project(run: Path) -> None:
    bench = benchmarks(run)
    print(f"\npeak memory per rule in {run} (max_rss, MB; no stage holds the whole dataset's frames):")
    for rule, group in bench.groupby("rule"):
        print(f"  {rule:22s} {group['max_rss'].max():8.0f}  ({len(group)} jobs, {group['s'].sum():7.1f} s in all)")
    clips = pd.read_parquet(run / "results/index/clips.parquet")
    video_s = clips.loc[clips["has_video"], "duration_s"].sum()
    frames = bench[bench["rule"] == "frames"]
    per_video_s = frames["cpu_time"].sum() / video_s
    histories = [pd.read_csv(h) for h in (run / "results/extractor").glob("*/*/history.csv")]
    images_per_s = np.median([h["images_per_s"].median() for h in histories])
    features = bench[bench["rule"] == "features"]
    frames_per_fold = video_s * 2
    per_frame = features["cpu_time"].sum() / (len(features) * frames_per_fold)
    classifier = bench[bench["rule"] == "classifier"]

    real_video_s = WITH_VIDEO * (35 + 240) / 2
    real_frames = real_video_s * 2
    area = (112 / 48) ** 2  # the sendv1 preset's crops against the demo's, compute grows with area
    kinds, epochs, folds, schemes, classifiers = 2, 30, 1, 2, 5  # presets/sendv1.yaml, official mode
    sources = kinds + 2  # the classifiers also run on emotient and fused
    hours = {
        "frames": per_video_s * real_video_s / 3600,
        "extractor": kinds * folds * epochs * 0.6 * real_frames * area / images_per_s / 3600,
        "features": kinds * folds * real_frames * per_frame * area / 3600,
        "classifier": classifier["cpu_time"].mean()
        * sources
        * folds
        * schemes
        * classifiers
        * real_frames
        / frames_per_fold
        / 3600,
    }
    print(
        f"\nprojected CPU hours on SENDv1 (presets/sendv1.yaml: {WITH_VIDEO} videos, about "
        f"{real_video_s / 3600:.1f} h, 112 px crops, {epochs} extractor epochs, both extractors, "
        "official fold, both label schemes), from this run's measured costs:"
    )
    for stage, value in hours.items():
        print(f"  {stage:12s} {value:7.1f} h")
    print(
        f"  {'total':12s} {sum(hours.values()):7.1f} h  (on a GPU the extractor and feature stages "
        "shrink most; not measured here)"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="a finished run's working directory")
    parser.add_argument("--keep", type=Path, help="build the synthetic root here and keep it")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        plan(args.keep)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            plan(Path(tmp))
    if args.run:
        project(args.run.resolve())


if __name__ == "__main__":
    main()
