"""Aggregation over folds, paired comparisons and the run manifest, on small fixed inputs whose
answers are computed by hand."""

import itertools
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
    unit_table,
)
from sendflow.report.compare import all_comparisons, compare, comparisons_markdown, sentence
from sendflow.report.manifest import stage_times
from sendflow.report.pages import summary_page, training_section
from sendflow.report.paths import classifier_result, extractor_result, repeat_tag
from sendflow.report.published import PUBLISHED, PUBLISHED_TEST_CCC
from sendflow.report.runs import extractor_runs
from sendflow.report.stats import CANNOT_TELL, sign_flip


def write_metrics(root, extractor, classifier, labels, fold, repeat="", **scores):
    path = root / f"results/classifier/{extractor}/{classifier}/{labels}/fold{fold}{repeat}/metrics.json"
    path.parent.mkdir(parents=True)
    speakers = [{"speaker": 100 + fold, "n_clips": 2, **scores}]
    path.write_text(json.dumps({"n_clips": 2, **scores, "per_speaker": speakers}))
    return path


def clips_of(speakers: pd.DataFrame) -> pd.DataFrame:
    """A per-clip table with one clip per speaker row, scored as the speaker is."""
    return speakers.assign(clip_id=speakers["speaker"].astype(str) + "_1")[
        ["extractor", "classifier", "labels", "fold", "repeat", "speaker", "clip_id", "ccc", "rmse", "accuracy"]
    ]


def test_paths_name_model_fold_and_repeat():
    assert classifier_result("x/results/classifier/resattn/mstcn/nine/fold12/metrics.json") == {
        "extractor": "resattn",
        "classifier": "mstcn",
        "labels": "nine",
        "fold": 12,
        "repeat": 0,
    }
    assert classifier_result("results/classifier/fused/mean/three/fold1-repeat3/model.npz")["repeat"] == 3
    assert extractor_result("results/extractor/resnet/shared/history.csv") == {
        "extractor": "resnet",
        "scope": "shared",
        "repeat": 0,
    }
    assert extractor_result("results/extractor/resnet/fold2-repeat1/model.pt") == {
        "extractor": "resnet",
        "scope": "fold2",
        "repeat": 1,
    }
    with pytest.raises(ValueError, match="not a classifier result"):
        classifier_result("results/classifier/resattn/mstcn/metrics.json")


def test_summary_gives_hand_computed_means_and_sample_sds(tmp_path):
    paths = [
        write_metrics(tmp_path, "resattn", "mstcn", "three", k, ccc=c, kappa=kappa)
        for k, (c, kappa) in enumerate([(0.2, 0.1), (0.4, float("nan")), (0.9, 0.3)])
    ]
    paths.append(write_metrics(tmp_path, "resnet", "mstcn", "three", 0, ccc=0.6, kappa=0.0))
    folds, speakers = fold_table(paths), speaker_table(paths)
    assert list(folds["fold"]) == [0, 1, 2, 0] and folds["rmse"].isna().all()
    summary = summarise(folds, clips_of(speakers), speakers).set_index("extractor")
    assert summary.loc["resattn", "n_folds"] == 3 and summary.loc["resattn", "n_repeats"] == 1
    assert summary.loc["resattn", "ccc_mean"] == pytest.approx(0.5)
    # sqrt(((0.2-0.5)^2 + (0.4-0.5)^2 + (0.9-0.5)^2) / (3 - 1)) = sqrt(0.13)
    assert summary.loc["resattn", "ccc_std"] == pytest.approx(math.sqrt(0.13))
    # the NaN fold is left out: mean of 0.1 and 0.3, sd sqrt(0.02)
    assert summary.loc["resattn", "kappa_mean"] == pytest.approx(0.2)
    assert summary.loc["resattn", "kappa_std"] == pytest.approx(math.sqrt(0.02))
    assert np.isnan(summary.loc["resnet", "ccc_std"])  # one fold: no spread to report
    assert np.isnan(summary.loc["resattn", "ccc_std_repeats"])  # one repeat: no training noise measured
    # three test speakers (0.2, 0.4, 0.9) are too few to bound a 95% interval
    assert (summary.loc["resattn", "ccc_ci_low"], summary.loc["resattn", "ccc_ci_high"]) == (-np.inf, np.inf)
    text = summary_markdown(summarise(folds, clips_of(speakers), speakers))
    assert text.index("| resnet | mstcn | three | 1 | 1 | 0.600 [unbounded] |") < text.index("| resattn |")
    assert "| 0.500 [unbounded] |" in text
    assert list(speakers["speaker"]) == [100, 101, 102, 100]


def test_summary_intervals_are_the_sign_flip_intervals_of_the_speaker_scores(tmp_path):
    """Eight folds of one test speaker each: every score's interval is the sign-flip interval of
    the speakers' scores, for per-clip CCC and for kappa, which exists per speaker only."""
    ccc = [0.31, 0.52, 0.44, 0.6, 0.28, 0.71, 0.49, 0.55]
    kappa = [0.1, 0.3, 0.2, 0.25, 0.05, 0.4, 0.3, 0.15]
    paths = [
        write_metrics(tmp_path, "resattn", "mstcn", "three", k, ccc=c, kappa=q)
        for k, (c, q) in enumerate(zip(ccc, kappa))
    ]
    folds, speakers = fold_table(paths), speaker_table(paths)
    row = summarise(folds, clips_of(speakers), speakers).iloc[0]
    for name, values in (("ccc", ccc), ("kappa", kappa)):
        expected = sign_flip(values)
        assert (row[f"{name}_ci_low"], row[f"{name}_ci_high"]) == pytest.approx((expected.low, expected.high))
        assert min(values) < expected.low < np.mean(values) < expected.high < max(values)
    text = summary_markdown(summarise(folds, clips_of(speakers), speakers))
    assert f"| {row['ccc_mean']:.3f} [{row['ccc_ci_low']:.3f}, {row['ccc_ci_high']:.3f}] |" in text


def test_repeats_give_the_training_noise_beside_the_spread_over_folds(tmp_path):
    """Two folds, two repeats each: the fold mean averages its repeats; the sd over folds is of
    those means, the sd over repeats the root mean of each fold's variance across repeats."""
    scores = {(0, ""): 0.2, (0, "-repeat1"): 0.4, (1, ""): 0.6, (1, "-repeat1"): 0.6}
    paths = [write_metrics(tmp_path, "resattn", "mstcn", "three", k, r, ccc=c) for (k, r), c in scores.items()]
    folds, speakers = fold_table(paths), speaker_table(paths)
    assert list(folds["repeat"]) == [0, 1, 0, 1]
    row = summarise(folds, clips_of(speakers), speakers).iloc[0]
    assert (row["n_folds"], row["n_repeats"]) == (2, 2)
    assert row["ccc_mean"] == pytest.approx(0.45)  # folds 0.3 and 0.6
    assert row["ccc_std"] == pytest.approx(math.sqrt(0.045))  # sd of 0.3 and 0.6
    assert row["ccc_std_repeats"] == pytest.approx(math.sqrt((0.02 + 0.0) / 2))  # fold 0's var 0.02, fold 1's 0


def test_clip_scores_skip_unrated_steps():
    predictions = pd.DataFrame(
        {
            "clip_id": ["a"] * 4 + ["b"] * 2,
            "speaker": [1] * 6,
            "valence_true": [0.1, 0.2, np.nan, 0.4, np.nan, np.nan],
            "valence_pred": [0.1, 0.2, 0.9, 0.4, 0.0, 0.0],
            "class_true": [1, 1, -1, 2, -1, -1],
            "class_pred": [1, 2, 0, 2, 1, 1],
        }
    )
    scores = clip_scores(predictions).set_index("clip_id")
    assert scores.loc["a", "n_steps"] == 3 and scores.loc["a", "ccc"] == pytest.approx(1.0)
    assert scores.loc["a", "accuracy"] == pytest.approx(2 / 3)
    assert scores.loc["b", "n_steps"] == 0 and np.isnan(scores.loc["b", "ccc"])


def fold_scores(rows, n_clips=2):
    return pd.DataFrame(rows, columns=["extractor", "classifier", "labels", "fold", "ccc"]).assign(
        n_clips=n_clips, repeat=0
    )


CLIP_COLUMNS = ["extractor", "classifier", "labels", "fold", "repeat", "speaker", "clip_id", "ccc"]


def test_compare_takes_the_test_speaker_as_the_unit():
    """Three folds of two speakers with two clips each; resattn beats resnet by 0.1 on every clip
    of five speakers and by 0.4 on the sixth: the speaker-level mean is (5 * 0.1 + 0.4) / 6, every
    speaker is better, so the exact sign-flip p is 2 / 2**6 and the interval excludes 0."""
    folds = fold_scores(
        [
            *[("resattn", "mstcn", "three", k, c) for k, c in enumerate([0.5, 0.6, 0.7])],
            *[("resnet", "mstcn", "three", k, c) for k, c in enumerate([0.4, 0.65, 0.5])],
            ("resnet", "mstcn", "nine", 0, 0.9),  # no resattn partner: not compared
        ]
    )
    gain = {speaker: 0.4 if speaker == 5 else 0.1 for speaker in range(6)}
    clips = pd.DataFrame(
        [
            (e, "mstcn", "three", k, 0, s, f"{s}_{i}", 0.2 + 0.1 * i + (gain[s] if e == "resattn" else 0))
            for e in ("resattn", "resnet")
            for k in range(3)
            for s in (2 * k, 2 * k + 1)
            for i in range(2)
        ],
        columns=CLIP_COLUMNS,
    )
    row = compare(folds, clips, "extractor", "resattn", "resnet", "ccc").iloc[0]
    assert row["labels"] == "three" and row["fold_diffs"] == "+0.100 -0.050 +0.200"  # description
    assert (row["folds_better"], row["n_folds"]) == (2, 3)
    assert row["mean_diff"] == pytest.approx(0.9 / 6)
    assert (row["n_speakers"], row["n_clips"], row["speakers_better"]) == (6, 12, 6)
    assert row["p"] == pytest.approx(2 / 2**6) and row["p_method"] == "exact"
    assert 0.1 - 1e-9 <= row["ci_low"] < row["mean_diff"] < row["ci_high"] <= 0.4 + 1e-9
    assert row["verdict"] == "better"
    worse = compare(folds, clips, "extractor", "resnet", "resattn", "ccc").iloc[0]
    assert worse["verdict"] == "worse" and worse["mean_diff"] == pytest.approx(-0.9 / 6)


def test_a_zero_effect_reads_the_data_cannot_tell():
    """Each speaker's two clips differ by +0.2 and -0.2 around the speaker's own effect, and the
    speakers' effects (+-0.05, +-0.1, +-0.15, +-0.2) cancel: no effect, with real spread."""
    folds = fold_scores([(e, c, "three", 0, 0.5) for e in ("resattn",) for c in ("mstcn", "bigru")])
    clips = pd.DataFrame(
        [
            (
                "resattn",
                c,
                "three",
                0,
                0,
                s,
                f"{s}_{i}",
                0.5
                + (0.1 * (-1) ** (i + s) + (-1) ** s * 0.05 * (s // 2 + 1) if c == "mstcn" else -0.1 * (-1) ** (i + s)),
            )
            for c in ("mstcn", "bigru")
            for s in range(8)
            for i in range(2)
        ],
        columns=CLIP_COLUMNS,
    )
    row = all_comparisons(folds, clips, clips, "ccc").iloc[0]
    assert row["mean_diff"] == pytest.approx(0) and row["ci_low"] < 0 < row["ci_high"]
    assert row["verdict"] == "the data cannot tell" and row["p"] == pytest.approx(1)
    markdown = comparisons_markdown(all_comparisons(folds, clips, clips, "ccc"), "ccc")
    assert "| Temporal model: MS-TCN vs each baseline | resattn, three | mstcn vs bigru | +0.000 |" in markdown
    assert markdown.rstrip().endswith("| 8 | the data cannot tell | +0.000 | - |")  # no extractor runs given


def test_sources_with_different_test_clips_are_compared_on_the_clips_both_have():
    """emotient also scores a clip without video (x): a fold's difference is over a and b only."""
    clip_ccc = {"resattn": {"a": 0.5, "b": 0.3}, "emotient": {"a": 0.2, "b": 0.2, "x": 0.9}}
    clips = pd.DataFrame(
        [
            (e, "mstcn", "three", k, 0, 10 + k, c, v + k / 10)
            for e, scores in clip_ccc.items()
            for k in range(2)
            for c, v in scores.items()
        ],
        columns=CLIP_COLUMNS,
    )
    folds = (
        clips.groupby(["extractor", "classifier", "labels", "fold", "repeat"])["ccc"]
        .agg(ccc="mean", n_clips="size")
        .reset_index()
    )
    table = all_comparisons(folds, clips, clips, "ccc")
    row = table[table["question"] == "units"].iloc[0]
    assert (row["candidate"], row["reference"]) == ("resattn", "emotient")
    assert row["fold_diffs"] == "+0.200 +0.200"  # (0.3 + 0.1) / 2, not 0.4 - 1.3 / 3
    assert row["mean_diff"] == pytest.approx(0.2)
    assert (row["n_clips"], row["n_speakers"], row["folds_better"]) == (2, 2, 2)


def test_comparisons_that_say_nothing_are_left_out():
    """The mean baseline ignores the features, and identical predictions differ nowhere."""
    models = [(e, c) for e in ("resattn", "resnet") for c in ("mstcn", "mean", "bigru")]
    folds = fold_scores([(e, c, "three", 0, 0.1) for e, c in models])
    clips = pd.DataFrame(
        [
            (
                e,
                c,
                "three",
                0,
                0,
                s,
                f"{s}_1",
                0.1 * s + (0.05 if (e, c) == ("resattn", "mstcn") else 0) + (0.02 * s if c == "mean" else 0),
            )
            for e, c in models
            for s in range(4)
        ],
        columns=CLIP_COLUMNS,
    )
    clips.loc[(clips["extractor"] == "resnet") & (clips["classifier"] == "mean"), "ccc"] += 0.01
    table = all_comparisons(folds, clips, clips, "ccc")
    # attention: only mstcn (bigru's predictions are identical, mean ignores the features)
    assert table.loc[table["question"] == "attention", "classifier"].tolist() == ["mstcn"]
    temporal = table[table["question"] == "temporal"]
    assert set(zip(temporal["extractor"], temporal["reference"])) == {
        ("resattn", "bigru"),
        ("resattn", "mean"),
        ("resnet", "mean"),
    }  # resnet's mstcn = bigru
    assert all_comparisons(folds[folds["classifier"] == "mean"], clips, clips, "ccc").empty


def test_unit_table_resamples_clips_or_speakers():
    speakers = pd.DataFrame(
        {
            "extractor": ["resattn"],
            "classifier": ["mstcn"],
            "labels": ["three"],
            "fold": [0],
            "repeat": [0],
            "speaker": [7],
            "macro_f1": [0.4],
        }
    )
    table = unit_table(None, speakers, "macro_f1")
    assert table[["speaker", "clip_id", "macro_f1"]].values.tolist() == [[7, "7", 0.4]]


def test_official_mode_sets_test_scores_beside_the_published_ones(tmp_path):
    paths = [
        write_metrics(tmp_path, e, "mstcn", "three", 0, ccc=c, accuracy=0.5, macro_f1=0.4, rmse=0.3)
        for e, c in (("emotient", 0.0712), ("resattn", 0.1234))
    ]
    speakers = speaker_table(paths)
    summary = summarise(fold_table(paths), clips_of(speakers), speakers)
    comparisons = all_comparisons(fold_table(paths), clips_of(speakers), speakers, "ccc")
    modalities = {"emotient": "visual", "resattn": "visual"}
    official = summary_page(summary, comparisons, official=True, modalities=modalities)
    kfold = summary_page(summary, comparisons)
    section = official.split("Beside the published SENDv1 results")[1].split("<h2>")[0]
    assert "0.123" in section and "0.071" in section  # this run's Test CCC of each model
    assert section.index("0.123") < section.index("0.071")  # best first
    # the leaderboard's visual rows (the modality of resattn's source) and the human benchmark only
    shown = [(m, ccc) for m, modality, ccc in PUBLISHED_TEST_CCC if modality == "visual" or m == "human benchmark"]
    assert [(m, c) for m, c in shown] == [("LSTM", 0.12), ("VRNN", 0.11), ("human benchmark", 0.5)]
    for model, ccc in shown:
        assert f'{model}</td><td class="text">' in section and f"{ccc:.3f}" in section
    assert section.count(PUBLISHED) == len(shown) + 1  # each row, and the note
    assert "Transformer + LSTM" not in section and ">audio<" not in section  # no other modality's rows
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


def write_extractor_summary(root, extractor, scope, repeat=0, took_off=True, restarts=0):
    path = root / f"results/extractor/{extractor}/{scope}{repeat_tag(repeat)}/summary.json"
    path.parent.mkdir(parents=True)
    problems = [] if took_off else ["select ccc 0.010 never more than 0.1 above always predicting the majority (0.000)"]
    summary = dict(took_off=took_off, takeoff_problems=problems, restarts=restarts, best_epoch=2, epochs_run=6)
    path.write_text(json.dumps({**summary, "select_metric": "ccc", "select": {"ccc": 0.3}}))
    return path


def attention_table():
    """resattn vs resnet under mstcn: 3 folds x 2 repeats, 2 speakers per fold, 2 clips each.
    resattn gains 0.05 everywhere, except on fold 0, repeat 1, where resnet (which never took off
    there) scores 0.4 lower, so resattn gains 0.45."""
    folds = fold_scores([(e, "mstcn", "three", k, 0.5) for e in ("resattn", "resnet") for k in range(3)], n_clips=4)
    folds = pd.concat([folds, folds.assign(repeat=1)], ignore_index=True)
    rows = []
    for k, r, s, i in itertools.product(range(3), range(2), range(2), range(2)):
        speaker = 2 * k + s
        gain = 0.45 if (k, r) == (0, 1) else 0.05 + 0.01 * speaker
        base = 0.3 + 0.05 * i
        rows.append(("resnet", "mstcn", "three", k, r, speaker, f"{speaker}_{i}", base))
        rows.append(("resattn", "mstcn", "three", k, r, speaker, f"{speaker}_{i}", base + gain))
    return folds, pd.DataFrame(rows, columns=CLIP_COLUMNS)


def test_extractor_runs_read_took_off_restarts_and_scope(tmp_path):
    paths = [
        write_extractor_summary(tmp_path, "resnet", "fold0", 1, took_off=False, restarts=2),
        write_extractor_summary(tmp_path, "resattn", "shared", 0, restarts=1),
    ]
    runs = extractor_runs(paths).set_index("extractor")
    assert runs.loc["resnet", ["fold", "repeat", "took_off", "restarts"]].tolist() == [0, 1, False, 2]
    assert pd.isna(runs.loc["resattn", "fold"]) and runs.loc["resattn", "restarts"] == 1  # every fold
    assert "never more than 0.1" in runs.loc["resnet", "why"]


def test_extractor_comparisons_leave_out_runs_that_never_took_off(tmp_path):
    folds, clips = attention_table()
    paths = [
        write_extractor_summary(tmp_path, e, f"fold{k}", r, took_off=(e, k, r) != ("resnet", 0, 1), restarts=n)
        for e, n in (("resattn", 0), ("resnet", 1))
        for k in range(3)
        for r in range(2)
    ]
    runs = extractor_runs(paths)
    row = all_comparisons(folds, clips, clips, "ccc", runs=runs).iloc[0]
    assert (row["candidate"], row["reference"], row["runs_left_out"], row["never_took_off"]) == (
        "resattn",
        "resnet",
        1,
        1,
    )
    speakers = np.arange(6)
    # without fold 0's repeat 1: every speaker's gain is 0.05 + 0.01 * speaker
    assert row["mean_diff"] == pytest.approx(np.mean(0.05 + 0.01 * speakers))
    # with it: speakers 0 and 1 average 0.45 with their repeat-0 gain
    with_all = np.r_[(0.45 + 0.05 + 0.01 * speakers[:2]) / 2, 0.05 + 0.01 * speakers[2:]]
    assert row["mean_diff_all"] == pytest.approx(with_all.mean()) and row["ci_high_all"] > row["ci_high"]
    assert row["restarts"] == "resattn 0, resnet 6"
    markdown = comparisons_markdown(all_comparisons(folds, clips, clips, "ccc", runs=runs), "ccc")
    assert "better (without the 1 fold and repeat runs where an extractor never took off; with them +0.1" in markdown
    assert markdown.rstrip().endswith("| resattn 0, resnet 6 |")
    # every run took off: nothing left out, nothing beside
    row = all_comparisons(folds, clips, clips, "ccc", runs=runs.assign(took_off=True)).iloc[0]
    assert row["runs_left_out"] == 0 and np.isnan(row["mean_diff_all"])
    assert row["mean_diff"] == pytest.approx(with_all.mean())


def test_the_summary_page_says_how_extractors_trained(tmp_path):
    took_off = extractor_runs(
        [write_extractor_summary(tmp_path / "a", "resnet", f"fold{k}", restarts=k) for k in range(3)]
    )
    text = training_section(took_off)
    assert "Every extractor took off" in text and "2 of 3 runs needed restarts to take off (resnet 3 in all)" in text
    one_grounded = [write_extractor_summary(tmp_path / "b", "resnet", f"fold{k}", took_off=k != 2) for k in range(3)]
    grounded = training_section(extractor_runs(one_grounded))
    assert "Extractors that never took off" in grounded and "never more than 0.1" in grounded
    assert "none of the 3 runs needed a restart" in grounded and grounded.count("<tr") == 2  # header, the run
    assert training_section(None) == ""


def test_a_shared_extractor_that_never_took_off_grounds_its_repeat_in_every_fold(tmp_path):
    """extractor.scope shared: one run per repeat serves every fold, so a grounded one leaves
    out that repeat everywhere."""
    folds, clips = attention_table()
    paths = [
        write_extractor_summary(tmp_path, e, "shared", r, took_off=(e, r) != ("resnet", 1))
        for e in ("resattn", "resnet")
        for r in range(2)
    ]
    row = all_comparisons(folds, clips, clips, "ccc", runs=extractor_runs(paths)).iloc[0]
    assert row["runs_left_out"] == 3  # repeat 1 of folds 0, 1 and 2
    assert row["n_repeats"] == 1 and row["mean_diff"] == pytest.approx(np.mean(0.05 + 0.01 * np.arange(6)))


def test_only_comparisons_of_two_trained_sources_leave_runs_out(tmp_path):
    """Against the untrained action units a grounded run is the learned side's own result and
    stays; between two networks whose every run never took off nothing is left to compare."""
    folds, clips = attention_table()
    units = clips.replace({"extractor": {"resnet": "emotient"}})
    units_folds = folds.replace({"extractor": {"resnet": "emotient"}})
    grounded = [
        write_extractor_summary(tmp_path, e, f"fold{k}", r, took_off=False)
        for e in ("resattn", "resnet")
        for k in range(3)
        for r in range(2)
    ]
    runs = extractor_runs(grounded)
    row = all_comparisons(units_folds, units, units, "ccc", runs=runs).iloc[0]
    assert (row["reference"], row["runs_left_out"], row["never_took_off"]) == ("emotient", 0, 6)
    assert not np.isnan(row["mean_diff"]) and row["restarts"] == "resattn 0"
    table = all_comparisons(folds, clips, clips, "ccc", runs=runs)
    row = table.iloc[0]
    assert row["runs_left_out"] == 6 and np.isnan(row["mean_diff"]) and row["verdict"] == CANNOT_TELL
    assert not np.isnan(row["mean_diff_all"])
    markdown = comparisons_markdown(table, "ccc")
    assert "| resattn vs resnet | n/a | n/a | n/a | 0 | the data cannot tell (without the 6 fold and repeat" in markdown
    assert "resattn vs resnet (mstcn, three): the data cannot tell; ccc n/a" in sentence(row)
