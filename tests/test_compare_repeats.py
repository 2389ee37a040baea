"""compare() with two training repeats, against numbers worked out by hand.

The convention asserted (sendflow/report/stats.py, compare.py): candidate and reference are
paired on the same fold, repeat and clip; a clip's difference is the mean over the repeats in
which both have a score (a repeat whose score is NaN is left out, not counted as 0); a speaker's
difference is the mean over its clips; the effect is the mean over speakers, and the p and the
interval are the sign-flip test's over those speaker means (tests/test_stats.py checks both
against brute force).
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


def test_speaker_means_paired_differences_and_interval_by_hand():
    row = compare(fold_table(), clip_table(DIFFS), "extractor", "resattn", "resnet", "ccc", seed=0)
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
    # with 3 speakers the smallest two-sided p is 2 / 8: no interval can exclude anything
    assert (row["ci_low"], row["ci_high"]) == (-np.inf, np.inf)
    assert row["verdict"] == "the data cannot tell"  # 0 is inside


def test_repeats_are_paired_not_crossed():
    """The same gain of 0.1 on every clip in every repeat, while both models score 0.3 higher in
    repeat 1: paired by repeat every speaker's difference is 0.1, and the sign-flip p is the
    smallest 3 speakers allow; pairing repeat 0 with repeat 1 would give differences of -0.2
    and 0.4."""
    diffs = {key: (0.1, 0.1) for key in DIFFS}
    (row,) = compare(fold_table(), clip_table(diffs), "extractor", "resattn", "resnet", "ccc").to_dict("records")
    assert row["mean_diff"] == pytest.approx(0.1)
    assert row["speakers_better"] == 3 and row["p"] == pytest.approx(2 / 8)
