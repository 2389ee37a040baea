"""Aggregation over folds, paired comparisons and the run manifest, on small fixed inputs whose
answers are computed by hand."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from sendflow.report.aggregate import (
    clip_scores,
    fold_table,
    markdown_table,
    speaker_table,
    summarise,
    summary_markdown,
)
from sendflow.report.compare import all_comparisons, compare, signed_rank_p
from sendflow.report.manifest import stage_times
from sendflow.report.pages import summary_page
from sendflow.report.paths import classifier_result, extractor_result
from sendflow.report.published import PUBLISHED, PUBLISHED_TEST_CCC


def write_metrics(root, extractor, classifier, labels, fold, **scores):
    path = root / f"results/classifier/{extractor}/{classifier}/{labels}/fold{fold}/metrics.json"
    path.parent.mkdir(parents=True)
    speakers = [{"speaker": 100 + fold, "n_clips": 2, **scores}]
    path.write_text(json.dumps({"n_clips": 2, **scores, "per_speaker": speakers}))
    return path


def test_paths_name_model_and_fold():
    assert classifier_result("x/results/classifier/resattn/mstcn/nine/fold12/metrics.json") == {
        "extractor": "resattn", "classifier": "mstcn", "labels": "nine", "fold": 12}
    assert extractor_result("results/extractor/resnet/shared/history.csv") == {
        "extractor": "resnet", "scope": "shared"}
    with pytest.raises(ValueError, match="not a classifier result"):
        classifier_result("results/classifier/resattn/mstcn/metrics.json")


def test_summary_gives_hand_computed_means_and_sample_sds(tmp_path):
    paths = [write_metrics(tmp_path, "resattn", "mstcn", "three", k, ccc=c, kappa=kappa)
             for k, (c, kappa) in enumerate([(0.2, 0.1), (0.4, float("nan")), (0.9, 0.3)])]
    paths.append(write_metrics(tmp_path, "resnet", "mstcn", "three", 0, ccc=0.6, kappa=0.0))
    folds = fold_table(paths)
    assert list(folds["fold"]) == [0, 1, 2, 0] and folds["rmse"].isna().all()
    summary = summarise(folds).set_index("extractor")
    assert summary.loc["resattn", "n_folds"] == 3
    assert summary.loc["resattn", "ccc_mean"] == pytest.approx(0.5)
    # sqrt(((0.2-0.5)^2 + (0.4-0.5)^2 + (0.9-0.5)^2) / (3 - 1)) = sqrt(0.13)
    assert summary.loc["resattn", "ccc_std"] == pytest.approx(math.sqrt(0.13))
    # the NaN fold is left out: mean of 0.1 and 0.3, sd sqrt(0.02)
    assert summary.loc["resattn", "kappa_mean"] == pytest.approx(0.2)
    assert summary.loc["resattn", "kappa_std"] == pytest.approx(math.sqrt(0.02))
    assert np.isnan(summary.loc["resnet", "ccc_std"])  # one fold: no spread to report
    text = summary_markdown(summarise(folds))
    assert text.index("| resnet | mstcn | three | 1 | 0.600 |") < text.index("| resattn |")  # best first
    assert "0.500 ± 0.361" in text
    assert list(speaker_table(paths)["speaker"]) == [100, 101, 102, 100]


def test_clip_scores_skip_unrated_steps():
    predictions = pd.DataFrame({
        "clip_id": ["a"] * 4 + ["b"] * 2, "speaker": [1] * 6,
        "valence_true": [0.1, 0.2, np.nan, 0.4, np.nan, np.nan],
        "valence_pred": [0.1, 0.2, 0.9, 0.4, 0.0, 0.0],
        "class_true": [1, 1, -1, 2, -1, -1], "class_pred": [1, 2, 0, 2, 1, 1],
    })
    scores = clip_scores(predictions).set_index("clip_id")
    assert scores.loc["a", "n_steps"] == 3 and scores.loc["a", "ccc"] == pytest.approx(1.0)
    assert scores.loc["a", "accuracy"] == pytest.approx(2 / 3)
    assert scores.loc["b", "n_steps"] == 0 and np.isnan(scores.loc["b", "ccc"])


def test_signed_rank_gives_the_exact_p():
    # all five differences positive: the exact two-sided p is 2 / 2**5
    assert signed_rank_p([0.1, 0.2, 0.3, 0.4, 0.5]) == pytest.approx(0.0625)
    # ranks 1, 2, 4, 5 positive and 3 negative: W- = 3; subsets of {1..5} summing to <= 3 are
    # {}, {1}, {2}, {3}, {1, 2}, so p = 2 * 5 / 32
    assert signed_rank_p([1, 2, -3, 4, 5]) == pytest.approx(0.3125)
    assert np.isnan(signed_rank_p([0.0, 0.0, np.nan]))


def fold_scores(rows, n_clips=2):
    return pd.DataFrame(rows, columns=["extractor", "classifier", "labels", "fold", "ccc"]).assign(n_clips=n_clips)


def test_compare_pairs_models_on_the_same_folds_and_clips():
    folds = fold_scores([
        *[("resattn", "mstcn", "three", k, c) for k, c in enumerate([0.5, 0.6, 0.7])],
        *[("resnet", "mstcn", "three", k, c) for k, c in enumerate([0.4, 0.65, 0.5])],
        ("resnet", "mstcn", "nine", 0, 0.9),  # no resattn partner: not compared
    ])
    clips = pd.DataFrame(
        [(e, "mstcn", "three", k, f"c{k}{i}", base + (0.1 if e == "resattn" else 0))
         for e in ("resattn", "resnet") for k in range(3) for i, base in enumerate([0.2, 0.3])],
        columns=["extractor", "classifier", "labels", "fold", "clip_id", "ccc"])
    row = compare(folds, clips, "extractor", "resattn", "resnet").iloc[0]
    assert row["labels"] == "three" and row["fold_diffs"] == "+0.100 -0.050 +0.200"
    assert row["mean_diff"] == pytest.approx(0.25 / 3)
    assert (row["folds_better"], row["n_folds"]) == (2, 3)
    assert row["p_folds"] == pytest.approx(signed_rank_p([0.1, -0.05, 0.2]))
    assert row["n_clips"] == 6 and row["mean_clip_diff"] == pytest.approx(0.1)
    assert row["p_clips"] == pytest.approx(2 / 2 ** 6)


def test_sources_with_different_test_clips_are_compared_on_the_clips_both_have():
    """emotient also scores a clip without video (x): a fold's difference is over a and b only."""
    clip_ccc = {"resattn": {"a": 0.5, "b": 0.3}, "emotient": {"a": 0.2, "b": 0.2, "x": 0.9}}
    clips = pd.DataFrame([(e, "mstcn", "three", k, c, v + k / 10) for e, scores in clip_ccc.items()
                          for k in range(2) for c, v in scores.items()],
                         columns=["extractor", "classifier", "labels", "fold", "clip_id", "ccc"])
    folds = (clips.groupby(["extractor", "classifier", "labels", "fold"])["ccc"]
             .agg(ccc="mean", n_clips="size").reset_index())
    table = all_comparisons(folds, clips)
    row = table[table["question"] == "units"].iloc[0]
    assert (row["candidate"], row["reference"]) == ("resattn", "emotient")
    assert row["fold_diffs"] == "+0.200 +0.200"  # (0.3 + 0.1) / 2, not 0.4 - 1.3 / 3
    assert row["n_clips"] == 4 and row["folds_better"] == 2


def test_all_comparisons_ask_only_what_the_run_can_answer():
    folds = fold_scores([(e, c, "three", 0, 0.1) for e in ("resattn",) for c in ("mstcn", "mean", "bigru")])
    clips = folds.assign(clip_id="a")
    table = all_comparisons(folds, clips)
    assert set(zip(table["factor"], table["reference"])) == {("classifier", "bigru"), ("classifier", "mean")}
    assert all_comparisons(folds[folds["classifier"] == "mean"], clips).empty


def test_official_mode_sets_test_scores_beside_the_published_ones(tmp_path):
    paths = [write_metrics(tmp_path, e, "mstcn", "three", 0, ccc=c, accuracy=0.5, macro_f1=0.4, rmse=0.3)
             for e, c in (("emotient", 0.0712), ("resattn", 0.1234))]
    summary = summarise(fold_table(paths))
    comparisons = all_comparisons(fold_table(paths), pd.DataFrame(
        columns=["extractor", "classifier", "labels", "fold", "clip_id", "ccc"]))
    official, kfold = summary_page(summary, comparisons, official=True), summary_page(summary, comparisons)
    section = official.split("Beside the published SENDv1 results")[1].split("<h2>")[0]
    assert "0.123" in section and "0.071" in section  # this run's Test CCC of each model
    assert section.index("0.123") < section.index("0.071")  # best first
    for model, _, ccc in PUBLISHED_TEST_CCC:
        assert model in section and f"{ccc:.3f}" in section
    assert section.count(PUBLISHED) == len(PUBLISHED_TEST_CCC) + 1  # each row, and the note
    assert "Beside the published" not in kfold


def test_stage_times_sum_the_benchmark_files(tmp_path):
    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    for rel, seconds, rss in [("frames/a.tsv", 1.5, 100), ("frames/b.tsv", 2.0, 150), ("index.tsv", 0.5, "-")]:
        path = tmp_path / rel
        path.parent.mkdir(exist_ok=True)
        path.write_text(header + f"{seconds}\t0:00:01\t{rss}\t0\t0\t0\t0\t0\t0\t0\n")
    stages = stage_times(tmp_path).set_index("stage")
    assert stages.loc["frames", "jobs"] == 2 and stages.loc["frames", "wall_s"] == pytest.approx(3.5)
    assert stages.loc["frames", "peak_rss_mb"] == 150 and np.isnan(stages.loc["index", "peak_rss_mb"])


def test_markdown_table_marks_missing_values():
    table = markdown_table(pd.DataFrame({"model": ["a"], "score": [float("nan")]}))
    assert table.splitlines() == ["| model | score |", "|---|---|", "| a | n/a |"]


