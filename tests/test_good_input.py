"""Input that looks unusual but is right is read right: the good cases of docs/reliability.md's
"Input read as it is" table (codecs, frame rates, sizes, text encodings, links) and two hostile
files that must never run code. Each row of that table names its test here."""

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import PROJECT, run_local, sendflow_command, write_observer

from sendflow.config import schema_defaults
from sendflow.errors import SendDataError
from sendflow.ffmpeg_bin import ffmpeg_path
from sendflow.frames.decode import decode_frames
from sendflow.index import build_index
from sendflow.ratings import read_observer

DOC = PROJECT / "docs/reliability.md"


def encode(path: Path, *args: str) -> Path:
    """A 3 s test pattern encoded by the real ffmpeg with `args` (codec, size, timing)."""
    source = ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=30"]
    cmd = [ffmpeg_path(), "-v", "error", "-y", *source, "-t", "3", *args, "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(cmd, check=True)
    return path


VIDEOS = {
    "HEVC (H.265)": ("hevc.mp4", ["-c:v", "libx265", "-x265-params", "log-level=error"]),
    "VP9 in WebM": ("vp9.webm", ["-c:v", "libvpx-vp9", "-deadline", "realtime"]),
    # every third frame dropped, the others keep their times: a variable frame rate
    "variable frame rate": ("vfr.mp4", ["-vf", "select='not(eq(mod(n\\,3)\\,1))'", "-fps_mode", "vfr"]),
    "1080p": ("hd.mp4", ["-vf", "scale=1920:1080", "-c:v", "libx264", "-preset", "ultrafast"]),
}


@pytest.mark.parametrize("case", VIDEOS)
def test_other_codecs_frame_rates_and_sizes_decode_on_the_rating_grid(tmp_path, case):
    name, args = VIDEOS[case]
    frames, times, info = decode_frames(encode(tmp_path / name, *args), fps=2, width=160)
    frames = list(frames)
    assert info["returncode"] == 0, info["stderr"]
    assert len(frames) == 6 and np.allclose(times, np.arange(6) * 0.5, atol=0.04), times
    assert {f.shape for f in frames} == {(120 if case != "1080p" else 90, 160, 3)}  # the aspect kept
    assert _row(case), f"docs/reliability.md has no row for {case!r}"


def test_ratings_with_a_byte_order_mark_and_windows_line_ends_read_as_plain_ones(tmp_path):
    plain = write_observer(tmp_path / "plain.csv", 8)
    windows = tmp_path / "windows.csv"
    windows.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes().replace(b"\n", b"\r\n"))
    pd.testing.assert_frame_equal(read_observer(windows), read_observer(plain))
    assert _row("ratings with a byte order mark and Windows line ends")


def test_duplicated_rating_times_are_refused_naming_the_file(tmp_path):
    ratings = write_observer(tmp_path / "results_111_1.csv", 4)
    lines = ratings.read_text().splitlines()
    ratings.write_text("\n".join([*lines[:3], lines[2], *lines[3:]]) + "\n")  # the 0.5 s row twice
    with pytest.raises(SendDataError, match="results_111_1.csv: rating times do not increase: 0.5 s follows 0.5 s"):
        read_observer(ratings)
    assert "rating times do not increase: 0.5 s follows 0.5 s" in _row("duplicated or unsorted rating times")


def test_a_root_of_symbolic_links_is_indexed_like_the_files(tmp_path, foreign_root):
    """A lab links its copy of the release into place: linked files and linked folders."""
    linked = tmp_path / "linked"
    (linked / "ratings").mkdir(parents=True)
    (linked / "videos").symlink_to(foreign_root / "videos", target_is_directory=True)
    for split in (foreign_root / "ratings").iterdir():
        (linked / "ratings" / split.name).symlink_to(split, target_is_directory=True)
    checks = {key: schema_defaults()["data"][key] for key in ("unknown_split", "rating_checks")}
    original, via_links = (build_index(root, threads=1, **checks) for root in (foreign_root, linked))
    columns = ["clip_id", "split", "has_video", "n_ratings", "duration_s"]
    pd.testing.assert_frame_equal(original[columns], via_links[columns])
    assert via_links["has_video"].sum() == 4
    assert _row("a dataset root of symbolic links")


def test_a_config_file_that_would_run_code_is_refused_and_runs_nothing(tmp_path):
    ran = tmp_path / "ran"
    evil = tmp_path / "evil.yaml"
    evil.write_text(f'seed: !!python/object/apply:os.system ["touch {ran}"]\n')
    cmd = sendflow_command(tmp_path / "work", "--configfile", str(evil), "--dry-run")
    proc = run_local(cmd)
    assert proc.returncode != 0 and not ran.exists(), proc.stderr[-2000:]
    said = "Config file is not valid JSON or YAML"  # Snakemake's safe loader refuses the tag
    assert said in proc.stdout + proc.stderr
    assert f"`{said}`" in _row("a YAML config with `!!python/object/apply`")


def _row(case: str) -> str:
    """The docs/reliability.md row of `case` (empty when there is none)."""
    return next((line for line in DOC.read_text().splitlines() if line.startswith(f"| {case} |")), "")
