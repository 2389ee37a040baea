"""Modality dropout for fused features: the blanked member (here the video part) of a training
clip is exactly what a clip without it looks like to the model, only that member is touched,
the rate holds, and training with it is reproducible."""

import numpy as np
import pandas as pd
import pytest
from test_classifier import EDGES, settings, synthetic

from sendflow.classifier import train_and_predict
from sendflow.classifier.data import load_clips
from sendflow.classifier.train import prepare_clips
from sendflow.feature_table import Block
from sendflow.sources.fusion import Member, fuse

LEARNED, UNITS = 4, 3
BLOCKS = [Block("resattn", 0, LEARNED + 1, True), Block("emotient", LEARNED + 1, LEARNED + 1 + UNITS, False)]


def rate(value):
    """A rate by member name (a number alone means the same: every member but the base)."""
    return {"resattn": value}


def fused_clips(seed=0):
    """A fused table of 3 speakers: speaker 2 has one clip with video and one without, speaker 3
    none with video."""
    rng = np.random.default_rng(seed)

    def table(parts):
        rows = [
            {"clip_id": c, "speaker": s, "step": i, "t": i * 0.5, "n_frames": 1, "valence": float(np.sin(i / 3 + s))}
            for c, (s, x) in parts.items()
            for i in range(len(x))
        ]
        return pd.DataFrame(rows), np.concatenate([x for _, x in parts.values()]).astype(np.float32)

    learned = table({"1_1": (1, rng.normal(3, 2, (30, LEARNED))), "2_1": (2, rng.normal(-1, 1, (25, LEARNED)))})
    units = table(
        {
            c: (s, rng.normal(0, 1, (n, UNITS)))
            for c, s, n in (("1_1", 1, 30), ("2_1", 2, 25), ("2_2", 2, 20), ("3_1", 3, 22))
        }
    )
    roles = {"1_1": "train", "2_1": "train", "2_2": "train", "3_1": "train"}
    steps, x, blocks, _ = fuse([Member("emotient", *units, True), Member("resattn", *learned, False)], roles)
    assert blocks == BLOCKS
    features = steps.assign(feature=list(x))
    return load_clips(features, EDGES)


@pytest.mark.parametrize("speaker_norm", [True, False])
def test_a_blanked_clip_looks_like_a_clip_without_video(speaker_norm):
    clips = fused_clips()
    cfg = {"speaker_norm": speaker_norm, "modality_dropout": rate(1.0)}
    prepared, mean, std, dropout = prepare_clips(clips, sorted(clips), cfg, BLOCKS)
    for no_video in ("2_2", "3_1"):
        assert (prepared[no_video].x[:, : LEARNED + 1] == 0).all()
        assert (prepared[no_video].x[:, LEARNED + 1 :] != 0).all()  # its action units stay
    # the video part's statistics come from the steps with video only
    raw = np.concatenate([clips[c].x[:, :LEARNED] for c in ("1_1", "2_1")])
    if not speaker_norm:
        np.testing.assert_allclose(mean[:LEARNED], raw.mean(0), rtol=1e-5)
    with_video = np.concatenate([prepared[c].x[:, :LEARNED] for c in ("1_1", "2_1")])
    np.testing.assert_allclose(with_video.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(with_video.std(0), 1, atol=1e-4)

    blanked = dropout.apply([prepared["2_1"]], np.random.default_rng(0))[0]
    assert (blanked.x[:, : LEARNED + 1] == 0).all()
    np.testing.assert_array_equal(blanked.x[:, LEARNED + 1 :], prepared["2_1"].x[:, LEARNED + 1 :])  # units kept
    assert not np.allclose(blanked.x, prepared["2_1"].x)
    np.testing.assert_array_equal(blanked.valence, prepared["2_1"].valence)


def test_the_rate_is_the_share_of_clips_blanked_and_draws_are_reproducible():
    clips = fused_clips()
    prepared, _, _, dropout = prepare_clips(
        clips, sorted(clips), {"speaker_norm": True, "modality_dropout": 0.3}, BLOCKS
    )
    many = [prepared["1_1"]] * 2000
    draws = [dropout.apply(many, np.random.default_rng([7, epoch])) for epoch in (1, 1, 2)]
    blanked = [np.array([not np.array_equal(c.x, prepared["1_1"].x) for c in d]) for d in draws]
    assert abs(blanked[0].mean() - 0.3) < 0.04  # binomial sd ~0.01
    np.testing.assert_array_equal(blanked[0], blanked[1])  # same (seed, epoch): same clips
    assert not np.array_equal(blanked[0], blanked[2])


def test_no_dropout_without_a_masked_member_or_at_rate_zero():
    clips = fused_clips()
    assert prepare_clips(clips, sorted(clips), {"speaker_norm": True, "modality_dropout": rate(0.5)})[3] is None
    assert prepare_clips(clips, sorted(clips), {"speaker_norm": True, "modality_dropout": rate(0.0)}, BLOCKS)[3] is None


def test_training_with_dropout_changes_the_model_and_repeats_exactly(tmp_path):
    features, folds = synthetic()
    cfg = settings("mstcn", epochs=3, patience=0)

    blocks = [Block("video", 0, 4, True)]

    def history(rate, name):
        train_and_predict(
            features,
            folds,
            0,
            "three",
            EDGES,
            {**cfg, "modality_dropout": rate},
            3,
            tmp_path / name,
            blocks=blocks,
        )
        return pd.read_csv(tmp_path / name / "history.csv")["train_loss"].to_numpy()

    plain, dropped, again = history(0.0, "plain"), history(0.8, "dropped"), history(0.8, "again")
    assert not np.allclose(plain, dropped)
    np.testing.assert_array_equal(dropped, again)
