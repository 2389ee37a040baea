"""Extractor training on a tiny learnable toy task: no leakage, exact resume, useful history."""

import json
import logging

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import Reads

import sendflow.extractor.train as train_module
import sendflow.training as training
from sendflow.config import schema_defaults
from sendflow.extractor.data import clips_for_role, frame_files_for_fold
from sendflow.extractor.train import HISTORY_COLUMNS, make_loaders, train_extractor
from sendflow.models.resnet_attention import load_extractor
from sendflow.names import EXTRACTOR_SETTINGS

EDGES = [-0.3, 0.3]
ROLES = {"train": ["tr0", "tr1", "tr2"], "select": ["se0", "se1"], "test": ["te0", "te1"]}
# The settings the rule passes (the schema's defaults), made small and quick.
CFG = {
    **{key: schema_defaults()["extractor"][key] for key in EXTRACTOR_SETTINGS},
    "kind": "resattn",
    "reduction": 8,
    "epochs": 3,
    "lr": 2e-3,
    "patience": 0,
    "device": "cpu",
}


def _write_clip(path, rng, n=20, size=32):
    """Frames whose dominant colour channel is the valence class, so a CNN can learn it."""
    valence = rng.uniform(-1, 1, n).astype(np.float32)
    valence[rng.random(n) < 0.15] = np.nan  # unrated frames must be dropped
    cls = np.digitize(np.nan_to_num(valence), EDGES)
    frames = rng.integers(0, 60, (n, size, size, 3)).astype(np.uint8)
    frames[np.arange(n), :, :, cls] += 150
    np.savez(path, frames=frames, times=np.arange(n) * 0.5, steps=np.arange(n, dtype=np.int32), valence=valence)


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy")
    rng = np.random.default_rng(0)
    rows = []
    for role, clips in ROLES.items():
        for i, clip in enumerate(clips):
            _write_clip(root / f"{clip}.npz", rng)
            rows.append(dict(fold=0, clip_id=clip, speaker=hash(clip) % 100, split="Train", role=role))
    rows.append(dict(fold=0, clip_id="missing", speaker=99, split="Train", role="train"))  # no frames file
    folds = pd.DataFrame(rows)
    files = frame_files_for_fold(folds, 0, {p.stem: p for p in root.glob("*.npz")}, roles=("train", "select", "test"))
    return folds, files


def test_roles_and_missing_clips(toy):
    folds, files = toy
    assert clips_for_role(folds, 0, "select") == ROLES["select"]
    assert [f.stem for f in files["train"]] == ROLES["train"]  # "missing" skipped


def test_training_loader_never_yields_select_or_test_frames(toy):
    _, files = toy
    train, select = make_loaders(files, CFG, EDGES, torch.Generator().manual_seed(0))
    assert train.dataset.clip_ids == ROLES["train"] and select.dataset.clip_ids == ROLES["select"]
    sampled = np.array(list(iter(train.sampler)))
    assert {train.dataset.clip_ids[c] for c in train.dataset.clip_index[sampled]} <= set(ROLES["train"])
    seen = {train.dataset.clip_ids[c] for _, _, _, batch in train for c in batch.tolist()}
    assert seen <= set(ROLES["train"])
    assert (train.dataset.classes >= 0).all()


def test_resume_is_bit_identical_and_learns(toy, tmp_path, monkeypatch):
    _, files = toy
    cfg = Reads(CFG)
    full = train_extractor(files, tmp_path / "full", cfg, EDGES, seed=7)
    assert cfg.read == set(CFG)  # the rule passes exactly what training reads

    real_write, epochs = training.write_csv, []

    def write_then_die(frame, path, **kwargs):  # the last write of an epoch
        real_write(frame, path, **kwargs)
        epochs.append(1)
        if len(epochs) == 1:
            raise KeyboardInterrupt  # killed after epoch 1

    monkeypatch.setattr(training, "write_csv", write_then_die)
    with pytest.raises(KeyboardInterrupt):
        train_extractor(files, tmp_path / "resumed", CFG, EDGES, seed=7)
    assert not (tmp_path / "resumed" / "model.pt").exists()
    assert len(pd.read_csv(tmp_path / "resumed" / "history.csv")) == 1
    resumed = train_extractor(files, tmp_path / "resumed", CFG, EDGES, seed=7)
    assert len(epochs) == 3  # only epochs 2 and 3 were trained again

    a = torch.load(tmp_path / "full" / "model.pt", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "resumed" / "model.pt", weights_only=True)["state_dict"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert resumed["best_epoch"] == full["best_epoch"]

    history = pd.read_csv(tmp_path / "full" / "history.csv")
    assert list(history["epoch"]) == [1, 2, 3] and list(history.columns) == HISTORY_COLUMNS
    assert torch.load(tmp_path / "resumed" / "last.pt", weights_only=True)["progress"]["epoch"] == 3
    pd.testing.assert_frame_equal(
        history.drop(columns=["seconds", "images_per_s"]),
        pd.read_csv(tmp_path / "resumed" / "history.csv").drop(columns=["seconds", "images_per_s"]),
    )

    summary = json.loads((tmp_path / "full" / "summary.json").read_text())
    assert set(summary["train_clips"]) == set(ROLES["train"])
    assert set(summary["select_clips"]) == set(ROLES["select"])
    assert summary["select"]["acc"] > summary["majority_select_acc"]
    assert summary["took_off"] and summary["takeoff_problems"] == []
    assert summary["over_majority"]["acc"] == pytest.approx(summary["select"]["acc"] - summary["majority_select_acc"])
    assert summary["over_majority"]["f1"] == pytest.approx(summary["select"]["f1"] - summary["majority_select_f1"])

    model = load_extractor(tmp_path / "full" / "model.pt")
    assert model.meta["edges"] == EDGES and not model.training


def test_a_checkpoint_of_other_frames_is_not_resumed(toy, tmp_path, monkeypatch, caplog):
    """Same clip names, new crops (as after a change of frames.margin): training starts afresh."""
    _, files = toy
    copies = {role: [] for role in files}
    for role, paths in files.items():
        for path in paths:
            copies[role].append(tmp_path / "frames" / path.name)
            copies[role][-1].parent.mkdir(exist_ok=True)
            copies[role][-1].write_bytes(path.read_bytes())
    real_write = training.write_csv

    def write_then_die(frame, path, **kwargs):
        real_write(frame, path, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "write_csv", write_then_die)
    with pytest.raises(KeyboardInterrupt):
        train_extractor(copies, tmp_path / "run", CFG, EDGES, seed=7)
    monkeypatch.setattr(training, "write_csv", real_write)
    with np.load(copies["train"][0]) as clip:  # new crops of the same clip
        arrays = {k: clip[k] for k in clip.files}
    arrays["frames"] = 255 - arrays["frames"]
    np.savez(copies["train"][0], **arrays)
    with caplog.at_level("INFO"):
        train_extractor(copies, tmp_path / "run", CFG, EDGES, seed=7)  # same settings: only the data differ
    assert "starting afresh" in caplog.text and "resuming" not in caplog.text


def test_a_role_without_rated_frames_names_its_clips(toy, tmp_path):
    _, files = toy
    unrated = tmp_path / "se9.npz"
    with np.load(files["select"][0]) as clip:
        arrays = {k: clip[k] for k in clip.files}
    np.savez(unrated, **{**arrays, "valence": np.full_like(arrays["valence"], np.nan)})
    with pytest.raises(ValueError, match=r"no rated frames among the select clips \(se9\)"):
        make_loaders({"train": files["train"], "select": [unrated]}, CFG, EDGES, torch.Generator())


def test_no_early_stop_before_the_minimum_epochs(tmp_path, caplog):
    """A select score that only falls: patience 1 stops after epoch 2, unless min_epochs holds it."""
    model = torch.nn.Linear(1, 1)

    def falling(epoch):
        return -float(epoch), {"train_acc": 0.5}

    def run(min_epochs, folder):
        progress, _ = training.train_epochs(
            model,
            {"model": model},
            falling,
            epochs=10,
            patience=1,
            checkpoint=tmp_path / folder / "last.pt",
            key="key",
            history_path=tmp_path / folder / "history.csv",
            log=logging.getLogger("t"),
            min_epochs=min_epochs,
        )
        return progress

    assert (run(0, "free").epoch, run(0, "again").stopped_early) == (2, True)
    held = run(6, "held")
    assert (held.epoch, held.best_epoch, held.stopped_early) == (6, 1, True)
    assert run(20, "never").epoch == 10  # the maximum still ends it


def _shuffled(files, folder, seed=5):
    """Copies of the clips whose frames are noise and whose labels are permuted: nothing to learn."""
    rng = np.random.default_rng(seed)
    out = {}
    for role, paths in files.items():
        out[role] = []
        for path in paths:
            with np.load(path) as clip:
                arrays = {k: clip[k] for k in clip.files}
            arrays["valence"] = rng.permutation(arrays["valence"])
            arrays["frames"] = rng.integers(0, 256, arrays["frames"].shape).astype(np.uint8)
            out[role].append(folder / path.name)
            folder.mkdir(parents=True, exist_ok=True)
            np.savez(out[role][-1], **arrays)
    return out


def test_an_extractor_that_cannot_learn_is_flagged(toy, tmp_path, caplog):
    """Frames that say nothing of their labels (shuffled): the run never takes off, says so in
    the log after takeoff_epochs and in summary.json."""
    _, files = toy
    shuffled = _shuffled(files, tmp_path / "frames")
    with caplog.at_level("WARNING"):
        summary = train_extractor(shuffled, tmp_path / "run", {**CFG, "takeoff_epochs": 2}, EDGES, seed=7)
    assert summary["took_off"] is False and summary["takeoff_problems"]
    assert "after 2 epochs the extractor has not taken off" in caplog.text
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["took_off"] is False


def test_the_checkpoint_key_holds_epochs_and_the_initial_weights_content_not_the_runtime_keys(toy, tmp_path):
    """The learning-rate schedule follows `epochs`, so another limit must start afresh; a weights
    file replaced under the same name must too. Where the job runs must not matter."""
    from sendflow.extractor.train import checkpoint_key
    from sendflow.models.resnet_attention import build_extractor

    _, files = toy
    weights = tmp_path / "init.pt"
    torch.save(build_extractor("resnet", CFG["depth"], width=CFG["width"], reduction=16).backbone.state_dict(), weights)
    cfg = {**CFG, "weights": str(weights)}
    key = checkpoint_key(cfg, EDGES, 7, files)
    assert checkpoint_key({**cfg, "device": "cuda", "num_workers": 3}, EDGES, 7, files) == key
    assert checkpoint_key({**cfg, "epochs": cfg["epochs"] + 1}, EDGES, 7, files) != key
    torch.save(build_extractor("resnet", CFG["depth"], width=CFG["width"], reduction=16).backbone.state_dict(), weights)
    assert checkpoint_key(cfg, EDGES, 7, files) != key


def test_a_replaced_initial_weights_file_retrains_and_is_recorded(toy, tmp_path, caplog):
    """Same path, new content: the finished checkpoint must not be reused, and the summary (which
    the bundle copies) names the file's sha256."""
    from sendflow.atomic import file_sha256
    from sendflow.models.resnet_attention import build_extractor

    _, files = toy
    weights = tmp_path / "init.pt"
    cfg = {**CFG, "epochs": 1, "weights": str(weights), "width": 64}  # weights need the width they had
    runs = []
    for draw in (0, 1):
        torch.manual_seed(draw)
        torch.save(build_extractor("resnet", CFG["depth"], width=64, reduction=16).backbone.state_dict(), weights)
        with caplog.at_level(logging.INFO):
            runs.append(train_extractor(files, tmp_path / "run", cfg, EDGES, seed=7))
        assert runs[-1]["initial_weights_sha256"] == file_sha256(weights)
    assert "written for other data, settings or seed; starting afresh" in caplog.text
    assert "training had finished" not in caplog.text
    assert runs[0]["model_sha256"] != runs[1]["model_sha256"]


# decided at epoch 3 (warm-up 1 + min_epochs 2), the run's last
RESTARTING = {**CFG, "min_epochs": 2, "restarts": 2}


@pytest.fixture
def first_attempt_learns_nothing(toy, tmp_path, monkeypatch):
    """Training whose first attempt (seed 7) sees the nothing-to-learn copies and every later
    attempt the real clips: the only way to take off is to restart."""
    _, files = toy
    noise = _shuffled(files, tmp_path / "noise")
    real_make_loaders = train_module.make_loaders

    def make_loaders(frame_files_by_role, cfg, edges, generator):
        chosen = noise if generator.initial_seed() == 7 else frame_files_by_role
        return real_make_loaders(chosen, cfg, edges, generator)

    monkeypatch.setattr(train_module, "make_loaders", make_loaders)
    return files


def test_a_run_that_does_not_take_off_restarts_and_then_succeeds(first_attempt_learns_nothing, tmp_path, caplog):
    with caplog.at_level("WARNING"):
        summary = train_extractor(first_attempt_learns_nothing, tmp_path / "run", RESTARTING, EDGES, seed=7)
    assert summary["took_off"] and summary["restarts"] == 1 and summary["seed"] == 1007
    (given_up,) = summary["given_up"]
    assert given_up["attempt"] == 0 and given_up["seed"] == 7 and given_up["epochs_run"] == 3 and given_up["why"]
    assert "attempt 0 has not taken off after 3 epochs" in caplog.text
    assert "never took off" not in caplog.text
    assert torch.load(tmp_path / "run" / "model.pt", weights_only=True)["seed"] == 1007
    # the reported history is the successful attempt's
    assert list(pd.read_csv(tmp_path / "run" / "history.csv")["epoch"]) == [1, 2, 3]


def test_a_run_that_can_never_take_off_is_flagged_after_its_restarts(toy, tmp_path, caplog):
    _, files = toy
    with caplog.at_level("WARNING"):
        summary = train_extractor(_shuffled(files, tmp_path / "noise"), tmp_path / "run", RESTARTING, EDGES, seed=7)
    assert summary["took_off"] is False and summary["takeoff_problems"]
    assert summary["restarts"] == 2 and [a["seed"] for a in summary["given_up"]] == [7, 1007]
    assert summary["seed"] == 2007 and summary["epochs_run"] == 3
    assert "never took off (summary.json took_off: false) in 3 attempts" in caplog.text
    # no restart allowed: the first attempt is reported as it is
    once = train_extractor(
        _shuffled(files, tmp_path / "noise"), tmp_path / "once", {**RESTARTING, "restarts": 0}, EDGES, 7
    )
    assert once["took_off"] is False and once["restarts"] == 0 and once["seed"] == 7


def test_a_run_killed_in_its_second_attempt_resumes_to_the_same_bytes(
    first_attempt_learns_nothing, tmp_path, monkeypatch
):
    files = first_attempt_learns_nothing
    full = train_extractor(files, tmp_path / "full", RESTARTING, EDGES, seed=7)
    real_write, writes = training.write_csv, []

    def write_then_die(frame, path, **kwargs):
        real_write(frame, path, **kwargs)
        writes.append(path)
        if len(writes) == 3:  # attempt 0 saved after epochs 1 and 3; attempt 1 after its epoch 1
            raise KeyboardInterrupt

    monkeypatch.setattr(training, "write_csv", write_then_die)
    with pytest.raises(KeyboardInterrupt):
        train_extractor(files, tmp_path / "resumed", RESTARTING, EDGES, seed=7)
    assert json.loads((tmp_path / "resumed" / "restarts.json").read_text())["attempts"][0]["seed"] == 7
    resumed = train_extractor(files, tmp_path / "resumed", RESTARTING, EDGES, seed=7)
    # attempt 1 went on from its epoch 1 (saves after epochs 2 and 3); attempt 0 was not trained again
    assert len(writes) == 5
    a = (tmp_path / "full" / "model.pt").read_bytes()
    assert a == (tmp_path / "resumed" / "model.pt").read_bytes()
    timing = ("seconds", "images_per_s")
    assert resumed["model_sha256"] == full["model_sha256"] and resumed["given_up"] == full["given_up"]
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "full" / "history.csv").drop(columns=list(timing)),
        pd.read_csv(tmp_path / "resumed" / "history.csv").drop(columns=list(timing)),
    )
