"""The training loop the frame extractor and the temporal models share: epochs, the best epoch
chosen on the select speakers, early stopping, a history, and checkpoints: after the first and
the last epoch, and between them after each epoch that ends CHECKPOINT_EVERY_S or more after
the previous checkpoint (a temporal model's epoch takes a tenth of a second on the demo, about
what its checkpoint took).

The checkpoint (`last.pt`) holds the loop's progress, the best epoch's weights and the state of
every stateful object (model, optimiser, scheduler, random streams), keyed by a fingerprint of
what training depends on: a rerun with the same fingerprint resumes after the last finished
epoch, another fingerprint starts afresh, and so does a checkpoint past a lowered epoch limit
(the limit is left out of a temporal model's fingerprint so that a killed run may be resumed
with a higher one; a lower one must give what a fresh run with it gives). Once training has finished, it shrinks to the
progress and the best weights and stays: a job that finished while no Snakemake was watching
(its run was killed) is rerun, and then writes its outputs from it without training again. It
holds tensors and plain values only, so it loads with `torch.load(..., weights_only=True)`:
reading it never runs pickled code.
"""

import hashlib
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .atomic import write_csv
from .checkpoints import load_torch, save_torch

CHECKPOINT_EVERY_S = 10.0  # an interrupted job loses at most this much training, plus one epoch


@dataclass
class Progress:
    epoch: int = 0  # last finished epoch
    best_epoch: int = 0
    best_score: float = float("-inf")
    stopped_early: bool = False
    history: list[dict] = field(default_factory=list)


def fingerprint(**parts) -> str:
    """A digest of what a checkpoint depends on (settings, seed, data)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


class RandomStreams:
    """The torch, NumPy and Python random states and a sampler's generator, as tensors and
    plain values, so a resumed run draws exactly what an uninterrupted one would."""

    def __init__(self, generator: torch.Generator) -> None:
        self.generator = generator

    def state_dict(self) -> dict:
        _, keys, pos, has_gauss, cached = np.random.get_state()
        version, internal, gauss = random.getstate()
        state = {
            "torch": torch.get_rng_state(),
            "sampler": self.generator.get_state(),
            "numpy": torch.from_numpy(keys.astype(np.int64)),
            "numpy_rest": [int(pos), int(has_gauss), float(cached)],
            "python": [version, list(internal), gauss],
        }
        if torch.cuda.is_available():
            state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    def load_state_dict(self, state: dict) -> None:
        torch.set_rng_state(state["torch"])
        self.generator.set_state(state["sampler"])
        np.random.set_state(("MT19937", state["numpy"].numpy().astype(np.uint32), *state["numpy_rest"]))
        version, internal, gauss = state["python"]
        random.setstate((version, tuple(internal), gauss))
        if "cuda" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda"])


def train_epochs(
    model: torch.nn.Module,
    stateful: dict,
    run_epoch: Callable[[int], tuple[float, dict]],
    *,
    epochs: int,
    patience: int,
    checkpoint: Path,
    key: str,
    history_path: Path,
    log: logging.Logger,
    min_epochs: int = 0,
    on_epoch: Callable[[Progress], None] | None = None,
    stop_after: Callable[[Progress], bool] | None = None,
) -> tuple[Progress, dict]:
    """Run `run_epoch(epoch)` -> (select score, history row) for epochs 1..`epochs`, keeping the
    best-scoring epoch's weights of `model`; stop early after `patience` epochs without a
    better score (0: never), but never before epoch `min_epochs`: a network that has not yet
    taken off gets that long to do so. `on_epoch(progress)` runs after each epoch. `stateful`
    (name -> object with state_dict/load_state_dict, the model included) is saved in
    `checkpoint` with `key` (see the module doc for when) and restored from it when the key
    matches. `stop_after(progress)` is asked after each epoch and on resumption: True ends
    training there, with a checkpoint that can still continue (e.g. a run given up for a
    restart, which a later call without `stop_after` may train on). Returns the progress and
    the best epoch's weights."""
    progress, best = Progress(), None
    if checkpoint.exists():
        saved = load_torch(checkpoint)
        done = Progress(**saved["progress"]) if saved.get("fingerprint") == key else None
        if done and done.epoch > epochs:
            # a run with a higher epoch limit got past this one: its best epoch may lie beyond
            # the limit, and the weights of the earlier epochs are gone
            log.warning(
                "ignoring %s: it trained %d epochs, past the limit of %d; starting afresh",
                checkpoint,
                done.epoch,
                epochs,
            )
        elif done and "states" not in saved and done.epoch < epochs and not done.stopped_early:
            log.warning(
                "ignoring %s: training finished after epoch %d without the state to continue to "
                "epoch %d; starting afresh",
                checkpoint,
                done.epoch,
                epochs,
            )
        elif done:
            for name, obj in stateful.items() if "states" in saved else ():
                obj.load_state_dict(saved["states"][name])
            progress, best = done, saved["best"]
            log.info(
                "resuming from %s after epoch %d (best so far: epoch %d)%s",
                checkpoint,
                progress.epoch,
                progress.best_epoch,
                "" if "states" in saved else ": training had finished",
            )
        else:
            log.warning("ignoring %s: it was written for other data, settings or seed; starting afresh", checkpoint)

    stop = stop_after or (lambda progress: False)
    saved_at = None
    while progress.epoch < epochs and not progress.stopped_early and not stop(progress):
        epoch, started = progress.epoch + 1, time.perf_counter()
        score, row = run_epoch(epoch)
        row = {k: float(v) for k, v in row.items()}  # plain numbers: the checkpoint stays weights_only
        improved = best is None or score > progress.best_score
        if improved:
            progress.best_epoch, progress.best_score = epoch, float(score)
            best = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        progress.epoch = epoch
        progress.stopped_early = bool(patience) and epoch >= min_epochs and epoch - progress.best_epoch >= patience
        progress.history.append(
            {
                "epoch": epoch,
                **row,
                "best_epoch": progress.best_epoch,
                "seconds": round(time.perf_counter() - started, 3),
            }
        )
        finished = progress.epoch == epochs or progress.stopped_early
        halted = stop(progress)
        if saved_at is None or finished or halted or time.perf_counter() - saved_at >= CHECKPOINT_EVERY_S:
            # finished: the progress and best weights only (no optimiser), kept after the job
            states = {} if finished else {"states": {name: obj.state_dict() for name, obj in stateful.items()}}
            save_torch({"fingerprint": key, "progress": asdict(progress), "best": best, **states}, checkpoint)
            write_csv(pd.DataFrame(progress.history), history_path)
            saved_at = time.perf_counter()
        log.info(
            "epoch %d/%d: %s%s",
            epoch,
            epochs,
            ", ".join(f"{k} {v:.4g}" for k, v in row.items()),
            " *best*" if improved else "",
        )
        if on_epoch:
            on_epoch(progress)
        if progress.stopped_early:
            log.info("early stop: no better select score for %d epochs", patience)
    if not history_path.exists():  # resumed after the last epoch: Snakemake removed the old one
        write_csv(pd.DataFrame(progress.history), history_path)
    return progress, best
