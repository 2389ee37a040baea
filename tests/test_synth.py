"""Tests of the synthetic SENDv1-layout generator (sendflow.synth)."""

import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from sendflow.ffmpeg_bin import ffmpeg_path
from sendflow.synth import TRUTH_FILE, generate_dataset
from sendflow.synth.dataset import assign_splits, plan
from sendflow.synth.face import FrameRenderer
from sendflow.synth.identity import make_identity
from sendflow.synth.ratings import AUS, EVIDENCE, observer_ratings
from sendflow.synth.signals import STREAM_RATINGS, clip_rng, frame_times, make_clip_signals, rating_times
from sendflow.synth.styles import STYLES

W, H, SECONDS, SEED = 160, 120, 6, 3
KW = dict(speakers=5, clips_per_speaker=2, seconds=SECONDS, width=W, height=H, limited_fraction=0.15, style="demo")


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    return generate_dataset(tmp_path_factory.mktemp("synth") / "send", seed=SEED, jobs=2, **KW)


@pytest.fixture(scope="module")
def truth(ds):
    return pd.read_csv(ds / TRUTH_FILE)


def clips(truth):
    return truth.groupby("clip_id", sort=False).first().reset_index()


def paths(root, n, m, split):
    return {
        "ewe": root / "ratings" / split / "observer_EWE" / f"results_{n}_{m}.csv",
        "self": root / "ratings" / split / "target" / f"target_{n}_{m}_normal.csv",
        "emo": root / "features" / split / "emotient" / f"ID{n}_vid{m}_crop_downsized.txt",
        "mp4": root / "videos" / split / f"ID{n}_vid{m}_crop_downsized.mp4",
    }


def read_numeric(path):
    """Read like a tolerant loader: drop blank, NaN and text rows."""
    df = pd.read_csv(path, dtype=str).apply(pd.to_numeric, errors="coerce")
    return df.dropna().reset_index(drop=True)


def decode(path, fps=None):
    vf = ["-vf", f"fps={fps}"] if fps else []
    raw = subprocess.run(
        [ffmpeg_path(), "-v", "error", "-i", str(path), *vf, "-f", "rawvideo", "-pix_fmt", "bgr24", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, H, W, 3)


def test_layout_and_headers(ds, truth):
    for c in clips(truth).itertuples():
        p = paths(ds, c.speaker, c.clip, c.split)
        assert p["ewe"].read_text().splitlines()[0] == "time,evaluatorWeightedEstimate,SDofEWE"
        assert p["self"].read_text().splitlines()[0] == "time, rating"
        header = p["emo"].read_text().splitlines()[0].split(",")
        assert header == ["Frametime", *AUS, *EVIDENCE] and len(AUS) == 20
        assert p["mp4"].exists() == c.has_video
    assert sorted(d.name for d in (ds / "videos").iterdir()) == ["Test", "Train", "Valid"]
    assert not list(ds.parent.glob("send.tmp-*"))


def test_ratings_on_half_second_grid(ds, truth):
    full = len(rating_times(SECONDS))
    lengths = []
    for c in clips(truth).itertuples():
        p = paths(ds, c.speaker, c.clip, c.split)
        ewe, own = read_numeric(p["ewe"]), read_numeric(p["self"])
        for df in (ewe, own):
            assert df["time"].iloc[0] == 0.0
            assert np.allclose(np.diff(df["time"]), 0.5)
        assert ewe["evaluatorWeightedEstimate"].between(0, 100).all()
        assert (ewe["SDofEWE"] > 0).all()
        assert own[" rating"].between(0, 1).all()
        assert abs(len(ewe) - full) <= 2
        lengths.append(len(ewe))
    assert sum(n == full for n in lengths) > len(lengths) / 2  # most clips clean


def test_splits_are_speaker_disjoint(ds, truth):
    per_speaker = truth.groupby("speaker")["split"].nunique()
    assert (per_speaker == 1).all()
    assert sorted(per_speaker.index) == list(range(111, 116))
    assert set(truth["split"]) == {"Train", "Valid", "Test"}
    for split in ("Train", "Valid", "Test"):
        on_disk = {int(f.name.split("_")[1]) for f in (ds / "ratings" / split / "observer_EWE").iterdir()}
        assert on_disk == set(truth.loc[truth.split == split, "speaker"])
    # every split keeps at least one speaker for any N >= 3
    for n in range(3, 12):
        assert set(assign_splits(list(range(n)), seed=n).values()) == {"Train", "Valid", "Test"}


def test_limited_clips_have_ratings_but_no_video(ds, truth):
    c = clips(truth)
    limited = c[~c.has_video]
    assert 1 <= len(limited) < len(c)
    for row in limited.itertuples():
        p = paths(ds, row.speaker, row.clip, row.split)
        assert not p["mp4"].exists() and p["ewe"].exists() and p["self"].exists() and p["emo"].exists()
    assert c.groupby("split")["has_video"].any().all()  # no split without video
    for n_clips in range(4, 30, 3):
        specs = plan(n_clips, 1, seed=n_clips, limited_fraction=0.5)
        assert 1 <= sum(not s.has_video for s in specs) < n_clips


def test_deterministic_and_seed_dependent(ds, tmp_path):
    same = generate_dataset(tmp_path / "same", seed=SEED, jobs=1, split_case="lower", **KW)
    other = generate_dataset(tmp_path / "other", seed=SEED + 1, jobs=2, **KW)
    files = sorted(p.relative_to(ds) for p in ds.rglob("*") if p.suffix in (".csv", ".txt"))
    videos = len(list(ds.rglob("*.mp4")))
    # per clip: observer and self ratings, Emotient and eGeMAPS files; per video: OpenFace and
    # py-feat files; and the truth table
    assert len(files) == 4 * 10 + 2 * videos + 1
    for rel in files:
        lower = Path(*[part.lower() if part in ("Train", "Valid", "Test") else part for part in rel.parts])
        assert (same / lower).read_bytes() == (ds / rel).read_bytes(), rel
    theirs = {f.name: f.read_bytes() for f in other.rglob("results_*.csv")}
    ours = {f.name: f.read_bytes() for f in ds.rglob("results_*.csv")}
    assert theirs.keys() == ours.keys() and all(theirs[k] != ours[k] for k in ours)
    assert (other / TRUTH_FILE).read_bytes() != (ds / TRUTH_FILE).read_bytes()


def test_some_rating_files_are_ragged(ds, truth):
    """Like the release: a few files are longer/shorter or carry a blank or junk row."""
    c = clips(truth)
    assert 0 < c["ragged"].sum() <= len(c) / 2
    for row in c[c.ragged].itertuples():
        text = paths(ds, row.speaker, row.clip, row.split)["ewe"].read_text().splitlines()
        numeric = read_numeric(paths(ds, row.speaker, row.clip, row.split)["ewe"])
        assert len(text) - 1 != len(rating_times(SECONDS)) or len(numeric) != len(text) - 1


def test_video_decodes_at_ntsc_rate(ds, truth):
    n_frames = len(frame_times(SECONDS))
    for c in clips(truth)[lambda d: d.has_video].itertuples():
        p = paths(ds, c.speaker, c.clip, c.split)
        info = subprocess.run(
            [ffmpeg_path(), "-hide_banner", "-i", str(p["mp4"])], capture_output=True, text=True
        ).stderr
        assert re.search(r"h264.*yuv420p", info) and "29.97 fps" in info
        frames = decode(p["mp4"])
        assert abs(len(frames) - n_frames) <= 1
        emo = pd.read_csv(p["emo"])
        assert len(emo) == n_frames
        assert np.allclose(np.diff(emo["Frametime"]), 1001 / 30000, atol=1e-4)


def test_a_lower_video_rate_leaves_frames_out_and_nothing_else(ds, truth, tmp_path):
    """data.demo.fps: the same clips at 9.99 fps (every third frame); ratings and Emotient rows
    are byte-identical to the 29.97 fps dataset's."""
    slow = generate_dataset(tmp_path / "slow", seed=SEED, jobs=2, fps=10, **KW)
    for c in clips(truth)[lambda d: d.has_video].itertuples():
        ours, theirs = paths(slow, c.speaker, c.clip, c.split), paths(ds, c.speaker, c.clip, c.split)
        info = subprocess.run(
            [ffmpeg_path(), "-hide_banner", "-i", str(ours["mp4"])], capture_output=True, text=True
        ).stderr
        assert "9.99 fps" in info
        assert abs(len(decode(ours["mp4"])) - len(frame_times(SECONDS)) / 3) <= 1
        for kind in ("ewe", "self", "emo"):
            assert ours[kind].read_bytes() == theirs[kind].read_bytes(), (c.clip_id, kind)
    with pytest.raises(ValueError, match="video fps must be between 2 and 29.97"):
        generate_dataset(tmp_path / "bad", seed=SEED, fps=1, **KW)


def test_faces_are_detectable(ds, truth):
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    hits = {}
    for c in clips(truth)[lambda d: d.has_video].itertuples():
        for frame in decode(paths(ds, c.speaker, c.clip, c.split)["mp4"], fps=2):
            gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
            found = cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=4)
            hits.setdefault(c.speaker, []).append(len(found) > 0)
    rates = {s: np.mean(h) for s, h in hits.items()}
    assert min(rates.values()) > 0.9, rates


def test_observer_file_is_lagged_valence(ds, truth):
    """The EWE file on disk is exactly the lagged-valence observer model of that clip."""
    for c in clips(truth).itertuples():
        sig = make_clip_signals(SEED, c.speaker, c.clip, SECONDS, make_identity(SEED, c.speaker, "demo"))
        assert sig.lag_s == pytest.approx(c.lag_s, abs=1e-6)
        times = rating_times(SECONDS)
        expect = observer_ratings(sig, times, clip_rng(SEED, c.speaker, c.clip, STREAM_RATINGS))
        got = read_numeric(paths(ds, c.speaker, c.clip, c.split)["ewe"])
        merged = got.merge(expect, on="time", suffixes=("", "_model")).drop_duplicates("time")
        assert len(merged) >= len(times) - 2
        assert np.allclose(merged["evaluatorWeightedEstimate"], merged["evaluatorWeightedEstimate_model"], atol=1e-3)


def _xcorr_peak(x, y, max_steps=8):
    """Lag (s) at which y best follows x, on the 0.5 s grid."""
    corr = [np.corrcoef(x[: len(x) - k], y[k:])[0, 1] for k in range(max_steps + 1)]
    return 0.5 * int(np.argmax(corr)), np.array(corr)


def test_observer_ratings_lag_the_face():
    seconds, curves = 120, []
    times = rating_times(seconds)
    for n in range(111, 121):
        sig = make_clip_signals(SEED, n, 1, seconds, make_identity(SEED, n, "demo"))
        ewe = observer_ratings(sig, times, clip_rng(SEED, n, 1, STREAM_RATINGS))
        ewe = ewe["evaluatorWeightedEstimate"].to_numpy()
        assert 1.0 <= sig.lag_s <= 2.5
        peak, _ = _xcorr_peak(np.diff(sig.valence(times)), np.diff(ewe))
        assert 1.0 <= peak <= 2.5 and abs(peak - sig.lag_s) <= 0.5
        curves.append(_xcorr_peak(sig.shown(times), ewe)[1])
    # the shown expression is bursty, so its lag is only clear when pooled over clips
    assert 1.0 <= 0.5 * int(np.argmax(np.mean(curves, axis=0))) <= 2.5


def test_a_folder_the_generator_did_not_make_is_never_replaced(tmp_path):
    mine = tmp_path / "my_send_copy"
    (mine / "videos").mkdir(parents=True)
    (mine / "notes.txt").write_text("my notes")
    for force in (False, True):
        with pytest.raises(FileExistsError, match="not made by sendflow's generator"):
            generate_dataset(mine, seed=SEED, jobs=1, force=force, **KW)
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt", "videos"]
    assert [p.name for p in tmp_path.iterdir()] == ["my_send_copy"]  # nothing built beside it


def test_force_replaces_a_generated_dataset(tmp_path):
    out = generate_dataset(tmp_path / "send", seed=SEED, jobs=1, **{**KW, "speakers": 3, "clips_per_speaker": 1})
    with pytest.raises(FileExistsError, match="pass --force"):
        generate_dataset(out, seed=SEED, jobs=1, **{**KW, "speakers": 3, "clips_per_speaker": 1})
    generate_dataset(out, seed=SEED + 1, jobs=1, force=True, **{**KW, "speakers": 3, "clips_per_speaker": 1})
    assert (out / "synth_truth.csv").is_file() and [p.name for p in tmp_path.iterdir()] == ["send"]


def render(style, speaker, expression):
    """One frame of `speaker` in `style`, at a still head and even light."""
    renderer = FrameRenderer(make_identity(SEED, speaker, style), W, H, np.random.default_rng(0))
    return renderer.frame(0, expression, 0.0, 0.0, (0, 0, 0, 1.0), (1.0, 0.0)).astype(float)


def test_each_style_draws_other_faces():
    frames = {name: render(name, 111, 0.8) for name in STYLES}
    for name in set(STYLES) - {"demo"}:
        assert np.abs(frames[name] - frames["demo"]).mean() > 1.5, name  # backgrounds alike: face pixels differ
    for name, style in STYLES.items():  # each speaker's geometry within the style's ranges
        for speaker in range(111, 121):
            ident = make_identity(SEED, speaker, name)
            assert style.face_size[0] <= ident.face_size <= style.face_size[1]
            assert style.face_ratio[0] <= ident.face_ratio <= style.face_ratio[1]
            assert max(map(abs, ident.offset)) <= style.offset
    # human skins in BGR always have red > green > blue; the unreal palette's do not
    human = [make_identity(SEED, s, "demo").skin for s in range(111, 131)]
    assert all(r > g > b for b, g, r in human)
    assert not all(r > g > b for b, g, r in (make_identity(SEED, s, "unreal").skin for s in range(111, 131)))


def test_the_style_decides_which_parts_carry_valence():
    """A smile against a frown: sketch moves the brows and eyes more than the mouth, demo the mouth
    most. Rows of a 160x120 frame: brows and eyes above the nose, the mouth below it."""
    for name, upper_wins in (("sketch", True), ("demo", False)):
        change = np.abs(render(name, 112, 0.9) - render(name, 112, -0.9)).mean(axis=(1, 2))
        ident = make_identity(SEED, 112, name)
        centre, unit = 0.46 * H, 0.5 * ident.face_size * H
        upper = change[int(centre - 0.5 * unit) : int(centre)].sum()  # brows and eyes
        lower = change[int(centre + 0.3 * unit) : int(centre + 0.8 * unit)].sum()  # mouth
        assert (upper > lower) == upper_wins, (name, upper, lower)


def test_named_styles_from_the_command_line(tmp_path):
    out = tmp_path / "mixed"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sendflow.synth",
            str(out),
            "--speakers",
            "6",
            "--clips-per-speaker",
            "1",
            "--seconds",
            "2",
            "--width",
            "96",
            "--height",
            "72",
            "--fps",
            "6",
            "--style",
            "mixed",
            "--jobs",
            "2",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    styles = pd.read_csv(out / TRUTH_FILE).groupby("speaker")["style"].first()
    assert set(styles) <= set(STYLES) and styles.nunique() > 1  # a style per speaker
    split = generate_dataset(tmp_path / "split", seed=SEED, test_style="unreal", jobs=2, **{**KW, "seconds": 2})
    by_split = pd.read_csv(split / TRUTH_FILE).groupby("split")["style"].unique()
    assert [list(by_split[s]) for s in ("Train", "Valid", "Test")] == [["demo"], ["demo"], ["unreal"]]
    bad = subprocess.run(
        [sys.executable, "-m", "sendflow.synth", str(tmp_path / "x"), "--style", "cubist"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0 and "invalid choice: 'cubist'" in bad.stderr
    with pytest.raises(ValueError, match="unknown style 'cubist'"):
        generate_dataset(tmp_path / "y", seed=SEED, **{**KW, "style": "cubist"})
