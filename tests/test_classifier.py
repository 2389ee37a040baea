"""Training and prediction on cached features: every classifier end to end, leak checks,
resumption from last.pt."""

import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import PROJECT, Reads

import sendflow.training as training
from sendflow.atomic import write_parquet
from sendflow.classifier import load_classifier, train_and_predict
from sendflow.classifier.train import choose_class_source
from sendflow.classifier.trained import TrainedClassifier, read_model_file
from sendflow.config import schema_defaults
from sendflow.labels import classify
from sendflow.models.per_step import Framewise
from sendflow.models.registry import classifier_names, classifier_settings, temporal_model, temporal_models

EDGES = [-0.2, 0.2]
D = 8
TINY = {
    "stages": 2,
    "layers": 3,
    "channels": 8,
    "hidden": 8,
    "epochs": 2,
    "batch_size": 2,
    "lr": 1e-3,
    "patience": 5,
    "device": "cpu",
}
SECTION = schema_defaults()["classifier"]
OUTPUTS = {"predictions": ".parquet", "metrics": ".json", "history": ".csv"}


def settings(name, **overrides):
    """A classifier's settings as its rule passes them (the schema's defaults), made tiny."""
    base = classifier_settings(SECTION, name)
    return {**base, **{k: v for k, v in TINY.items() if k in base}, **overrides}


def step_rows(clip: str, speaker: int, valence: np.ndarray, feats: np.ndarray) -> list[dict]:
    """One clip's rows of a feature cache: a valence and a feature vector per 0.5 s step."""
    return [
        {
            "clip_id": clip,
            "speaker": speaker,
            "step": step,
            "t": step * 0.5,
            "valence": valence[step],
            "feature": feats[step].astype(np.float32),
        }
        for step in range(len(valence))
    ]


def synthetic(seed=0):
    """3 speakers per role, 1-2 clips each, 20-35 steps; features carry the valence."""
    rng = np.random.default_rng(seed)
    rows, folds, direction = [], [], rng.normal(size=D)
    for role, speakers in (("train", [101, 102, 103]), ("select", [104, 105]), ("test", [106, 107])):
        for speaker in speakers:
            for k in range(1 + speaker % 2):
                clip = f"{speaker}_{k + 1}"
                n = int(rng.integers(20, 36))
                valence = np.sin(np.linspace(0, 3, n) + rng.uniform(0, 6)).astype(np.float32) * 0.8
                valence[rng.integers(0, n)] = np.nan
                feats = np.nan_to_num(valence)[:, None] * direction + rng.normal(scale=0.5, size=(n, D))
                rows += step_rows(clip, speaker, valence, feats)
                folds.append({"fold": 0, "clip_id": clip, "speaker": speaker, "split": "Train", "role": role})
    return pd.DataFrame(rows), pd.DataFrame(folds)


@pytest.fixture(scope="module")
def data():
    return synthetic()


def run(data, tmp_path, name, **cfg):
    features, folds = data
    return train_and_predict(features, folds, 0, "three", EDGES, settings(name, **cfg), seed=3, out_dir=tmp_path)[:2]


@pytest.mark.parametrize("name", ["mstcn", "sstcn", "bigru", "framewise", "mean"])
@pytest.mark.parametrize("task", ["multitask", "classification", "regression"])
def test_every_classifier_runs_end_to_end(data, tmp_path, name, task):
    features, folds = data
    preds, metrics = run(data, tmp_path, name=name, task=task, epochs=1)
    test_clips = set(folds.loc[folds["role"] == "test", "clip_id"])
    assert set(preds["clip_id"]) == test_clips
    assert len(preds) == features["clip_id"].isin(test_clips).sum()
    columns = ["clip_id", "speaker", "step", "t", "valence_true", "valence_pred", "class_true", "class_pred"]
    probs = [f"prob_{k}" for k in range(3)] if task != "regression" else []
    assert list(preds.columns) == columns + probs
    assert preds["valence_pred"].notna().all() and preds["class_pred"].between(0, 2).all()
    if probs:
        assert np.allclose(preds[probs].sum(axis=1), 1, atol=1e-5)
    assert {"ccc", "macro_f1", "f1@50", "per_speaker", "select_score"} <= set(metrics)
    assert [s["speaker"] for s in metrics["per_speaker"]] == [106, 107]
    assert (tmp_path / "history.csv").exists()
    if name in ("mstcn", "sstcn", "bigru"):
        assert len(pd.read_csv(tmp_path / "history.csv")) == 1 and (tmp_path / "last.pt").exists()


def test_a_finished_job_run_again_trains_nothing_and_writes_the_same_results(data, tmp_path, caplog):
    """A job whose run was killed while it trained finishes with no Snakemake to see it; the
    rerun (outputs removed, as Snakemake does) writes them again from the kept checkpoint."""
    features, folds = data
    cfg = settings("mstcn", epochs=3, patience=0)
    first = train_and_predict(features, folds, 0, "three", EDGES, cfg, 3, tmp_path)[:2]
    history = (tmp_path / "history.csv").read_bytes()
    kept = torch.load(tmp_path / "last.pt", weights_only=True)
    assert kept["progress"]["epoch"] == 3 and "states" not in kept  # the optimiser's state is dropped
    (tmp_path / "history.csv").unlink()
    with caplog.at_level("INFO"):
        again = train_and_predict(features, folds, 0, "three", EDGES, cfg, 3, tmp_path)[:2]
    assert "after epoch 3 (best so far: epoch" in caplog.text and "training had finished" in caplog.text
    assert "epoch 1/3" not in caplog.text
    pd.testing.assert_frame_equal(first[0], again[0])
    assert first[1] == again[1] and (tmp_path / "history.csv").read_bytes() == history
    with caplog.at_level("INFO"):  # more epochs than the finished run had: it cannot continue
        train_and_predict(features, folds, 0, "three", EDGES, {**cfg, "epochs": 4}, 3, tmp_path)
    assert "starting afresh" in caplog.text and "epoch 1/4" in caplog.text


def test_a_model_file_of_the_format_before_classes_from_is_refused_naming_it(data, tmp_path):
    """Format 1 files may lack `classes_from`; rather than guess where their classes came from,
    the loader refuses them and says what to do."""
    import json

    features, folds = data
    _, _, trained = train_and_predict(features, folds, 0, "three", EDGES, settings("framewise"), 3, tmp_path)
    path = tmp_path / "model.npz"
    trained.save(path, fold=0)
    with np.load(path) as saved:
        arrays = dict(saved)
    header = json.loads(str(arrays["header"]))
    header["format"] = "sendflow-classifier/1"
    del header["classes_from"]
    np.savez(path, **{**arrays, "header": np.array(json.dumps(header))})
    with pytest.raises(ValueError, match="format 'sendflow-classifier/1'.*retrain"):
        load_classifier(path)


@pytest.mark.parametrize(
    "name,task",
    [("mstcn", "multitask"), ("bigru", "classification"), ("framewise", "multitask"), ("mean", "regression")],
)
def test_a_saved_model_reproduces_its_predictions_from_raw_features(data, tmp_path, name, task):
    features, folds = data
    preds, _, trained = train_and_predict(
        features, folds, 0, "three", EDGES, settings(name, task=task, epochs=1), 3, tmp_path
    )
    path = tmp_path / temporal_model(name).file_name
    trained.save(path, fold=0)
    assert read_model_file(path)[0]["about"] == {"fold": 0}
    loaded, about = load_classifier(path)
    assert about == {"fold": 0} and loaded.settings == trained.settings
    for speaker, rows in features[features["speaker"].isin([106, 107])].groupby("speaker"):
        clips = [part for _, part in rows.groupby("clip_id")]  # one person's clips: centred together
        outputs = loaded.predict([np.stack(part["feature"]) for part in clips])
        for part, (probs, values) in zip(clips, outputs):
            expected = preds[preds["clip_id"] == part["clip_id"].iloc[0]]
            np.testing.assert_allclose(values, expected["valence_pred"], atol=1e-5)
            if task != "regression":
                np.testing.assert_allclose(probs, expected[[f"prob_{k}" for k in range(3)]], atol=1e-5)


@pytest.mark.parametrize("name", classifier_names())
def test_a_classifier_reads_exactly_the_settings_its_rule_passes(data, tmp_path, name):
    features, folds = data
    cfg = Reads(settings(name))
    train_and_predict(features, folds, 0, "three", EDGES, cfg, 3, tmp_path)
    assert cfg.read == set(cfg)


def test_framewise_learns_the_signal(data, tmp_path):
    # as configured (classifier.framewise.speaker_norm: false): a per-step linear model on raw features
    _, metrics = run(data, tmp_path, name="framewise", task="regression", speaker_norm=False)
    assert metrics["ccc"] > 0.5


def test_multitask_scores_valence_from_its_valence_head_and_classes_from_its_class_head(data, tmp_path):
    from sendflow.labels import class_centres, classify

    preds, metrics = run(data, tmp_path, name="mstcn", task="multitask", epochs=3)
    probs = preds[[f"prob_{k}" for k in range(3)]].to_numpy()
    assert (preds["class_pred"] == probs.argmax(1)).all()
    # valence is the head's own output: neither the expected class valence nor tied to the class
    assert not np.allclose(preds["valence_pred"], probs @ class_centres(EDGES), atol=1e-3)
    assert (preds["class_pred"] != classify(preds["valence_pred"], EDGES)).any()
    assert {"ccc", "rmse", "pearson_r", "accuracy", "macro_f1", "edit"} <= set(metrics)


def test_selection_reads_the_select_clips_only(data, tmp_path):
    """The chosen epoch and its select score are the same whatever the test clips hold, and
    change when the select clips change."""
    features, folds = data
    cfg = settings("mstcn", epochs=4, patience=0)
    test_clips = folds.loc[folds["role"] == "test", "clip_id"]
    select_clips = folds.loc[folds["role"] == "select", "clip_id"]

    def scrambled(clips):
        out = features.copy()
        rows = out["clip_id"].isin(clips)
        rng = np.random.default_rng(0)
        out.loc[rows, "valence"] = rng.permutation(out.loc[rows, "valence"].to_numpy())
        out.loc[rows, "feature"] = pd.Series(
            [rng.normal(size=D).astype(np.float32) for _ in range(rows.sum())], index=out.index[rows]
        )
        return out

    def selection(feats, name):
        _, metrics, _ = train_and_predict(feats, folds, 0, "three", EDGES, cfg, 3, tmp_path / name)
        history = pd.read_csv(tmp_path / name / "history.csv")
        return metrics["best_epoch"], metrics["select_score"], history["select_ccc"].tolist()

    original = selection(features, "original")
    assert selection(scrambled(test_clips), "test_scrambled") == original
    assert selection(scrambled(select_clips), "select_scrambled")[2] != original[2]


def test_a_clip_in_two_roles_raises(data, tmp_path):
    features, folds = data
    leaked = pd.concat([folds, folds[folds["clip_id"] == "106_1"].assign(role="train")])
    with pytest.raises(AssertionError, match="106_1"):
        train_and_predict(features, leaked, 0, "three", EDGES, settings("mean"), 3, tmp_path)


def test_a_speaker_in_two_roles_raises(data, tmp_path):
    features, folds = data
    moved = folds.copy()
    moved.loc[moved["clip_id"] == "107_2", "role"] = "select"  # speaker 107 is also in test
    with pytest.raises(AssertionError, match="107"):
        train_and_predict(features, moved, 0, "three", EDGES, settings("mean"), 3, tmp_path)


def test_a_lowered_epoch_limit_gives_what_a_fresh_run_with_it_gives(data, tmp_path, caplog):
    """epochs is left out of the checkpoint's key (a killed run may resume with a higher limit),
    so a run past a lowered limit must not be reused: its best epoch may lie beyond the limit."""
    features, folds = data
    long, short = settings("mstcn", epochs=6, patience=0), settings("mstcn", epochs=2, patience=0)
    train_and_predict(features, folds, 0, "three", EDGES, long, 3, tmp_path / "rerun")
    (tmp_path / "rerun" / "history.csv").unlink()  # Snakemake removes a rerun job's outputs
    with caplog.at_level("INFO"):
        lowered = train_and_predict(features, folds, 0, "three", EDGES, short, 3, tmp_path / "rerun")[:2]
    fresh = train_and_predict(features, folds, 0, "three", EDGES, short, 3, tmp_path / "fresh")[:2]
    assert "past the limit of 2; starting afresh" in caplog.text and "epoch 2/2" in caplog.text
    pd.testing.assert_frame_equal(lowered[0], fresh[0])
    assert lowered[1] == fresh[1]
    histories = [pd.read_csv(tmp_path / run / "history.csv").drop(columns="seconds") for run in ("rerun", "fresh")]
    pd.testing.assert_frame_equal(*histories)


def test_resume_after_interruption_gives_the_same_predictions(data, tmp_path, monkeypatch):
    cfg = {"name": "mstcn", "epochs": 3, "dropout": 0.5}
    straight, _ = run(data, tmp_path / "straight", **cfg)

    monkeypatch.setattr(training, "CHECKPOINT_EVERY_S", 0)  # a checkpoint after every epoch
    real_save, calls = training.save_torch, []

    def save_then_die(state, path):
        real_save(state, path)
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # killed after epoch 2's checkpoint

    monkeypatch.setattr(training, "save_torch", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        run(data, tmp_path / "resumed", **cfg)
    saved_epochs = []
    monkeypatch.setattr(
        training,
        "save_torch",
        lambda state, path: (saved_epochs.append(state["progress"]["epoch"]), real_save(state, path)),
    )
    resumed, metrics = run(data, tmp_path / "resumed", **cfg)

    assert saved_epochs == [3]  # only the missing epoch was trained
    assert metrics["epochs_run"] == 3
    assert len(pd.read_csv(tmp_path / "resumed" / "history.csv")) == 3
    pd.testing.assert_frame_equal(straight, resumed)


def test_short_epochs_checkpoint_after_the_first_and_the_last_only(data, tmp_path, monkeypatch):
    """Writing a checkpoint takes about as long as a demo epoch of a temporal model: between the
    first and the last epoch one is written only every CHECKPOINT_EVERY_S."""
    real_save, saved_epochs = training.save_torch, []
    monkeypatch.setattr(
        training,
        "save_torch",
        lambda state, path: (saved_epochs.append(state["progress"]["epoch"]), real_save(state, path)),
    )
    run(data, tmp_path / "quick", name="mstcn", epochs=5, patience=0)
    assert saved_epochs == [1, 5]
    assert len(pd.read_csv(tmp_path / "quick" / "history.csv")) == 5


def test_framewise_survives_a_one_class_training_set():
    from sendflow.models.per_step import Framewise

    x = np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32)
    model = Framewise(4, 3, "multitask", C=1.0, alpha=1.0).fit([(x, np.full(10, 2), np.linspace(-1, 1, 10))])
    probs, valence = model.predict(x)
    assert (probs[:, 2] == 1).all() and np.isfinite(valence).all()


def test_centring_per_speaker_removes_each_speakers_mean_and_reads_no_ratings(data):
    from sendflow.classifier.data import centre_per_speaker, load_clips, speaker_means

    features, _ = data
    clips = load_clips(features, EDGES)
    centred = centre_per_speaker(clips, speaker_means(clips))
    for speaker in {c.speaker for c in clips.values()}:
        ids = [c for c, clip in clips.items() if clip.speaker == speaker]
        stacked = np.concatenate([centred[c].x for c in ids])
        assert np.allclose(stacked.mean(0), 0, atol=1e-5)
        raw = np.concatenate([clips[c].x for c in ids])
        assert np.allclose(stacked, raw - raw.mean(0), atol=1e-5)  # one shift per speaker, not per clip
    relabelled = features.assign(valence=np.random.default_rng(1).permutation(features["valence"].to_numpy()))
    relabelled_clips = load_clips(relabelled, EDGES)
    again = centre_per_speaker(relabelled_clips, speaker_means(relabelled_clips))
    assert all(np.array_equal(again[c].x, centred[c].x) for c in clips)


def test_a_one_class_fold_stops_unless_allowed(data, tmp_path, caplog):
    """Ratings on the wrong scale put every step in one class, and every class score is then
    perfect: the job stops, naming the fold, the valence seen and the edges."""
    features, folds = data
    with pytest.raises(
        ValueError,
        match=r"fold 0: every rated training step is one class of 3 .*label edges "
        r"\[-5.0, 5.0\].*allow_one_class",
    ):
        train_and_predict(features, folds, 0, "three", [-5.0, 5.0], settings("mean"), 3, tmp_path)
    assert not (tmp_path / "history.csv").exists()
    with caplog.at_level("WARNING"):
        train_and_predict(features, folds, 0, "three", [-5.0, 5.0], settings("mean", allow_one_class=True), 3, tmp_path)
    assert "every rated train step is class 1 of 3" in caplog.text
    assert "every rated test step is class 1 of 3" in caplog.text


def test_a_feature_file_from_elsewhere_is_refused_naming_it(data, tmp_path):
    from sendflow.atomic import write_parquet
    from sendflow.classifier.data import read_features
    from sendflow.errors import SendDataError

    features, _ = data
    plain = tmp_path / "plain.parquet"
    write_parquet(features.drop(columns=["valence"]).assign(n_frames=1), plain)  # another schema
    missing = r"plain\.parquet: not a sendflow feature cache: missing column\(s\) \['valence'\]"
    with pytest.raises(SendDataError, match=missing):
        read_features(plain)
    unsigned = tmp_path / "unsigned.parquet"
    write_parquet(features.assign(n_frames=1), unsigned)  # the right columns, written by another tool
    with pytest.raises(SendDataError, match="unsigned.parquet: no sendflow.extractor_sha256 metadata"):
        read_features(unsigned)
    other = tmp_path / "other.parquet"
    write_parquet(
        features.assign(n_frames=1),
        other,
        metadata={"sendflow.extractor_sha256": "ab12", "sendflow.extractor": "resnet"},
    )
    with pytest.raises(SendDataError, match="other.parquet: features of extractor 'resnet', expected 'resattn'"):
        read_features(other, "resattn")
    assert len(read_features(other, "resnet")) == len(features)
    (tmp_path / "text.parquet").write_text("clip_id,feature\n")
    with pytest.raises(SendDataError, match="text.parquet: not a readable Parquet file"):
        read_features(tmp_path / "text.parquet")


SCRIPT = PROJECT / "workflow_scripts" / "train_classifier.py"


def classifier_job(data, folder, name, repeats=1, before="") -> subprocess.CompletedProcess:
    """The classifier rule's real script for `name` in a fresh interpreter, on `data` written to
    `folder` as `repeats` repeats' feature files, its outputs in `folder` (a list per output,
    one path per repeat, as the rule gives them); `before`: code run first. It prints whether
    torch was imported."""
    features, folds = data
    for repeat in range(repeats):
        write_parquet(
            features.assign(n_frames=1),
            folder / f"features{repeat}.parquet",
            metadata={"sendflow.extractor_sha256": "ab12", "sendflow.extractor": "resattn"},
        )
    folds.to_parquet(folder / "folds.parquet")
    runs = [folder / f"repeat{r}" for r in range(repeats)]  # each repeat's outputs in a folder, as each_repeat has
    outputs = {kind: [str(run / f"{kind}{suffix}") for run in runs] for kind, suffix in OUTPUTS.items()}
    outputs["model"] = [str(run / temporal_model(name).file_name) for run in runs]
    features_paths = [str(folder / f"features{r}.parquet") for r in range(repeats)]
    scheme = {"edges": EDGES, "names": ["negative", "neutral", "positive"]}
    job = f"""
import runpy, sys, types
sys.path.insert(0, {str(SCRIPT.parent)!r})
{before}
ns = types.SimpleNamespace
snakemake = ns(
    log=[{str(folder / "job.log")!r}],
    threads=1,
    wildcards=ns(classifier={name!r}, extractor="resattn", labels="three", fold="0"),
    input=ns(features={features_paths!r}, folds={str(folder / "folds.parquet")!r}),
    output=ns(**{outputs!r}),
    params=ns(classifier={settings(name, epochs=1)!r}, scheme={scheme!r}, seeds={list(range(3, 3 + repeats))!r}),
)
runpy.run_path({str(SCRIPT)!r}, init_globals={{"snakemake": snakemake}}, run_name="__main__")
print("torch" in sys.modules)
"""
    return subprocess.run([sys.executable, "-c", job], capture_output=True, text=True)


@pytest.mark.parametrize("name", classifier_names())
def test_a_job_runs_exactly_the_code_its_rule_declares_and_a_baseline_never_imports_torch(data, tmp_path, name):
    """The classifier rule's real script, run for each classifier in a fresh interpreter: every
    sendflow file it runs is one of its rule's code inputs (or editing it would not rerun the
    job), and none of those is a file it never runs (or editing that would rerun it for
    nothing). The tiny workflow has no sstcn or bigru job, so this is where they are checked.
    A per-step baseline's job never loads torch (seconds to import)."""
    from sendflow.code_inputs import classifier_code

    run = classifier_job(data, tmp_path, name)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip() == str(temporal_model(name).torch)
    used = set(re.search(r"sendflow code used: (.*)", (tmp_path / "job.log").read_text()).group(1).split())
    declared = {
        str(Path(f).relative_to(PROJECT))
        for f in classifier_code(PROJECT / "workflow_scripts/train_classifier.py", PROJECT, name)
    }
    assert used <= declared, f"{name} jobs run {sorted(used - declared)} without declaring them"
    models = {f"sendflow/{file}" for model in temporal_models().values() for file in model.entry_code}
    assert not (declared - used) & models, f"{name} jobs declare code they never run: {sorted(declared - used)}"
    assert load_classifier(tmp_path / "repeat0" / temporal_model(name).file_name)[0].settings["name"] == name


@pytest.mark.parametrize("name", [*classifier_names("per_step"), "mstcn"])
def test_a_job_killed_between_its_repeats_writes_on_its_rerun_what_one_run_writes(data, tmp_path, name):
    """A classifier job of two repeats, killed as it writes its second repeat's scores, and run
    again over what it left (as Snakemake reruns an incomplete job), writes byte for byte what
    an uninterrupted job writes, so the model_sha256 that model_zoo checks holds: a per-step
    baseline, which keeps no checkpoint, by training again; a torch model from each repeat's
    last.pt, without training again."""
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    whole.mkdir(), killed.mkdir()
    assert classifier_job(data, whole, name, repeats=2).returncode == 0
    kill_at_second_scores = """
import os, signal
import sendflow.atomic as atomic
calls, write_json = [], atomic.write_json
def dying(*args, **kwargs):
    calls.append(1)
    if len(calls) == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return write_json(*args, **kwargs)
atomic.write_json = dying
"""
    assert classifier_job(data, killed, name, repeats=2, before=kill_at_second_scores).returncode == -signal.SIGKILL
    assert (killed / "repeat0/metrics.json").exists() and not (killed / "repeat1/metrics.json").exists()
    rerun = classifier_job(data, killed, name, repeats=2)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    if name == "mstcn":
        assert (job_log := (killed / "job.log").read_text()).count("training had finished") == 2, job_log

    def written(folder):
        return sorted(str(p.relative_to(folder)) for p in folder.glob("repeat*/*") if p.name != "last.pt")

    assert written(whole) == written(killed) and len(written(whole)) == 2 * 4  # 4 outputs per repeat
    for file in written(whole):
        if file.endswith("history.csv"):  # its seconds per epoch are timings
            ours, theirs = (pd.read_csv(f / file).drop(columns="seconds", errors="ignore") for f in (whole, killed))
            pd.testing.assert_frame_equal(ours, theirs, check_exact=True)
        else:
            assert (whole / file).read_bytes() == (killed / file).read_bytes(), file


def test_classes_follow_the_source_that_scores_better_on_the_select_clips():
    """A hand-made model output: the class head says 'positive' everywhere while the valence head
    tracks the ratings. auto takes the bands of the valence head, whose classes then never
    contradict the predicted valence; head and valence force the choice."""
    edges = [-0.15, 0.15]
    valence = np.array([-0.6, -0.4, 0.0, 0.05, 0.5, 0.7])
    truth = classify(valence, edges)
    probs = np.tile([0.1, 0.2, 0.7], (len(valence), 1))  # always positive
    frame = pd.DataFrame(
        {"class_true": truth, "valence_pred": valence + 0.02, **{f"prob_{k}": probs[:, k] for k in range(3)}}
    )
    trained = TrainedClassifier(None, {}, edges, np.zeros(1), np.ones(1))
    assert choose_class_source(trained, frame, "auto") == "valence"
    assert choose_class_source(trained, frame, "head") == "head"
    trained.classes_from = "valence"
    assert np.array_equal(trained.classes(probs, valence + 0.02), classify(valence + 0.02, edges))
    trained.classes_from = "head"
    assert np.array_equal(trained.classes(probs, valence), np.full(len(valence), 2))
    # a head that is right wins
    right = frame.assign(**{f"prob_{k}": np.eye(3)[truth][:, k] for k in range(3)}, valence_pred=0.0)
    assert choose_class_source(trained, right, "auto") == "head"
    assert choose_class_source(trained, frame.drop(columns=["prob_0", "prob_1", "prob_2"]), "auto") == "valence"


def test_predicted_valence_stays_in_the_ratings_range():
    """A linear valence head (here the framewise ridge regression, fitted on valence = 0.9 x for
    x in [-1, 1]) extrapolates past -1 and 1 on features unlike its training's; the valence it
    reports is clipped to [-1, 1], the ratings' range that docs/predict.md promises."""
    x = np.linspace(-1, 1, 21)[:, None]
    model = Framewise(1, 3, "regression", C=1.0, alpha=1e-6).fit([(x, np.full(len(x), -1), 0.9 * x[:, 0])])
    far = np.array([[-5.0], [0.5], [5.0]])
    raw = model.predict(far)[1]
    assert raw[0] < -1 and raw[2] > 1  # the head itself leaves the range
    trained = TrainedClassifier(model, {"name": "framewise"}, [-0.15, 0.15], np.zeros(1), np.ones(1))
    ((probs, valence),) = trained.outputs([far])
    assert probs is None
    np.testing.assert_allclose(valence, [-1, 0.45, 1], atol=1e-3)
