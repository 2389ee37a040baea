"""The benches' one way to run this project's Snakefile: through `sendflow.cli`, in a working
directory of their own, with the venv's Python."""

import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def sendflow(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m sendflow.cli --snakefile <project>/Snakefile --directory workdir *args`."""
    cmd = [sys.executable, "-m", "sendflow.cli", "--snakefile", str(PROJECT / "Snakefile"), "--directory", str(workdir)]
    return subprocess.run([*cmd, *args], capture_output=True, text=True)


def run_workflow(workdir: Path, target: str, config: list[str], cores: int) -> float:
    """Build `target` in `workdir` with `config`; its wall seconds, or exit with Snakemake's error."""
    start = time.perf_counter()
    proc = sendflow(workdir, "--cores", str(cores), target, "--config", *config)
    if proc.returncode:
        sys.exit(f"workflow failed in {workdir}:\n{proc.stderr[-3000:]}")
    return time.perf_counter() - start
