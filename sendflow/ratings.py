"""Readers for SEND rating files, tolerant of the raggedness of the real release.

Real files can hold blank or non-numeric rows and run a row or two past the video; we keep
every row whose time and value parse as numbers and let callers align on `time`.
"""

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import SendDataError

RATING_STEP_S = 0.5  # SEND's ratings come every 0.5 s (2 Hz); every stage's time grid
OBSERVER_VALUE = "evaluatorWeightedEstimate"
SELF_VALUE = "rating"
OBSERVER_RANGE = (0.0, 100.0)  # evaluator-weighted estimates are on a 0-100 scale
SELF_RANGE = (0.0, 1.0)

log = logging.getLogger(__name__)


def _read_numeric_csv(path: Path, required: list[str]) -> pd.DataFrame:
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, skip_blank_lines=True, encoding_errors="strict")
    except FileNotFoundError:
        raise SendDataError(path, "file not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise SendDataError(path, f"unreadable CSV ({type(err).__name__}: {err})") from None
    # The self-rating header is "time, rating": strip the stray space from every column name.
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise SendDataError(path, f"unreadable CSV: missing column(s) {missing}; found {list(frame.columns)}")
    numeric = frame[required].apply(pd.to_numeric, errors="coerce").dropna()
    if numeric.empty:
        raise SendDataError(path, "unreadable CSV: no row with numeric values")
    if len(numeric) < len(frame):  # ragged files have a few; say so, never drop rows silently
        log.info("%s: %d of %d rows dropped (non-numeric or empty)", path, len(frame) - len(numeric), len(frame))
    steps = numeric["time"].diff()
    if (steps <= 0).any():  # a shuffled or concatenated file: sorting would hide the damage
        row = int(np.argmax(steps.to_numpy() <= 0))
        raise SendDataError(
            path,
            f"rating times do not increase: {numeric['time'].iloc[row]:g} s follows "
            f"{numeric['time'].iloc[row - 1]:g} s",
        )
    return numeric.reset_index(drop=True)


def _check_range(frame: pd.DataFrame, column: str, bounds: tuple[float, float], path) -> None:
    low, high = bounds
    outside = frame[(frame[column] < low) | (frame[column] > high)]
    if len(outside):
        first = outside.iloc[0]
        raise SendDataError(
            path,
            f"{len(outside)} {column} value(s) outside {low:g}-{high:g} (e.g. "
            f"{first[column]:g} at {first['time']:g} s): wrong scale or column?",
        )
    if (frame["time"] < 0).all():
        raise SendDataError(path, "every rating time is negative")


def read_observer(path) -> pd.DataFrame:
    """Observer ratings: columns `time` (s) and `valence` in [-1, 1] (`ewe / 50 - 1`)."""
    frame = _read_numeric_csv(path, ["time", OBSERVER_VALUE])
    _check_range(frame, OBSERVER_VALUE, OBSERVER_RANGE, path)
    return pd.DataFrame({"time": frame["time"], "valence": frame[OBSERVER_VALUE] / 50.0 - 1.0})


def read_self(path) -> pd.DataFrame:
    """Self ratings: columns `time` (s) and `valence` in [-1, 1] (`2 r - 1`)."""
    frame = _read_numeric_csv(path, ["time", SELF_VALUE])
    _check_range(frame, SELF_VALUE, SELF_RANGE, path)
    return pd.DataFrame({"time": frame["time"], "valence": 2.0 * frame[SELF_VALUE] - 1.0})


def rating_steps(times) -> np.ndarray:
    """The 0.5 s rating step each time falls in (frames faster than 2 Hz share a step)."""
    return np.floor(np.asarray(times, dtype=float) / RATING_STEP_S + 1e-3).astype(np.int32)


def valence_at(ratings: pd.DataFrame, times, max_gap: float = 0.75) -> np.ndarray:
    """Valence at arbitrary `times`, from the rating nearest in time (NaN beyond `max_gap` s).

    Aligning on time, never on row count, keeps ragged files (missing or extra rows) correct.
    """
    rated_t = ratings["time"].to_numpy(float)
    rated_v = ratings["valence"].to_numpy(float)
    times = np.asarray(times, dtype=float)
    if len(rated_t) > 1:
        right = np.clip(np.searchsorted(rated_t, times), 1, len(rated_t) - 1)
    else:
        right = np.zeros(len(times), int)
    left = np.maximum(right - 1, 0)
    nearest = np.where(np.abs(rated_t[left] - times) <= np.abs(rated_t[right] - times), left, right)
    values = rated_v[nearest]
    values[np.abs(rated_t[nearest] - times) > max_gap] = np.nan
    return values
