"""The whole workflow, end to end, on a tiny synthetic dataset: real Snakemake, real files."""

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess

import matplotlib.image
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch
from conftest import PROJECT, run_tiny

from sendflow.feature_table import read_feature_table
from sendflow.report.aggregate import mean_interval
from sendflow.report.browser_check import check_report, failures, find_chromium, screenshot_summary


@pytest.fixture
def finished(tiny_run):
    return tiny_run


def test_every_stage_writes_its_outputs(finished):
    results = finished / "results"
    for fold in (0, 1):
        model = results / f"extractor/resattn/fold{fold}/model.pt"
        features = results / f"features/resattn/fold{fold}.parquet"
        assert model.exists() and "states" not in torch.load(model.parent / "last.pt", weights_only=True)
        meta = pq.read_schema(features).metadata
        assert meta[b"sendflow.extractor_sha256"].decode() == hashlib.sha256(model.read_bytes()).hexdigest()
        for name in ("mstcn", "framewise", "mean"):
            out = results / f"classifier/resattn/{name}/three/fold{fold}"
            metrics = json.loads(
                (out / "metrics.json").read_text(),  # strict JSON: no bare NaN
                parse_constant=lambda name: pytest.fail(f"metrics.json holds {name}"),
            )
            assert {"ccc", "ccc_pooled", "accuracy", "macro_f1", "kappa", "edit", "f1@25", "per_speaker"} <= set(
                metrics
            )
            predictions = pd.read_parquet(out / "predictions.parquet")
            assert {
                "clip_id",
                "speaker",
                "t",
                "valence_true",
                "valence_pred",
                "class_true",
                "class_pred",
                "prob_0",
                "prob_1",
                "prob_2",
            } <= set(predictions.columns)


def test_predictions_cover_exactly_the_test_clips(finished):
    folds = pd.read_parquet(finished / "results/index/folds.parquet")
    features = pd.read_parquet(finished / "results/features/resattn/fold0.parquet")
    predictions = pd.read_parquet(finished / "results/classifier/resattn/mstcn/three/fold0/predictions.parquet")
    test = set(folds[(folds["fold"] == 0) & (folds["role"] == "test")]["clip_id"])
    assert set(predictions["clip_id"]) == test & set(features["clip_id"])
    summary = json.loads((finished / "results/extractor/resattn/fold0/summary.json").read_text())
    assert not set(summary["train_clips"] + summary["select_clips"]) & test


def test_clips_without_video_count_in_the_emotient_and_fused_results_only(finished):
    clips = pd.read_parquet(finished / "results/index/clips.parquet")
    folds = pd.read_parquet(finished / "results/index/folds.parquet")
    limited = set(clips.loc[~clips["has_video"], "clip_id"])
    tested = {source: set() for source in ("resattn", "emotient", "fused")}
    for fold in (0, 1):
        test = set(folds[(folds["fold"] == fold) & (folds["role"] == "test")]["clip_id"])
        for source in tested:
            predictions = pd.read_parquet(
                finished / f"results/classifier/{source}/mstcn/three/fold{fold}/predictions.parquet"
            )
            tested[source] |= set(predictions["clip_id"])
        assert test <= tested["emotient"] and test <= tested["fused"]
    assert limited & tested["emotient"], "the tiny run should test at least one clip without video"
    assert not limited & tested["resattn"]
    assert limited & tested["emotient"] == limited & tested["fused"]


def test_action_units_are_standardised_with_the_training_speakers_statistics(finished):
    features = finished / "results/features/emotient"
    raw, raw_x, _ = read_feature_table(features / "steps.parquet")
    folds = pd.read_parquet(finished / "results/index/folds.parquet")
    for fold in (0, 1):
        roles = folds[folds["fold"] == fold].set_index("clip_id")["role"]
        steps, x, meta = read_feature_table(features / f"fold{fold}.parquet")
        train = raw["clip_id"].map(roles).eq("train").to_numpy() & (raw["n_frames"] > 0).to_numpy()
        mean, std = raw_x[train].mean(0), raw_x[train].std(0)
        np.testing.assert_allclose(json.loads(meta["sendflow.train_mean"]), mean, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(json.loads(meta["sendflow.train_std"]), std, rtol=1e-4)
        assert not np.allclose(raw_x[raw["clip_id"].isin(roles.index)].mean(0), mean, atol=1e-3)
        in_fold = raw["clip_id"].isin(roles.index).to_numpy()
        np.testing.assert_allclose(x, np.nan_to_num((raw_x[in_fold] - mean) / std), atol=1e-4)
        assert meta["sendflow.extractor"] == "emotient" and set(steps["clip_id"]) == set(roles.index)


def test_results_are_aggregated_and_compared(finished):
    metrics = finished / "results/metrics"
    summary = pd.read_csv(metrics / "summary.csv")
    assert sorted(summary["classifier"]) == sorted(["framewise", "mean", "mstcn"] * 3)
    assert sorted(set(summary["extractor"])) == ["emotient", "fused", "resattn"]
    assert (summary["n_folds"] == 2).all()
    mstcn = [
        json.loads((finished / f"results/classifier/resattn/mstcn/three/fold{k}/metrics.json").read_text())["ccc"]
        for k in (0, 1)
    ]
    row = summary.set_index(["extractor", "classifier"]).loc[("resattn", "mstcn")]
    assert row["ccc_mean"] == pytest.approx(sum(mstcn) / 2)
    assert row["ccc_std"] == pytest.approx(abs(mstcn[0] - mstcn[1]) / 2**0.5)
    comparisons = (metrics / "comparisons.md").read_text()
    assert "mstcn vs framewise" in comparisons and "mstcn vs mean" in comparisons
    assert "resattn vs resnet" not in comparisons  # only one extractor ran
    assert "resattn vs emotient" in comparisons and "fused vs emotient" in comparisons
    manifest = json.loads((metrics / "manifest.json").read_text())
    assert manifest["config"]["cv"]["k"] == 2 and manifest["packages"]["torch"]
    assert {"frames", "extractor", "features", "classifier"} <= {s["stage"] for s in manifest["stages"]}
    timelines = "extractor == 'resattn' and classifier == 'mstcn'"  # the model timelines are drawn for
    for clip in pd.read_csv(metrics / "per_clip.csv").query(timelines).itertuples():
        [png] = (finished / f"results/figures/timelines/fold{clip.fold}").glob(f"*_{clip.clip_id}_ccc*.png")
        assert png.name.endswith(f"_ccc{clip.ccc:+.3f}.png")  # the clip's CCC, as per_clip.csv has it


@pytest.fixture(scope="module")
def report(tiny_run, tiny_project):
    """The tiny run's HTML report, made once."""
    proc = run_tiny(tiny_run, "--cores", "2", "--report", "results/report.html", project=tiny_project)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return tiny_run / "results/report.html"


def need_chromium():
    if find_chromium() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no Chromium: .ci/run installs it (tests/tools_install.sh)")
        pytest.skip("no Chromium here to open the report in (Debian: apt-get install chromium)")


def test_the_report_reads_in_a_browser(report, tiny_run):
    html = report.read_text()
    figures = sorted(p.relative_to(tiny_run).as_posix() for p in (tiny_run / "results/figures").rglob("*.png"))
    assert figures and all(f'"{f}"' in html for f in figures)
    need_chromium()
    summary_csv = tiny_run / "results/metrics/summary.csv"
    result = check_report(report)
    assert failures(result, summary_csv) == []
    images = [v for v in result["views"] if v["kind"] == "image"]
    pages = {v["title"]: v for v in result["views"] if v["kind"] == "page"}
    assert len(images) == len(figures) and all(v["width"] > 100 for v in images)
    assert set(pages) == {
        "Summary",
        "Scores per fold",
        "Scores per test speaker",
        "Scores per test clip",
        "Paired comparisons",
        "Face detection",
        "Run manifest",
    }
    assert not [v for v in result["views"] if v["kind"] == "download"]  # every table is a page
    summary = pd.read_csv(summary_csv)
    best = summary.sort_values("ccc_mean").iloc[-1]
    assert f"The best model, {best.extractor} features with {best.classifier}" in result["home"]
    assert f"CCC {mean_interval(best, 'ccc')}" in result["home"]  # mean [95% interval]
    for _, row in summary.iterrows():  # each model's CCC with its interval, as text on the summary page
        assert mean_interval(row, "ccc") in pages["Summary"]["text"]
    assert pages["Scores per test clip"]["rows"] == len(pd.read_csv(tiny_run / "results/metrics/per_clip.csv"))
    shot = screenshot_summary(result, tiny_run / "results/report_summary.png")
    assert matplotlib.image.imread(shot).shape[1] >= 1000


def _doctored(report, tmp_path, page_name, change):
    """A copy of `report` with one embedded file's bytes changed by `change`."""
    html = report.read_text()
    original = (report.parent / page_name).read_bytes()
    encoded = base64.b64encode(original).decode()
    assert encoded in html
    copy = tmp_path / "report.html"
    copy.write_text(html.replace(encoded, base64.b64encode(change(original)).decode()))
    return copy


def test_the_browser_check_fails_on_a_summary_without_numbers(report, tiny_run, tmp_path):
    need_chromium()
    no_numbers = _doctored(report, tmp_path, "report_pages/summary.html", lambda page: re.sub(rb"\d", b"-", page))
    problems = failures(check_report(no_numbers), tiny_run / "results/metrics/summary.csv")
    assert "the summary page shows no numbers" in problems
    assert any("lacks resattn mstcn three's CCC" in p for p in problems)


def test_the_browser_check_names_a_figure_that_does_not_decode(report, tmp_path):
    need_chromium()
    broken = _doctored(report, tmp_path, "figures/comparison.png", lambda png: b"not a PNG")
    assert failures(check_report(broken)) == ["0. Summary / comparison bar chart: the figure did not load"]


def test_two_runs_from_scratch_give_identical_results(finished, tiny_project, tmp_path):
    """Same seed, same CPU code: byte-identical metrics and exactly equal predictions."""
    proc = run_tiny(tmp_path, "--cores", "2", "results/metrics/summary.csv", project=tiny_project)
    assert proc.returncode == 0, proc.stderr[-3000:]
    compared = 0
    for first in (finished / "results/classifier").rglob("metrics.json"):
        second = tmp_path / first.relative_to(finished)
        assert first.read_bytes() == second.read_bytes(), first
        pd.testing.assert_frame_equal(
            pd.read_parquet(first.with_name("predictions.parquet")),
            pd.read_parquet(second.with_name("predictions.parquet")),
            check_exact=True,
        )
        compared += 1
    assert compared == 18  # 3 feature sources x 3 classifiers x 2 folds


def test_nothing_a_run_writes_can_be_committed(finished):
    """results/ and data/ stay out of git (licence-restricted data, faces, weights), except the
    results README."""
    written = [
        p.relative_to(finished).as_posix()
        for p in finished.rglob("*")
        if p.is_file() and p.parts[len(finished.parts)] in ("results", "data")
    ]
    assert len(written) > 50
    probe = subprocess.run(
        ["git", "-C", str(PROJECT), "check-ignore", "--no-index", "--stdin", "-v", "-n"],
        input="\n".join(written + ["results/README.md"]),
        capture_output=True,
        text=True,
    )
    verdicts = dict(line.split("\t")[::-1] for line in probe.stdout.splitlines())

    def ignored(verdict):  # "source:line:pattern"; no pattern, or a "!" one, means committable
        pattern = verdict.split(":", 2)[2]
        return bool(pattern) and not pattern.startswith("!")

    assert [path for path in written if not ignored(verdicts[path])] == []
    assert not ignored(verdicts["results/README.md"])


def test_the_nine_class_scheme_runs_beside_three_and_is_compared(tiny_run, tiny_project, tmp_path):
    """classifier.labels: [three, nine] (docs/configuration.md): every model also trains and is
    scored on the nine classes, whose classes follow the documented edges, and the comparisons
    set nine against three; the three-class results are not trained again."""
    run = tmp_path  # the tiny run's depth below the session folder: its relative code paths hold
    shutil.copytree(tiny_run, run, symlinks=True, dirs_exist_ok=True)
    proc = run_tiny(run, "--cores", "2", config=["classifier.labels=[three,nine]"], project=tiny_project)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = pd.read_csv(run / "results/metrics/summary.csv")
    assert summary.groupby("labels").size().to_dict() == {"nine": 9, "three": 9}  # 3 sources x 3 classifiers
    edges = [-0.7, -0.45, -0.25, -0.1, 0.1, 0.25, 0.45, 0.7]  # docs/configuration.md
    predictions = pd.read_parquet(run / "results/classifier/fused/mstcn/nine/fold1/predictions.parquet")
    rated = predictions.dropna(subset=["valence_true"])
    assert (rated["class_true"] == [sum(v >= e for e in edges) for v in rated["valence_true"]]).all()
    assert {"prob_8"} <= set(predictions.columns) and predictions["class_pred"].between(0, 8).all()
    assert "nine vs three" in (run / "results/metrics/comparisons.md").read_text()
    assert (run / "results/figures/confusion_nine.png").stat().st_size > 0
    kept = list((tiny_run / "results/classifier").rglob("three/fold*/metrics.json"))
    assert len(kept) == 18 and all(
        (run / p.relative_to(tiny_run)).stat().st_mtime_ns == p.stat().st_mtime_ns for p in kept
    )


def test_the_shared_scope_trains_one_extractor_on_the_train_split_for_every_fold(tiny_run, tiny_project, tmp_path):
    """extractor.scope: shared (docs/configuration.md): one resattn extractor, trained on the
    release's Train split and selected on Valid, makes both folds' features, and the rest of the
    workflow runs on them."""
    run = tmp_path  # the tiny run's depth below the session folder: its relative code paths hold
    shutil.copytree(tiny_run, run, symlinks=True, dirs_exist_ok=True)
    proc = run_tiny(run, "--cores", "2", config=["extractor.scope=shared"], project=tiny_project)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    shared = run / "results/extractor/resattn/shared"
    summary = json.loads((shared / "summary.json").read_text())
    split = pd.read_parquet(run / "results/index/clips.parquet").set_index("clip_id")["split"]
    assert set(split[summary["train_clips"]]) == {"Train"} and set(split[summary["select_clips"]]) == {"Valid"}
    digest = hashlib.sha256((shared / "model.pt").read_bytes()).hexdigest()
    for fold in (0, 1):
        meta = pq.read_schema(run / f"results/features/resattn/fold{fold}.parquet").metadata
        assert meta[b"sendflow.extractor_sha256"].decode() == digest
    assert len(pd.read_csv(run / "results/metrics/summary.csv")) == 9  # 3 sources x 3 classifiers
