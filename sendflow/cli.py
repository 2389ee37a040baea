"""`sendflow`: run the workflow with Snakemake, accepting dotted `--config a.b=value` keys;
`sendflow predict ...` applies a trained model to new videos (see `sendflow predict --help`).

Every other argument is passed to Snakemake unchanged except dotted config keys, which
Snakemake's own parser rejects; they become nested mappings that the Snakefile merges into the
config.
"""

import os
import sys
from pathlib import Path

from .config import rewrite_cli_config

PROJECT = Path(__file__).resolve().parent.parent
_VALUE_TAKERS = {"--config", "-C"}


def snakemake_argv(args: list[str]) -> list[str]:
    argv, in_config = [], False
    for arg in args:
        if arg in _VALUE_TAKERS:
            in_config = True
            argv.append(arg)
        elif in_config and not arg.startswith("-"):
            argv.extend(rewrite_cli_config([arg]))
        else:
            in_config = False
            argv.append(arg)
    if "-s" not in argv and "--snakefile" not in argv:
        argv = ["--snakefile", str(PROJECT / "Snakefile"), *argv]
    return [sys.executable, "-m", "snakemake", *argv]


def main() -> None:
    if sys.argv[1:2] == ["predict"]:
        from .predict import main as predict

        sys.exit(predict(sys.argv[2:]))
    argv = snakemake_argv(sys.argv[1:])
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main()
