"""Speaker-level statistics: the hierarchical bootstrap's interval (right centre, width, coverage,
which levels it resamples), the sign-flip permutation p against brute force, and verdicts."""

import itertools
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from sendflow.report.stats import (
    CANNOT_TELL,
    Interval,
    expanded_tail,
    hierarchical_bootstrap,
    sign_flip_p,
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

    interval = hierarchical_bootstrap(table, "diff", n_resamples=200)
    assert interval.estimate == pytest.approx(((-2 + 5 + 0) / 3 + 6) / 2)
    assert interval.n_speakers == 2
    assert interval.low <= interval.estimate <= interval.high


def test_same_seed_same_interval_and_another_seed_differs():
    table = simulate(np.random.default_rng(5), 15, 0.05)
    first = hierarchical_bootstrap(table, "diff", n_resamples=500, seed=3)
    assert hierarchical_bootstrap(table, "diff", n_resamples=500, seed=3) == first
    other = hierarchical_bootstrap(table, "diff", n_resamples=500, seed=4)
    assert other.estimate == first.estimate
    assert (other.low, other.high) != (first.low, first.high)


def test_no_usable_rows_bad_arguments_and_a_single_speaker():
    empty = hierarchical_bootstrap(rows((1, "a", 0, np.nan)), "diff")
    assert empty.n_speakers == 0 and all(math.isnan(x) for x in empty[:3])
    with pytest.raises(ValueError):
        hierarchical_bootstrap(rows((1, "a", 0, 1.0)), "diff", n_resamples=0)
    one = hierarchical_bootstrap(simulate(np.random.default_rng(0), 1, 0.0, clips=(10, 10)), "diff")
    assert one.n_speakers == 1 and one.low < one.estimate < one.high


# --- the bootstrap's levels ------------------------------------------------------------------


def test_large_table_interval_holds_the_true_mean_with_the_normal_width():
    mu = 0.04
    table = simulate(np.random.default_rng(11), 200, mu)
    interval = hierarchical_bootstrap(table, "diff", n_resamples=4000)
    means = speaker_means(table, "diff")
    assert interval.n_speakers == 200
    assert interval.estimate == pytest.approx(means.mean())
    assert interval.low < mu < interval.high
    normal_width = 2 * 1.96 * means.std() / np.sqrt(len(means))
    assert interval.high - interval.low == pytest.approx(normal_width, rel=0.15)


def test_coverage_of_the_true_mean_over_small_datasets():
    # 12 speakers whose own effect dominates: an interval that treats clips as the independent
    # units covers about 60% of the time, and one that resamples clips but not speakers about
    # 35%; the percentile interval over speakers covers a little under or near 95%.
    mu, rng = 0.05, np.random.default_rng(2024)
    covered = 0
    for i in range(200):
        interval = hierarchical_bootstrap(simulate(rng, 12, mu), "diff", n_resamples=400, seed=i)
        covered += interval.low <= mu <= interval.high
    assert 176 <= covered <= 198


def test_repeats_are_drawn_once_per_speaker_and_shared_by_its_clips():
    # every clip has the same value in each repeat, 1 in the last of 4 and 0 in the others: the
    # statistic is k/4 with k ~ Binomial(4, 1/4) so P(0) = 0.32 and P(>= 3/4) = 0.05, making
    # the 95% interval exactly (0, 3/4). Repeats drawn per clip would average 40 draws instead
    # and give a top near 0.4.
    table = rows(*[(1, f"clip{c}", r, float(r == 3)) for c in range(10) for r in range(4)])
    interval = hierarchical_bootstrap(table, "diff", n_resamples=2000)
    assert interval.estimate == pytest.approx(0.25)
    assert (interval.low, interval.high) == (0.0, 0.75)


def reference_interval(table, n_resamples, seed):
    """The same bootstrap written plainly, one resample and one speaker at a time."""
    grids = [g.pivot(index="clip_id", columns="repeat", values="diff").to_numpy() for _, g in table.groupby("speaker")]
    rng = np.random.default_rng(seed)
    stats = []
    for _ in range(n_resamples):
        means = []
        for s in rng.integers(0, len(grids), len(grids)):
            n_clips, n_repeats = grids[s].shape
            drawn = grids[s][np.ix_(rng.integers(0, n_clips, n_clips), rng.integers(0, n_repeats, n_repeats))]
            means.append(np.nanmean(np.nanmean(drawn, axis=1)))  # NaN if all drawn cells are missing
        stats.append(np.nanmean(means))
    alpha = expanded_tail(0.025, len(grids))
    return np.nanquantile(stats, [alpha, 1 - alpha])


@pytest.mark.filterwarnings("ignore:Mean of empty slice")
def test_agrees_with_a_plain_reference_on_unequal_clip_counts():
    # 3 speakers with 2, 3 and 30 clips and most spread within speakers: drawing any other
    # number of clips than the speaker has (or ignoring a level) changes the width a lot
    rng = np.random.default_rng(4)
    parts = [
        simulate(rng, 1, 0.0, sd_clip=0.3, sd_run=0.1, clips=(k, k)).assign(speaker=s) for s, k in enumerate([2, 3, 30])
    ]
    table = pd.concat(parts, ignore_index=True).iloc[1:]  # one clip lacks a repeat
    interval = hierarchical_bootstrap(table, "diff", n_resamples=4000)
    low, high = reference_interval(table, 4000, seed=99)
    width = high - low
    assert interval.low == pytest.approx(low, abs=0.08 * width)
    assert interval.high == pytest.approx(high, abs=0.08 * width)


def test_a_missing_repeat_row_is_tolerated():
    table = simulate(np.random.default_rng(3), 10, 0.1)
    holed = table.drop(index=[0, 7, 20]).sample(frac=1, random_state=0)  # row order must not matter
    interval = hierarchical_bootstrap(holed, "diff", n_resamples=500)
    assert interval.estimate == pytest.approx(speaker_means(holed, "diff").mean())
    assert interval.n_speakers == 10 and interval.low < interval.estimate < interval.high


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
    assert sign_flip_p(values) == pytest.approx(brute_force_p(values), abs=1e-12)
    assert sign_flip_p([*values, np.nan]) == sign_flip_p(values)


def test_sign_flip_monte_carlo_agrees_with_exact():
    values = np.random.default_rng(8).normal(0.03, 0.1, 10)
    exact = sign_flip_p(values)
    assert 0.01 < exact < 0.99  # a p in the range where Monte Carlo error shows
    assert sign_flip_p(values, exact_up_to=0) == pytest.approx(exact, abs=0.01)
    assert sign_flip_p([0.5] * 10, exact_up_to=0, n_resamples=1000) >= 1 / 1001


def test_sign_flip_edge_cases():
    assert math.isnan(sign_flip_p([np.nan]))
    assert sign_flip_p([0.0, 0.0, 0.0]) == 1.0
    assert sign_flip_p([0.0] * 20) == 1.0  # Monte Carlo branch


# --- verdicts --------------------------------------------------------------------------------


def test_verdicts_from_tables():
    rng = np.random.default_rng(1)
    # each speaker's clips are +d and -d: a zero effect with real spread
    zero = rows(
        *[
            (s, f"clip{k}", r, sign * d)
            for s, d in enumerate(rng.uniform(0.05, 0.3, 12))
            for k, sign in enumerate([1, -1])
            for r in range(3)
        ]
    )
    flat = hierarchical_bootstrap(zero, "diff")
    assert flat.low < 0 < flat.high
    assert verdict(flat) == CANNOT_TELL and verdict(flat, lower_is_better=True) == CANNOT_TELL

    clear = hierarchical_bootstrap(simulate(rng, 20, 0.3, sd_speaker=0.05), "diff")
    assert verdict(clear) == "better"
    assert verdict(clear, lower_is_better=True) == "worse"


def test_verdicts_from_intervals():
    assert verdict(Interval(-0.2, -0.3, -0.1, 5)) == "worse"
    assert verdict(Interval(-0.2, -0.3, -0.1, 5), lower_is_better=True) == "better"
    assert verdict(Interval(0.0, 0.0, 0.1, 5)) == CANNOT_TELL  # touching 0 does not exclude it
    assert verdict(Interval(float("nan"), float("nan"), float("nan"), 0)) == CANNOT_TELL


def test_few_speakers_get_the_expanded_percentile_interval():
    """With 5 speakers the plain 2.5% tail covers about 85%; the expanded tail is Student's t with
    the n - 1 variance: Phi(-sqrt(5/4) * t_4(0.975)), and it tends to 2.5% as speakers grow."""
    assert expanded_tail(0.025, 5) == pytest.approx(0.000954, rel=1e-3)
    assert expanded_tail(0.025, 10_000) == pytest.approx(0.025, rel=1e-3)
    assert expanded_tail(0.025, 1) == 0.025
    rng = np.random.default_rng(11)
    intervals = [
        hierarchical_bootstrap(simulate(rng, 5, 0.0, sd_clip=0.05, sd_run=0.01), "diff", n_resamples=1000, seed=k)
        for k in range(150)
    ]
    covered = sum(i.low <= 0 <= i.high for i in intervals)
    assert covered >= 0.9 * 150  # the plain percentile interval covers about 85% here
