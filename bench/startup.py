"""Benchmark: each rule's fixed cost, the seconds a job pays before it reads its first input.

For every script in workflow_scripts/, a fresh Python process runs what a Snakemake job runs
before the job's own work: the script preamble (unpickling the `snakemake` object imports
snakemake.script) and the script's imports (its top-level import statements). The baseline is
a bare `python -c pass` in the same interpreter. Prints seconds (best of --repeats) per script.
Usage: python bench/startup.py [--repeats 3]
"""

import argparse
import ast
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
SCRIPTS = PROJECT / "workflow_scripts"


def imports_of(script: Path) -> str:
    """The script's top-level import statements, as source."""
    tree = ast.parse(script.read_text())
    return "\n".join(ast.unparse(node) for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom))


def seconds(code: str, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=SCRIPTS)
        best = min(best, time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    bare = seconds("pass", args.repeats)
    print(f"{'bare python':24s} {bare:6.2f} s")
    for script in sorted(SCRIPTS.glob("*.py")):
        if script.name.startswith("_"):
            continue
        code = f"import sys; sys.path.insert(0, {str(SCRIPTS)!r})\nimport snakemake.script\n{imports_of(script)}"
        print(f"{script.stem:24s} {seconds(code, args.repeats):6.2f} s", flush=True)


if __name__ == "__main__":
    main()
