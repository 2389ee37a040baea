"""Per-fold standardisation of every source and fusion member, with one NaN rule: a column's
mean and standard deviation come from the fold's training steps that have a value in that
column (NaN: no observation, e.g. a lost face or a step without video); after standardising,
a missing value is 0, the training mean. A constant column, or one no training step has,
standardises with std 1 (and mean 0 where it has no value)."""

import warnings

import numpy as np
import pandas as pd

from ..errors import SendDataError


def train_statistics(x: np.ndarray, use: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and standard deviation of `x`'s rows `use` (all rows where None),
    over the values present (the NaN rule above)."""
    rows = x if use is None else x[use]
    rows = rows[~np.isnan(rows).all(axis=1)]  # steps with no value at all say nothing
    if len(rows) == 0:
        raise ValueError("no training step with features to standardise with")
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # columns without any value
        mean, std = np.nan_to_num(np.nanmean(rows, axis=0)), np.nan_to_num(np.nanstd(rows, axis=0))
    std[std < 1e-8] = 1.0
    return mean, std


def standardise(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """(x - mean) / std, with missing values at 0, the training mean."""
    return np.nan_to_num((x - mean) / std, nan=0.0).astype(np.float32)


def require_training_steps(
    steps: pd.DataFrame, x: np.ndarray, roles: dict[str, str], fold: int, source: str, path
) -> None:
    """Stop, naming the fold, its training speakers and the source, when none of the fold's
    training clips has a usable step of `source` (`steps`/`x`, read from `path`): e.g. every
    training speaker is ratings-only, with no video and no file of that source."""
    train = sorted(c for c, r in roles.items() if r == "train")
    usable = steps["clip_id"].isin(train).to_numpy() & ~np.isnan(x).all(axis=1)
    if usable.any():
        return
    speakers = sorted({int(c.split("_")[0]) for c in train})
    raise SendDataError(
        path,
        (
            f"fold {fold}: none of its {len(train)} training clips (speakers {', '.join(map(str, speakers))}) has "
            f"{source}, so the {source} cannot be standardised or learnt on this fold. Give those speakers the "
            f"files it needs, or leave the sources that need {source} out of extractor.kinds"
        ),
    )


def fold_steps(steps: pd.DataFrame, x: np.ndarray, roles: dict[str, str]) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """The steps of a fold's clips, standardised with statistics of its `train` clips only:
    (steps, features, {"mean": [...], "std": [...]})."""
    keep = steps["clip_id"].isin(roles).to_numpy()
    steps, x = steps[keep].reset_index(drop=True), x[keep]
    mean, std = train_statistics(x, (steps["clip_id"].map(roles) == "train").to_numpy())
    return steps, standardise(x, mean, std), {"mean": mean.tolist(), "std": std.tolist()}


def fit_components(x: np.ndarray, use: np.ndarray, components: int) -> dict:
    """The first `components` principal axes of `x`'s rows `use` (the training speakers' steps):
    {"centre", "axes", "scale"}, each axis scaled to unit variance over those rows."""
    rows = x[use]
    centre = rows.mean(0)
    _, singular, axes = np.linalg.svd(rows - centre, full_matrices=False)
    scale = singular[:components] / np.sqrt(len(rows))
    scale[scale < 1e-8] = 1.0
    return {"centre": centre, "axes": axes[:components], "scale": scale}


def project(x: np.ndarray, fit: dict) -> np.ndarray:
    """`x` on the axes `fit_components` found."""
    return ((x - fit["centre"]) @ fit["axes"].T / fit["scale"]).astype(np.float32)
