"""Check, not a speed benchmark: does a refactor leave results alone? Runs the tests' tiny
workflow (tests/conftest.py TINY) from a clean export of commit REV and from the working tree,
each in its own scratch folder, and compares every classifier's predictions byte for byte, its
metrics.json value for value, and its trained model's numbers (weights, feature
standardisation) exactly. metrics.json's `model_sha256` is left out: it is the hash of the model
file, whose header changes with the file format and the settings' names, not with what was
learnt (the numbers are compared instead). Exit status 1 if anything differs or a file exists
on one side only.

Usage: python bench/same_results.py REV [--against REV2] [--cores 2] [--keep DIR]
(--against: compare with commit REV2 instead of the working tree)
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "tests"))
from conftest import run_tiny  # noqa: E402  (the tests' one definition of the tiny run)
from demo_time import IGNORE  # noqa: E402  (bench/demo_time.py: what a scratch copy leaves out)

COMPARED = (
    "classifier/*/*/*/*/metrics.json",
    "classifier/*/*/*/*/predictions.parquet",
    "classifier/*/*/*/*/model.pt",
    "classifier/*/*/*/*/model.npz",
)
FILE_HASH = "model_sha256"


def export(rev: str, into: Path) -> Path:
    """The project at `rev`, as `git archive` writes it (tracked files only)."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(PROJECT), "archive", rev], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def tiny_results(project: Path, workdir: Path, cores: int) -> Path:
    proc = run_tiny(workdir, "--cores", str(cores), project=project)
    if proc.returncode:
        sys.exit(f"tiny run of {project} failed:\n{proc.stderr[-3000:]}")
    return workdir / "results"


def model_numbers(path: Path) -> dict[str, np.ndarray]:
    """A model file's arrays (weights, mean, std), whatever its header says."""
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as saved:
            return {k: saved[k] for k in saved.files if k != "header"}
    import torch

    saved = torch.load(path, map_location="cpu", weights_only=True)
    tensors = {f"state_dict.{k}": v for k, v in saved["state_dict"].items()} | {k: saved[k] for k in ("mean", "std")}
    return {k: v.numpy() for k, v in tensors.items()}


def contents(path: Path):
    """What is compared of a result file: its bytes, metrics less the model file's hash, or a
    model's numbers."""
    if path.suffix == ".json":
        return {k: v for k, v in json.loads(path.read_text()).items() if k != FILE_HASH}
    if path.name.startswith("model."):
        return model_numbers(path)
    return path.read_bytes()


def same(a, b) -> bool:
    if isinstance(a, dict) and a and isinstance(next(iter(a.values())), np.ndarray):
        return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    return a == b


def compared_files(results: Path) -> dict:
    return {str(p.relative_to(results)): contents(p) for pattern in COMPARED for p in results.glob(pattern)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("rev", help="the commit to compare with, e.g. HEAD~3")
    p.add_argument("--against", help="a second commit, in place of the working tree")
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--keep", type=Path, help="run here (kept) instead of a temporary folder")
    a = p.parse_args(argv)
    scratch = a.keep or Path(tempfile.mkdtemp(prefix="sendflow-same-results-"))
    old_project = export(a.rev, scratch / "old" / "sendflow")
    new_project = scratch / "new" / "sendflow"
    if a.against:
        export(a.against, new_project)
    else:
        shutil.copytree(PROJECT, new_project, ignore=IGNORE)
    old = compared_files(tiny_results(old_project, scratch / "old" / "run", a.cores))
    new = compared_files(tiny_results(new_project, scratch / "new" / "run", a.cores))
    differ = sorted(name for name in old.keys() & new.keys() if not same(old[name], new[name]))
    one_side = sorted(old.keys() ^ new.keys())
    print(
        f"{a.rev} against {a.against or 'the working tree'}: {len(old.keys() & new.keys())} files compared, "
        f"{len(differ)} differ, {len(one_side)} on one side only"
    )
    for name in differ + one_side:
        print(f"  {name}")
    if not a.keep:
        shutil.rmtree(scratch)
    return 1 if differ or one_side else 0


if __name__ == "__main__":
    sys.exit(main())
