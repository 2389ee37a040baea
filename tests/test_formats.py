"""Table formats (sendflow/sources/formats/): OpenFace, py-feat, eGeMAPS and any CSV/Parquet, each
on hand-made files in the tool's own layout, and on the files the synthetic generator writes."""

import logging

import numpy as np
import pandas as pd
import pytest

from sendflow.errors import SendDataError
from sendflow.sources.formats import csv as csv_format
from sendflow.sources.formats import egemaps, openface, pyfeat
from sendflow.synth import TRUTH_FILE, generate_dataset
from sendflow.synth import tool_formats as TF
from sendflow.synth.identity import make_identity
from sendflow.synth.signals import STREAM_OPENFACE, clip_rng, make_clip_signals

# --- OpenFace ------------------------------------------------------------------------------------
OF_HEAD = ["frame", "face_id", "timestamp", "confidence", "success", "gaze_0_x", "x_0", "AU01_r", "AU12_r", "AU12_c"]


def openface_file(path, rows, sep=", ", head=OF_HEAD):
    """rows: (frame, face_id, timestamp, confidence, success, value): every feature cell holds
    `value` (OpenFace writes zeros where success is 0)."""
    lines = [sep.join(head)]
    for frame, face, t, conf, ok, value in rows:
        lines.append(sep.join([str(frame), str(face), f"{t:.3f}", f"{conf:.2f}", str(ok)] + [f"{value:g}"] * 5))
    path.write_text("\n".join(lines) + "\n")
    return path


def one_face_rows():
    """Six frames at 30 fps: frame 3 lost (success 0, zeros), frame 5 tracked with low confidence."""
    rows = []
    for i in range(6):
        ok, conf, value = (0, 0.1, 0) if i == 2 else (1, 0.5 if i == 4 else 0.98, i + 1)
        rows.append((i + 1, 0, i / 30, conf, ok, value))
    return rows


@pytest.mark.parametrize("sep", [", ", ","])  # OpenFace 2.0 writes ", ", later versions ","
def test_openface_lost_and_unsure_frames_are_nan_not_zeros(tmp_path, sep):
    path = openface_file(tmp_path / "clip.csv", one_face_rows(), sep=sep)
    times, values = openface.read(path, ["AU12_r", "AU01_r", "x_0"], {"min_confidence": 0.75})
    np.testing.assert_allclose(times, np.arange(6) / 30, atol=1e-3)
    assert values.shape == (6, 3) and values.dtype == np.float64
    assert np.isnan(values[[2, 4]]).all()  # success 0 and confidence 0.5 < 0.75
    np.testing.assert_array_equal(values[[0, 1, 3, 5], 0], [1, 2, 4, 6])
    # a lower threshold keeps the unsure frame; the lost one stays NaN whatever the threshold
    _, values = openface.read(path, ["AU12_r"], {"min_confidence": 0.4})
    assert values[4, 0] == 5 and np.isnan(values[2, 0])


def test_openface_keeps_the_face_tracked_longest(tmp_path, caplog):
    rows = []
    for i in range(8):  # face 0 on every frame but lost on 5 of them; face 1 tracked on frames 2-6
        rows.append((i + 1, 0, i / 30, 0.9, int(i in (0, 1, 7)), 10 + i))
        if 2 <= i <= 6:
            rows.append((i + 1, 1, i / 30, 0.9, 1, 20 + i))
    path = openface_file(tmp_path / "two.csv", rows)
    with caplog.at_level(logging.INFO, logger=openface.__name__):
        times, values = openface.read(path, ["AU12_r"], {"min_confidence": 0.75})
    np.testing.assert_allclose(times, np.arange(2, 7) / 30, atol=1e-3)
    np.testing.assert_array_equal(values[:, 0], [22, 23, 24, 25, 26])
    assert "kept face_id 1" in caplog.text and "dropped 8 rows" in caplog.text

    tie = [(1, 0, 0.0, 0.9, 1, 1), (1, 1, 0.0, 0.9, 1, 2), (2, 0, 0.033, 0.9, 1, 3), (2, 1, 0.033, 0.9, 1, 4)]
    _, values = openface.read(openface_file(tmp_path / "tie.csv", tie), ["AU12_r"], {"min_confidence": 0.75})
    np.testing.assert_array_equal(values[:, 0], [1, 3])  # a tie keeps the lower id


def test_openface_missing_column_text_and_backward_times_are_named(tmp_path):
    path = openface_file(tmp_path / "clip.csv", one_face_rows())
    with pytest.raises(SendDataError, match="missing column 'AU45_r'") as err:
        openface.read(path, ["AU12_r", "AU45_r"], {"min_confidence": 0.75})
    assert str(path) in str(err.value)

    text = path.read_text().replace("0.033, 0.98, 1, 2, 2, 2, 2, 2", "0.033, 0.98, 1, 2, 2, 2, oops, 2")
    (tmp_path / "text.csv").write_text(text)
    with pytest.raises(SendDataError, match=r"column 'AU12_r' holds text .*'oops' on line 3"):
        openface.read(tmp_path / "text.csv", ["AU12_r"], {"min_confidence": 0.75})

    rows = one_face_rows()
    rows[3] = (4, 0, 0.01, 0.98, 1, 4)
    back = openface_file(tmp_path / "back.csv", rows)
    with pytest.raises(SendDataError, match="timestamp does not increase") as err:
        openface.read(back, ["AU12_r"], {"min_confidence": 0.75})
    assert str(back) in str(err.value)

    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(SendDataError, match="empty"):
        openface.read(tmp_path / "empty.csv", ["AU12_r"], {"min_confidence": 0.75})
    with pytest.raises(SendDataError, match="not found"):
        openface.read(tmp_path / "absent.csv", ["AU12_r"], {"min_confidence": 0.75})


def test_openface_short_last_row_is_read_by_the_careful_path(tmp_path):
    """A file cut off mid-row (OpenFace killed while writing): the missing cells are NaN."""
    path = openface_file(tmp_path / "cut.csv", one_face_rows())
    path.write_text(path.read_text().rstrip("\n").rsplit(", ", 2)[0] + "\n")
    _, values = openface.read(path, ["AU01_r", "AU12_c"], {"min_confidence": 0.75})
    assert values[-1, 0] == 6 and np.isnan(values[-1, 1])


# --- py-feat -------------------------------------------------------------------------------------
PF_HEAD = ["FaceRectX", "FaceScore", "x_0", "AU01", "AU12", "happiness", "input", "frame", "approx_time", "Identity"]


def pyfeat_file(path, rows):
    """rows: (frame, FaceScore or None, AU12): AU01 = 0.1, happiness = AU12 / 2."""
    lines = [",".join(PF_HEAD)]
    for frame, score, au12 in rows:
        if score is None:
            cells = ["", "", "", "", "", "", "clip.mp4", str(frame), "00:00", ""]
        else:
            cells = ["10.5", f"{score}", "12.0", "0.1", f"{au12}", f"{au12 / 2}", "clip.mp4", str(frame), "00:00", "P0"]
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_pyfeat_times_from_frames_and_the_best_face_per_frame(tmp_path):
    rows = [(0, 0.99, 0.5), (1, 0.7, 0.9), (1, 0.95, 0.4), (2, None, 0), (3, 0.98, 0.3), (3, None, 0), (5, 0.9, 0.2)]
    path = pyfeat_file(tmp_path / "clip.csv", rows)
    times, values = pyfeat.read(path, ["AU12", "happiness"], {"fps": 25.0})
    np.testing.assert_allclose(times, [0, 0.04, 0.08, 0.12, 0.2])  # frame / fps; frame 4 was skipped
    np.testing.assert_allclose(values[:, 0], [0.5, 0.4, np.nan, 0.3, 0.2])  # frame 1: score 0.95 wins
    np.testing.assert_allclose(values[:, 1], [0.25, 0.2, np.nan, 0.15, 0.1])
    assert pyfeat.NEEDS_FPS is True


def test_pyfeat_needs_fps_refuses_frames_going_back_and_names_columns(tmp_path):
    path = pyfeat_file(tmp_path / "clip.csv", [(0, 0.9, 0.1), (1, 0.9, 0.2)])
    for options in ({}, {"fps": None}, None):
        with pytest.raises(SendDataError, match="tables.<name>.fps"):
            pyfeat.read(path, ["AU12"], options)
    back = pyfeat_file(tmp_path / "back.csv", [(0, 0.9, 0.1), (2, 0.9, 0.2), (1, 0.9, 0.3)])
    with pytest.raises(SendDataError, match="frame goes back: frame 1 follows frame 2") as err:
        pyfeat.read(back, ["AU12"], {"fps": 30})
    assert str(back) in str(err.value)
    with pytest.raises(SendDataError, match="missing column 'AU43'"):
        pyfeat.read(path, ["AU12", "AU43"], {"fps": 30})
    assert len(pyfeat.DEFAULT_COLUMNS) == 27 and pyfeat.DEFAULT_COLUMNS[-7:] == pyfeat.EMOTIONS


# --- eGeMAPS -------------------------------------------------------------------------------------
def egemaps_file(path, times, sep=", "):
    names = ["name", "frameTime", *egemaps.DEFAULT_COLUMNS]
    lines = [sep.join(names)]
    for k, t in enumerate(times):
        lines.append(sep.join(["'unknown'", f"{t:.6f}", *(f"{k + j / 100:.4f}" for j in range(88))]))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("sep", [", ", ";"])
def test_egemaps_at_2_hz(tmp_path, sep):
    path = egemaps_file(tmp_path / "ID1_vid1_acousticFeatures.csv", np.arange(7) * 0.5, sep=sep)
    times, values = egemaps.read(path, egemaps.DEFAULT_COLUMNS, {})
    np.testing.assert_allclose(times, np.arange(7) * 0.5)
    assert values.shape == (7, 88)
    np.testing.assert_allclose(values[:, 0], np.arange(7))
    np.testing.assert_allclose(values[3, 87], 3.87)
    _, loud = egemaps.read(path, ["loudness_sma3_amean"], {})
    np.testing.assert_allclose(loud[:, 0], np.arange(7) + 0.1)

    back = egemaps_file(tmp_path / "back.csv", [0, 0.5, 1.0, 0.5], sep=sep)
    with pytest.raises(SendDataError, match="frameTime does not increase") as err:
        egemaps.read(back, ["loudness_sma3_amean"], {})
    assert str(back) in str(err.value)
    with pytest.raises(SendDataError, match="missing column 'loudness_sma3_max'"):
        egemaps.read(path, ["loudness_sma3_max"], {})


# --- any CSV or Parquet --------------------------------------------------------------------------
def test_csv_and_parquet_with_a_time_column(tmp_path):
    frame = pd.DataFrame(
        {"sec": [0.0, 0.1, 0.2, 0.3], "a": [1.0, np.nan, 3.0, 4.0], "b": [5, 6, 7, 8], "s": list("wxyz")}
    )
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    frame.to_parquet(tmp_path / "t.pq", index=False)
    options = {"time_column": "sec"}
    for name in ("t.csv", "t.parquet", "t.pq"):
        times, values = csv_format.read(tmp_path / name, ["b", "a"], options)
        np.testing.assert_allclose(times, [0, 0.1, 0.2, 0.3])
        np.testing.assert_allclose(values, [[5, 1], [6, np.nan], [7, 3], [8, 4]])
        with pytest.raises(SendDataError, match="missing column 'c'"):
            csv_format.read(tmp_path / name, ["a", "c"], options)
        with pytest.raises(SendDataError, match=r"column 's' holds text where a number belongs: 'w'"):
            csv_format.read(tmp_path / name, ["s"], options)
        with pytest.raises(SendDataError, match=r"set tables\.<name>\.time_column"):
            csv_format.read(tmp_path / name, ["a"], {"time_column": None})
        with pytest.raises(SendDataError, match=r"tables\.<name>\.columns"):
            csv_format.read(tmp_path / name, [], options)
    assert csv_format.DEFAULT_COLUMNS == ()

    frame.assign(sec=[0.0, 0.2, 0.1, 0.3]).to_parquet(tmp_path / "back.parquet", index=False)
    with pytest.raises(SendDataError, match="sec does not increase") as err:
        csv_format.read(tmp_path / "back.parquet", ["a"], options)
    assert "back.parquet" in str(err.value)
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(SendDataError, match="unreadable Parquet file"):
        csv_format.read(tmp_path / "bad.parquet", ["a"], options)


# --- the synthetic generator's files -------------------------------------------------------------
@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    root = tmp_path_factory.mktemp("formats") / "send"
    generate_dataset(
        root,
        speakers=4,
        clips_per_speaker=2,
        seconds=20,
        seed=3,
        width=64,
        height=64,
        fps=10,
        limited_fraction=0.25,
        style="demo",
    )
    return root, pd.read_csv(root / TRUTH_FILE)


def test_generator_writes_each_format_where_sendflow_expects_it(synth):
    root, truth = synth
    clips = truth.drop_duplicates("clip_id")
    for c in clips.itertuples():
        stem = f"ID{c.speaker}_vid{c.clip}_crop_downsized"
        assert (
            root / "features" / c.split / "acoustic-egemaps" / f"ID{c.speaker}_vid{c.clip}_acousticFeatures.csv"
        ).is_file()
        assert (root / "openface" / f"{stem}.csv").is_file() == c.has_video
        assert (root / "pyfeat" / f"{stem}.csv").is_file() == c.has_video
    assert not clips.has_video.all()  # limited-use clips have eGeMAPS but no face files
    assert TF.EGEMAPS_NAMES == egemaps.DEFAULT_COLUMNS
    header = (next((root / "openface").glob("*.csv"))).read_text().splitlines()[0]
    assert header.split(", ") == TF.openface_columns() and len(TF.openface_columns()) == 714
    assert set(openface.DEFAULT_COLUMNS) < set(TF.openface_columns())
    assert set(pyfeat.DEFAULT_COLUMNS) < set(TF.pyfeat_columns())


def test_generated_openface_is_nan_exactly_on_lost_frames(synth):
    root, truth = synth
    video_fps = 30000 / 1001 / 3  # fps=10 keeps every 3rd frame
    for path in sorted((root / "openface").glob("*.csv")):
        raw = pd.read_csv(path, skipinitialspace=True)
        raw = raw[raw.face_id == 0]
        lost = ((raw.success == 0) | (raw.confidence < 0.75)).to_numpy()
        assert lost.any() and not lost.all()
        assert (raw.loc[raw.success == 0, list(openface.DEFAULT_COLUMNS)] == 0).all().all()  # zeros in the file
        times, values = openface.read(path, openface.DEFAULT_COLUMNS, {"min_confidence": 0.75})
        np.testing.assert_array_equal(np.isnan(values).any(axis=1), lost)
        np.testing.assert_array_equal(np.isnan(values).all(axis=1), lost)
        np.testing.assert_allclose(times, np.arange(len(times)) / video_fps, atol=6e-4)

        times_pf, values_pf = pyfeat.read(root / "pyfeat" / path.name, pyfeat.DEFAULT_COLUMNS, {"fps": video_fps})
        np.testing.assert_allclose(times_pf, times, atol=6e-4)
        assert 0 < np.isnan(values_pf).any(axis=1).sum() < len(values_pf) / 2


def test_generated_second_faces_are_left_out(tmp_path):
    """Some clips' OpenFace files carry a second face for a while: the reader keeps the speaker's."""
    ident = make_identity(3, 111, "demo")
    for clip in range(1, 40):  # the first clip the generator gives a second face
        sig = make_clip_signals(3, 111, clip, 12, ident)
        cols = TF.openface_rows(sig, ident, clip_rng(3, 111, clip, STREAM_OPENFACE), 3, 64, 64)
        if (cols["face_id"] == 1).any():
            break
    else:
        pytest.fail("no clip with a second face")
    TF._write_csv(cols, TF.openface_columns(), tmp_path / "two.csv")
    _, values = openface.read(tmp_path / "two.csv", openface.DEFAULT_COLUMNS, {"min_confidence": 0.75})
    own, lost = cols["face_id"] == 0, cols["lost"]
    assert len(values) == own.sum() < len(cols["face_id"])
    np.testing.assert_array_equal(np.isnan(values).any(axis=1), lost)
    np.testing.assert_allclose(values[~lost, 0], cols["AU01_r"][own][~lost])


def test_generated_egemaps_loudness_follows_valence(synth):
    root, truth = synth
    loud, valence = [], []
    for c in truth.drop_duplicates("clip_id").itertuples():
        path = root / "features" / c.split / "acoustic-egemaps" / f"ID{c.speaker}_vid{c.clip}_acousticFeatures.csv"
        times, values = egemaps.read(path, ["loudness_sma3_amean", "F0semitoneFrom27.5Hz_sma3nz_amean"], {})
        rows = truth[truth.clip_id == c.clip_id]
        np.testing.assert_allclose(times, rows.t.to_numpy())  # 2 Hz, on the rating grid
        loud.append(values - values.mean(axis=0))  # each clip about its own mean: voices differ
        valence.append(rows.valence.to_numpy() - rows.valence.mean())
    loud, valence = np.concatenate(loud), np.concatenate(valence)
    assert np.corrcoef(loud[:, 0], valence)[0, 1] > 0.5  # loudness
    assert np.corrcoef(loud[:, 1], valence)[0, 1] > 0.5  # pitch
