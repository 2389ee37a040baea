"""Speaker-wise folds: roles never overlap, every speaker is tested once, seeds reproduce."""

import pandas as pd
import pytest

from sendflow.errors import SendDataError
from sendflow.folds import check_folds, make_folds


def toy_index(n_train=12, n_valid=4, n_test=4, clips=3):
    rows, speaker = [], 111
    for split, n in (("Train", n_train), ("Valid", n_valid), ("Test", n_test)):
        for _ in range(n):
            for clip in range(1, clips + (speaker % 2) + 1):  # uneven clip counts
                rows.append({"clip_id": f"{speaker}_{clip}", "speaker": speaker, "split": split})
            speaker += 1
    return pd.DataFrame(rows)


@pytest.mark.parametrize("k", [2, 3, 5])
def test_kfold_roles_are_disjoint_and_cover_train_valid(k):
    index = toy_index()
    folds = make_folds(index, "kfold", k=k, select_fraction=0.2, seed=3)
    assert sorted(folds["fold"].unique()) == list(range(k))
    per_fold_speaker = folds.groupby(["fold", "speaker"])["role"].nunique()
    assert (per_fold_speaker == 1).all()
    tested = folds[folds["role"] == "test"].groupby("speaker")["fold"].nunique()
    pool = set(index.loc[index["split"] != "Test", "speaker"])
    assert set(tested.index) == pool and (tested == 1).all()  # each tested exactly once
    assert not set(folds["speaker"]) & set(index.loc[index["split"] == "Test", "speaker"])
    for _, fold in folds.groupby("fold"):
        assert set(fold["role"]) == {"train", "select", "test"}
        assert len(fold) == len(index[index["split"] != "Test"])  # every pool clip has a role
    sizes = folds[folds["role"] == "test"].groupby("fold").size()
    assert sizes.max() - sizes.min() <= 4  # balanced by clip count


def test_kfold_is_deterministic_from_the_seed():
    index = toy_index()
    first = make_folds(index, "kfold", k=3, select_fraction=0.2, seed=11)
    assert first.equals(make_folds(index, "kfold", k=3, select_fraction=0.2, seed=11))
    assert not first.equals(make_folds(index, "kfold", k=3, select_fraction=0.2, seed=12))


def test_official_mode_uses_the_release_splits():
    index = toy_index()
    folds = make_folds(index, "official")
    assert folds["fold"].unique().tolist() == [0]
    assert folds.groupby("split")["role"].agg(set).to_dict() == {
        "Train": {"train"},
        "Valid": {"select"},
        "Test": {"test"},
    }


def test_too_few_speakers_is_a_clear_error():
    with pytest.raises(SendDataError, match="cv.k=5 needs at least 7"):
        make_folds(toy_index(n_train=3, n_valid=1), "kfold", k=5, select_fraction=0.2, seed=0)


def test_check_folds_catches_a_speaker_with_two_roles():
    leaky = pd.DataFrame(
        {
            "fold": [0, 0, 0, 0],
            "clip_id": ["1_1", "1_2", "2_1", "3_1"],
            "speaker": [1, 1, 2, 3],
            "split": "Train",
            "role": ["train", "test", "select", "test"],
        }
    )
    with pytest.raises(AssertionError, match="speaker 1 holds more than one role"):
        check_folds(leaky)


def test_official_mode_refuses_a_speaker_in_two_splits():
    index = toy_index()
    moved = index.index[index["clip_id"] == "111_2"]  # speaker 111 is in Train; one clip in Test
    index.loc[moved, "split"] = "Test"
    with pytest.raises(SendDataError, match=r"speaker 111 in Test, Train"):
        make_folds(index, "official")
