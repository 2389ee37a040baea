"""The *table* kind: per-frame files that another tool wrote (Emotient, OpenFace, py-feat,
openSMILE's eGeMAPS, any CSV), read in their format (sources/formats/) and averaged per 0.5 s
rating step. Not trained: one steps table for all folds, standardised per fold afterwards."""

import logging

import numpy as np
import pandas as pd

from ..ratings import RATING_STEP_S, rating_steps, read_observer, valence_at
from .formats import load

log = logging.getLogger(__name__)


def table_columns(table: dict) -> list[str]:
    """The columns a table reads: its `columns`, or its format's defaults where null."""
    columns = table["columns"]
    return list(load(table["format"]).DEFAULT_COLUMNS if columns is None else columns)


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


def clip_steps(clip_id: str, speaker: int, path, observer_path, table: dict, fps: float | None = None) -> pd.DataFrame:
    """One clip's rows of `table` (a config entry) on the rating grid, with the observer valence
    of each step, as the feature cache's columns (`feature` holds one array per step). `fps`:
    the clip's video frame rate, for formats that count frames (formats.NEEDS_FPS)."""
    reader = load(table["format"])
    options = {**table, "fps": table.get("fps") or fps}
    times, values = reader.read(path, table_columns(table), options)
    steps = resample(times, values)
    t = steps["step"] * RATING_STEP_S
    dropped = len(times) - int(steps["n_frames"].sum())  # rows left out of every step's mean
    empty = int((steps["n_frames"] == 0).sum())
    if dropped:
        log.info(
            "%s: %d of %d rows without every value (no face) left out; %d of %d steps empty",
            path,
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
