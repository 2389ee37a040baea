"""What produced a run's results: resolved config, project commit, package versions, device,
and wall time per stage read back from the rules' `benchmark:` files."""

import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import pandas as pd

PACKAGES = (
    "snakemake",
    "torch",
    "torchvision",
    "numpy",
    "pandas",
    "pyarrow",
    "scikit-learn",
    "scipy",
    "matplotlib",
    "ffmpeg-python",
    "imageio-ffmpeg",
    "opencv-python-headless",
)


def git_commit(project_dir) -> dict:
    """The project's commit and whether its tracked files differ from it (None outside git)."""

    def git(*args):
        return subprocess.run(
            ["git", "-C", str(project_dir), *args], capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}


def package_versions() -> dict:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def device_info() -> dict:
    import torch

    gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return {
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "cuda": torch.version.cuda,
        "gpus": gpus,
    }


def stage_times(benchmarks_dir) -> pd.DataFrame:
    """Per stage (the benchmark file's first folder, or its name for single-job rules): jobs,
    summed and longest wall time, and peak memory, from Snakemake's benchmark TSVs."""
    rows = []
    root = Path(benchmarks_dir)
    for path in sorted(root.rglob("*.tsv")):
        parts = path.relative_to(root).parts
        stage = parts[0] if len(parts) > 1 else path.stem
        bench = pd.read_csv(path, sep="\t")
        rows.append(
            {
                "stage": stage,
                "s": float(bench["s"].iloc[-1]),
                "max_rss_mb": pd.to_numeric(bench["max_rss"], errors="coerce").iloc[-1],
            }
        )
    if not rows:
        return pd.DataFrame(columns=["stage", "jobs", "wall_s", "longest_s", "peak_rss_mb"])
    table = pd.DataFrame(rows).groupby("stage", sort=False)
    return pd.DataFrame(
        {
            "jobs": table.size(),
            "wall_s": table["s"].sum().round(2),
            "longest_s": table["s"].max().round(2),
            "peak_rss_mb": table["max_rss_mb"].max().round(1),
        }
    ).reset_index()


def build_manifest(config: dict, project_dir, benchmarks_dir) -> dict:
    return {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "project": git_commit(project_dir),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
        "device": device_info(),
        "stages": stage_times(benchmarks_dir).to_dict(orient="records"),
        "config": config,
    }
