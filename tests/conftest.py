"""Shared fixtures: real mp4 files made with the real ffmpeg, and SEND-layout trees."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sendflow.ffmpeg_bin import ffmpeg_path

PROJECT = Path(__file__).resolve().parent.parent


def make_mp4(path: Path, seconds: float, size: str = "64x48", fps: str = "30000/1001", codec: str = "libx264") -> Path:
    """Encode a real test-pattern clip with the ffmpeg binary: H.264 unless `codec` says otherwise,
    in the container `path`'s ending names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            ffmpeg_path(),
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc=size={size}:rate={fps}",
            "-t",
            str(seconds),
            "-c:v",
            codec,
            "-pix_fmt",
            "yuv420p",
            str(path),
        ],
        check=True,
    )
    return path


def make_phone_copy(original: Path, path: Path, rotation: int, turn_pixels: bool = True) -> Path:
    """A copy of `original` tagged with a display rotation of `rotation` degrees (counter-clockwise),
    as phones write them. With `turn_pixels` its stored frames are the original's turned the other
    way (losslessly), so it displays exactly as the original; without, only the tag is added."""
    ffmpeg = [ffmpeg_path(), "-v", "error", "-y"]
    stored = path.with_name(path.stem + ".stored.mp4")
    if turn_pixels:
        turn = {90: "transpose=clock", 270: "transpose=cclock", 180: "hflip,vflip"}[rotation]
        lossless = ["-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv420p"]
        subprocess.run([*ffmpeg, "-i", str(original), "-vf", turn, *lossless, str(stored)], check=True)
    else:
        shutil.copyfile(original, stored)
    tag = ["-display_rotation", str(rotation), "-i", str(stored), "-c", "copy", str(path)]
    subprocess.run([*ffmpeg, *tag], check=True)
    stored.unlink()
    return path


def write_observer(path: Path, n_rows: int, extra_lines: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["time,evaluatorWeightedEstimate,SDofEWE"]
    lines += [f"{0.5 * i:.1f},{50 + 10 * (i % 5)},{2.5}" for i in range(n_rows)]
    path.write_text("\n".join(lines) + "\n" + extra_lines)
    return path


def write_self(path: Path, n_rows: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [f"{0.5 * i:.1f}, {0.5 + 0.05 * (i % 3):.2f}" for i in range(n_rows)]
    path.write_text("time, rating\n" + "\n".join(rows) + "\n")
    return path


@pytest.fixture
def foreign_root(tmp_path):
    """A SEND-layout tree as the released zips have it, written without sendflow.synth:
    lower-case split folders, both video name forms, a ragged rating file, a limited-use clip."""
    root = tmp_path / "SENDv1"
    make_mp4(root / "videos/train/ID111_vid1_crop_downsized.mp4", 3)
    make_mp4(root / "videos/train/ID113_vid2_downsized.mp4", 2)
    make_mp4(root / "videos/valid/ID115_vid1_crop_downsized.mp4", 2)
    make_mp4(root / "videos/test/ID112_vid1_crop_downsized.mp4", 2)
    obs = root / "ratings/{}/observer_EWE/results_{}.csv"
    write_observer(Path(str(obs).format("train", "111_1")), 6)
    # Ragged: a blank row and a non-numeric row in the middle, two rows past the video's end.
    ragged = Path(str(obs).format("train", "113_2"))
    write_observer(ragged, 6)
    text = ragged.read_text().splitlines()
    text[3:3] = ["", "1.2,NaN,", "oops,not,numeric"]
    ragged.write_text("\n".join(text) + "\n")
    write_observer(Path(str(obs).format("valid", "115_1")), 4)
    write_observer(Path(str(obs).format("test", "112_1")), 4)
    write_observer(Path(str(obs).format("train", "114_3")), 5)  # limited use: no video
    write_self(root / "ratings/train/target/target_111_1_normal.csv", 6)
    emotient = root / "features/train/emotient/ID111_vid1_crop_downsized.txt"
    emotient.parent.mkdir(parents=True)
    emotient.write_text("Frametime,AU1,AU12\n0.0,0.1,0.2\n0.0334,0.1,0.3\n")
    return root


class Reads(dict):
    """Settings that remember which keys were read: a job must read exactly what its rule passes."""

    def __init__(self, values):
        super().__init__(values)
        self.read = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)


def planned_jobs(dry_run_output: str) -> dict[str, int]:
    """Jobs per rule from the 'Job stats' table a `snakemake --dry-run` prints ({} when none)."""
    lines = dry_run_output.splitlines()
    if "Job stats:" not in lines:
        return {}
    jobs = {}
    for line in lines[lines.index("Job stats:") + 3 :]:  # past the header and its rule line
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        jobs[parts[0]] = int(parts[1])
    return jobs


# A whole-workflow configuration small enough for a 2-core CPU in about a minute.
TINY = [
    "data.demo.speakers=6",
    "data.demo.clips_per_speaker=2",
    "data.demo.seconds=8",
    "data.demo.width=192",
    "data.demo.height=144",
    "cv.k=2",
    "frames.size=32",
    "extractor.kinds=[resattn,emotient,fused]",
    "extractor.epochs=1",
    "extractor.batch_size=16",
    "classifier.names=[mstcn,framewise,mean]",
    "classifier.training.epochs=2",
    # 8 s clips of 6 speakers: a fold's training steps can all be one class
    "classifier.training.allow_one_class=true",
]


def local_env() -> dict[str, str]:
    """The environment of a local Snakemake run in the tests, as `make demo` sets it: SLURM_CONF
    points nowhere, so that the SLURM executor plugin's start-up query (`scontrol show config`,
    about 9 s per Snakemake start where SLURM's tools are installed but no controller answers)
    returns at once. tests/test_slurm.py, which needs the real controller, does not use it."""
    return {**os.environ, "SLURM_CONF": "/dev/null"}


def run_local(cmd, **kwargs) -> subprocess.CompletedProcess:
    """`cmd` (a Snakemake or `sendflow` run) in the local environment, its output captured."""
    return subprocess.run(cmd, capture_output=True, text=True, env=local_env(), **kwargs)


def sendflow_command(workdir, *args, project=PROJECT) -> list[str]:
    """The `sendflow` launcher running the real Snakefile of `project` in `workdir`."""
    return [
        sys.executable,
        "-m",
        "sendflow.cli",
        "--snakefile",
        str(project / "Snakefile"),
        "--directory",
        str(workdir),
        *args,
    ]


def run_tiny(workdir, *args, config=(), project=PROJECT, env=None) -> subprocess.CompletedProcess:
    """The real Snakefile on the TINY configuration (plus `config` overrides) in `workdir`;
    locally (`local_env`) unless `env` says otherwise."""
    cmd = sendflow_command(workdir, *args, "--config", *TINY, *config, project=project)
    return subprocess.run(cmd, capture_output=True, text=True, env=local_env() if env is None else env)


def copy_project(into: Path) -> Path:
    """A copy of the project's sources at `into` (no results, data or caches), for a test to
    edit its code and see what Snakemake then does, without touching the working tree."""
    ignore = (".git", ".venv", "results", "data", ".snakemake", "__pycache__", "*.egg-info", ".pytest_cache")
    shutil.copytree(PROJECT, into, ignore=shutil.ignore_patterns(*ignore))
    return into


@pytest.fixture(scope="session")
def tiny_project(tmp_path_factory):
    """One copy of the project's sources shared by the tiny run's tests (copy_project)."""
    return copy_project(tmp_path_factory.mktemp("project") / "sendflow")


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, tiny_project):
    """One finished local run of TINY (from the project copy), shared by the tests that read or
    re-plan it."""
    workdir = tmp_path_factory.mktemp("tiny_run")
    proc = run_tiny(workdir, "--cores", "2", project=tiny_project)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return workdir


def pytest_collection_modifyitems(items):
    """Every test that reads or re-plans the tiny run, directly or through another fixture, is
    `slow` (it waits for that whole run): `-m 'not slow'` leaves them out. Tests that run
    Snakemake for real in other ways carry the mark themselves."""
    for item in items:
        if {"tiny_run", "tiny_project"} & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)


def group_members(pgid: int) -> list[int]:
    """Live processes of process group `pgid`."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":  # field 5 of stat: the group; skip zombies
            members.append(int(stat.parent.name))
    return members


def fold_test_speaker_videos(run: Path, fold: int = 0) -> pd.DataFrame:
    """The clips with video of the first test speaker of `fold` in a finished run (index rows):
    predicted together (`--one-person`), they are centred as the workflow centres that speaker."""
    folds = pd.read_parquet(run / "results/index/folds.parquet")
    clips = pd.read_parquet(run / "results/index/clips.parquet").set_index("clip_id")
    speaker = folds[(folds["fold"] == fold) & (folds["role"] == "test")]["speaker"].iloc[0]
    return clips[(clips["speaker"] == speaker) & clips["has_video"]]


def assert_predicted_as_the_workflow(out: Path, videos: pd.DataFrame, workflow_predictions: Path) -> None:
    """`sendflow predict`'s CSVs in `out` for `videos` give the steps and valence the workflow's
    predictions.parquet gives for those clips."""
    workflow = pd.read_parquet(workflow_predictions)
    for clip_id, row in videos.iterrows():
        ours = pd.read_csv(out / f"{Path(row['video_path']).stem}.csv")
        theirs = workflow[workflow["clip_id"] == clip_id].sort_values("step")
        np.testing.assert_allclose(ours["t"], theirs["t"])
        np.testing.assert_allclose(ours["valence"], theirs["valence_pred"], atol=1e-4)
