"""Table path patterns: the fields, the split folder in any letter case, `*` with exactly one match."""

import pytest

from sendflow.errors import SendDataError
from sendflow.sources.patterns import pattern_fields, resolve


def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x")
    return path


def clip(root, **kw):
    return {"root": root, "split": "Train", "speaker": 111, "clip": 1, "video_path": None, **kw}


def test_the_emotient_preset_finds_either_file_name_in_a_lower_case_split(tmp_path):
    pattern = "{root}/features/{split}/emotient/ID{n}_vid{m}_*.txt"
    crop = touch(tmp_path / "features/train/emotient/ID111_vid1_crop_downsized.txt")
    touch(tmp_path / "features/train/emotient/ID111_vid10_downsized.txt")  # another clip: vid10
    assert resolve(pattern, **clip(tmp_path)) == crop
    plain = touch(tmp_path / "features/train/emotient/ID111_vid2_downsized.txt")
    assert resolve(pattern, **clip(tmp_path, clip=2)) == plain
    assert resolve(pattern, **clip(tmp_path, clip=3)) is None  # no file: the clip lacks the source


def test_two_matches_are_an_error_naming_them(tmp_path):
    touch(tmp_path / "a/ID111_vid1_x.csv")
    touch(tmp_path / "a/ID111_vid1_y.csv")
    with pytest.raises(SendDataError, match="2 files match") as error:
        resolve("{root}/a/ID{n}_vid{m}_*.csv", **clip(tmp_path))
    assert "ID111_vid1_x.csv" in str(error.value)


def test_stem_and_clip_fields(tmp_path):
    found = touch(tmp_path / "of/ID111_vid1_crop_downsized.csv")
    video = "/data/videos/Train/ID111_vid1_crop_downsized.mp4"
    assert resolve(str(tmp_path) + "/of/{stem}.csv", **clip(tmp_path, video_path=video)) == found
    assert resolve(str(tmp_path) + "/of/{stem}.csv", **clip(tmp_path)) is None  # no video, no stem
    other = touch(tmp_path / "x/111_1[a].csv")  # glob characters in a literal name match themselves
    assert resolve("{root}/x/{clip}[a].csv", **clip(tmp_path)) == other


def test_an_unknown_field_is_named():
    with pytest.raises(ValueError, match=r"unknown field\(s\) \{speaker\}"):
        pattern_fields("/data/{speaker}.csv")
