"""Bad input, fed to the real workflow: each case must stop the run (exit status non-zero) with a
message that names the file or setting and the problem, and leave no output of the failing
job. The "Bad input" table of docs/reliability.md lists these cases with the message each gives."""

import os
import re
import shutil
import subprocess
import time
from datetime import datetime, timezone

import pytest
from conftest import PROJECT, make_mp4, run_local, sendflow_command, write_observer

from sendflow.ffmpeg_bin import ffmpeg_path

pytestmark = pytest.mark.slow  # every test here runs Snakemake for real

DOC = PROJECT / "docs/reliability.md"  # its bad-input table quotes each case's message
OBSERVER = "ratings/test/observer_EWE/results_112_1.csv"
VIDEO = "videos/test/ID112_vid1_crop_downsized.mp4"
INDEX, FRAMES, FOLDS = "results/index/clips.parquet", "results/frames/112_1.npz", "results/index/folds.parquet"
CHECK = "results/frames/face_detection.tsv"  # the frame check, which stops the run on a bad video
HEADER = "time,evaluatorWeightedEstimate,SDofEWE\n"
EMOTIENT, UNITS = "features/train/emotient/ID111_vid1_crop_downsized.txt", "results/features/emotient/steps.parquet"


def sendflow(workdir, *targets, config=()):
    cmd = sendflow_command(workdir, "--cores", "1", *targets, "--config", *config)
    return run_local(cmd)


def write(relative, content):
    def change(root):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(content if isinstance(content, bytes) else content.encode())

    return change


def video_without_a_picture(root):
    subprocess.run(
        [
            ffmpeg_path(),
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440",
            "-t",
            "2",
            "-c:a",
            "aac",
            str(root / VIDEO),
        ],
        check=True,
    )


def truncated(root):
    data = (root / VIDEO).read_bytes()
    (root / VIDEO).write_bytes(data[: len(data) // 2])


def ratings_on_a_0_to_1_scale(root):
    for path in root.glob("ratings/*/observer_EWE/*.csv"):
        lines = path.read_text().splitlines()
        scaled = [lines[0]]
        for line in lines[1:]:
            fields = line.split(",")
            try:
                fields[1] = f"{float(fields[1]) / 100:g}"
            except (IndexError, ValueError):
                pass  # the ragged file's blank and text rows stay as they are
            scaled.append(",".join(fields))
        path.write_text("\n".join(scaled) + "\n")


# case -> (change to the foreign root, target, the file or key named, the problem's words)
CASES = {
    "ratings file empty": (write(OBSERVER, b""), INDEX, OBSERVER, "unreadable CSV"),
    "ratings header only": (write(OBSERVER, HEADER), INDEX, OBSERVER, "no row with numeric values"),
    "ratings non-numeric": (
        write(OBSERVER, HEADER + "0.0,high,1\n0.5,low,1\n"),
        INDEX,
        OBSERVER,
        "no row with numeric values",
    ),
    "ratings all NaN": (
        write(OBSERVER, HEADER + "0.0,NaN,\n0.5,NaN,\n"),
        INDEX,
        OBSERVER,
        "no row with numeric values",
    ),
    "ratings with negative times": (
        write(OBSERVER, HEADER + "-1.0,50,2\n-0.5,60,2\n"),
        INDEX,
        OBSERVER,
        "every rating time is negative",
    ),
    "ratings with unsorted times": (
        write(OBSERVER, HEADER + "0.0,50,2\n1.0,60,2\n0.5,55,2\n"),
        INDEX,
        OBSERVER,
        "rating times do not increase: 0.5 s follows 1 s",
    ),
    "ratings on another scale (x10)": (
        write(OBSERVER, HEADER + "0.0,500,2\n0.5,600,2\n"),
        INDEX,
        OBSERVER,
        "outside 0-100",
    ),
    "ratings on a 0-1 scale (all files)": (
        ratings_on_a_0_to_1_scale,
        INDEX,
        "observer_EWE/results_111_1.csv",
        "span only 0.5 to 0.9, 0.4 points.*Ratings on a 0-1 scale",
    ),
    "observer ratings missing for a video": (
        lambda root: (root / OBSERVER).unlink(),
        INDEX,
        VIDEO,
        "has no observer ratings",
    ),
    "video name not ID{n}_vid{m}": (
        lambda root: make_mp4(root / "videos/test/ID117_clip1.mp4", 1),
        INDEX,
        "videos/test/ID117_clip1.mp4",
        "file name does not name a clip",
    ),
    "the same clip in two splits": (
        lambda root: shutil.copy(root / OBSERVER, root / "ratings/train/observer_EWE"),
        INDEX,
        "results_112_1.csv",
        "duplicate clip ID 112_1",
    ),
    "zero-byte mp4": (write(VIDEO, b""), CHECK, VIDEO, "video file is empty"),
    "truncated mp4 (half its bytes)": (truncated, CHECK, VIDEO, "could not decode|no video stream"),
    "a text file named .mp4": (write(VIDEO, "not a video\n" * 100), CHECK, VIDEO, "could not decode|no video stream"),
    "an mp4 with no video stream": (video_without_a_picture, CHECK, VIDEO, "no video stream"),
    "a video ten times shorter than its ratings": (
        lambda root: write_observer(root / OBSERVER, 40),
        CHECK,
        VIDEO,
        "much shorter than its ratings",
    ),
    "Emotient file without a chosen column": (
        write(EMOTIENT, "Frametime,AU1\n0.0,0.1\n"),
        UNITS,
        EMOTIENT,
        "missing column 'AU12'",
    ),
    "Emotient text in a numeric column": (
        write(EMOTIENT, "Frametime,AU1,AU12\n0.0,0.1,0.2\n0.0334,high,0.3\n"),
        UNITS,
        EMOTIENT,
        "column 'AU1' holds text where a number belongs",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_dataset_input_stops_the_run_naming_the_file(foreign_root, tmp_path, case):
    change, target, named, problem = CASES[case]
    change(foreign_root)
    proc = sendflow(
        tmp_path, target, config=[f"data.root={foreign_root}", "cv.mode=official", "tables.emotient.columns=[AU1,AU12]"]
    )
    printed = proc.stdout + proc.stderr
    assert proc.returncode != 0, printed[-2000:]
    message = next((line for line in printed.splitlines() if named in line and "SendDataError" in line), "")
    assert message and re.search(problem, message), printed[-3000:]
    assert not (tmp_path / target).exists()
    said = message.split("SendDataError: ")[-1].replace(str(foreign_root), "<root>").strip()
    row = next((line for line in DOC.read_text().splitlines() if line.startswith(f"| {case} |")), "")
    assert f"`{said}`" in row, f"docs/reliability.md: the row of {case!r} should quote `{said}`"


def test_action_units_asked_of_a_root_without_emotient_files_are_refused(foreign_root, tmp_path):
    shutil.rmtree(foreign_root / "features")
    proc = sendflow(tmp_path, UNITS, config=[f"data.root={foreign_root}", "cv.mode=official"])
    printed = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "needs the emotient table" in printed, printed[-2000:]
    assert "leave emotient (and the fusions of it) out of extractor.kinds" in printed and str(foreign_root) in printed


def test_a_root_that_is_missing_empty_or_a_file_is_named(tmp_path):
    empty, a_file = tmp_path / "empty", tmp_path / "a_file"
    empty.mkdir()
    a_file.write_text("not a folder")
    for root, problem in (
        (tmp_path / "missing", "does not exist"),
        (empty, "empty or not a folder"),
        (a_file, "is a file, not a folder"),
    ):
        proc = sendflow(tmp_path / "work", INDEX, config=[f"data.root={root}"])
        assert proc.returncode != 0
        assert str(root) in proc.stderr and re.search(problem, proc.stderr), proc.stderr[-2000:]
        assert not (tmp_path / "work" / INDEX).exists()


@pytest.mark.parametrize(
    "override, named",
    [
        ("frames.sise=32", "frames.sise"),
        ("cv.k=abc", "cv.k"),
        ("cv.k=1", "cv.k"),
        ("labels.schemes.three.edges=[0.15,-0.15]", "labels.schemes.three"),
    ],
)
def test_a_bad_setting_is_named_before_anything_runs(tmp_path, foreign_root, override, named):
    proc = sendflow(tmp_path, INDEX, config=[f"data.root={foreign_root}", override])
    assert proc.returncode != 0 and named in proc.stderr, proc.stderr[-2000:]
    assert not (tmp_path / "results").exists()


def test_a_non_finite_number_or_braces_in_data_root_are_refused_by_name_before_anything_runs(tmp_path, foreign_root):
    """`lr=nan` passed the schema and trained to NaN; braces in data.root met Snakemake's
    formatting of rule params as a wildcard error that never named data.root."""
    braced = tmp_path / "SEND{v1}"
    shutil.copytree(foreign_root, braced)
    for config, message, root in (
        (
            [f"data.root={foreign_root}", "classifier.training.lr=nan"],
            "classifier.training.lr: nan is not a finite number",
            foreign_root,
        ),
        ([f"data.root={foreign_root}", "extractor.lr=-inf"], "extractor.lr: -inf is not a finite number", foreign_root),
        (
            [f"data.root={braced}"],
            f"data.root '{braced}': braces {{ }} in the path are not supported by Snakemake's rule parameters; "
            "rename the folder or link it from a path without braces",
            braced,
        ),
    ):
        proc = sendflow(tmp_path / "work", INDEX, config=config)
        assert proc.returncode != 0 and message in proc.stderr, proc.stderr[-2000:]
        assert not (tmp_path / "work/results").exists()
        assert f"`{message.replace(str(root), '<root>')}`" in DOC.read_text(), (
            f"docs/reliability.md should quote {message}"
        )


def test_more_folds_than_speakers_is_refused_naming_both(tmp_path, foreign_root):
    proc = sendflow(tmp_path, FOLDS, config=[f"data.root={foreign_root}", "cv.k=9"])
    assert proc.returncode != 0
    assert "cv.k" in proc.stdout + proc.stderr and "speakers" in proc.stdout + proc.stderr, proc.stderr[-2000:]
    assert not (tmp_path / FOLDS).exists()


def test_a_root_with_spaces_and_non_ascii_characters_works(tmp_path, foreign_root):
    root = tmp_path / "SEND v1 – données été"
    shutil.copytree(foreign_root, root)
    proc = sendflow(tmp_path / "work", INDEX, FRAMES, config=[f"data.root={root}", "cv.mode=official"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "work" / FRAMES).stat().st_size > 0


def test_a_fold_whose_training_speakers_lack_a_source_names_fold_speakers_and_source(foreign_root, tmp_path):
    """The Emotient files only of the Valid and Test speakers: fold 0 trains on 111, 113 and the
    ratings-only 114, none of which has action units."""
    units = foreign_root / EMOTIENT
    for clip in ("ID115_vid1_crop_downsized.txt", "ID112_vid1_crop_downsized.txt"):
        split = "valid" if clip.startswith("ID115") else "test"
        (foreign_root / f"features/{split}/emotient").mkdir(parents=True, exist_ok=True)
        shutil.copy(units, foreign_root / f"features/{split}/emotient/{clip}")
    units.unlink()
    target = "results/features/emotient/fold0.parquet"
    proc = sendflow(
        tmp_path, target, config=[f"data.root={foreign_root}", "cv.mode=official", "tables.emotient.columns=[AU1,AU12]"]
    )
    printed = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert re.search(
        r"SendDataError: .*steps.parquet: fold 0: none of its 3 training clips \(speakers 111, 113, "
        r"114\) has emotient features",
        printed,
    ), printed[-3000:]
    assert not (tmp_path / target).exists()


def _doc_row_quotes(case, said):
    """Whether docs/reliability.md's row whose input starts with `case` quotes `said`."""
    row = next((line for line in DOC.read_text().splitlines() if line.startswith(f"| {case}")), "")
    return f"`{said}`" in row


def test_a_dataset_file_dated_in_the_future_is_refused_before_planning(foreign_root, tmp_path):
    """Snakemake would run the index, then delete its output as older than that file, on every
    run until the date: the run stops before planning, naming the file, its time and the fix."""
    ahead = time.time() + 86400
    os.utime(foreign_root / OBSERVER, (ahead, ahead))
    proc = sendflow(tmp_path, INDEX, config=[f"data.root={foreign_root}"])
    assert proc.returncode != 0
    message = next((line for line in proc.stderr.splitlines() if "modified in the future" in line), "")
    stamp = datetime.fromtimestamp(ahead, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert message.startswith(f"{foreign_root / OBSERVER}: modified in the future, {stamp}"), proc.stderr[-3000:]
    assert message.endswith(f"until then; set its time to now with: touch {foreign_root / OBSERVER}")
    assert not (tmp_path / "results").exists()
    said = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", "<time>", message.replace(str(foreign_root), "<root>"))
    assert _doc_row_quotes("a dataset file modified in the future", said), said


def test_a_split_folder_of_another_name_stops_the_index_naming_it(foreign_root, tmp_path):
    (foreign_root / "ratings/valid").rename(foreign_root / "ratings/Validation")
    proc = sendflow(tmp_path, FOLDS, config=[f"data.root={foreign_root}", "cv.mode=official"])
    assert proc.returncode != 0
    message = next((line for line in proc.stderr.splitlines() if "SendDataError" in line), "")
    said = message.split("SendDataError: ")[-1].replace(str(foreign_root), "<root>").strip()
    assert said.startswith("<root>/ratings/Validation: unknown split folder"), proc.stderr[-3000:]
    assert not (tmp_path / INDEX).exists()
    assert _doc_row_quotes("a split folder named `Validation`", said), said
