"""The clip index on a SEND tree written by something else, and on each kind of bad input."""

import shutil
from functools import partial

import pandas as pd
import pytest
from conftest import PROJECT, make_mp4, write_observer

from sendflow.config import schema_defaults
from sendflow.errors import SendDataError
from sendflow.frames.decode import decode_frames
from sendflow.index import build_index
from sendflow.ratings import read_observer, read_self

# The index as a default config builds it: unknown split folders and odd rating files handled
# as data.unknown_split and data.rating_checks say (a test may override either).
index_of = partial(build_index, **{key: schema_defaults()["data"][key] for key in ("unknown_split", "rating_checks")})


def doc_quotes(message, root) -> bool:
    """Whether docs/reliability.md quotes `message`, with `<root>` for the dataset root."""
    return f"`{str(message).replace(str(root), '<root>')}`" in (PROJECT / "docs/reliability.md").read_text()


def test_foreign_layout_indexes_correctly(foreign_root):
    index = index_of(foreign_root).set_index("clip_id")
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
        index_of(foreign_root)


def test_duplicate_clip_across_splits_is_refused(foreign_root):
    write_observer(foreign_root / "ratings/valid/observer_EWE/results_111_1.csv", 3)
    with pytest.raises(SendDataError, match="duplicate clip ID 111_1"):
        index_of(foreign_root)


def test_both_video_name_forms_for_one_clip_is_a_duplicate(foreign_root):
    shutil.copy(
        foreign_root / "videos/train/ID111_vid1_crop_downsized.mp4",
        foreign_root / "videos/train/ID111_vid1_downsized.mp4",
    )
    with pytest.raises(SendDataError, match="duplicate clip ID 111_1"):
        index_of(foreign_root)


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
        index_of(foreign_root)


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"\x00\x01\x02garbage\xff\xfe", "unreadable CSV"),
        (b"time, feeling\n0.0, 0.5\n", "missing column(s) ['rating']"),
        (b"time, rating\n0.0, 7\n0.5, 8\n", "2 rating value(s) outside 0-1 (e.g. 7 at 0 s)"),
    ],
)
def test_an_unreadable_self_rating_file_stops_the_index_naming_it(foreign_root, content, problem):
    """Self ratings (ratings/<split>/target/) are read while indexing, so a damaged one stops the
    index with its own path, not a later job with a traceback."""
    bad = foreign_root / "ratings/train/target/target_111_1_normal.csv"
    bad.write_bytes(content)
    with pytest.raises(SendDataError) as error:
        index_of(foreign_root)
    assert str(error.value).startswith(f"{bad}: ") and problem in str(error.value), error.value


def test_missing_and_empty_roots(tmp_path):
    with pytest.raises(SendDataError, match="does not exist"):
        index_of(tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SendDataError, match="empty"):
        index_of(empty)
    (empty / "README").write_text("not a dataset")
    with pytest.raises(SendDataError, match="not a SENDv1 root"):
        index_of(empty)


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


def test_videos_in_other_containers_are_indexed_and_decoded(foreign_root):
    """A re-encoded copy (VP9 in webm, H.264 in mkv) is the clip's video, not a limited-use clip,
    and the frame stage's decoder reads it."""
    for mp4, codec in (
        ("test/ID112_vid1_crop_downsized.mp4", "libvpx-vp9"),
        ("valid/ID115_vid1_crop_downsized.mp4", "libx264"),
    ):
        (foreign_root / "videos" / mp4).unlink()
    webm = make_mp4(foreign_root / "videos/test/ID112_vid1_crop_downsized.webm", 2, codec="libvpx-vp9")
    mkv = make_mp4(foreign_root / "videos/valid/ID115_vid1_crop_downsized.MKV", 2)
    index = index_of(foreign_root).set_index("clip_id")
    assert index.loc["112_1", "has_video"] and index.loc["112_1", "video_path"] == str(webm)
    assert index.loc["115_1", "has_video"] and index.loc["115_1", "video_path"] == str(mkv)
    assert index.loc["112_1", "duration_s"] == pytest.approx(2.0, abs=0.1)
    frames, times, info = decode_frames(webm, 2, 64)
    assert len(list(frames)) == 4 and info["returncode"] == 0


def test_two_containers_for_one_clip_is_a_duplicate_naming_both(foreign_root):
    mp4 = foreign_root / "videos/test/ID112_vid1_crop_downsized.mp4"
    mkv = shutil.copy(mp4, mp4.with_suffix(".mkv"))
    with pytest.raises(SendDataError, match=rf"{mp4}: duplicate clip ID 112_1 \(also {mkv}\)") as error:
        index_of(foreign_root)
    assert doc_quotes(error.value, foreign_root)


@pytest.mark.parametrize("name", ["ID112_vid1_crop_downsized.rmvb", "ID112_vid1_crop_downsized.mp4.part"])
def test_a_clip_video_with_an_unknown_ending_is_refused_listing_the_accepted(foreign_root, name):
    (foreign_root / "videos/test/ID112_vid1_crop_downsized.mp4").rename(foreign_root / "videos/test" / name)
    with pytest.raises(
        SendDataError, match=rf"{name}: not a video container sendflow reads: accepted endings are "
    ) as error:
        index_of(foreign_root)
    assert doc_quotes(error.value, foreign_root) or name.endswith(".part")


def _rename_split(root, old, new):
    for kind in ("ratings", "videos"):
        (root / kind / old).rename(root / kind / new)


def test_an_unknown_split_folder_stops_the_index_naming_it(foreign_root):
    _rename_split(foreign_root, "valid", "Validation")
    accepted = r"unknown split folder: accepted names are Train, Valid, Test \(any letter case\)"
    with pytest.raises(SendDataError, match=rf"ratings/Validation: {accepted}"):
        index_of(foreign_root)
    # Beside a complete Train/Valid/Test too.
    _rename_split(foreign_root, "Validation", "valid")
    shutil.copytree(foreign_root / "videos/valid", foreign_root / "videos/extra")
    with pytest.raises(SendDataError, match=rf"videos/extra: {accepted}"):
        index_of(foreign_root)


def test_an_unknown_split_folder_is_skipped_with_a_warning_when_asked(foreign_root, caplog):
    _rename_split(foreign_root, "valid", "Validation")
    with caplog.at_level("WARNING"):
        index = index_of(foreign_root, unknown_split="warn")
    assert "115_1" not in set(index["clip_id"]) and len(index) == 4
    assert doc_quotes(caplog.records[0].getMessage(), foreign_root)
    for kind in ("ratings", "videos"):
        assert (
            f"{foreign_root}/{kind}/Validation: skipped, not a split folder (accepted: Train, Valid, Test"
            in caplog.text
        )


def test_hidden_folders_and_the_folders_inside_a_split_are_not_split_folders(foreign_root, caplog):
    (foreign_root / "videos/.thumbnails").mkdir()
    (foreign_root / "features/train/acoustic-egemaps").mkdir()
    (foreign_root / "features/train/linguistic/.cache").mkdir(parents=True)
    with caplog.at_level("WARNING"):
        assert len(index_of(foreign_root)) == 5
    assert not caplog.records


def _scale(path, factor):
    lines = path.read_text().splitlines()
    rows = [line.split(",") for line in lines[1:]]
    path.write_text("\n".join([lines[0], *(f"{t},{float(v) * factor:g},{sd}" for t, v, sd in rows)]) + "\n")


def test_a_truncated_or_rescaled_rating_file_is_warned_about_or_refused(foreign_root, caplog):
    root = str(foreign_root)
    short, low = "ratings/train/observer_EWE/results_111_1.csv", "ratings/test/observer_EWE/results_112_1.csv"
    write_observer(foreign_root / short, 1)  # 0.5 s of a 3 s video
    _scale(foreign_root / low, 0.1)  # 0-10: 5 to 8
    with caplog.at_level("WARNING"):
        index_of(foreign_root)
    assert (
        f"{root}/{short}: observer ratings cover only 0.5 s of the 3.0 s video "
        f"{root}/videos/train/ID111_vid1_crop_downsized.mp4 (17%): truncated rating file?" in caplog.text
    )
    assert (
        f"{root}/{low}: observer ratings stay within 0-10 (highest 8) where the median file of the dataset's 5 "
        "reaches 80: on a 0-10 scale? SEND's is 0-100" in caplog.text
    )
    for record in caplog.records:
        assert doc_quotes(record.getMessage(), foreign_root), record.getMessage()
    with pytest.raises(
        SendDataError, match=rf"{short}: observer ratings cover only .* \(1 more such files in the log\)"
    ):
        index_of(foreign_root, rating_checks="error")


def test_the_fixture_dataset_raises_no_rating_warning(foreign_root, caplog):
    with caplog.at_level("WARNING"):
        index_of(foreign_root, rating_checks="error")
    assert not caplog.records
