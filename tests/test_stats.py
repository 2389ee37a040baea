"""Speaker-level statistics: speaker means, the sign-flip permutation p against brute force, the
interval that inverts it (against brute force, its coverage, its agreement with p), and verdicts."""

import itertools
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from sendflow.report.stats import (
    CANNOT_TELL,
    Interval,
    interval_text,
    sign_flip,
    speaker_interval,
    speaker_means,
    verdict,
)


def simulate(rng, n_speakers, mu, sd_speaker=0.15, sd_clip=0.1, sd_run=0.05, sd_cell=0.03, clips=(2, 8), n_repeats=3):
    """Long table of per-clip differences: true mean mu + speaker effect + clip effect + an effect
    of each training run (shared by all clips of the speaker) + per-cell noise."""
    n_clips = rng.integers(clips[0], clips[1] + 1, n_speakers)
    speaker = np.repeat(np.arange(n_speakers), n_clips)
    clip = np.concatenate([np.arange(k) for k in n_clips])
    clip_value = mu + rng.normal(0, sd_speaker, n_speakers)[speaker] + rng.normal(0, sd_clip, speaker.size)
    run = rng.normal(0, sd_run, (n_speakers, n_repeats))[speaker]
    value = clip_value[:, None] + run + rng.normal(0, sd_cell, (speaker.size, n_repeats))
    return pd.DataFrame(
        {
            "speaker": np.repeat(speaker, n_repeats),
            "clip_id": [f"clip{c}" for c in np.repeat(clip, n_repeats)],
            "repeat": np.tile(np.arange(n_repeats), speaker.size),
            "diff": value.ravel(),
        }
    )


def rows(*cells):
    return pd.DataFrame(cells, columns=["speaker", "clip_id", "repeat", "diff"])


# --- speaker_means and the interval's centre -------------------------------------------------


def test_speaker_means_by_hand_ignores_nan_rows_and_weights_clips_equally():
    table = rows(
        (7, "a", 0, 1.0),
        (7, "a", 1, 3.0),  # clip a: 2
        (7, "b", 0, 10.0),  # clip b lacks repeat 1: 10
        (7, "b", 1, np.nan),  # ignored
        (3, "x", 0, -1.0),
        (3, "x", 1, -3.0),  # clip x: -2
        (3, "y", 0, 4.0),
        (3, "y", 1, 6.0),  # clip y: 5
        (3, "z", 0, 0.0),
        (3, "z", 1, 0.0),  # clip z: 0
    )
    means = speaker_means(table, "diff")
    assert list(means.index) == [3, 7]
    assert means.loc[3] == pytest.approx((-2 + 5 + 0) / 3)
    # the clip with one repeat weighs as much as the one with two (a row mean would give 14/3)
    assert means.loc[7] == pytest.approx((2 + 10) / 2)

    interval = speaker_interval(table, "diff")
    assert interval.estimate == pytest.approx(((-2 + 5 + 0) / 3 + 6) / 2)
    assert interval.n_speakers == 2


# --- sign-flip permutation p -----------------------------------------------------------------


def brute_force_p(values):
    """Share of all sign patterns whose |sum| reaches the observed one, in exact arithmetic."""
    exact = [Fraction(str(v)) for v in values]
    observed = abs(sum(exact))
    patterns = list(itertools.product([1, -1], repeat=len(exact)))
    return sum(abs(sum(s * v for s, v in zip(signs, exact))) >= observed for signs in patterns) / len(patterns)


@pytest.mark.parametrize(
    "values",
    [
        [0.12, -0.03, 0.07, 0.2, 0.01, 0.05],
        [0.1, 0.2, 0.3, -0.6, 0.0, 0.4],  # ties that floating point sums miss by an ulp
        [0.0, 0.1, -0.1, 0.1, 0.0, 0.3],  # zeros and repeated magnitudes
        [0.5, 0.5, 0.5, 0.5, 0.5, 0.5],  # the smallest p, 2 / 64
    ],
)
def test_sign_flip_p_matches_brute_force(values):
    assert sign_flip(values).p == pytest.approx(brute_force_p(values), abs=1e-12)
    assert sign_flip([*values, np.nan]).p == sign_flip(values).p


def brute_force_interval(values, level=0.95):
    """The interval by its definition: the shifts delta whose brute-force p exceeds 1 - level,
    searched among the subset means (where p can change) and just beside them."""
    values = np.asarray(values, float)
    means = sorted(
        {
            float(values[list(s)].mean())
            for k in range(1, len(values) + 1)
            for s in itertools.combinations(range(len(values)), k)
        }
    )
    kept = [m for m in means if brute_force_p(values - m) > 1 - level]
    return min(kept), max(kept)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_interval_is_every_shift_the_test_does_not_reject(seed):
    values = np.round(np.random.default_rng(seed).normal(0.1, 0.2, 7), 3)
    result = sign_flip(values)
    low, high = brute_force_interval(values)
    assert (result.low, result.high) == pytest.approx((low, high), abs=1e-12)
    # just outside the ends the test rejects
    assert brute_force_p(values - (low - 1e-6)) <= 0.05 and brute_force_p(values - (high + 1e-6)) <= 0.05
    assert result.estimate == pytest.approx(values.mean()) and result.n_speakers == 7 and result.exact


def test_verdict_and_p_always_agree():
    """One story per comparison: the interval excludes 0 exactly when p <= 0.05, with exact and
    with Monte Carlo patterns."""
    rng = np.random.default_rng(12)
    for n, effect in itertools.product([6, 10, 20], [0.0, 0.05, 0.1, 0.2]):
        for _ in range(25):
            result = sign_flip(rng.normal(effect, 0.2, n), n_resamples=2000)
            assert (result.p <= 0.05) == (verdict(result) != CANNOT_TELL), result


def test_coverage_on_a_family_of_tables():
    """Tables like a comparison's (10 speakers x 2 clips x 3 repeats, the issue's standard
    deviations 0.20 between speakers, 0.09 between clips, 0.24 between repeats): with 10 speakers
    the interval's coverage is 1 - 2 * 25 / 1024 = 0.951 by construction; over 1,500 tables its
    Monte Carlo standard error is 0.0056, so the bounds are 3 standard errors."""
    rng = np.random.default_rng(37)
    effect, covered, n_tables = 0.05, 0, 1500
    for _ in range(n_tables):
        table = simulate(rng, 10, effect, sd_speaker=0.2, sd_clip=0.09, sd_run=0.0, sd_cell=0.24, clips=(2, 2))
        interval = speaker_interval(table, "diff")
        covered += interval.low <= effect <= interval.high
    assert abs(covered / n_tables - 0.951) <= 3 * 0.0056


def test_monte_carlo_agrees_with_exact_and_repeats_with_its_seed():
    values = np.random.default_rng(8).normal(0.03, 0.1, 12)
    exact = sign_flip(values)
    assert 0.01 < exact.p < 0.99  # a p in the range where Monte Carlo error shows
    sampled = sign_flip(values, exact_up_to=0, n_resamples=20_000, seed=3)
    assert not sampled.exact and sampled.p == pytest.approx(exact.p, abs=0.02)
    width = exact.high - exact.low
    assert sampled.low == pytest.approx(exact.low, abs=0.05 * width)
    assert sampled.high == pytest.approx(exact.high, abs=0.05 * width)
    assert sign_flip(values, exact_up_to=0, n_resamples=20_000, seed=3) == sampled
    assert sign_flip(values, exact_up_to=0, n_resamples=20_000, seed=4) != sampled
    assert sign_flip([0.5] * 10, exact_up_to=0, n_resamples=1000).p >= 1 / 1001


def test_edge_cases():
    empty = sign_flip([np.nan])
    assert empty.n_speakers == 0 and all(math.isnan(x) for x in empty[:4])
    assert sign_flip([0.0, 0.0, 0.0]).p == 1.0
    assert sign_flip([0.0] * 20).p == 1.0  # Monte Carlo branch
    with pytest.raises(ValueError):
        sign_flip([0.1] * 20, n_resamples=0)
    with pytest.raises(ValueError):
        sign_flip([0.1, 0.2], level=1.0)
    assert speaker_interval(rows((1, "a", 0, np.nan)), "diff").n_speakers == 0


def test_five_speakers_or_fewer_give_an_unbounded_interval():
    """With 5 speakers the smallest two-sided p is 2 / 32 > 0.05: no shift is ever rejected, so
    no data give a verdict; with 6 the smallest is 2 / 64 and a clear effect is bounded."""
    five = sign_flip([0.5, 0.6, 0.7, 0.8, 0.9])
    assert (five.low, five.high) == (-np.inf, np.inf) and five.p == pytest.approx(2 / 32)
    assert verdict(five) == CANNOT_TELL and interval_text(five.low, five.high) == "[unbounded]"
    six = sign_flip([0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    assert (six.low, six.high) == (0.5, 1.0) and six.p == pytest.approx(2 / 64) and verdict(six) == "better"


# --- verdicts --------------------------------------------------------------------------------


def test_a_p_below_001_reads_better_and_a_zero_effect_cannot_tell():
    rng = np.random.default_rng(1)
    clear = speaker_interval(simulate(rng, 15, 0.15, sd_speaker=0.1), "diff")
    assert clear.p < 0.01 and verdict(clear) == "better" and verdict(clear, lower_is_better=True) == "worse"
    # speakers alternate +d and -d around 0, their clips 0.1 either side: a zero effect with real spread
    zero = rows(
        *[
            (s, f"clip{k}", r, (-1) ** s * d + sign * 0.1)
            for s, d in enumerate(rng.uniform(0.05, 0.3, 12))
            for k, sign in enumerate([1, -1])
            for r in range(3)
        ]
    )
    flat = speaker_interval(zero, "diff")
    assert flat.low < 0 < flat.high and flat.p > 0.05
    assert verdict(flat) == CANNOT_TELL and verdict(flat, lower_is_better=True) == CANNOT_TELL


def test_verdicts_from_intervals():
    nan = float("nan")
    assert verdict(Interval(-0.2, -0.3, -0.1, 0.01, 9, True)) == "worse"
    assert verdict(Interval(-0.2, -0.3, -0.1, 0.01, 9, True), lower_is_better=True) == "better"
    assert verdict(Interval(0.0, 0.0, 0.1, 0.06, 9, True)) == CANNOT_TELL  # touching 0 does not exclude it
    assert verdict(Interval(nan, nan, nan, nan, 0, True)) == CANNOT_TELL
    assert interval_text(-0.01234, 0.5) == "[-0.012, +0.500]" and interval_text(nan, nan) == "n/a"
