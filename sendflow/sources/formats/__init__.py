"""Table formats: how a tool's per-frame files are read. One module per format, found by its
file name here (the schema's `tables.<name>.format` enum lists them); nothing else to register.

A format module defines:
- `DEFAULT_COLUMNS`: the feature columns read when the table's `columns` is null;
- `MODALITY`: what the tool observed, in the terms of SEND's published results ("visual",
  "audio"; report/published.py), so the report sets the source beside the right figures;
- `read(path, columns, options) -> (times, values)`: `times` [N] in seconds, strictly
  increasing, and `values` [N, D] float64 for `columns` in that order, NaN where the tool had
  no observation (lost face, low confidence). Times, never row numbers, place a row. A file
  that is unreadable, lacks a column or has times that do not increase raises SendDataError
  naming the file and the problem. `options` is the table's config entry (format-specific keys
  such as `min_confidence`, `time_column`, and `fps`, the clip's video frame rate where the
  format needs it: see `NEEDS_FPS`).
- optionally `NEEDS_FPS = True`: the file counts frames, not seconds, so the table job passes
  the video's frame rate (or the table's `fps`) in `options["fps"]`.
"""

import importlib
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
# Modules here that are not formats: shared parsing helpers.
_HELPERS = {"__init__", "parse"}


def format_names() -> tuple[str, ...]:
    """Every format: the modules of this folder, less the helpers."""
    return tuple(sorted(p.stem for p in HERE.glob("*.py") if p.stem not in _HELPERS))


def format_file(name: str) -> Path:
    """A format's module file (a code input of the jobs that read that format)."""
    return HERE / f"{name}.py"


def load(name: str) -> ModuleType:
    """A format's module. Imported by name, so that the static import scan of a job's code
    (sendflow/code_inputs.py) does not see every format: each job lists its own."""
    if name not in format_names():
        raise ValueError(f"unknown table format {name!r}; formats: {', '.join(format_names())}")
    return importlib.import_module(f"{__name__}.{name}")
