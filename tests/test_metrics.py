"""Every metric against values worked out by hand on tiny sequences."""

import numpy as np
import pandas as pd
import pytest

from sendflow.metrics import (
    ccc,
    ccc_per_clip_mean,
    class_metrics,
    edit_score,
    evaluate,
    pearson,
    rmse,
    segment_counts,
    segmental_metrics,
    segments,
)


def test_ccc_hand_values():
    y = np.array([1.0, 2.0, 3.0])
    assert ccc(y, y) == pytest.approx(1.0)
    # Constant prediction: cov = 0 -> 0.
    assert ccc(y, np.full(3, 2.0)) == 0.0
    # y + 1: var_t = var_p = ((-1)^2 + 0 + 1^2) / 3 = 2/3, cov = 2/3, mean gap 1
    # -> 2 * 2/3 / (2/3 + 2/3 + 1) = (4/3) / (7/3) = 4/7 = 0.5714...
    assert ccc(y, y + 1) == pytest.approx(4 / 7)
    # Negated: cov = -2/3, means 2 and -2 -> 2 * (-2/3) / (2/3 + 2/3 + 16) = (-4/3) / (52/3) = -1/13
    assert ccc(y, -y) == pytest.approx(-1 / 13)
    # Degenerate: both constant and equal -> 1, both constant and different -> 0.
    assert ccc([0.5, 0.5], [0.5, 0.5]) == 1.0
    assert ccc([0.5, 0.5], [0.2, 0.2]) == 0.0
    # NaN pairs are dropped: same as y, y.
    assert ccc([1, 2, np.nan, 3], [1, 2, 5, 3]) == pytest.approx(1.0)
    assert np.isnan(ccc([np.nan], [1.0]))


def test_pearson_and_rmse():
    y = np.array([1.0, 2.0, 3.0])
    assert pearson(y, 2 * y + 5) == pytest.approx(1.0)
    assert np.isnan(pearson(y, np.ones(3)))
    # Errors 1, 1, 1 -> 1; errors 0, 0, 3 -> sqrt(9 / 3) = sqrt(3).
    assert rmse(y, y + 1) == pytest.approx(1.0)
    assert rmse(y, [1, 2, 6]) == pytest.approx(np.sqrt(3))


def test_per_clip_mean_differs_from_pooled():
    # Clip a: truth [0, 1], pred [0, 1] -> CCC 1. Clip b: truth [10, 11], pred [11, 10]:
    # var 1/4 each, cov -1/4, same means -> -0.5 / 0.5 = -1. Per-clip mean = (1 + -1) / 2 = 0.
    # Pooled: t = [0, 1, 10, 11], p = [0, 1, 11, 10]; means 5.5 both; deviations
    # t: -5.5, -4.5, 4.5, 5.5; p: -5.5, -4.5, 5.5, 4.5.
    # cov = (30.25 + 20.25 + 24.75 + 24.75) / 4 = 100 / 4 = 25; var = (30.25+20.25)*2 / 4 = 25.25
    # -> 50 / 50.5 = 0.990099...
    df = pd.DataFrame({"clip_id": ["a", "a", "b", "b"], "valence_true": [0, 1, 10, 11], "valence_pred": [0, 1, 11, 10]})
    assert ccc_per_clip_mean(df) == pytest.approx(0.0)
    assert ccc(df["valence_true"], df["valence_pred"]) == pytest.approx(50 / 50.5)


def test_class_metrics_on_a_tiny_confusion():
    # truth [0, 0, 1, 1, 1, -1], pred [0, 1, 1, 1, 0, 0]; the -1 step is ignored.
    # Confusion (rows truth): [[1, 1], [1, 2]]. Accuracy 3/5 = 0.6.
    # Class 0: P = 1/2, R = 1/2, F1 = 0.5; class 1: P = 2/3, R = 2/3, F1 = 2/3 -> macro 7/12.
    # Kappa: p_o = 0.6; truth marginals 2/5, 3/5, pred marginals 2/5, 3/5
    # -> p_e = 4/25 + 9/25 = 13/25 = 0.52; kappa = (0.6 - 0.52) / 0.48 = 1/6.
    m = class_metrics([0, 0, 1, 1, 1, -1], [0, 1, 1, 1, 0, 0], num_classes=3)
    assert m["accuracy"] == pytest.approx(0.6)
    assert m["macro_f1"] == pytest.approx(7 / 12)
    assert m["kappa"] == pytest.approx(1 / 6)
    assert m["confusion"] == [[1, 1, 0], [1, 2, 0], [0, 0, 0]]


@pytest.mark.parametrize("seed", range(5))
def test_class_metrics_agree_with_scikit_learn(seed):
    from sklearn.metrics import cohen_kappa_score, confusion_matrix, f1_score

    rng = np.random.default_rng(seed)
    truth, pred = rng.integers(-1, 4, 200), rng.integers(0, 3, 200)  # class 3 never predicted
    m = class_metrics(truth, pred, num_classes=5)  # class 4 in neither
    truth, pred = truth[truth >= 0], pred[truth >= 0]
    assert m["macro_f1"] == pytest.approx(f1_score(truth, pred, labels=[0, 1, 2, 3], average="macro", zero_division=0))
    assert m["kappa"] == pytest.approx(cohen_kappa_score(truth, pred, labels=list(range(5))))
    assert m["confusion"] == confusion_matrix(truth, pred, labels=list(range(5))).tolist()


def test_segments_edit_and_f1():
    gt = [0, 0, 1, 1, 1, 2]
    assert segments(gt) == [(0, 0, 2), (1, 2, 5), (2, 5, 6)]
    # pred [0, 1, 1, 1, 2, 2]: segments (0,0,1), (1,1,4), (2,4,6): same label order -> edit 100.
    # IoUs with same-label truth: 1/2, [2,4)/[1,5) = 2/4, 1/2 -> all hits up to and at 0.5.
    pred = [0, 1, 1, 1, 2, 2]
    assert edit_score(gt, pred) == pytest.approx(100.0)
    assert segment_counts(gt, pred, 0.5) == (3, 0, 0)
    assert segment_counts(gt, pred, 0.51) == (0, 3, 3)
    # pred [1, 1, 1, 1, 2, 2]: segments (1,0,4), (2,4,6); labels [1, 2] vs [0, 1, 2]:
    # one deletion -> edit 100 * (1 - 1/3) = 66.67.
    # IoU: (1,0,4) vs (1,2,5): [2,4) / [0,5) = 2/5 = 0.4; (2,4,6) vs (2,5,6): 1/2.
    # @0.10 and @0.25: tp 2, fp 0, fn 1 -> P 1, R 2/3, F1 = 2 * (2/3) / (5/3) = 0.8 -> 80.
    # @0.50: tp 1, fp 1, fn 2 -> P 1/2, R 1/3, F1 = 2 * (1/6) / (5/6) = 0.4 -> 40.
    pred2 = [1, 1, 1, 1, 2, 2]
    assert edit_score(gt, pred2) == pytest.approx(200 / 3)
    m = segmental_metrics([(gt, pred2)])
    assert (m["f1@10"], m["f1@25"], m["f1@50"]) == pytest.approx((80.0, 80.0, 40.0))
    # Micro over clips: both sequences -> @50: tp 3 + 1, fp 0 + 1, fn 0 + 2 -> P 4/5, R 4/6,
    # F1 = 2 * (8/15) / (22/15) = 16/22 = 72.73; edit = mean(100, 66.67) = 83.33.
    m = segmental_metrics([(gt, pred), (gt, pred2)])
    assert m["f1@50"] == pytest.approx(100 * 16 / 22)
    assert m["edit"] == pytest.approx(250 / 3)


def test_same_label_required_and_each_truth_matched_once():
    # gt [0,0,0,0] -> (0,0,4); pred [0,0,1,0] -> (0,0,2), (1,2,3), (0,3,4).
    # (0,0,2): IoU 2/4 = 0.5 hit; (1,2,3): no same-label truth -> fp; (0,3,4): 1/4 but the truth
    # is already matched -> fp.  tp 1, fp 2, fn 0.
    assert segment_counts([0, 0, 0, 0], [0, 0, 1, 0], 0.1) == (1, 2, 0)


def test_evaluate_has_everything_and_per_speaker():
    df = pd.DataFrame(
        {
            "clip_id": ["a"] * 3 + ["b"] * 3,
            "speaker": [1] * 3 + [2] * 3,
            "step": [0, 1, 2] * 2,
            "valence_true": [0.1, 0.2, 0.3, -0.5, np.nan, 0.5],
            "valence_pred": [0.1, 0.2, 0.3, 0.5, 0.0, -0.5],
            "class_true": [1, 1, 1, 0, -1, 2],
            "class_pred": [1, 1, 1, 2, 1, 0],
        }
    )
    m = evaluate(df, num_classes=3)
    for key in (
        "ccc",
        "ccc_pooled",
        "pearson_r",
        "rmse",
        "accuracy",
        "macro_f1",
        "kappa",
        "confusion",
        "edit",
        "f1@10",
        "f1@25",
        "f1@50",
    ):
        assert key in m
    # Clip a: perfect (1); clip b: truth [-0.5, 0.5] pred [0.5, -0.5] -> -1. Mean 0.
    assert m["ccc"] == pytest.approx(0.0)
    assert m["accuracy"] == pytest.approx(3 / 5)
    assert [s["speaker"] for s in m["per_speaker"]] == [1, 2]
    assert m["per_speaker"][0]["ccc"] == pytest.approx(1.0)
    assert m["per_speaker"][0]["accuracy"] == 1.0 and m["per_speaker"][1]["accuracy"] == 0.0


def test_a_resumed_job_keeps_its_earlier_log_lines(tmp_path):
    import logging

    from sendflow.logs import setup

    path = tmp_path / "job.log"
    setup(path).info("epoch 1 done")
    path.unlink()  # Snakemake deletes a job's log before running it again
    setup(path).info("resuming after epoch 1")  # the same job, run again after a kill
    logging.shutdown()
    text = path.read_text()
    assert text.count("--- job started ---") == 2 and text.index("epoch 1 done") < text.index("resuming")
