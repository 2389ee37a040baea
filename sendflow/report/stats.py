"""Speaker-level statistics: the interval and p-value of every score and paired comparison.

The unit of analysis is the test speaker: clips of one speaker share a face, a rater pool and a
fold (so one training run), and are not independent. Each speaker's mean over its clips (of each
clip's mean over training repeats) already carries the spread of its clips and repeats, so the
statistics work on those speaker means. The interval inverts the sign-flip permutation test
whose p the comparisons report, so an interval that excludes 0 and p <= 0.05 say the same thing;
`bench/coverage.py` measured its coverage against the bootstrap intervals (docs/results.md).

Tables are long, with columns speaker, clip_id, repeat (a training repeat) and a value column
(e.g. diff = candidate minus reference per-clip CCC); rows whose value is NaN are ignored.
"""

from typing import NamedTuple

import numpy as np
import pandas as pd

KEYS = ["speaker", "clip_id", "repeat"]
LEVEL = 0.95
EXACT_UP_TO = 16  # speakers: all 2**n sign patterns up to here, Monte Carlo above
MONTE_CARLO_PATTERNS = 100_000
CANNOT_TELL = "the data cannot tell"
METHOD = "sign-flip interval over test speakers"  # how every interval is made, in one phrase


def clip_repeat_values(table: pd.DataFrame, value: str) -> pd.Series:
    """One value per (speaker, clip, repeat); duplicate rows are averaged so no row counts twice."""
    usable = table.loc[table[value].notna(), [*KEYS, value]]
    return usable.groupby(KEYS, sort=True)[value].mean()


def speaker_means(table: pd.DataFrame, value: str) -> pd.Series:
    """Per speaker (index sorted): mean over the speaker's clips of the clip's mean over repeats.
    Averaging repeats first gives every clip equal weight, whatever repeats it lacks."""
    clips = clip_repeat_values(table, value).groupby(level=["speaker", "clip_id"]).mean()
    return clips.groupby(level="speaker").mean()


def _flip_set_means(d: np.ndarray, exact_up_to: int, n_resamples: int, seed: int):
    """The sign-flip test's patterns as the means of the speakers each pattern flips.

    Returns the means of the non-empty flipped sets, how many patterns there are in all, and how
    many of them flip nothing (the observed pattern, and in Monte Carlo any empty draw). All
    2**n patterns when n <= exact_up_to, else the observed one plus n_resamples random ones."""
    n = d.size
    if n <= exact_up_to:
        flips = (np.arange(1, 2**n)[:, None] >> np.arange(n)) & 1  # every non-empty set
        n_patterns = 2**n
    else:
        if n_resamples < 1:
            raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
        flips = np.random.default_rng(seed).integers(0, 2, (n_resamples, n))
        n_patterns = n_resamples + 1
    sizes = flips.sum(axis=1)
    n_empty = n_patterns - int((sizes > 0).sum())
    flips, sizes = flips[sizes > 0], sizes[sizes > 0]
    return (flips @ d) / sizes, n_patterns, n_empty


class Interval(NamedTuple):
    estimate: float  # mean over speakers of the speaker means
    low: float  # every shift the test does not reject at the level: -inf/+inf when too few speakers
    high: float
    p: float  # two-sided p of "the mean is 0"
    n_speakers: int
    exact: bool  # all 2**n sign patterns (else Monte Carlo)


def sign_flip(
    speaker_values,
    level: float = LEVEL,
    exact_up_to: int = EXACT_UP_TO,
    n_resamples: int = MONTE_CARLO_PATTERNS,
    seed: int = 0,
) -> Interval:
    """The paired sign-flip permutation test over speakers, and the interval that inverts it.

    Under "the mean difference is delta", each speaker's value minus delta is as likely + as -.
    Flipping the signs of a set A of speakers moves the sum of (d - delta) down exactly when the
    mean of d over A exceeds delta, so the one-sided p of delta counts the flipped sets whose
    mean is <= delta (and the empty set): the test's whole verdict on every delta is read off
    the sorted means of the flipped sets (Hartigan 1969). The two-sided p is twice the smaller
    one-sided p; the interval holds every delta with p > 1 - level, so the interval excludes 0
    exactly when p <= 1 - level, and its coverage is at least `level` whenever the speakers'
    values are independent and symmetric about their mean (exact up to the patterns'
    granularity: 95.1% for 10 speakers, 95.0% for 15). Too few speakers for any pattern count to
    reach the level (5 or fewer at 95%) give an unbounded interval. Fixed seed -> same result."""
    d = np.asarray(speaker_values, float).ravel()
    d = d[~np.isnan(d)]
    n = d.size
    if n == 0:
        return Interval(float("nan"), float("nan"), float("nan"), float("nan"), 0, True)
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    means, n_patterns, n_empty = _flip_set_means(d, exact_up_to, n_resamples, seed)
    # flipped sets whose mean equals 0 up to rounding count on both sides, as exact ties do
    tol = 1e-12 * np.abs(d).max()
    below, above = n_empty + int((means <= tol).sum()), n_empty + int((means >= -tol).sum())
    p = min(1.0, 2 * min(below, above) / n_patterns)
    # delta is kept while each one-sided count exceeds (1 - level) / 2 of the patterns
    rank = int(np.floor((1 - level) / 2 * n_patterns + 1e-9)) + 1 - n_empty  # 1-based, in `means`
    if rank < 1:
        low, high = -np.inf, np.inf
    else:
        ordered = np.partition(means, [rank - 1, means.size - rank])
        low, high = float(ordered[rank - 1]), float(ordered[means.size - rank])
    return Interval(float(d.mean()), low, high, p, n, n <= exact_up_to)


def speaker_interval(table: pd.DataFrame, value: str, seed: int = 0) -> Interval:
    """`sign_flip` of the speaker means of `value`: its interval, and its p against 0."""
    return sign_flip(speaker_means(table, value), seed=seed)


def interval_text(low: float, high: float, digits: int = 3, signed: bool = True) -> str:
    """`[low, high]`; 'n/a' when undefined, 'unbounded' when too few speakers bound it."""
    if np.isnan(low) or np.isnan(high):
        return "n/a"
    if np.isinf(low) or np.isinf(high):
        return "[unbounded]"
    sign = "+" if signed else ""
    return f"[{low:{sign}.{digits}f}, {high:{sign}.{digits}f}]"


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
