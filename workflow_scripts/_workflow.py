"""Imported first by every script: puts this workflow's own `sendflow` package (the code the
rules declare as inputs) ahead of any installed copy, so jobs run it whether or not it is
installed; the --use-conda environments hold the dependencies only. Snakemake puts this
folder on the scripts' path."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
