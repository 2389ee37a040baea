"""Train a frame extractor on a fold's `train` clips, selecting the epoch on its `select` clips.

The `test` role is never read here. The epoch loop is sendflow.training's: finished epochs
leave a resumable `last.pt` (weights, optimiser, scheduler, all random states, history), so a
killed run picks up where it stopped and, on CPU with the same seed, ends with bit-identical
weights.
"""

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader

from sendflow.atomic import file_sha256, write_json
from sendflow.checkpoints import save_torch
from sendflow.device import resolve_device
from sendflow.metrics import ccc_per_clip_mean, class_metrics
from sendflow.models.pretrained import initial_weights_sha256
from sendflow.models.resnet_attention import build_extractor
from sendflow.names import EXTRACTOR_RUNTIME
from sendflow.seeding import seed_everything
from sendflow.training import Progress, RandomStreams, fingerprint, train_epochs

from . import data
from .augment import MEAN, STD, augment
from .takeoff import baselines, takeoff_problems

HISTORY_COLUMNS = [
    "epoch",
    "train_loss",
    "train_acc",
    "select_loss",
    "select_acc",
    "select_f1",
    "select_ccc",
    "images_per_s",
    "best_epoch",
    "seconds",
]


def make_loaders(
    frame_files_by_role: dict, cfg: dict, edges: list[float], generator: torch.Generator
) -> tuple[DataLoader, DataLoader]:
    """Loaders over the `train` (augmented, sampled from `generator`) and `select` clips only."""
    train_files, select_files = list(frame_files_by_role["train"]), list(frame_files_by_role["select"])
    if set(map(str, train_files)) & set(map(str, select_files)):
        raise ValueError("a clip is listed as both train and select")
    train_ds = data.FrameDataset(train_files, edges)
    select_ds = data.FrameDataset(select_files, edges)
    for role, files, dataset in (("train", train_files, train_ds), ("select", select_files, select_ds)):
        if not len(dataset):
            names = ", ".join(Path(f).stem for f in files) or "none with video"
            raise ValueError(
                f"no rated frames among the {role} clips ({names}): no clip of that role has "
                "video frames with an observer rating within 0.75 s; check those clips' rating "
                "files and face_detection.tsv"
            )
    sampler = data.train_sampler(train_ds, cfg["balance"], len(edges) + 1, generator)
    common = dict(num_workers=cfg["num_workers"], pin_memory=torch.cuda.is_available())
    train = DataLoader(
        train_ds,
        batch_size=cfg["batch_size"],
        sampler=sampler,
        generator=generator,
        drop_last=len(train_ds) > cfg["batch_size"],  # a batch of 1 breaks BatchNorm
        **common,
    )
    select = DataLoader(select_ds, batch_size=2 * cfg["batch_size"], shuffle=False, **common)
    return train, select


def _loss(out: dict, y, v, criterion, regression_weight: float):
    loss = criterion(out["logits"].float(), y)
    if "valence" in out:
        loss = loss + regression_weight * nn.functional.mse_loss(out["valence"].float(), v)
    return loss


def _train_epoch(model, loader, criterion, optimiser, scaler, device, cfg) -> tuple[float, float, int]:
    model.train()
    total, correct, n = 0.0, 0, 0
    for x, y, v, _ in loader:
        x = augment(x.to(device, non_blocking=True))
        y, v = y.to(device), v.to(device).float()
        with torch.autocast(device.type, enabled=scaler.is_enabled()):
            out = model(x)
        loss = _loss(out, y, v, criterion, cfg["regression_weight"])
        optimiser.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimiser)
        scaler.update()
        total += loss.item() * len(y)
        correct += (out["logits"].argmax(1) == y).sum().item()
        n += len(y)
    return total / max(n, 1), correct / max(n, 1), n


@torch.no_grad()
def evaluate_on(model, loader, criterion, device, cfg, amp: bool = False) -> dict:
    """Loss, accuracy and macro-F1 over every frame of `loader`, and (with a regression head)
    SEND's CCC: per clip over its frames, then the mean over clips."""
    model.eval()
    total, preds, truth, vpred, vtrue, clips = 0.0, [], [], [], [], []
    for x, y, v, c in loader:
        x, y, v = data.normalise(x.to(device)), y.to(device), v.to(device).float()
        with torch.autocast(device.type, enabled=amp):
            out = model(x)
        total += _loss(out, y, v, criterion, cfg["regression_weight"]).item() * len(y)
        preds.append(out["logits"].argmax(1).cpu().numpy())
        truth.append(y.cpu().numpy())
        if "valence" in out:
            vpred.append(out["valence"].float().cpu().numpy())
            vtrue.append(v.cpu().numpy())
            clips.append(c.numpy())
    truth = np.concatenate(truth)
    scores = class_metrics(truth, np.concatenate(preds), int(out["logits"].shape[1]))
    valence_ccc = float("nan")
    if vpred:
        valence_ccc = ccc_per_clip_mean(
            pd.DataFrame(
                {
                    "clip_id": np.concatenate(clips),
                    "valence_true": np.concatenate(vtrue),
                    "valence_pred": np.concatenate(vpred),
                }
            )
        )
    return dict(loss=total / len(truth), acc=scores["accuracy"], f1=scores["macro_f1"], ccc=valence_ccc)


def lr_factor(epoch: int, warmup: int, epochs: int) -> float:
    """Linear warm-up over `warmup` epochs (from a tenth of the rate), then cosine to zero:
    a from-scratch network on a few thousand faces diverges less with a gentle start."""
    if epoch < warmup:
        return 0.1 + 0.9 * epoch / warmup
    # a plain float, not NumPy's: it lands in the optimiser's state, which checkpoints hold
    return float(0.5 * (1 + np.cos(np.pi * (epoch - warmup) / max(1, epochs - warmup))))


def _build(cfg: dict, edges, train_counts, device):
    """The model, loss, optimiser, learning-rate schedule and gradient scaler of a run."""
    model = build_extractor(
        cfg["kind"],
        cfg["depth"],
        len(edges) + 1,
        cfg["regression"],
        reduction=cfg["reduction"],
        weights=cfg["weights"],
        width=cfg["width"],
    ).to(device)
    class_weights = torch.tensor(data.inverse_frequency(train_counts), dtype=torch.float32, device=device)
    criterion = nn.CrossEntropyLoss(
        weight=class_weights if cfg["balance"] == "loss" else None, label_smoothing=cfg["label_smoothing"]
    )
    # fused: one kernel for all parameters instead of several per tensor (a fifth of a CPU step)
    optimiser = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"], fused=True)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda epoch: lr_factor(epoch, cfg["warmup_epochs"], cfg["epochs"])
    )
    scaler = torch.amp.GradScaler(device.type, enabled=device.type == "cuda")
    return model, criterion, optimiser, scheduler, scaler


def _majority(train_ds, select_ds, num_classes) -> tuple[int, dict]:
    """The training majority class, and what always predicting it scores on the select speakers."""
    majority = int(np.argmax(train_ds.class_counts(num_classes)))
    return majority, class_metrics(select_ds.classes, np.full_like(select_ds.classes, majority), num_classes)


def _summary(attempt: "Attempt", cfg, num_classes: int, device, model_path, given_up: list[dict]) -> dict:
    """What the chosen epoch scored on the select speakers, beside always predicting the
    training majority class, whether training took off (and the attempts given up before it),
    and what the extractor was trained on."""
    progress, train_ds, select_ds = attempt.progress, attempt.train_ds, attempt.select_ds
    row = progress.history[progress.best_epoch - 1]
    train_counts = train_ds.class_counts(num_classes)
    return dict(
        best_epoch=progress.best_epoch,
        epochs_run=progress.epoch,
        select_metric=cfg["select_metric"],
        took_off=not attempt.problems,
        takeoff_problems=attempt.problems,
        seed=attempt.seed,
        restarts=len(given_up),
        given_up=given_up,
        select={k: row[f"select_{k}"] for k in ("loss", "acc", "f1", "ccc")},
        majority_class=attempt.majority,
        majority_select_acc=attempt.always_majority["accuracy"],
        majority_select_f1=attempt.always_majority["macro_f1"],
        over_majority={
            "acc": row["select_acc"] - attempt.always_majority["accuracy"],
            "f1": row["select_f1"] - attempt.always_majority["macro_f1"],
        },
        train_class_counts=train_counts.tolist(),
        select_class_counts=select_ds.class_counts(num_classes).tolist(),
        train_clips=train_ds.clip_ids,
        select_clips=select_ds.clip_ids,
        device=str(device),
        model=attempt.model.config,
        initial_weights_sha256=initial_weights_sha256(cfg["weights"]),
        model_sha256=file_sha256(model_path),
    )


RESTART_SEED_STEP = 1000  # attempt k trains with seed + 1000 k, far from the repeats' seed + r
NOT_IN_KEY = (*EXTRACTOR_RUNTIME, "restarts")  # how many attempts a run may take changes no attempt


def checkpoint_key(cfg: dict, edges, seed: int, frame_files_by_role: dict[str, list[Path]]) -> str:
    """What a checkpoint was trained on: every setting but the runtime ones and `restarts` (epochs
    included: the learning-rate schedule follows it), the initial weights' content, labels, seed
    (an attempt's own), and the frame files' contents, not their names (new crops, e.g. another
    frames.margin, must not resume a run trained on the old ones)."""
    return fingerprint(
        settings={k: v for k, v in cfg.items() if k not in NOT_IN_KEY},
        initial_weights=initial_weights_sha256(cfg["weights"]),
        edges=list(map(float, edges)),
        seed=seed,
        files={r: [(Path(f).name, file_sha256(f)) for f in frame_files_by_role[r]] for r in ("train", "select")},
    )


def decision_epoch(cfg: dict) -> int | None:
    """The epoch at which a run that has not taken off is restarted: the warm-up plus
    `min_epochs`, the time a network at chance is given to take off (None when the run is
    shorter: it is judged only at its end)."""
    epoch = cfg["warmup_epochs"] + cfg["min_epochs"]
    return epoch if 1 <= epoch <= cfg["epochs"] else None


@dataclass
class Attempt:
    """One training of the extractor from one initialisation."""

    seed: int
    progress: Progress
    best: dict
    model: nn.Module
    train_ds: data.FrameDataset
    select_ds: data.FrameDataset
    majority: int
    always_majority: dict
    problems: list[str]
    gave_up: bool  # stopped at the decision epoch for a restart


def _attempt(
    frame_files_by_role, out_dir: Path, cfg: dict, edges, seed: int, may_restart: bool, device, log
) -> Attempt:
    """Train from a fresh initialisation drawn with `seed`, resuming this attempt's checkpoint if
    there is one; with `may_restart`, give up at the decision epoch if it has not taken off."""
    amp = device.type == "cuda"  # mixed precision only where it pays; CPU stays fp32 and exact
    seed_everything(seed)
    generator = torch.Generator().manual_seed(seed)
    num_classes = len(edges) + 1
    train_loader, select_loader = make_loaders(frame_files_by_role, cfg, edges, generator)
    train_ds, select_ds = train_loader.dataset, select_loader.dataset
    train_counts = train_ds.class_counts(num_classes)
    model, criterion, optimiser, scheduler, scaler = _build(cfg, edges, train_counts, device)
    majority, always_majority = _majority(train_ds, select_ds, num_classes)
    base = baselines(
        train_counts, cfg["balance"], {"acc": always_majority["accuracy"], "f1": always_majority["macro_f1"]}
    )
    log.info(
        "training %s-%d on %s (seed %d): %d train frames from %d clips (classes %s), %d select frames from %d clips",
        cfg["kind"],
        cfg["depth"],
        device,
        seed,
        len(train_ds),
        len(train_ds.clip_ids),
        train_counts.tolist(),
        len(select_ds),
        len(select_ds.clip_ids),
    )

    def run_epoch(epoch: int) -> tuple[float, dict]:
        start = time.perf_counter()
        train_loss, train_acc, n = _train_epoch(model, train_loader, criterion, optimiser, scaler, device, cfg)
        images_per_s = n / (time.perf_counter() - start)
        sel = evaluate_on(model, select_loader, criterion, device, cfg, amp)
        scheduler.step()
        row = dict(
            train_loss=train_loss,
            train_acc=train_acc,
            select_loss=sel["loss"],
            select_acc=sel["acc"],
            select_f1=sel["f1"],
            select_ccc=sel["ccc"],
            images_per_s=images_per_s,
        )
        return sel[cfg["select_metric"]], row

    def problems_of(progress) -> list[str]:
        return takeoff_problems(progress.history, cfg["select_metric"], base, cfg["takeoff_margin"])

    def warn_if_grounded(progress):
        problems = problems_of(progress) if progress.epoch == cfg["takeoff_epochs"] else []
        if problems:
            log.warning("after %d epochs the extractor has not taken off: %s", progress.epoch, "; ".join(problems))

    decide_at = decision_epoch(cfg)

    def give_up(progress) -> bool:
        return may_restart and decide_at is not None and progress.epoch >= decide_at and bool(problems_of(progress))

    stateful = dict(
        model=model, optimiser=optimiser, scheduler=scheduler, scaler=scaler, random=RandomStreams(generator)
    )
    progress, best = train_epochs(
        model,
        stateful,
        run_epoch,
        epochs=cfg["epochs"],
        patience=cfg["patience"],
        checkpoint=out_dir / "last.pt",
        key=checkpoint_key(cfg, edges, seed, frame_files_by_role),
        history_path=out_dir / "history.csv",
        log=log,
        min_epochs=cfg["warmup_epochs"] + cfg["min_epochs"],
        on_epoch=warn_if_grounded,
        stop_after=give_up,
    )
    return Attempt(
        seed,
        progress,
        best,
        model,
        train_ds,
        select_ds,
        majority,
        always_majority,
        problems_of(progress),
        give_up(progress),
    )


def _abandoned(attempt: Attempt, number: int) -> dict:
    """What summary.json keeps of an attempt given up for a restart."""
    best = attempt.progress.history[attempt.progress.best_epoch - 1]
    return dict(
        attempt=number,
        seed=attempt.seed,
        epochs_run=attempt.progress.epoch,
        best_epoch=attempt.progress.best_epoch,
        select={k: best[f"select_{k}"] for k in ("acc", "f1", "ccc")},
        why=attempt.problems,
    )


def train_extractor(
    frame_files_by_role: dict[str, list[Path]], out_dir: Path, cfg: dict, edges: list[float], seed: int, log=None
) -> dict:
    """Train on `train`, pick the best epoch on `select`; write model.pt and summary.json, and
    return the summary. `cfg`: `kind` and the EXTRACTOR_SETTINGS (sendflow/names.py).

    A run that has not taken off at the decision epoch (`decision_epoch`) starts again from a
    fresh initialisation (seed + 1000 per attempt), at most `restarts` times; only the last
    attempt may end without taking off, and summary.json says so. The attempts given up so far
    are kept in `restarts.json` beside the checkpoint, so a killed run resumes in the attempt it
    was in and ends as an uninterrupted one would."""
    log = log or logging.getLogger(__name__)
    if cfg["select_metric"] == "ccc" and not cfg["regression"]:
        raise ValueError(
            "extractor.select_metric ccc scores the valence head: set extractor.regression true, or select on f1 or acc"
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if "test" in frame_files_by_role:
        log.info("ignoring %d test clips: training never reads them", len(frame_files_by_role["test"]))
    device = resolve_device(cfg["device"])
    restarts_path, run_key = out_dir / "restarts.json", checkpoint_key(cfg, edges, seed, frame_files_by_role)
    given_up = []
    if restarts_path.exists():
        saved = json.loads(restarts_path.read_text())
        given_up = saved["attempts"][: cfg["restarts"]] if saved.get("key") == run_key else []
    for number in range(len(given_up), cfg["restarts"] + 1):
        attempt = _attempt(
            frame_files_by_role,
            out_dir,
            cfg,
            edges,
            seed + RESTART_SEED_STEP * number,
            number < cfg["restarts"],
            device,
            log,
        )
        if not attempt.gave_up:
            break
        given_up.append(_abandoned(attempt, number))
        write_json({"key": run_key, "attempts": given_up}, restarts_path)
        log.warning(
            "attempt %d has not taken off after %d epochs (%s): restarting from a fresh initialisation",
            number,
            attempt.progress.epoch,
            "; ".join(attempt.problems),
        )
    if attempt.problems:
        log.warning(
            "the extractor never took off (summary.json took_off: false) in %d attempts: %s",
            len(given_up) + 1,
            "; ".join(attempt.problems),
        )

    meta = dict(
        config=attempt.model.config,
        edges=list(map(float, edges)),
        mean=MEAN,
        std=STD,
        seed=attempt.seed,
        image_size=int(attempt.train_ds.frames[0].shape[1]),
    )
    save_torch(dict(meta, state_dict=attempt.best, epoch=attempt.progress.best_epoch), out_dir / "model.pt")
    summary = _summary(attempt, cfg, len(edges) + 1, device, out_dir / "model.pt", given_up)
    write_json(summary, out_dir / "summary.json")
    log.info(
        "best epoch %d: select acc %.3f F1 %.3f CCC %.3f (majority class: acc %.3f F1 %.3f)",
        summary["best_epoch"],
        summary["select"]["acc"],
        summary["select"]["f1"],
        summary["select"]["ccc"],
        summary["majority_select_acc"],
        summary["majority_select_f1"],
    )
    return summary
