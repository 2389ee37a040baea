"""Benchmark: the demo as `make demo` runs it (workflow, then the Snakemake report), in a
scratch copy of the project, timed from outside: wall seconds of each part, then the job
seconds per stage from the run's `benchmark:` files (jobs, total, per job, the slowest rule),
and the job seconds over the wall seconds (how well the cores were kept busy). The baseline
is the machine itself: the same run's job seconds against its own wall time. As this machine's
speed moves from day to day, it also prints a probe of it before and after the run (the default
extractor's bare training step, images/s) and the run's own extractor epochs' images/s.

`--isa avx2` runs everything with torch's kernels and oneDNN held to AVX2
(ATEN_CPU_CAPABILITY, ONEDNN_MAX_CPU_ISA), the code paths of a CPU without AVX-512, on one that
has it (NumPy and the CPU's clock and caches stay this machine's).

Usage: python bench/demo_time.py [--cores 2] [--config repeats=3 ...] [--keep DIR] [--isa avx2]
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


ISA_LIMITS = {"native": {}, "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}}


def timed(cmd: list[str], cwd: Path, env: dict) -> float:
    start = time.perf_counter()
    # as `make demo`: SLURM_CONF points nowhere, so the SLURM plugin's start-up query returns at once
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env={**env, "SLURM_CONF": "/dev/null"})
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


# The machine's own speed, to set runs of other days side by side: bench/extractor.py's bare
# training step of the default extractor on one thread (random tensors, no data path), in a
# fresh interpreter so that this process holds no torch threads while the workflow runs.
PROBE = """
import torch
from extractor import EXTRACTOR, bare_epoch
from sendflow.models.resnet_attention import build_extractor
torch.set_num_threads(1)
shape = {key: EXTRACTOR[key] for key in ("width", "reduction")}
model = build_extractor("resattn", EXTRACTOR["depth"], num_classes=3, regression=True, **shape)
batch = EXTRACTOR["batch_size"]
bare_epoch(model, 4 * batch, batch, 48, torch.device("cpu"))
print(1024 // batch * batch / bare_epoch(model, 1024, batch, 48, torch.device("cpu")), end=" ")
print(torch.backends.cpu.get_cpu_capability())
"""


def machine_speed(env: dict, runs: int = 2) -> tuple[float, str]:
    """Images/s of the probe above (best of `runs`), and the CPU capability torch used; this
    project's sendflow, not the one installed (which may be another checkout's)."""
    env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT), env.get("PYTHONPATH")]))}
    speeds = []
    for _ in range(runs):
        proc = subprocess.run(
            [sys.executable, "-c", PROBE], cwd=PROJECT / "bench", capture_output=True, text=True, env=env
        )
        if proc.returncode:
            sys.exit(f"machine probe failed:\n{proc.stderr[-2000:]}")
        speed, capability = proc.stdout.split()
        speeds.append(float(speed))
    return max(speeds), capability


def extractor_speed(results: Path) -> float:
    """Median training images/s over the run's extractor epochs (two jobs share the cores)."""
    histories = [pd.read_csv(h) for h in results.glob("extractor/*/fold*/history.csv")]
    return float(pd.concat(histories)["images_per_s"].median()) if histories else float("nan")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--config", nargs="*", default=[], help="extra --config settings, e.g. repeats=3")
    p.add_argument("--keep", type=Path, help="run here (kept) instead of a temporary folder")
    p.add_argument("--isa", choices=ISA_LIMITS, default="native", help="hold torch to this instruction set")
    a = p.parse_args(argv)
    env = {**os.environ, **ISA_LIMITS[a.isa]}
    scratch = a.keep or Path(tempfile.mkdtemp(prefix="sendflow-demo-time-"))
    project = scratch / "sendflow"
    if project.exists():
        shutil.rmtree(project)
    shutil.copytree(PROJECT, project, ignore=IGNORE)
    config = ["--config", *a.config] if a.config else []
    speed_before, capability = machine_speed(env)
    snakemake = [sys.executable, "-m", "snakemake"]
    workflow = timed([*snakemake, "--cores", str(a.cores), *config], project, env)
    report = timed([*snakemake, "--cores", "1", "--report", "results/report.html", *config], project, env)
    speed_after, _ = machine_speed(env)
    table = stage_table(project / "results/benchmarks")
    print(f"cores {a.cores}, config {' '.join(a.config) or '(default)'}, torch's CPU capability {capability}")
    print(
        f"machine: bare extractor training step on 1 thread, {speed_before:.0f} images/s before the run "
        f"and {speed_after:.0f} after; the run's extractor epochs: {extractor_speed(project / 'results'):.0f} images/s"
    )
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
