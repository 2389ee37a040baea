"""Frames of per-clip `.npz` files as a torch Dataset of uint8 images, with class balancing.
Batches are normalised (and, in training, augmented) whole, by sendflow.extractor.augment."""

import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset, RandomSampler, Sampler, WeightedRandomSampler

from .augment import normalise

log = logging.getLogger(__name__)

BALANCE_MODES = ("sampler", "loss", "none")


def clips_for_role(folds_df: pd.DataFrame, fold: int, roles: str | Iterable[str]) -> list[str]:
    """clip_ids that have one of `roles` in `fold`, in table order."""
    roles = [roles] if isinstance(roles, str) else list(roles)
    rows = folds_df[(folds_df["fold"] == fold) & folds_df["role"].isin(roles)]
    return rows["clip_id"].astype(str).tolist()


def frame_files_for_fold(
    folds_df: pd.DataFrame, fold: int, frames: dict[str, Path], roles: Iterable[str] = ("train", "select")
) -> dict[str, list[Path]]:
    """`{role: [frame file, ...]}` for a fold, from `frames` (clip ID -> the frame file the frame
    check passed), skipping clips without one."""
    out = {}
    for role in roles:
        files = []
        for clip in clips_for_role(folds_df, fold, role):
            if clip in frames:
                files.append(Path(frames[clip]))
            else:
                log.info("fold %s: no usable frames for %s clip %s; skipped", fold, role, clip)
        out[role] = files
    return out


def preprocess(frames: np.ndarray) -> torch.Tensor:
    """uint8 RGB frames [T, S, S, 3] -> normalised float batch [T, 3, S, S] for inference."""
    return normalise(torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2))


class FrameDataset(Dataset):
    """Every rated frame of a list of clips: (uint8 image [3, S, S], class, valence, clip index).

    Each clip's arrays are read once and kept as uint8; frames without a rating (class -1)
    are left out. `clip_ids[clip_index]` names a sample's clip.
    """

    def __init__(self, files: Iterable[Path], edges: list[float]) -> None:
        from sendflow.labels import classify  # imported late: the label scheme module is optional here

        self.files = [Path(f) for f in files]
        self.clip_ids = [f.stem for f in self.files]
        self.frames, clip_idx, frame_idx, classes, valence = [], [], [], [], []
        for c, path in enumerate(self.files):
            with np.load(path) as z:
                frames, val = z["frames"], z["valence"].astype(np.float32)
            cls = classify(val, edges)
            keep = np.flatnonzero(cls >= 0)
            self.frames.append(frames)
            clip_idx.append(np.full(len(keep), c, np.int64))
            frame_idx.append(keep)
            classes.append(cls[keep])
            valence.append(val[keep])

        def cat(parts, dtype):
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

        self.clip_index = cat(clip_idx, np.int64)
        self.frame_index = cat(frame_idx, np.int64)
        self.classes = cat(classes, np.int64)
        self.valence = cat(valence, np.float32)

    def __len__(self) -> int:
        return len(self.classes)

    def __getitem__(self, i: int):
        c = self.clip_index[i]
        image = torch.from_numpy(self.frames[c][self.frame_index[i]]).permute(2, 0, 1)
        return image, int(self.classes[i]), float(self.valence[i]), int(c)

    def class_counts(self, num_classes: int) -> np.ndarray:
        return np.bincount(self.classes, minlength=num_classes)


def inverse_frequency(counts: np.ndarray) -> np.ndarray:
    """Per-class weights averaging 1 over the classes present; 0 for absent classes."""
    present = counts > 0
    weights = np.zeros(len(counts))
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights


def train_sampler(dataset: FrameDataset, balance: str, num_classes: int, generator: torch.Generator) -> Sampler:
    """Class-balanced draws (`sampler`) or a plain shuffle (`loss`, `none`), all from `generator`."""
    if balance not in BALANCE_MODES:
        raise ValueError(f"unknown balance mode {balance!r}; expected one of {BALANCE_MODES}")
    if balance == "sampler":
        per_class = inverse_frequency(dataset.class_counts(num_classes))
        return WeightedRandomSampler(
            torch.as_tensor(per_class[dataset.classes], dtype=torch.double),
            num_samples=len(dataset),
            replacement=True,
            generator=generator,
        )
    return RandomSampler(dataset, generator=generator)
