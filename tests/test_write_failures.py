"""A write the disk refuses (full, a quota, a file size limit) names the file, what it needs and
the free space, and leaves neither the output nor a temporary behind. The limit is real: a
child process runs under RLIMIT_FSIZE, so the kernel refuses the write as a full disk would."""

import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
WRITE_UNDER_A_LIMIT = """
import resource, signal, sys
import numpy as np, pandas as pd, torch
from sendflow.atomic import write_json, write_parquet
from sendflow.checkpoints import save_torch
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the kernel then fails the write with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
writers = {"save_torch": lambda p: save_torch({"weights": torch.zeros(1 << 20)}, p),
           "write_parquet": lambda p: write_parquet(pd.DataFrame({"a": np.random.rand(1 << 19)}), p),
           "write_json": lambda p: write_json({"a": list(range(1 << 19))}, p)}
writers[sys.argv[1]](sys.argv[2])
"""


@pytest.mark.parametrize("writer", ["save_torch", "write_parquet", "write_json"])
def test_a_refused_write_names_the_file_and_leaves_nothing(tmp_path, writer):
    target = tmp_path / "results" / f"out.{writer}"
    proc = subprocess.run(
        [sys.executable, "-c", WRITE_UNDER_A_LIMIT, writer, str(target)], capture_output=True, text=True, cwd=PROJECT
    )
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("sendflow.errors.OutputWriteError: ") and str(target) in last, proc.stderr[-2000:]
    assert "could not be written" in last and "MB free on that disk" in last and "Free space there" in last
    if writer == "save_torch":
        assert "it needs about 4.2 MB" in last  # 2**20 float32 weights
    assert not target.exists() and list(target.parent.iterdir()) == []  # no temporary either
