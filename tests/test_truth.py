"""The truth every score rests on, checked against the rating files it came from: each row of
every predictions.parquet of the tiny run carries the observer valence of its 0.5 s step and its
class, recomputed here from the demo dataset's CSVs by a separate route, and per_clip.csv's
scores follow from those rows."""

import math

import numpy as np
import pandas as pd
import pytest

from sendflow.config import schema_defaults
from sendflow.labels import classify

STEP_S = 0.5  # SEND's rating grid (docs/send_layout.md)
MAX_GAP_S = 0.75  # a step is unrated when no rating lies this close (sendflow.ratings.valence_at)


def observer_ratings(data_root, clip_id) -> list[tuple[float, float]]:
    """(time, valence) of every numeric row of the clip's observer file, valence = EWE / 50 - 1."""
    (path,) = data_root.glob(f"ratings/*/observer_EWE/results_{clip_id}.csv")
    rows = []
    for line in path.read_text().splitlines()[1:]:
        fields = line.split(",")
        try:
            rows.append((float(fields[0]), float(fields[1]) / 50 - 1))
        except (ValueError, IndexError):
            continue
    return rows


def truth_at(ratings, step) -> float:
    """The nearest rating to t = 0.5 step (the earlier one on a tie), NaN beyond 0.75 s."""
    t = STEP_S * step
    time, value = min(ratings, key=lambda row: (abs(row[0] - t), row[0]))
    return value if abs(time - t) <= MAX_GAP_S else math.nan


def class_of(valence, edges) -> int:
    """Edges below or at the valence (a value on an edge belongs to the bin above); -1 unrated."""
    return -1 if math.isnan(valence) else sum(edge <= valence for edge in edges)


def test_a_valence_on_an_edge_belongs_to_the_bin_above():
    """The convention class_of assumes is sendflow.labels.classify's."""
    edges = [-0.15, 0.15]
    values = [-0.15, 0.15, -0.1500001, 0.0, math.nan]
    assert classify(values, edges).tolist() == [class_of(v, edges) for v in values] == [1, 2, 0, 1, -1]


def own_ccc(t, p) -> float:
    mt, mp = t.mean(), p.mean()
    return 2 * ((t - mt) * (p - mp)).mean() / (((t - mt) ** 2).mean() + ((p - mp) ** 2).mean() + (mt - mp) ** 2)


@pytest.fixture(scope="module")
def run(tiny_run):
    config = schema_defaults()  # TINY changes neither the demo's folder nor the label schemes
    predictions = {
        path: pd.read_parquet(path) for path in sorted(tiny_run.glob("results/classifier/*/*/*/*/predictions.parquet"))
    }
    return dict(
        data_root=tiny_run / config["data"]["demo"]["dir"], schemes=config["labels"]["schemes"], predictions=predictions
    )


def test_every_prediction_row_carries_the_rated_valence_and_class(run):
    assert len(run["predictions"]) >= 18  # 3 sources x 3 classifiers x 2 folds
    ratings = {}
    for path, frame in run["predictions"].items():
        edges = sorted(run["schemes"][path.parts[-3]]["edges"])  # .../{extractor}/{classifier}/{labels}/fold
        assert len(frame) and not frame.duplicated(["clip_id", "step"]).any(), path
        for row in frame.itertuples():
            if row.clip_id not in ratings:
                ratings[row.clip_id] = observer_ratings(run["data_root"], row.clip_id)
            truth = truth_at(ratings[row.clip_id], row.step)
            where = f"{path}: clip {row.clip_id} step {row.step}"
            assert row.t == STEP_S * row.step, where
            assert row.valence_true == pytest.approx(truth, abs=1e-5, nan_ok=True), where
            assert row.class_true == class_of(truth, edges), where
            assert row.speaker == int(row.clip_id.split("_")[0]), where
    assert len(ratings) >= 6  # the test clips of both folds


def test_per_clip_scores_follow_from_the_predictions(tiny_run, run):
    clips = pd.read_csv(tiny_run / "results/metrics/per_clip.csv", dtype={"clip_id": str})
    checked = 0
    for path, frame in run["predictions"].items():
        extractor, classifier, labels, fold = path.parts[-5:-1]
        rows = clips[
            (clips["extractor"] == extractor)
            & (clips["classifier"] == classifier)
            & (clips["labels"] == labels)
            & (clips["fold"] == int(fold.removeprefix("fold").split("-repeat")[0]))
            & (clips["repeat"] == int(fold.split("-repeat")[1] if "-repeat" in fold else 0))
        ].set_index("clip_id")
        assert sorted(rows.index) == sorted(frame["clip_id"].unique()), path
        for clip_id, clip in frame.groupby("clip_id"):
            rated = clip[clip["valence_true"].notna()]
            t, p = rated["valence_true"].to_numpy(float), rated["valence_pred"].to_numpy(float)
            row = rows.loc[clip_id]
            assert row["n_steps"] == len(rated)
            assert row["rmse"] == pytest.approx(np.sqrt(np.mean((t - p) ** 2)), abs=1e-6)
            classes = clip[clip["class_true"] >= 0]
            assert row["accuracy"] == pytest.approx((classes["class_true"] == classes["class_pred"]).mean())
            if len(t) >= 2 and np.ptp(t) > 0 and np.ptp(p) > 0:  # constant series: the product's own convention
                assert row["ccc"] == pytest.approx(own_ccc(t, p), abs=1e-6), (path, clip_id)
                checked += 1
    assert checked >= len(clips) // 2
