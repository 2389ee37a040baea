"""Train one model on one fold's cached features, select on the fold's select clips, and
predict its test clips.

Features are centred per speaker (optional, `speaker_norm`) and standardised with the training
clips' statistics. Every model predicts per step what its task asks: class probabilities,
valence, or both (`multitask`, the default).

Torch models (fit `torch` in sendflow.models.registry: mstcn, sstcn, bigru) train with Adam
on padded batches in sendflow.training's epoch loop: the select clips are scored after every
epoch, the best epoch's weights kept (early stopping after `patience` epochs without
improvement), `history.csv` and a resumable `last.pt` written every epoch. A rerun with the same
data, fold, seed and settings resumes from `last.pt` with the same result as an uninterrupted
run; raising `epochs` later continues training from the checkpoint.
"""

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import write_csv
from ..feature_table import Block
from ..folds import fold_roles
from ..labels import classify
from ..metrics import class_metrics, evaluate
from ..models.registry import build, temporal_model
from ..names import ROLES
from .data import (
    ModalityDropout,
    centre_per_speaker,
    feature_stats,
    load_clips,
    missing_members_as_nan,
    speaker_means,
    standardise_clips,
)
from .scoring import predict_frame, select_score
from .trained import TrainedClassifier


def choose_class_source(trained: TrainedClassifier, select_frame: pd.DataFrame, setting: str) -> str:
    """`setting` (head or valence), or for auto the one whose classes score the higher macro-F1
    on the select clips (the head where they tie, and always the band without a class head)."""
    if setting != "auto":
        return setting
    if "prob_0" not in select_frame:
        return "valence"
    probs = select_frame[[f"prob_{k}" for k in range(trained.num_classes)]].to_numpy()
    f1 = {
        source: class_metrics(select_frame["class_true"], classes, trained.num_classes)["macro_f1"]
        for source, classes in (
            ("head", probs.argmax(1)),
            ("valence", classify(select_frame["valence_pred"].to_numpy(), trained.edges)),
        )
    }
    return "valence" if f1["valence"] > f1["head"] else "head"


def prepare_clips(clips, train_ids, cfg, blocks: list[Block] = ()):
    """Clips centred per speaker (where `speaker_norm`) and standardised with the training
    clips' statistics: (clips, mean, std, the ModalityDropout of a fused table's members, or
    None). `blocks`: a fused table's members (feature_table.Block); a step without a masked
    member has that member at 0, the value modality dropout gives a blanked clip. `cfg`'s
    `modality_dropout` (as fusions.<name>.modality_dropout says it): one rate for every masked
    member (every member but the base), or rates by member name."""
    clips = missing_members_as_nan(clips, blocks)
    if cfg["speaker_norm"]:
        clips = centre_per_speaker(clips, speaker_means(clips))
    mean, std = feature_stats(clips, train_ids)
    rates = cfg.get("modality_dropout", 0)
    rate_of = {b.name: rates.get(b.name, 0) if isinstance(rates, dict) else rates for b in blocks if b.masked}
    parts = tuple((b.start, b.stop, rate_of[b.name]) for b in blocks if b.masked and rate_of[b.name] > 0)
    return standardise_clips(clips, mean, std), mean, std, ModalityDropout(parts) if parts else None


def one_class_warning(clips, role: str, fold: int, num_classes: int, log) -> bool:
    """Log a warning and return True when every rated step of `clips` is one class: accuracy and
    F1 of one class say nothing about a model."""
    present = np.unique(np.concatenate([c.label for c in clips]))
    present = present[present >= 0]
    if len(present) != 1:
        return False
    log.warning(
        "fold %d: every rated %s step is class %d of %d: class scores (accuracy, F1, kappa) "
        "are not meaningful; check the label edges",
        fold,
        role,
        present[0],
        num_classes,
    )
    return True


def train_and_predict(
    features_df, folds_df, fold, scheme_name, edges, cfg, seed, out_dir, log=None, blocks: list[Block] = ()
):
    """Train `cfg["name"]` on the fold's train clips, select on its select clips, and return
    (predictions for the test clips, metrics dict, the TrainedClassifier). `cfg`: the
    classifier's settings as `sendflow.models.registry.classifier_settings` gives them (plus
    `modality_dropout` for a fused table, whose members' columns `blocks` gives)."""
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
    clips, mean, std, dropout = prepare_clips(clips, by_role["train"], cfg, blocks)
    allow_one_class = cfg["allow_one_class"]
    if (
        one_class_warning([clips[c] for c in by_role["train"]], "train", fold, len(edges) + 1, log)
        and not allow_one_class
    ):
        valence = np.concatenate([clips[c].valence for c in by_role["train"]])
        raise ValueError(
            f"fold {fold}: every rated training step is one class of {len(edges) + 1} (observer "
            f"valence {np.nanmin(valence):.3f} to {np.nanmax(valence):.3f}, label edges {edges}): "
            "the model could only learn that class and its class scores would be perfect or "
            "meaningless. Check the ratings' scale (SEND's EWE is 0-100) and the label edges, or "
            "set classifier.training.allow_one_class: true"
        )
    train, select, test = ([clips[c] for c in by_role[r]] for r in ROLES)

    if temporal_model(cfg["name"]).torch:
        from .train_torch import train_torch  # torch, imported only by the jobs that train with it

        trained, device, best_epoch, epochs_run = train_torch(
            cfg,
            mean=mean,
            std=std,
            edges=edges,
            train=train,
            select=select,
            clips=clips,
            roles=roles,
            fold=fold,
            seed=seed,
            scheme_name=scheme_name,
            out_dir=out_dir,
            log=log,
            dropout=dropout,
        )
    else:  # fitted in one go, no epochs
        trained, device, best_epoch, epochs_run = (
            TrainedClassifier(build(cfg, len(mean), len(edges) + 1), cfg, edges, mean, std),
            "cpu",
            0,
            0,
        )
        trained.model.fit([(c.x, c.label, c.valence) for c in train])
    on_select = predict_frame(trained, select, device)
    trained.classes_from = choose_class_source(trained, on_select, cfg["classes_from"])
    probs = on_select[[f"prob_{k}" for k in range(trained.num_classes)]].to_numpy() if "prob_0" in on_select else None
    on_select["class_pred"] = trained.classes(probs, on_select["valence_pred"].to_numpy())  # from the chosen source
    chosen_on = select_score(on_select, cfg["select_metric"], trained.num_classes)
    if not temporal_model(cfg["name"]).torch:
        write_csv(pd.DataFrame([{"epoch": 0, f"select_{cfg['select_metric']}": chosen_on}]), out_dir / "history.csv")

    predictions = predict_frame(trained, test, device)
    one_class_warning(test, "test", fold, trained.num_classes, log)
    metrics = evaluate(predictions, trained.num_classes)
    metrics.update(
        {
            "fold": fold,
            "scheme": scheme_name,
            "classifier": cfg["name"],
            "task": cfg["task"],
            "seed": seed,
            "select_metric": cfg["select_metric"],
            "select_score": chosen_on,
            "classes_from": trained.classes_from,
            "best_epoch": best_epoch,
            "epochs_run": epochs_run,
            "n_train_clips": len(train),
            "n_select_clips": len(select),
        }
    )
    return predictions, metrics, trained
