"""SEND's Emotient files -> per-step action units on the 0.5 s rating grid.

An Emotient file has one row per video frame (about 30 Hz, `Frametime` in seconds) and one
column per action unit or emotion evidence. Columns are read by name. Rows whose cells are
empty or NaN (the coder found no face) are left out of the step means; a step that keeps no
row stays on the grid with `n_frames = 0` and NaN features, filled once the features are
standardised. Text where a number belongs is an error naming the file, the column and the line.
"""

import logging

import numpy as np
import pandas as pd

from .errors import SendDataError
from .ratings import RATING_STEP_S, rating_steps, read_observer, valence_at

TIME_COLUMN = "Frametime"
MISSING = frozenset({"", "nan", "na", "n/a", "null", "none"})  # an empty cell, as writers spell it

log = logging.getLogger(__name__)


def _numeric(raw: pd.Series, path, column: str) -> np.ndarray:
    """`raw` strings as floats (NaN where empty); text that is not a number is an error."""
    values = pd.to_numeric(raw, errors="coerce")
    text = values.isna() & ~raw.fillna("").str.strip().str.lower().isin(MISSING)
    if text.any():
        row = int(np.argmax(text.to_numpy()))
        raise SendDataError(
            path, f"column {column!r} holds text where a number belongs: {raw.iloc[row]!r} on line {row + 2}"
        )
    return values.to_numpy(float)


def read_emotient(path, columns) -> tuple[np.ndarray, np.ndarray]:
    """Frame times [N] and the named columns [N, D] of an Emotient file, rows without a time
    dropped (NaN features stay NaN). Raises SendDataError naming the file and the column."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=True, encoding_errors="strict")
    except FileNotFoundError:
        raise SendDataError(path, "Emotient file not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise SendDataError(path, f"unreadable Emotient file ({type(err).__name__}: {err})") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in (TIME_COLUMN, *columns) if c not in raw.columns]
    if missing:
        raise SendDataError(
            path,
            f"missing column {missing[0]!r}"
            + (f" (and {missing[1:]})" if len(missing) > 1 else "")
            + "; set emotient.columns to the file's column names",
        )
    times = _numeric(raw[TIME_COLUMN], path, TIME_COLUMN)
    values = np.stack([_numeric(raw[c], path, c) for c in columns], axis=1) if columns else np.zeros((len(raw), 0))
    timed = ~np.isnan(times)
    times, values = times[timed], values[timed]
    if len(times) == 0:
        raise SendDataError(path, f"no row with a {TIME_COLUMN}")
    back = np.flatnonzero(np.diff(times) <= 0)
    if len(back):
        raise SendDataError(
            path, f"{TIME_COLUMN} does not increase: {times[back[0] + 1]:g} s follows {times[back[0]]:g} s"
        )
    return times, values.astype(np.float64)


def resample(times: np.ndarray, values: np.ndarray) -> dict:
    """Mean per 0.5 s rating step over the rows with every value present: `step` (every step
    from the first row's to the last row's, so gaps stay gaps), `n_frames` (rows averaged) and
    `feature` [S, D] (NaN where a step kept no row)."""
    steps = rating_steps(times)
    first, last = int(steps[0]), int(steps[-1])
    grid = np.arange(first, last + 1, dtype=np.int32)
    complete = ~np.isnan(values).any(axis=1)
    where = steps[complete] - first
    counts = np.bincount(where, minlength=len(grid))
    sums = np.zeros((len(grid), values.shape[1]))
    np.add.at(sums, where, values[complete])
    with np.errstate(invalid="ignore", divide="ignore"):
        feature = sums / counts[:, None]
    return {"step": grid, "n_frames": counts.astype(np.int32), "feature": feature.astype(np.float32)}


def clip_steps(clip_id: str, speaker: int, emotient_path, observer_path, columns) -> pd.DataFrame:
    """One clip's Emotient rows on the rating grid, with the observer valence of each step,
    as the feature cache's columns (`feature` holds one array per step)."""
    times, values = read_emotient(emotient_path, columns)
    steps = resample(times, values)
    t = steps["step"] * RATING_STEP_S
    dropped = len(times) - int(steps["n_frames"].sum())  # rows left out of every step's mean
    empty = int((steps["n_frames"] == 0).sum())
    if dropped:
        log.info(
            "%s: %d of %d rows without every value (no face) left out; %d of %d steps empty",
            emotient_path,
            dropped,
            len(times),
            empty,
            len(t),
        )
    return pd.DataFrame(
        {
            "clip_id": clip_id,
            "speaker": int(speaker),
            "step": steps["step"],
            "t": t,
            "n_frames": steps["n_frames"],
            "valence": valence_at(read_observer(observer_path), t).astype(np.float32),
            "feature": list(steps["feature"]),
        }
    )
