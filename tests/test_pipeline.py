"""The whole workflow, end to end, on a tiny synthetic dataset: real Snakemake, real files."""

import hashlib
import json
import subprocess
import sys

import pandas as pd
import pyarrow.parquet as pq
import pytest

from conftest import PROJECT

TINY = [
    "data.demo.speakers=6", "data.demo.clips_per_speaker=2", "data.demo.seconds=8",
    "data.demo.width=192", "data.demo.height=144", "cv.k=2", "frames.size=32",
    "extractor.kinds=[resattn]", "extractor.epochs=1", "extractor.batch_size=16",
    "classifier.names=[mstcn,framewise,mean]", "classifier.training.epochs=2",
]


def run(workdir, *args):
    cmd = [sys.executable, "-m", "sendflow.cli", "--snakefile", str(PROJECT / "Snakefile"),
           "--directory", str(workdir), "--cores", "2", *args, "--config", *TINY]
    return subprocess.run(cmd, capture_output=True, text=True)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("pipeline")
    proc = run(workdir)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return workdir


def test_every_stage_writes_its_outputs(finished):
    results = finished / "results"
    for fold in (0, 1):
        model = results / f"extractor/resattn/fold{fold}/model.pt"
        features = results / f"features/resattn/fold{fold}.parquet"
        assert model.exists() and not (model.parent / "last.pt").exists()
        meta = pq.read_schema(features).metadata
        assert meta[b"sendflow.extractor_sha256"].decode() == hashlib.sha256(model.read_bytes()).hexdigest()
        for name in ("mstcn", "framewise", "mean"):
            out = results / f"classifier/resattn/{name}/three/fold{fold}"
            metrics = json.loads((out / "metrics.json").read_text())
            assert {"ccc", "ccc_pooled", "accuracy", "macro_f1", "kappa", "edit", "f1@25",
                    "per_speaker"} <= set(metrics)
            predictions = pd.read_parquet(out / "predictions.parquet")
            assert {"clip_id", "speaker", "t", "valence_true", "valence_pred", "class_true",
                    "class_pred", "prob_0", "prob_1", "prob_2"} <= set(predictions.columns)


def test_predictions_cover_exactly_the_test_clips(finished):
    folds = pd.read_parquet(finished / "results/index/folds.parquet")
    features = pd.read_parquet(finished / "results/features/resattn/fold0.parquet")
    predictions = pd.read_parquet(
        finished / "results/classifier/resattn/mstcn/three/fold0/predictions.parquet")
    test = set(folds[(folds["fold"] == 0) & (folds["role"] == "test")]["clip_id"])
    assert set(predictions["clip_id"]) == test & set(features["clip_id"])
    summary = json.loads((finished / "results/extractor/resattn/fold0/summary.json").read_text())
    assert not set(summary["train_clips"] + summary["select_clips"]) & test


def test_a_second_run_has_nothing_to_do(finished):
    proc = run(finished, "-n")
    assert proc.returncode == 0 and "Nothing to be done" in proc.stdout + proc.stderr
