"""SEND's Emotient (FACET) files: one row per video frame, `Frametime` in seconds and one column
per action unit or emotion evidence, read by name. Rows whose cells are empty or NaN (the coder
found no face) stay NaN; rows without a time are dropped."""

import numpy as np

from .parse import check_increasing, numeric, read_text_table, require_columns

MODALITY = "visual"  # in the terms of SEND's published results (report/published.py)
TIME_COLUMN = "Frametime"
# The 20 action units every release file has (the public SEND loaders read AU1 to AU43);
# evidence columns (joyEvidence, ...) may be added.
DEFAULT_COLUMNS = (
    *("AU1", "AU2", "AU4", "AU5", "AU6", "AU7", "AU9", "AU10", "AU12", "AU14"),
    *("AU15", "AU17", "AU18", "AU20", "AU23", "AU24", "AU25", "AU26", "AU28", "AU43"),
)


def read(path, columns, options=None) -> tuple[np.ndarray, np.ndarray]:
    raw = read_text_table(path, "Emotient")
    require_columns(raw, (TIME_COLUMN, *columns), path, "set the table's columns to the file's column names")
    times = numeric(raw[TIME_COLUMN], path, TIME_COLUMN)
    values = np.stack([numeric(raw[c], path, c) for c in columns], axis=1) if columns else np.zeros((len(raw), 0))
    timed = ~np.isnan(times)
    times, values = times[timed], values[timed]
    check_increasing(times, path, TIME_COLUMN)
    return times, values.astype(np.float64)
