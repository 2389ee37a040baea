"""Training of the torch models (fit `torch` in sendflow.models.registry: mstcn, sstcn, bigru):
Adam on padded batches in sendflow.training's epoch loop, scored on the select clips after every
epoch, resumable from `last.pt`. Kept apart from sendflow.classifier.train so the per-step
baselines never import torch."""

import hashlib

import numpy as np
import torch

from ..device import resolve_device
from ..models.losses import mstcn_loss
from ..models.registry import build
from ..names import CLASSIFIER_RUNTIME
from ..optim import Adam
from ..seeding import seed_everything
from ..training import fingerprint, train_epochs
from .data import batch
from .scoring import predict_frame, select_score
from .trained import TrainedClassifier


def _fingerprint(cfg, fold, seed, scheme_name, edges, clips, roles) -> str:
    """What a checkpoint was trained on: settings (less the runtime ones), fold, seed, labels, data."""
    digest = hashlib.sha256()
    for c in sorted(clips):
        digest.update(f"{c}:{roles[c]}".encode())
        digest.update(clips[c].x.tobytes())
        digest.update(clips[c].valence.tobytes())
    return fingerprint(
        settings={k: v for k, v in cfg.items() if k not in CLASSIFIER_RUNTIME},
        fold=fold,
        optimizer="sendflow.optim.Adam",  # checkpoints of torch.optim's Adam hold another state
        seed=seed,
        scheme=scheme_name,
        edges=list(map(float, edges)),
        data=digest.hexdigest(),
    )


def train_torch(
    cfg, *, mean, std, edges, train, select, clips, roles, fold, seed, scheme_name, out_dir, log, dropout=None
):
    """Build and train the model; return (TrainedClassifier with the best epoch's weights,
    device, best epoch, epochs run). `dropout`: a ModalityDropout applied to each epoch's
    training clips. Each epoch reseeds its own random streams from (seed, epoch), so a resumed
    run draws what an uninterrupted one would."""
    seed_everything(seed)
    trained = TrainedClassifier(build(cfg, len(mean), len(edges) + 1), cfg, edges, mean, std)
    model, device = trained.model, resolve_device(cfg["device"])
    model.to(device)
    optimizer = Adam(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])

    def run_epoch(epoch: int) -> tuple[float, dict]:
        torch.manual_seed(seed * 100_003 + epoch)  # dropout
        rng = np.random.default_rng([seed, epoch])
        order = rng.permutation(len(train))
        epoch_clips = dropout.apply(train, rng) if dropout else train
        model.train()
        losses = []
        for i in range(0, len(order), cfg["batch_size"]):
            x, mask, classes, valence = batch([epoch_clips[j] for j in order[i : i + cfg["batch_size"]]], device)
            loss = mstcn_loss(
                model(x, mask),
                mask,
                classes,
                valence,
                task=cfg["task"],
                smooth_weight=cfg["smooth_weight"],
                tau=cfg["tau"],
                regression_loss=cfg["regression_loss"],
                regression_weight=cfg["regression_weight"],
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        score = select_score(predict_frame(trained, select, device), cfg["select_metric"], trained.num_classes)
        return score, {"train_loss": float(np.mean(losses)), f"select_{cfg['select_metric']}": score}

    key = _fingerprint(cfg, fold, seed, scheme_name, edges, clips, roles)
    progress, best = train_epochs(
        model,
        {"model": model, "optimizer": optimizer},
        run_epoch,
        epochs=cfg["epochs"],
        patience=cfg["patience"],
        checkpoint=out_dir / "last.pt",
        key=key,
        history_path=out_dir / "history.csv",
        log=log,
    )
    model.load_state_dict(best)
    return trained, device, progress.best_epoch, progress.epoch
