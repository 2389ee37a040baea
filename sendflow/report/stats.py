"""Speaker-level statistics for paired model comparisons.

The unit of analysis is the test speaker: clips of one speaker share a face, a rater pool and a
fold (so one training run), and are not independent. Each function takes a long table with
columns speaker, clip_id, repeat (a training repeat) and a value column (e.g. diff = candidate
minus reference per-clip CCC); rows whose value is NaN are ignored.
"""

from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.special import ndtr, stdtrit  # Phi and t's quantile: scipy.stats costs 1.3 s more to import

KEYS = ["speaker", "clip_id", "repeat"]
CHUNK_ELEMENTS = 1_000_000  # gathered values per chunk of resamples (~30 MB with index and masks)
SIGN_CHUNK = 1 << 16  # sign patterns per chunk in sign_flip_p
CANNOT_TELL = "the data cannot tell"


class Interval(NamedTuple):
    estimate: float  # mean over speakers of the speaker means
    low: float  # percentile bootstrap interval
    high: float
    n_speakers: int


def _cells(table: pd.DataFrame, value: str) -> pd.Series:
    """One value per (speaker, clip, repeat); duplicate rows are averaged so no row counts twice."""
    usable = table.loc[table[value].notna(), [*KEYS, value]]
    return usable.groupby(KEYS, sort=True)[value].mean()


def speaker_means(table: pd.DataFrame, value: str) -> pd.Series:
    """Per speaker (index sorted): mean over the speaker's clips of the clip's mean over repeats.
    Averaging repeats first gives every clip equal weight, whatever repeats it lacks."""
    clips = _cells(table, value).groupby(level=["speaker", "clip_id"]).mean()
    return clips.groupby(level="speaker").mean()


def _dense(cells: pd.Series):
    """speakers x max_clips x max_repeats array, NaN where a speaker has no such clip or repeat,
    and each speaker's number of clips and of repeats. Positions are ranks within the speaker,
    so a speaker's clips (and repeats) fill the first slots."""
    frame = cells.reset_index()
    s = frame.groupby("speaker", sort=True).ngroup().to_numpy()
    c = frame.groupby(["speaker", "clip_id"], sort=True).ngroup().to_numpy()
    r = frame.groupby(["speaker", "repeat"], sort=True).ngroup().to_numpy()
    # ngroup numbers groups in sorted order, so subtracting each speaker's first number ranks
    # its clips (repeats) from 0
    c = c - pd.Series(c).groupby(s).transform("min").to_numpy()
    r = r - pd.Series(r).groupby(s).transform("min").to_numpy()
    n_s = s.max() + 1
    n_clips = np.zeros(n_s, int)
    np.maximum.at(n_clips, s, c + 1)
    n_repeats = np.zeros(n_s, int)
    np.maximum.at(n_repeats, s, r + 1)
    values = np.full((n_s, n_clips.max(), n_repeats.max()), np.nan)
    values[s, c, r] = frame[cells.name].to_numpy(float)
    return values, n_clips, n_repeats


def _masked_mean(x, valid, axis):
    """Mean of x over axis where valid, and whether any was valid (no warnings on empty)."""
    count = valid.sum(axis)
    total = np.where(valid, x, 0.0).sum(axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count, count > 0


def expanded_tail(alpha: float, n: int) -> float:
    """The tail probability at which to read bootstrap percentiles of a mean over n units.

    The plain percentile interval is too narrow for few units: the bootstrap's variance divides
    by n, not n - 1, and its tails are normal, not Student's t (about 85% coverage for 5
    speakers). The expanded percentile interval (Hesterberg 2015, "What teachers should know
    about the bootstrap") reads them at Phi(-sqrt(n / (n - 1)) * t_{n-1}(1 - alpha)) instead:
    0.001 for 5 speakers, 0.007 for 9, 0.019 for 30, alpha itself as n grows."""
    if n < 2:
        return alpha
    return float(ndtr(-np.sqrt(n / (n - 1)) * stdtrit(n - 1, 1 - alpha)))


def hierarchical_bootstrap(
    table: pd.DataFrame, value: str, n_resamples: int = 2000, seed: int = 0, level: float = 0.95
) -> Interval:
    """Percentile interval of the mean over speakers of speaker means, from a bootstrap that
    resamples speakers, then clips within each drawn speaker (as many as it has), then repeats
    (drawn once per drawn speaker and shared by its clips, since one training run of a fold
    covers all of its clips). The percentiles are expanded for few speakers (`expanded_tail`).
    Fixed seed -> identical result."""
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    cells = _cells(table, value)
    if cells.empty:
        return Interval(float("nan"), float("nan"), float("nan"), 0)
    values, n_clips, n_repeats = _dense(cells)
    n_s, max_c, max_r = values.shape
    flat = values.ravel()
    clip_slot, repeat_slot = np.arange(max_c), np.arange(max_r)
    rng = np.random.default_rng(seed)
    per_resample = n_s * max_c * max_r
    chunk = max(1, CHUNK_ELEMENTS // per_resample)
    stats = np.empty(n_resamples)
    for start in range(0, n_resamples, chunk):
        b = min(chunk, n_resamples - start)
        sp = rng.integers(0, n_s, (b, n_s))
        nc, nr = n_clips[sp][..., None], n_repeats[sp][..., None]
        # uniform draws scaled by each drawn speaker's own count keep indices inside its data
        # (the minimum guards against u * n rounding up to n); slots past the count are masked
        ci = np.minimum((rng.random((b, n_s, max_c)) * nc).astype(np.int64), nc - 1)
        ri = np.minimum((rng.random((b, n_s, max_r)) * nr).astype(np.int64), nr - 1)
        index = ((sp[..., None, None] * max_c + ci[..., :, None]) * max_r) + ri[..., None, :]
        drawn = flat[index]  # (b, speakers, clips, repeats)
        repeat_used = (repeat_slot < nr)[..., None, :] & ~np.isnan(drawn)
        clip_mean, clip_ok = _masked_mean(drawn, repeat_used, axis=-1)
        # a drawn clip can also be empty when all its drawn repeats are missing rows
        speaker_mean, speaker_ok = _masked_mean(clip_mean, clip_ok & (clip_slot < nc), axis=-1)
        stats[start : start + b] = _masked_mean(speaker_mean, speaker_ok, axis=-1)[0]
    alpha = expanded_tail((1 - level) / 2, n_s)
    low, high = np.nanquantile(stats, [alpha, 1 - alpha])
    estimate = float(speaker_means(table, value).mean())
    return Interval(estimate, float(low), float(high), n_s)


def sign_flip_p(speaker_values, exact_up_to: int = 16, n_resamples: int = 100_000, seed: int = 0) -> float:
    """Two-sided paired permutation p over speakers: under H0 each speaker's mean difference is
    equally likely + or -; statistic |mean|. Exact over all 2**n sign patterns when
    n <= exact_up_to, else Monte Carlo with p = (1 + count) / (1 + n_resamples)."""
    d = np.asarray(speaker_values, float).ravel()
    d = d[~np.isnan(d)]
    n = d.size
    if n == 0:
        return float("nan")
    observed = abs(d.sum())  # |sum| orders patterns as |mean| does, n being fixed
    # sums of the same magnitudes in another order can differ in the last bits: count those ties
    threshold = observed - 1e-12 * np.abs(d).sum()
    if n <= exact_up_to:
        bits = np.arange(n)
        count = 0
        for start in range(0, 2**n, SIGN_CHUNK):
            codes = np.arange(start, min(start + SIGN_CHUNK, 2**n))
            signs = ((codes[:, None] >> bits) & 1) * 2 - 1
            count += int((np.abs(signs @ d) >= threshold).sum())
        return count / 2**n
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    rng = np.random.default_rng(seed)
    chunk = max(1, CHUNK_ELEMENTS // n)
    count = 0
    for start in range(0, n_resamples, chunk):
        signs = rng.integers(0, 2, (min(chunk, n_resamples - start), n)) * 2 - 1
        count += int((np.abs(signs @ d) >= threshold).sum())
    return (1 + count) / (1 + n_resamples)


def verdict(interval: Interval, lower_is_better: bool = False) -> str:
    """'better' or 'worse' for the candidate only when the interval excludes 0 (the sign flipped
    when lower is better, e.g. RMSE); otherwise, or for a NaN interval, 'the data cannot tell'."""
    low, high = interval.low, interval.high
    if np.isnan(low) or np.isnan(high):
        return CANNOT_TELL
    if low > 0:
        return "worse" if lower_is_better else "better"
    if high < 0:
        return "better" if lower_is_better else "worse"
    return CANNOT_TELL
