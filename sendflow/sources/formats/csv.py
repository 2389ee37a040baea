"""Any per-frame table as CSV (or tab-separated .tsv) or Parquet (.parquet, .pq): a time column in
seconds, named by the table's `time_column`, and the feature columns the table lists in
`columns` (there are no defaults: DEFAULT_COLUMNS is empty). Empty cells are NaN.

`read_numeric` is also the fast reader of the other text formats (OpenFace, py-feat, eGeMAPS):
it converts only the columns asked for, at C speed, and looks closer only when one of them
holds text, to name the column and the line."""

import csv as stdlib_csv  # this module is the csv *format*
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from ...errors import SendDataError
from .parse import check_increasing, numeric, require_columns

MODALITY = "unknown"  # any tool: none of SEND's published modalities (report/published.py) is assumed
DEFAULT_COLUMNS = ()  # a csv table lists its columns
PARQUET = (".parquet", ".pq")
COLUMNS_HINT = "set the table's columns (tables.<name>.columns) to the file's column names"


def _unreadable(path, what: str, err: Exception) -> SendDataError:
    if isinstance(err, FileNotFoundError):
        return SendDataError(path, f"{what} file not found")
    if isinstance(err, OSError):
        return SendDataError(path, f"unreadable {what} file ({err.strerror or err})")
    if isinstance(err, pd.errors.EmptyDataError):
        return SendDataError(path, f"unreadable {what} file: it is empty (no header line)")
    return SendDataError(path, f"unreadable {what} file ({type(err).__name__}: {err})")


def header(path, what: str, sep: str = ",") -> list[str]:
    """The file's column names, stripped of surrounding spaces (OpenFace and openSMILE write
    `, name`)."""
    try:
        with open(path, "rb") as f:
            first = f.readline().decode("utf-8-sig")  # the header line only
    except (OSError, UnicodeDecodeError) as err:
        raise _unreadable(path, what, err) from None
    names = next(stdlib_csv.reader([first.rstrip("\r\n")], delimiter=sep, skipinitialspace=True), [])
    if not any(n.strip() for n in names):
        raise SendDataError(path, f"unreadable {what} file: it is empty (no header line)")
    return [n.strip() for n in names]


def read_numeric(path, what: str, columns, hint: str, *, optional=(), sep: str = ",") -> pd.DataFrame:
    """`columns` (and those of `optional` that the file has) as float64, NaN where a cell is
    empty or spells a missing value (nan, NA, null...), in a frame whose column names are
    stripped of spaces. A missing column, text where a number belongs, a row with more cells
    than the header, an unreadable or empty file: SendDataError naming the file and the
    problem (the column, and the line of the first text cell).

    Arrow's CSV reader converts just these columns (on one thread: jobs run with one core); a
    file it refuses (text in a column, a short last row, quoted numbers) is read again by
    pandas, which fills short rows with NaN and finds the text to name."""
    names = header(path, what, sep)
    require_columns(pd.DataFrame(columns=names), columns, path, hint)
    wanted = list(dict.fromkeys([*columns, *(c for c in optional if c in names)]))
    try:
        return _read_arrow(path, names, wanted, sep)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError):
        pass
    where = [names.index(c) for c in wanted]  # by position: the file's names may carry spaces
    read = dict(sep=sep, usecols=where, skipinitialspace=True, engine="c", encoding_errors="strict")
    try:
        try:
            frame = pd.read_csv(path, dtype=np.float64, **read)
        except (pd.errors.ParserError, pd.errors.EmptyDataError):
            raise
        except (ValueError, TypeError):  # text in a column: find it, as strings
            raw = pd.read_csv(path, dtype=str, keep_default_na=False, **read)
            raw.columns = [names[i] for i in sorted(where)]
            return pd.DataFrame({c: numeric(raw[c].str.strip(), path, c) for c in wanted})
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise _unreadable(path, what, err) from None
    frame.columns = [names[i] for i in sorted(where)]  # usecols keeps the file's order
    return frame[wanted]


def _read_arrow(path, names: list[str], wanted: list[str], sep: str) -> pd.DataFrame:
    """The fast path of `read_numeric`: the header's names given (unique), the data rows parsed
    by Arrow with every wanted column typed float64. Raises ArrowInvalid where it cannot."""
    seen, unique = set(), []
    for i, name in enumerate(names):  # a repeated name: its first column is the one read
        unique.append(name if name not in seen else f"{name}\0{i}")
        seen.add(name)
    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(use_threads=False, skip_rows=1, column_names=unique),
        parse_options=pacsv.ParseOptions(delimiter=sep),
        convert_options=pacsv.ConvertOptions(
            include_columns=wanted, column_types={c: pa.float64() for c in wanted}, strings_can_be_null=True
        ),
    )
    return pd.DataFrame({c: table.column(c).to_numpy(zero_copy_only=False) for c in wanted})


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
