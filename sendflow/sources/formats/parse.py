"""Parsing shared by the table formats: text cells to numbers, and times that must increase.

`read_numeric` is the fast reader of the text formats (OpenFace, py-feat, eGeMAPS, csv): it
converts only the columns asked for, at C speed, and looks closer only when one of them holds
text, to name the column and the line."""

import csv

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from ...errors import SendDataError

MISSING = frozenset({"", "nan", "na", "n/a", "null", "none"})  # an empty cell, as writers spell it


def read_text_table(path, what: str, **read_csv) -> pd.DataFrame:
    """A delimited file as strings, column names stripped of surrounding spaces (OpenFace and
    openSMILE write `, name`). Raises SendDataError naming the file when it cannot be read."""
    try:
        raw = pd.read_csv(
            path, dtype=str, keep_default_na=False, skip_blank_lines=True, encoding_errors="strict", **read_csv
        )
    except FileNotFoundError:
        raise SendDataError(path, f"{what} file not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise SendDataError(path, f"unreadable {what} file ({type(err).__name__}: {err})") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    return raw


def require_columns(raw: pd.DataFrame, needed, path, hint: str) -> None:
    """Stop naming the first missing column (and how many more), with `hint` on what to set."""
    missing = [c for c in needed if c not in raw.columns]
    if missing:
        raise SendDataError(
            path,
            f"missing column {missing[0]!r}" + (f" (and {missing[1:]})" if len(missing) > 1 else "") + f"; {hint}",
        )


def numeric(raw: pd.Series, path, column: str) -> np.ndarray:
    """`raw` strings as floats (NaN where empty); text that is not a number is an error."""
    values = pd.to_numeric(raw, errors="coerce")
    text = values.isna() & ~raw.fillna("").str.strip().str.lower().isin(MISSING)
    if text.any():
        row = int(np.argmax(text.to_numpy()))
        raise SendDataError(
            path, f"column {column!r} holds text where a number belongs: {raw.iloc[row]!r} on line {row + 2}"
        )
    return values.to_numpy(float)


def check_increasing(times: np.ndarray, path, column: str) -> None:
    """Stop naming the first time that does not follow its predecessor."""
    if len(times) == 0:
        raise SendDataError(path, f"no row with a {column}")
    back = np.flatnonzero(np.diff(times) <= 0)
    if len(back):
        raise SendDataError(path, f"{column} does not increase: {times[back[0] + 1]:g} s follows {times[back[0]]:g} s")


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
    names = next(csv.reader([first.rstrip("\r\n")], delimiter=sep, skipinitialspace=True), [])
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
