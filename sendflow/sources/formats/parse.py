"""Parsing shared by the table formats: text cells to numbers, and times that must increase."""

import numpy as np
import pandas as pd

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
