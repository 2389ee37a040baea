"""Check, not a speed benchmark: does a refactor leave results alone? Runs the tests' tiny
workflow (tests/conftest.py TINY) from a clean export of commit REV and from the working tree,
each in its own scratch folder, and compares every classifier's metrics.json and predictions
byte for byte. Exit status 1 if any file differs or exists on one side only.

Usage: python bench/same_results.py REV [--against REV2] [--cores 2] [--keep DIR]
(--against: compare with commit REV2 instead of the working tree)
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "tests"))
from conftest import run_tiny  # noqa: E402  (the tests' one definition of the tiny run)
from demo_time import IGNORE  # noqa: E402  (bench/demo_time.py: what a scratch copy leaves out)

COMPARED = ("classifier/*/*/*/*/metrics.json", "classifier/*/*/*/*/predictions.parquet")


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


def compared_files(results: Path) -> dict[str, bytes]:
    return {str(p.relative_to(results)): p.read_bytes() for pattern in COMPARED for p in results.glob(pattern)}


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
    differ = sorted(name for name in old.keys() & new.keys() if old[name] != new[name])
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
