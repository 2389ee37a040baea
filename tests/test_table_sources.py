"""Table sources and fusions: reading SEND's Emotient files by column name, resampling per-frame
rows to the 0.5 s rating grid, per-fold standardisation with its one NaN rule, and fusion of
sources with a mask per member."""

import numpy as np
import pandas as pd
import pytest
from conftest import run_tiny

from sendflow.errors import SendDataError
from sendflow.feature_table import read_feature_table, write_feature_table
from sendflow.sources.formats.emotient import read
from sendflow.sources.fusion import Member, fuse
from sendflow.sources.standardise import fold_steps, train_statistics
from sendflow.sources.table import clip_steps, resample

COLUMNS = ["AU1", "AU12", "joyEvidence"]
TABLE = {"format": "emotient", "columns": COLUMNS}


def read_emotient(path, columns):
    return read(path, columns, TABLE)


def fused(learned, units, roles, components=0):
    """`fuse` of today's `fused`: the (standardised) units as the base, learned features beside."""
    steps, x, blocks, _ = fuse(
        [Member("emotient", *units, standardised=True), Member("resattn", *learned, standardised=False)],
        roles,
        components,
    )
    return steps, x


def hand_made_file(path):
    """25 frames per second (not SEND's 29.97) for 1.32 s, so the last 0.5 s step is cut short;
    AU1 = frame number, AU12 = 10 x time. Frames 3 and 4 are blank rows (no face), the whole
    of 0.5-1.0 s except frame 13 is NaN, one row lost its time, and an unused column holds text."""
    lines = ["Frametime,AU1,FaceRect,AU12,joyEvidence"]
    for i in range(34):  # 0.00 .. 1.32 s
        t = i / 25
        if i in (3, 4):
            lines.append(f"{t:.4f},,,,")
        elif 13 <= i < 25 and i != 13:
            lines.append(f"{t:.4f},NaN,face,NaN,nan")
        elif i == 30:
            lines.append(f",{i},face,{10 * t:.4f},1.0")
        else:
            lines.append(f"{t:.4f},{i},face,{10 * t:.4f},1.0")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_resampling_a_hand_made_file(tmp_path):
    times, values = read_emotient(hand_made_file(tmp_path / "ID111_vid1_crop_downsized.txt"), COLUMNS)
    assert len(times) == 33 and values.shape == (33, 3)  # the row without a time is gone
    steps = resample(times, values)
    # step 0: frames 0..12 (t < 0.5) less the blank 3 and 4; step 1: only frame 13 has values;
    # step 2: frames 25..33 (t up to 1.32) less the untimed 30, a short last step.
    expected = {0: [0, 1, 2, *range(5, 13)], 1: [13], 2: [25, 26, 27, 28, 29, 31, 32, 33]}
    assert steps["step"].tolist() == [0, 1, 2]
    assert steps["n_frames"].tolist() == [len(v) for v in expected.values()]
    for step, frames in expected.items():
        assert steps["feature"][step][0] == pytest.approx(np.mean(frames))
        assert steps["feature"][step][1] == pytest.approx(np.mean([10 * i / 25 for i in frames]), abs=1e-4)
        assert steps["feature"][step][2] == pytest.approx(1.0)


def test_a_step_without_any_face_stays_on_the_grid_empty(tmp_path):
    path = tmp_path / "ID111_vid1_crop_downsized.txt"
    rows = [f"{t:.3f},{'NaN' if 0.5 <= t < 1.0 else 1.0},2.0,3.0" for t in np.arange(0, 1.5, 0.1)]
    path.write_text("Frametime,AU1,AU12,joyEvidence\n" + "\n".join(rows) + "\n")
    steps = resample(*read_emotient(path, COLUMNS))
    assert steps["n_frames"].tolist() == [5, 0, 5]
    assert np.isnan(steps["feature"][1]).all() and not np.isnan(steps["feature"][[0, 2]]).any()


def test_clip_steps_take_the_observer_valence_at_each_step(tmp_path):
    emotient = hand_made_file(tmp_path / "ID111_vid1_crop_downsized.txt")
    observer = tmp_path / "results_111_1.csv"
    observer.write_text("time,evaluatorWeightedEstimate,SDofEWE\n0.0,50,1\n0.5,75,1\n1.0,100,1\n")
    table = clip_steps("111_1", 111, emotient, observer, TABLE)
    assert table["t"].tolist() == [0.0, 0.5, 1.0]
    assert table["valence"].tolist() == [0.0, 0.5, 1.0]
    assert (table["clip_id"] == "111_1").all() and (table["speaker"] == 111).all()


@pytest.mark.parametrize(
    "content, problem",
    [
        ("Frametime,AU1,joyEvidence\n0.0,0.1,0.2\n", "missing column 'AU12'"),
        ("Time,AU1,AU12,joyEvidence\n0.0,0.1,0.2,0.3\n", "missing column 'Frametime'"),
        (
            "Frametime,AU1,AU12,joyEvidence\n0.0,0.1,0.2,0.3\n0.0334,0.1,high,0.3\n",
            "column 'AU12' holds text where a number belongs: 'high' on line 3",
        ),
        (
            "Frametime,AU1,AU12,joyEvidence\n0.0,0.1,0.2,0.3\nFrametime,AU1,AU12,joyEvidence\n",
            "column 'Frametime' holds text",
        ),
        ("Frametime,AU1,AU12,joyEvidence\n0.5,0.1,0.2,0.3\n0.4,0.1,0.2,0.3\n", "Frametime does not increase"),
        ("", "unreadable Emotient file"),
    ],
)
def test_a_bad_file_is_refused_naming_the_file_and_the_column(tmp_path, content, problem):
    path = tmp_path / "ID111_vid1_crop_downsized.txt"
    path.write_text(content)
    with pytest.raises(SendDataError, match=problem) as error:
        read_emotient(path, COLUMNS)
    assert str(path) in str(error.value)


def steps_of(clips: dict[str, tuple[int, np.ndarray]]):
    """A feature table's steps and features from {clip_id: (speaker, features [T, D])}."""
    steps = pd.concat(
        [
            pd.DataFrame(
                {
                    "clip_id": c,
                    "speaker": s,
                    "step": np.arange(len(x), dtype=np.int32),
                    "t": np.arange(len(x)) * 0.5,
                    "n_frames": 15,
                    "valence": 0.1,
                }
            )
            for c, (s, x) in clips.items()
        ],
        ignore_index=True,
    )
    return steps, np.concatenate([x for _, x in clips.values()]).astype(np.float32)


def test_standardisation_uses_the_training_speakers_only(tmp_path):
    rng = np.random.default_rng(0)
    clips = {
        "111_1": (111, rng.normal(2.0, 3.0, (40, 4))),
        "111_2": (111, rng.normal(2.0, 3.0, (30, 4))),
        "112_1": (112, rng.normal(-5.0, 0.5, (20, 4))),
        "113_1": (113, rng.normal(9.0, 1.0, (25, 4))),
        "199_1": (199, rng.normal(0.0, 1.0, (10, 4))),
    }  # not in the fold
    steps, x = steps_of(clips)
    x[3] = np.nan  # a step without a face in a training clip
    path = tmp_path / "steps.parquet"
    write_feature_table(steps, x, path, {"sendflow.emotient_columns": "a,b,c,d"})
    steps, x, _ = read_feature_table(path)
    roles = {"111_1": "train", "111_2": "train", "112_1": "select", "113_1": "test"}
    fold, standardised, stats = fold_steps(steps, x, roles)

    train_rows = np.concatenate([clips["111_1"][1][[i for i in range(40) if i != 3]], clips["111_2"][1]])
    np.testing.assert_allclose(stats["mean"], train_rows.mean(0), rtol=1e-5)
    np.testing.assert_allclose(stats["std"], train_rows.std(0), rtol=1e-5)
    everyone = np.concatenate([c[1] for k, c in clips.items() if k in roles])
    assert not np.allclose(stats["mean"], everyone.mean(0), atol=0.5)  # the other speakers are far off
    assert set(fold["clip_id"]) == set(roles)
    is_train = fold["clip_id"].map(roles).eq("train").to_numpy()
    face = np.ones(len(fold), bool)
    face[3] = False
    np.testing.assert_allclose(standardised[is_train & face].mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(standardised[is_train & face].std(0), 1, atol=1e-4)
    assert (standardised[3] == 0).all()  # no face: the training mean
    test = fold["clip_id"].eq("113_1").to_numpy()
    np.testing.assert_allclose(
        standardised[test], (clips["113_1"][1] - train_rows.mean(0)) / train_rows.std(0), rtol=1e-4, atol=1e-4
    )


def test_fusion_sets_learned_features_beside_the_units_with_a_mask():
    rng = np.random.default_rng(1)
    # 112_1 has no video: units only. 111_1's video is one step shorter than its Emotient file.
    learned = steps_of({"111_1": (111, rng.normal(5, 2, (3, 2))), "113_1": (113, rng.normal(0, 1, (4, 2)))})
    units = steps_of(
        {
            "111_1": (111, rng.normal(0, 1, (4, 3))),
            "112_1": (112, rng.normal(0, 1, (2, 3))),
            "113_1": (113, rng.normal(0, 1, (4, 3))),
        }
    )
    roles = {"111_1": "train", "112_1": "train", "113_1": "test"}
    steps, x = fused(learned, units, roles)
    assert x.shape == (10, 2 + 1 + 3)
    assert steps[["clip_id", "step"]].values.tolist() == [
        ["111_1", 0],
        ["111_1", 1],
        ["111_1", 2],
        ["111_1", 3],
        ["112_1", 0],
        ["112_1", 1],
        ["113_1", 0],
        ["113_1", 1],
        ["113_1", 2],
        ["113_1", 3],
    ]
    mask = x[:, 2]
    assert mask.tolist() == [1, 1, 1, 0, 0, 0, 1, 1, 1, 1]
    assert (x[mask == 0, :2] == 0).all()
    np.testing.assert_allclose(x[:3, :2].mean(0), 0, atol=1e-5)  # standardised on the training clip
    np.testing.assert_array_equal(x[:, 3:], units[1])  # the units as they came, in the same order


@pytest.mark.slow  # runs Snakemake for real
def test_an_emotient_only_run_decodes_no_video(tmp_path):
    """extractor.kinds: [emotient] runs the whole path from the action units alone: no frame,
    extractor or feature-cache job, and every report page still made."""
    proc = run_tiny(tmp_path, "--cores", "2", config=["extractor.kinds=[emotient]", "classifier.names=[mstcn,mean]"])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = tmp_path / "results"
    assert not (results / "frames").exists() and not (results / "extractor").exists()
    summary = pd.read_csv(results / "metrics/summary.csv")
    assert set(summary["extractor"]) == {"emotient"} and len(summary) == 2
    clips = pd.read_parquet(results / "index/clips.parquet")
    units = pd.read_parquet(results / "features/emotient/steps.parquet")
    assert set(units["clip_id"]) == set(clips["clip_id"])  # the clips without video too
    assert "No video stage ran" in (results / "report_pages/face_detection.html").read_text()
    # a table's bundles: a new video needs its Emotient file, given to predict with --table
    bundles = sorted(p.name for p in (results / "model_zoo").iterdir())
    assert bundles == ["emotient-mean-three", "emotient-mstcn-three"]


def test_fusion_can_keep_principal_components_of_the_learned_features():
    """fuse_components: the learned part becomes that many components of the training clips,
    uncorrelated and of unit variance there; clips without video still have it at 0."""
    rng = np.random.default_rng(2)
    signal = rng.normal(size=(60, 1))
    learned = steps_of(
        {
            "111_1": (111, signal[:30] @ rng.normal(size=(1, 6)) + rng.normal(0, 0.1, (30, 6))),
            "113_1": (113, signal[30:] @ rng.normal(size=(1, 6)) + rng.normal(0, 0.1, (30, 6))),
        }
    )
    units = steps_of(
        {
            "111_1": (111, rng.normal(0, 1, (30, 3))),
            "112_1": (112, rng.normal(0, 1, (5, 3))),
            "113_1": (113, rng.normal(0, 1, (30, 3))),
        }
    )
    roles = {"111_1": "train", "112_1": "train", "113_1": "test"}
    steps, x = fused(learned, units, roles, components=2)
    assert x.shape == (65, 2 + 1 + 3)
    train = steps["clip_id"].eq("111_1").to_numpy()
    np.testing.assert_allclose(np.cov(x[train, :2].T, bias=True), np.eye(2), atol=1e-4)
    assert (x[steps["clip_id"].eq("112_1").to_numpy(), :3] == 0).all()
    np.testing.assert_array_equal(fused(learned, units, roles, components=0)[1].shape, (65, 6 + 1 + 3))


def test_a_three_member_fusion_gives_every_member_but_the_base_a_mask_and_reduces_the_wide_ones():
    """of: [units, learned, audio]: columns learned (2 components) + mask, audio (3) + mask, then
    the units; each member missing where it has no step, and its mask 0 there."""
    rng = np.random.default_rng(3)
    units = steps_of({"111_1": (111, rng.normal(0, 1, (4, 3))), "113_1": (113, rng.normal(0, 1, (3, 3)))})
    learned = steps_of({"111_1": (111, rng.normal(0, 1, (4, 8))), "113_1": (113, rng.normal(0, 1, (2, 8)))})
    audio = steps_of({"111_1": (111, rng.normal(4, 2, (2, 3))), "112_1": (112, rng.normal(4, 2, (2, 3)))})
    roles = {"111_1": "train", "112_1": "train", "113_1": "test"}
    members = [
        Member("emotient", *units, standardised=True),
        Member("resattn", *learned, standardised=False),
        Member("egemaps", *audio, standardised=False),
    ]
    steps, x, blocks, transforms = fuse(members, roles, components=2)
    assert [(b.name, b.start, b.stop, b.masked) for b in blocks] == [
        ("resattn", 0, 3, True),
        ("egemaps", 3, 7, True),
        ("emotient", 7, 10, False),
    ]
    key = list(zip(steps["clip_id"], steps["step"]))
    assert key == [("111_1", 0), ("111_1", 1), ("111_1", 2), ("111_1", 3), ("112_1", 0), ("112_1", 1)] + [
        ("113_1", s) for s in range(3)
    ]
    assert x[:, 2].tolist() == [1, 1, 1, 1, 0, 0, 1, 1, 0]
    assert x[:, 6].tolist() == [1, 1, 0, 0, 1, 1, 0, 0, 0]
    assert (x[x[:, 6] == 0, 3:6] == 0).all() and (x[x[:, 2] == 0, :2] == 0).all()
    np.testing.assert_allclose(x[x[:, 6] == 1, 3:6].mean(0), 0, atol=1e-5)  # audio: standardised on training steps
    assert (x[4:6, 7:] == 0).all()  # 112_1 has no units: the base at its mean, no mask
    assert steps["n_frames"].tolist()[4:6] == [0, 0]  # the base's frames


def test_the_one_nan_rule_takes_each_column_over_the_steps_that_have_it():
    x = np.array([[1.0, np.nan], [3.0, 10.0], [np.nan, np.nan], [5.0, 20.0]])
    mean, std = train_statistics(x)
    np.testing.assert_allclose(mean, [3.0, 15.0])
    np.testing.assert_allclose(std, [np.std([1, 3, 5]), 5.0])
    mean, std = train_statistics(np.array([[np.nan, 2.0], [np.nan, 2.0]]))
    assert mean.tolist() == [0.0, 2.0] and std.tolist() == [1.0, 1.0]  # no value / constant
    with pytest.raises(ValueError, match="no training step"):
        train_statistics(np.full((2, 2), np.nan))
