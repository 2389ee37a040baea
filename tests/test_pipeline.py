"""The whole workflow, end to end, on a tiny synthetic dataset: real Snakemake, real files."""

import hashlib
import json

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import run_tiny

from sendflow.report.browser_check import check_report, failures, find_chromium


@pytest.fixture
def finished(tiny_run):
    return tiny_run


@pytest.fixture
def run(tiny_project):
    return lambda workdir, *args: run_tiny(workdir, "--cores", "2", *args, project=tiny_project)


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


def test_a_second_run_has_nothing_to_do(finished, run):
    proc = run(finished, "-n")
    assert proc.returncode == 0 and "Nothing to be done" in proc.stdout + proc.stderr


def test_results_are_aggregated_and_compared(finished):
    metrics = finished / "results/metrics"
    summary = pd.read_csv(metrics / "summary.csv")
    assert sorted(summary["classifier"]) == ["framewise", "mean", "mstcn"]
    assert (summary["n_folds"] == 2).all()
    mstcn = [json.loads((finished / f"results/classifier/resattn/mstcn/three/fold{k}/metrics.json")
                        .read_text())["ccc"] for k in (0, 1)]
    row = summary.set_index("classifier").loc["mstcn"]
    assert row["ccc_mean"] == pytest.approx(sum(mstcn) / 2)
    assert row["ccc_std"] == pytest.approx(abs(mstcn[0] - mstcn[1]) / 2 ** 0.5)
    comparisons = (metrics / "comparisons.md").read_text()
    assert "mstcn vs framewise" in comparisons and "mstcn vs mean" in comparisons
    assert "resattn vs resnet" not in comparisons  # only one extractor ran
    manifest = json.loads((metrics / "manifest.json").read_text())
    assert manifest["config"]["cv"]["k"] == 2 and manifest["packages"]["torch"]
    assert {"frames", "extractor", "features", "classifier"} <= {s["stage"] for s in manifest["stages"]}
    for clip in pd.read_csv(metrics / "per_clip.csv").query("classifier == 'mstcn'").itertuples():
        assert (finished / f"results/figures/timelines/fold{clip.fold}/{clip.clip_id}.png").exists()


def test_the_html_report_embeds_every_figure(finished, run):
    proc = run(finished, "--report", "results/report.html")
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = (finished / "results/report.html").read_text()
    figures = sorted(p.relative_to(finished).as_posix() for p in (finished / "results/figures").rglob("*.png"))
    assert figures and all(f'"{f}"' in report for f in figures)
    if find_chromium() is None:
        pytest.skip("no Chromium here to open the report in (Debian: apt-get install chromium)")
    result = check_report(finished / "results/report.html")
    assert not failures(result)
    assert sorted(image["path"] for image in result["images"]) == figures
