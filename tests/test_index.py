"""The clip index on a SEND tree written by something else, and on each kind of bad input."""

import shutil

import pandas as pd
import pytest
from conftest import make_mp4, write_observer

from sendflow.errors import SendDataError
from sendflow.index import build_index
from sendflow.ratings import read_observer, read_self


def test_foreign_layout_indexes_correctly(foreign_root):
    index = build_index(foreign_root).set_index("clip_id")
    assert sorted(index.index) == ["111_1", "112_1", "113_2", "114_3", "115_1"]
    assert index.loc["111_1", "split"] == "Train" and index.loc["115_1", "split"] == "Valid"
    assert index.loc["112_1", "split"] == "Test"
    assert index.loc["113_2", "video_path"].endswith("ID113_vid2_downsized.mp4")
    assert index.loc["111_1", "self_path"].endswith("target_111_1_normal.csv")
    assert index.loc["111_1", "emotient_path"].endswith("ID111_vid1_crop_downsized.txt")
    assert pd.isna(index.loc["113_2", "self_path"])
    # Limited use: listed, no video, duration from the ratings.
    assert not index.loc["114_3", "has_video"] and pd.isna(index.loc["114_3", "video_path"])
    assert index.loc["114_3", "duration_s"] == pytest.approx(2.5)
    # Ragged file: the blank, NaN and text rows are dropped, the six real rows kept.
    assert index.loc["113_2", "n_ratings"] == 6
    assert index.loc["111_1", "duration_s"] == pytest.approx(3.0, abs=0.1)
    assert index.loc["111_1", "speaker"] == 111 and index.loc["111_1", "clip"] == 1


def test_ratings_map_to_valence_with_stripped_self_column(foreign_root):
    observer = read_observer(foreign_root / "ratings/train/observer_EWE/results_111_1.csv")
    assert observer["valence"].iloc[0] == pytest.approx(0.0)  # ewe 50 -> 0
    assert observer["valence"].iloc[1] == pytest.approx(0.2)  # ewe 60 -> 0.2
    own = read_self(foreign_root / "ratings/train/target/target_111_1_normal.csv")
    assert list(own.columns) == ["time", "valence"]
    assert own["valence"].iloc[1] == pytest.approx(2 * 0.55 - 1)


def test_video_without_observer_ratings_names_the_video(foreign_root):
    make_mp4(foreign_root / "videos/test/ID199_vid1_crop_downsized.mp4", 1)
    with pytest.raises(SendDataError, match=r"ID199_vid1_crop_downsized\.mp4.*no observer ratings"):
        build_index(foreign_root)


def test_duplicate_clip_across_splits_is_refused(foreign_root):
    write_observer(foreign_root / "ratings/valid/observer_EWE/results_111_1.csv", 3)
    with pytest.raises(SendDataError, match="duplicate clip ID 111_1"):
        build_index(foreign_root)


def test_both_video_name_forms_for_one_clip_is_a_duplicate(foreign_root):
    shutil.copy(
        foreign_root / "videos/train/ID111_vid1_crop_downsized.mp4",
        foreign_root / "videos/train/ID111_vid1_downsized.mp4",
    )
    with pytest.raises(SendDataError, match="duplicate clip ID 111_1"):
        build_index(foreign_root)


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"\x00\x01\x02garbage\xff\xfe", "unreadable CSV"),
        (b"when,what\n1,2\n", "missing column"),
        (b"time,evaluatorWeightedEstimate,SDofEWE\nx,y,z\n", "no row with numeric values"),
        (b"", "unreadable CSV"),
    ],
)
def test_unreadable_rating_csv_names_the_file(foreign_root, content, problem):
    bad = foreign_root / "ratings/test/observer_EWE/results_112_1.csv"
    bad.write_bytes(content)
    with pytest.raises(SendDataError, match=rf"results_112_1\.csv.*{problem}"):
        build_index(foreign_root)


def test_missing_and_empty_roots(tmp_path):
    with pytest.raises(SendDataError, match="does not exist"):
        build_index(tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SendDataError, match="empty"):
        build_index(empty)
    (empty / "README").write_text("not a dataset")
    with pytest.raises(SendDataError, match="not a SENDv1 root"):
        build_index(empty)


@pytest.mark.parametrize(
    "rows, problem",
    [
        (["0.0,500,2", "0.5,600,2"], r"2 evaluatorWeightedEstimate value\(s\) outside 0-100 \(e\.g\. 500 at 0 s\)"),
        (["-1.0,50,2", "-0.5,60,2"], "every rating time is negative"),
    ],
)
def test_ratings_on_the_wrong_scale_or_clock_fail_naming_the_file(tmp_path, rows, problem):
    path = tmp_path / "results_1_1.csv"
    path.write_text("time,evaluatorWeightedEstimate,SDofEWE\n" + "\n".join(rows) + "\n")
    with pytest.raises(SendDataError, match=problem) as error:
        read_observer(path)
    assert str(path) in str(error.value)


def test_dropped_rows_are_counted_in_the_log(tmp_path, caplog):
    path = tmp_path / "results_1_1.csv"
    path.write_text("time,evaluatorWeightedEstimate,SDofEWE\n0.0,50,2\n0.5,oops,2\n1.0,NaN,\n1.5,60,2\n")
    with caplog.at_level("INFO"):
        assert len(read_observer(path)) == 2
    assert f"{path}: 2 of 4 rows dropped" in caplog.text
