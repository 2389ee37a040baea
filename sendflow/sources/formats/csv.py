"""Any per-frame table as CSV (or tab-separated .tsv) or Parquet (.parquet, .pq): a time column in
seconds, named by the table's `time_column`, and the feature columns the table lists in
`columns` (there are no defaults: DEFAULT_COLUMNS is empty). Empty cells are NaN."""

from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import SendDataError
from .parse import check_increasing, read_numeric, require_columns

MODALITY = "unknown"  # any tool: none of SEND's published modalities (report/published.py) is assumed
DEFAULT_COLUMNS = ()  # a csv table lists its columns
PARQUET = (".parquet", ".pq")
COLUMNS_HINT = "set the table's columns (tables.<name>.columns) to the file's column names"


def _read_parquet(path, wanted: list[str]) -> pd.DataFrame:
    import pyarrow.parquet as pq  # only csv tables in Parquet need it

    try:
        names = pq.read_schema(path).names
        require_columns(pd.DataFrame(columns=names), wanted, path, COLUMNS_HINT)
        table = pd.read_parquet(path, columns=wanted)
    except SendDataError:
        raise
    except FileNotFoundError:
        raise SendDataError(path, "Parquet file not found") from None
    except Exception as err:  # pyarrow's errors: ArrowInvalid, ArrowIOError, OSError
        raise SendDataError(path, f"unreadable Parquet file ({type(err).__name__}: {err})") from None
    out = {}
    for c in wanted:
        col = table[c]
        if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            out[c] = col.to_numpy(dtype=np.float64, na_value=np.nan)
            continue
        text = col.astype("string").fillna("").str.strip()
        values = pd.to_numeric(text.where(text != "", None), errors="coerce")
        bad = values.isna() & (text != "") & ~text.str.lower().isin(("nan", "na", "n/a", "null", "none"))
        if bad.any():
            row = int(np.argmax(bad.to_numpy()))
            raise SendDataError(
                path, f"column {c!r} holds text where a number belongs: {col.iloc[row]!r} in row {row + 1}"
            )
        out[c] = values.to_numpy(np.float64)
    return pd.DataFrame(out)


def read(path, columns, options=None) -> tuple[np.ndarray, np.ndarray]:
    options = options or {}
    time_column = options.get("time_column")
    if not time_column:
        raise SendDataError(
            path, "a csv table needs its time column: set tables.<name>.time_column to the column that holds seconds"
        )
    if not columns:
        raise SendDataError(path, "a csv table has no default columns: list them in tables.<name>.columns")
    wanted = list(dict.fromkeys([time_column, *columns]))
    if Path(path).suffix.lower() in PARQUET:
        table = _read_parquet(path, wanted)
    else:
        sep = "\t" if Path(path).suffix.lower() in (".tsv", ".tab") else ","
        table = read_numeric(path, "CSV", wanted, COLUMNS_HINT, sep=sep)
    times = table[time_column].to_numpy(np.float64)
    values = table[list(columns)].to_numpy(np.float64)
    timed = ~np.isnan(times)
    times, values = times[timed], values[timed]
    check_increasing(times, path, time_column)
    return times, np.ascontiguousarray(values)
