"""bench/gpu.sh, the prepared GPU check: its arguments, and its CPU fallback run end to end
(tiny workflow, extractor images/s, predict twice, the agreement check) where no CUDA device is."""

import os
import subprocess
import sys

import pytest
import torch
from conftest import PROJECT

SCRIPT = PROJECT / "bench/gpu.sh"


def gpu_sh(*args, **env):
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        env={**os.environ, "PYTHON": sys.executable, **env},
    )


def test_arguments_are_checked():
    assert gpu_sh("--help").returncode == 0 and "Usage: bench/gpu.sh" in gpu_sh("--help").stdout
    bad = gpu_sh("--bogus")
    assert bad.returncode == 2 and "unknown argument '--bogus'" in bad.stderr
    missing = gpu_sh(PYTHON="/nonexistent/python")
    assert missing.returncode == 2 and "make install" in missing.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA machine runs the GPU path instead")
def test_asking_for_cuda_without_it_is_refused_and_the_fallback_runs(tiny_run, tmp_path):
    """The fallback's steps 2-4 on the tiny run's bundle (`--tiny`): step 1, a tiny workflow of
    its own, is the tiny run again on a CPU."""
    refused = gpu_sh("--device", "cuda", "--out", str(tmp_path / "refused"))
    assert refused.returncode == 2 and "torch sees no CUDA device" in refused.stderr
    run = gpu_sh("--out", str(tmp_path), "--tiny", str(tiny_run))
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "the CPU fallback" in run.stdout and f"the finished run in {tiny_run}" in run.stdout
    assert "images/s" in run.stdout
    assert "max |valence difference| 0.00e+00" in run.stdout  # CPU against CPU: the same to the bit
    assert list((tmp_path / "predict_cpu").glob("*.csv")) and not (tmp_path / "tiny").exists()
