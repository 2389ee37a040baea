"""Training repeats, for real: a copy of the finished tiny run (repeat 0) raised to `repeats=2`
trains repeat 1 with seed + 1 beside it, leaves repeat 0's results as they were, and the tables
aggregate both."""

import json
import shutil

import pandas as pd
import pytest
import torch
from conftest import TINY, run_tiny

SEED = 7  # the schema's default, which TINY keeps


@pytest.fixture(scope="module")
def two_repeats(tiny_run, tiny_project, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("repeats") / "run"
    shutil.copytree(tiny_run, workdir, symlinks=True)  # copy2 keeps modification times
    proc = run_tiny(workdir, "--cores", "2", config=["repeats=2"], project=tiny_project)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return workdir / "results"


def test_repeat_one_trains_again_with_the_next_seed(two_repeats):
    folds = int(next(s for s in TINY if s.startswith("cv.k=")).split("=")[1])
    for fold in range(folds):
        first = torch.load(two_repeats / f"extractor/resattn/fold{fold}/model.pt", weights_only=True)
        second = torch.load(two_repeats / f"extractor/resattn/fold{fold}-repeat1/model.pt", weights_only=True)
        assert (first["seed"], second["seed"]) == (SEED, SEED + 1)
        weights = [k for k, v in first["state_dict"].items() if v.is_floating_point()]
        assert any(not torch.equal(first["state_dict"][k], second["state_dict"][k]) for k in weights)
        for source in ("resattn", "fused"):
            assert (two_repeats / f"features/{source}/fold{fold}-repeat1.parquet").is_file()
        assert not (two_repeats / f"features/emotient/fold{fold}-repeat1.parquet").exists()  # not trained
        a, b = (
            pd.read_parquet(two_repeats / f"classifier/resattn/mstcn/three/fold{fold}{tag}/predictions.parquet")
            for tag in ("", "-repeat1")
        )
        assert list(a["clip_id"]) == list(b["clip_id"])  # the same test clips
        assert not a["valence_pred"].equals(b["valence_pred"])  # another training run


def test_repeat_zero_is_not_trained_again(tiny_run, two_repeats):
    """The feature and classifier jobs hold both repeats of a fold, so they run again; repeat 0's
    outputs still come out byte for byte as before, and its torch models are loaded, not trained."""
    before = tiny_run / "results"
    repeat_zero = [
        *before.glob("features/*/fold*.parquet"),
        *before.glob("classifier/*/*/*/fold?/*.json"),
        *before.glob("classifier/*/*/*/fold?/*.parquet"),
    ]
    assert repeat_zero
    for path in repeat_zero:
        assert (two_repeats / path.relative_to(before)).read_bytes() == path.read_bytes(), path
    for log in two_repeats.glob("logs/classifier/*/mstcn/*/fold*.log"):
        text = log.read_text().split("repeat 1 (seed")[0]  # repeat 0's part of the last attempt
        assert "training had finished" in text.rsplit("--- job started ---", 1)[-1], log


def test_the_tables_aggregate_both_repeats(two_repeats):
    folds = pd.read_csv(two_repeats / "metrics/folds.csv")
    assert set(folds["repeat"]) == {0, 1}
    assert folds.groupby(["extractor", "classifier", "labels", "fold"]).size().eq(2).all()
    clips = pd.read_csv(two_repeats / "metrics/per_clip.csv", dtype={"clip_id": str})
    assert set(clips["repeat"]) == {0, 1}
    summary = pd.read_csv(two_repeats / "metrics/summary.csv").set_index(["extractor", "classifier"])
    assert summary["n_repeats"].eq(2).all()
    mstcn = summary.loc[("resattn", "mstcn")]
    per_fold = folds[(folds["extractor"] == "resattn") & (folds["classifier"] == "mstcn")]
    assert mstcn["ccc_mean"] == pytest.approx(per_fold.groupby("fold")["ccc"].mean().mean())
    assert mstcn["ccc_std_repeats"] > 0  # two training runs of a fold differ
    assert mstcn["ccc_ci_low"] <= mstcn["ccc_mean"] <= mstcn["ccc_ci_high"]
    # the action units' mean baseline is fitted in closed form on untrained features: its
    # repeats agree, so it has no training noise
    assert summary.loc[("emotient", "mean"), "ccc_std_repeats"] == pytest.approx(0)
    comparisons = pd.read_csv(two_repeats / "metrics/comparisons.csv")
    # two sources trained on the same extractor runs (fused vs resattn): a run that never took
    # off (1-epoch extractors here) leaves out its fold and repeat, here all of them
    every_run_left_out = comparisons["runs_left_out"].eq(4)
    pairs = comparisons.loc[every_run_left_out, ["candidate", "reference"]]
    assert all({c, r} == {"fused", "resattn"} for c, r in pairs.itertuples(index=False))
    kept = comparisons[~every_run_left_out]
    assert not kept.empty and kept["n_repeats"].eq(2).all()
    assert set(kept["verdict"]) <= {"better", "worse", "the data cannot tell"}
    # summary.md shows what folds.csv gives: the mean over folds of each fold's mean over repeats,
    # the sd of those fold means and the root mean of each fold's variance over repeats
    by_fold = per_fold.groupby("fold")["ccc"]
    row = next(
        line for line in (two_repeats / "metrics/summary.md").read_text().splitlines() if "| resattn | mstcn |" in line
    )
    assert row.startswith(f"| resattn | mstcn | three | 2 | 2 | {by_fold.mean().mean():.3f} [")
    spread = f"{by_fold.mean().std(ddof=1):.3f} / {by_fold.var(ddof=1).mean() ** 0.5:.3f}"
    assert row.endswith(f"| {spread} |")


def test_comparisons_pair_clips_across_both_repeats(two_repeats):
    """A comparison of the real run recomputed from per_clip.csv: pair the two sources on the clips
    both scored in the same fold and repeat (emotient also scores clips without video), average a
    clip over its repeats, a speaker over its clips, then the speakers."""
    clips = pd.read_csv(two_repeats / "metrics/per_clip.csv", dtype={"clip_id": str})
    comparisons = pd.read_csv(two_repeats / "metrics/comparisons.csv")
    units = comparisons[(comparisons["question"] == "units") & (comparisons["classifier"] == "mstcn")]
    (row,) = units.to_dict("records")
    keys = ["classifier", "labels", "fold", "repeat", "speaker", "clip_id"]
    a, b = (clips[clips["extractor"] == e].set_index(keys)["ccc"] for e in (row["candidate"], row["reference"]))
    assert len(b) > len(a)  # the reference has clips the candidate lacks
    diff = (a - b).dropna().reset_index()
    diff = diff[(diff["classifier"] == "mstcn") & (diff["labels"] == row["labels"])]
    per_clip = diff.groupby(["speaker", "clip_id"])["ccc"].mean()
    per_speaker = per_clip.groupby("speaker").mean()
    assert row["mean_diff"] == pytest.approx(per_speaker.mean())
    assert (row["n_speakers"], row["n_clips"]) == (len(per_speaker), len(per_clip))
    assert row["speakers_better"] == (per_speaker > 0).sum() and set(diff["repeat"]) == {0, 1}


def test_the_bundle_holds_repeat_zero(two_repeats):
    bundle = json.loads((two_repeats / "model_zoo/resattn-mstcn-three/bundle.json").read_text())
    assert bundle["seed"] == SEED
    assert "repeat 0" in (two_repeats / "model_zoo/resattn-mstcn-three/README.md").read_text()
