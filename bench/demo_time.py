"""Benchmark: the demo as `make demo` runs it (workflow, then the Snakemake report), in a
scratch copy of the project, timed from outside: wall seconds of each part, then the job
seconds per stage from the run's `benchmark:` files (jobs, total, per job, the slowest rule),
and the job seconds over the wall seconds (how well the cores were kept busy). The baseline
is the machine itself: the same run's job seconds against its own wall time.

Usage: python bench/demo_time.py [--cores 2] [--config repeats=3 ...] [--keep DIR]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

PROJECT = Path(__file__).resolve().parent.parent
IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "results", "data", ".snakemake", "__pycache__", "*.egg-info", ".pytest_cache", "out"
)


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    # as `make demo`: SLURM_CONF points nowhere, so the SLURM plugin's start-up query returns at once
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env={**os.environ, "SLURM_CONF": "/dev/null"})
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return time.perf_counter() - start


def stage_table(benchmarks: Path) -> pd.DataFrame:
    """Job seconds per stage (the first folder under results/benchmarks/, or the file's name)."""
    rows = []
    for tsv in benchmarks.rglob("*.tsv"):
        rel = tsv.relative_to(benchmarks)
        rows.append(
            {
                "stage": rel.parts[0] if len(rel.parts) > 1 else rel.stem,
                "seconds": float(pd.read_csv(tsv, sep="\t")["s"].iloc[0]),
                "job": str(rel),
            }
        )
    jobs = pd.DataFrame(rows)
    table = jobs.groupby("stage").agg(
        jobs=("seconds", "size"),
        job_seconds=("seconds", "sum"),
        per_job=("seconds", "mean"),
        slowest=("seconds", "max"),
    )
    return table.sort_values("job_seconds", ascending=False).round(1)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--config", nargs="*", default=[], help="extra --config settings, e.g. repeats=3")
    p.add_argument("--keep", type=Path, help="run here (kept) instead of a temporary folder")
    a = p.parse_args(argv)
    scratch = a.keep or Path(tempfile.mkdtemp(prefix="sendflow-demo-time-"))
    project = scratch / "sendflow"
    if project.exists():
        shutil.rmtree(project)
    shutil.copytree(PROJECT, project, ignore=IGNORE)
    config = ["--config", *a.config] if a.config else []
    snakemake = [sys.executable, "-m", "snakemake"]
    workflow = timed([*snakemake, "--cores", str(a.cores), *config], project)
    report = timed([*snakemake, "--cores", "1", "--report", "results/report.html", *config], project)
    table = stage_table(project / "results/benchmarks")
    print(f"cores {a.cores}, config {' '.join(a.config) or '(default)'}")
    print(
        f"workflow {workflow:.0f} s ({workflow / 60:.1f} min), report {report:.0f} s, "
        f"total {(workflow + report) / 60:.1f} min"
    )
    print(table.to_markdown())
    busy = table["job_seconds"].sum() / (workflow * a.cores)
    print(
        f"job seconds {table['job_seconds'].sum():.0f} over {a.cores} cores x wall: {busy:.2f} "
        "(1.00: both cores busy throughout)"
    )
    if not a.keep:
        shutil.rmtree(scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
