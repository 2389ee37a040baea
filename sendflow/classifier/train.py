"""Train one model on one fold's cached features, select on the fold's select clips, and
predict its test clips.

Features are centred per speaker (optional, `speaker_norm`) and standardised with the training
clips' statistics. Every model predicts per step what its task asks: class probabilities,
valence, or both (`multitask`, the default).

Torch models (mstcn, sstcn, bigru) train with Adam on padded batches in sendflow.training's
epoch loop: the select clips are scored after every epoch, the best epoch's weights kept
(early stopping after `patience` epochs without improvement), `history.csv` and a resumable
`last.pt` written every epoch. A rerun with the same data, fold, seed and settings resumes from
`last.pt` with the same result as an uninterrupted run; raising `epochs` later continues
training from the checkpoint.
"""

import hashlib
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ..atomic import write_csv
from ..device import resolve_device
from ..labels import classify
from ..metrics import ccc_per_clip_mean, class_metrics, evaluate
from ..models.losses import mstcn_loss
from ..names import CLASSIFIER_RUNTIME, ROLES, SELECT_METRICS, TORCH_CLASSIFIERS
from ..seeding import seed_everything
from ..training import Progress, fingerprint, train_epochs
from .data import batch, centre_per_speaker, feature_stats, fold_roles, load_clips, standardise
from .trained import TrainedClassifier, build_model


def _frame(clips, outputs, edges, num_classes) -> pd.DataFrame:
    parts = []
    for c, (probs, values) in zip(clips, outputs):
        part = pd.DataFrame({
            "clip_id": c.clip_id, "speaker": c.speaker, "step": c.step, "t": c.t,
            "valence_true": c.valence, "valence_pred": np.asarray(values, np.float32),
            "class_true": c.label,
            "class_pred": probs.argmax(1) if probs is not None else classify(values, edges),
        })
        if probs is not None:
            for k in range(num_classes):
                part[f"prob_{k}"] = probs[:, k].astype(np.float32)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _select_score(frame: pd.DataFrame, metric: str, num_classes: int) -> float:
    if metric == "ccc":
        score = ccc_per_clip_mean(frame)
    elif metric == "f1":
        score = class_metrics(frame["class_true"], frame["class_pred"], num_classes)["macro_f1"]
    else:
        raise ValueError(f"select_metric must be one of {SELECT_METRICS}, not {metric!r}")
    return -np.inf if np.isnan(score) else float(score)


def _fingerprint(cfg, fold, seed, scheme_name, edges, clips, roles) -> str:
    """What a checkpoint was trained on: settings (less the runtime ones), fold, seed, labels, data."""
    digest = hashlib.sha256()
    for c in sorted(clips):
        digest.update(f"{c}:{roles[c]}".encode())
        digest.update(clips[c].x.tobytes())
        digest.update(clips[c].valence.tobytes())
    return fingerprint(settings={k: v for k, v in cfg.items() if k not in CLASSIFIER_RUNTIME}, fold=fold,
                       seed=seed, scheme=scheme_name, edges=list(map(float, edges)), data=digest.hexdigest())


def _predict_frame(trained: TrainedClassifier, clips, device) -> pd.DataFrame:
    """Predictions for standardised clips, one row per step."""
    outputs = trained.outputs([c.x for c in clips], device)
    return _frame(clips, outputs, trained.edges, trained.num_classes)


def _train_torch(trained, train, select, cfg, seed, out_dir, key, log):
    """Adam on padded batches; each epoch reseeds its own random streams from (seed, epoch), so
    a resumed run draws what an uninterrupted one would."""
    model, device = trained.model, resolve_device(cfg["device"])
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])

    def run_epoch(epoch: int) -> tuple[float, dict]:
        torch.manual_seed(seed * 100_003 + epoch)  # dropout
        order = np.random.default_rng([seed, epoch]).permutation(len(train))
        model.train()
        losses = []
        for i in range(0, len(order), cfg["batch_size"]):
            x, mask, classes, valence = batch([train[j] for j in order[i:i + cfg["batch_size"]]], device)
            loss = mstcn_loss(model(x, mask), mask, classes, valence, cfg["task"], cfg["smooth_weight"],
                              cfg["tau"], cfg["regression_loss"], cfg["regression_weight"])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        score = _select_score(_predict_frame(trained, select, device), cfg["select_metric"], trained.num_classes)
        return score, {"train_loss": float(np.mean(losses)), f"select_{cfg['select_metric']}": score}

    progress, best = train_epochs(model, {"model": model, "optimizer": optimizer}, run_epoch, cfg["epochs"],
                                  cfg["patience"], out_dir / "last.pt", key, out_dir / "history.csv", log)
    model.load_state_dict(best)
    return device, progress


def train_and_predict(features_df, folds_df, fold, scheme_name, edges, cfg, seed, out_dir, log=None):
    """Train `cfg["name"]` on the fold's train clips, select on its select clips, and return
    (predictions for the test clips, metrics dict, the TrainedClassifier). `cfg`: the
    classifier's settings as `sendflow.config.classifier_settings` gives them."""
    log = log or logging.getLogger("sendflow.classifier")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    edges = sorted(float(e) for e in edges)

    roles = fold_roles(folds_df, fold, features_df)
    clips = {c: clip for c, clip in load_clips(features_df, edges).items() if c in roles}
    by_role = {r: sorted(c for c in clips if roles[c] == r) for r in ROLES}
    empty = [r for r, ids in by_role.items() if not ids]
    if empty:
        raise ValueError(f"fold {fold}: no feature rows for the {empty} clips")
    missing = sorted(set(roles) - set(clips))
    if missing:
        log.warning("fold %d: %d clips have no features (e.g. %s)", fold, len(missing), missing[0])
    if cfg["speaker_norm"]:
        clips = centre_per_speaker(clips)
    mean, std = feature_stats(clips, by_role["train"])
    clips = standardise(clips, mean, std)
    train, select, test = ([clips[c] for c in by_role[r]] for r in ROLES)

    seed_everything(seed)
    model = build_model(cfg, len(mean), len(edges) + 1)
    trained = TrainedClassifier(model, cfg, edges, mean, std)
    device, progress = "cpu", Progress()
    if cfg["name"] in TORCH_CLASSIFIERS:
        key = _fingerprint(cfg, fold, seed, scheme_name, edges, clips, roles)
        device, progress = _train_torch(trained, train, select, cfg, seed, out_dir, key, log)
    else:
        model.fit([(c.x, c.label, c.valence) for c in train])
    select_score = _select_score(_predict_frame(trained, select, device), cfg["select_metric"],
                                 trained.num_classes)
    if cfg["name"] not in TORCH_CLASSIFIERS:
        write_csv(pd.DataFrame([{"epoch": 0, f"select_{cfg['select_metric']}": select_score}]),
                  out_dir / "history.csv")

    predictions = _predict_frame(trained, test, device)
    for role, clips_of_role in (("train", train), ("test", test)):
        present = np.unique(np.concatenate([c.label for c in clips_of_role]))
        present = present[present >= 0]
        if len(present) == 1:  # accuracy and F1 of one class say nothing about the model
            log.warning("fold %d: every rated %s step is class %d of %d: class scores (accuracy, F1, kappa) "
                        "are not meaningful; check the label edges", fold, role, present[0], trained.num_classes)
    metrics = evaluate(predictions, trained.num_classes)
    metrics.update({"fold": fold, "scheme": scheme_name, "classifier": cfg["name"], "task": cfg["task"],
                    "seed": seed, "select_metric": cfg["select_metric"], "select_score": select_score,
                    "best_epoch": progress.best_epoch, "epochs_run": progress.epoch,
                    "n_train_clips": len(train), "n_select_clips": len(select)})
    return predictions, metrics, trained
