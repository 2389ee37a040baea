"""compare() with two training repeats, against numbers worked out by hand.

The convention asserted (sendflow/report/stats.py, compare.py): candidate and reference are
paired on the same fold, repeat and clip; a clip's difference is the mean over the repeats in
which both have a score (a repeat whose score is NaN is left out, not counted as 0); a speaker's
difference is the mean over its clips; the effect is the mean over speakers. The interval is a
bootstrap of speakers, then clips, then repeats (drawn once per drawn speaker), checked here
against the exact bootstrap distribution enumerated by brute force.
"""

from itertools import product

import numpy as np
import pandas as pd
import pytest

from sendflow.report.compare import compare

NAN = np.nan
# (speaker, fold, clip): the candidate's gain over the reference in repeat 0 and repeat 1
DIFFS = {
    (1, 0, "1_1"): (0.10, 0.30),
    (1, 0, "1_2"): (0.05, NAN),  # the candidate has no CCC in repeat 1 (e.g. a constant prediction)
    (2, 0, "2_1"): (-0.20, 0.00),
    (3, 1, "3_1"): (0.40, 0.20),
    (3, 1, "3_2"): (0.00, 0.10),
}
REPEAT_SHIFT = (0.0, 0.3)  # repeat 1 scores much higher for both models: pairing across repeats would show
COLUMNS = ["extractor", "classifier", "labels", "fold", "repeat", "speaker", "clip_id", "ccc"]


def clip_table(diffs) -> pd.DataFrame:
    rows = []
    for (speaker, fold, clip), gains in diffs.items():
        for repeat, gain in enumerate(gains):
            reference = 0.2 + 0.01 * speaker + REPEAT_SHIFT[repeat]
            rows.append(("resnet", "mstcn", "three", fold, repeat, speaker, clip, reference))
            rows.append(("resattn", "mstcn", "three", fold, repeat, speaker, clip, reference + gain))
    return pd.DataFrame(rows, columns=COLUMNS)


# fold scores (ccc) per model, fold and repeat; every fold has the same clips for both models
FOLD_CCC = {
    ("resattn", 0): (0.5, 0.7),
    ("resnet", 0): (0.45, 0.55),
    ("resattn", 1): (0.3, 0.2),
    ("resnet", 1): (0.4, 0.15),
}


def fold_table() -> pd.DataFrame:
    rows = [
        (e, "mstcn", "three", fold, repeat, score, 2)
        for (e, fold), scores in FOLD_CCC.items()
        for repeat, score in enumerate(scores)
    ]
    return pd.DataFrame(rows, columns=["extractor", "classifier", "labels", "fold", "repeat", "ccc", "n_clips"])


def speaker_values(diffs) -> dict:
    """{speaker: [per clip: [per repeat: diff]]}."""
    out = {}
    for (speaker, _, _), gains in diffs.items():
        out.setdefault(speaker, []).append(list(gains))
    return out


def exact_bootstrap(diffs):
    """Every outcome of the hierarchical bootstrap with its probability: draw speakers with
    replacement; per drawn speaker draw its clips with replacement and its repeats with
    replacement (one draw shared by its clips); average what is not NaN at each level."""
    speakers = list(speaker_values(diffs).values())
    mixture = {}  # a drawn speaker's mean -> probability (a speaker is drawn with 1 / n each)
    for clips in speakers:
        n_c, n_r = len(clips), len(clips[0])
        weight = 1 / len(speakers) / (n_c**n_c * n_r**n_r)
        for drawn_clips in product(range(n_c), repeat=n_c):
            for drawn_repeats in product(range(n_r), repeat=n_r):
                clip_means = []
                for c in drawn_clips:
                    values = [clips[c][r] for r in drawn_repeats if not np.isnan(clips[c][r])]
                    if values:
                        clip_means.append(sum(values) / len(values))
                key = round(sum(clip_means) / len(clip_means), 12) if clip_means else NAN
                mixture[key] = mixture.get(key, 0) + weight
    outcomes, probs = [], []
    for draw in product(mixture.items(), repeat=len(speakers)):
        finite = [v for v, _ in draw if not np.isnan(v)]
        if finite:
            outcomes.append(sum(finite) / len(finite))
            probs.append(np.prod([p for _, p in draw]))
    order = np.argsort(outcomes)
    return np.asarray(outcomes)[order], np.cumsum(np.asarray(probs)[order]) / sum(probs)


def quantile(values, cumulative, q):
    return values[np.searchsorted(cumulative, q)]


def test_speaker_means_paired_differences_and_interval_by_hand():
    row = compare(fold_table(), clip_table(DIFFS), "extractor", "resattn", "resnet", n_resamples=2000, seed=0)
    (row,) = row.to_dict("records")
    # by hand: speaker 1 = mean(mean(0.1, 0.3), 0.05) = 0.125 (pooling its rows would give 0.15);
    # speaker 2 = mean(-0.2, 0.0) = -0.1; speaker 3 = mean(0.3, 0.05) = 0.175
    speaker = {1: 0.125, 2: -0.1, 3: 0.175}
    assert row["mean_diff"] == pytest.approx(sum(speaker.values()) / 3)
    assert row["mean_diff"] != pytest.approx((0.15 - 0.1 + 0.175) / 3)  # not rows pooled within a speaker
    assert (row["n_speakers"], row["n_clips"], row["n_repeats"], row["speakers_better"]) == (3, 5, 2, 2)
    # exact sign flip over the three speaker means: |sum| >= 0.2 for +++, +-+ and their mirrors
    d = np.array(list(speaker.values()))
    flips = [abs(np.dot(s, d)) >= abs(d.sum()) - 1e-12 for s in product((1, -1), repeat=3)]
    assert row["p"] == pytest.approx(sum(flips) / 8) == pytest.approx(0.5)
    # per fold: the fold score's difference averaged over repeats, (0.05 + 0.15) / 2 and (-0.1 + 0.05) / 2
    assert row["fold_diffs"] == "+0.100 -0.025" and (row["folds_better"], row["n_folds"]) == (1, 2)
    # With 3 speakers the expanded percentile tail is ~1e-7: the interval is the range of the 2000
    # draws, which lies within the exact distribution's range and (but with probability
    # < (1 - 0.005) ** 2000 ~ 5e-5 for a seed) beyond its 0.5% and 99.5% quantiles.
    values, cumulative = exact_bootstrap(DIFFS)
    assert values[0] - 1e-12 <= row["ci_low"] <= quantile(values, cumulative, 0.005)
    assert quantile(values, cumulative, 0.995) <= row["ci_high"] <= values[-1] + 1e-12
    assert row["verdict"] == "the data cannot tell"  # 0 is inside


def test_repeats_are_paired_not_crossed():
    """The same gain of 0.1 on every clip in every repeat, while both models score 0.3 higher in
    repeat 1: paired by repeat every difference is 0.1, so every bootstrap draw is 0.1; pairing
    repeat 0 with repeat 1 would give differences of -0.2 and 0.4."""
    diffs = {key: (0.1, 0.1) for key in DIFFS}
    (row,) = compare(fold_table(), clip_table(diffs), "extractor", "resattn", "resnet").to_dict("records")
    assert row["mean_diff"] == pytest.approx(0.1)
    assert row["ci_low"] == pytest.approx(0.1) and row["ci_high"] == pytest.approx(0.1)
    assert row["verdict"] == "better" and row["p"] == pytest.approx(2 / 8)
