"""Cached features -> per-clip arrays, fold roles with leak checks, standardisation, batches."""

import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..errors import SendDataError
from ..feature_table import Block
from ..labels import classify
from ..sources.standardise import train_statistics

FEATURE_COLUMNS = ("clip_id", "speaker", "step", "t", "n_frames", "valence", "feature")


@dataclass
class Clip:
    clip_id: str
    speaker: int
    step: np.ndarray  # [T] int
    t: np.ndarray  # [T] float seconds
    x: np.ndarray  # [T, D] float32
    valence: np.ndarray  # [T] float32, NaN = unrated
    label: np.ndarray  # [T] int64, -1 = unrated


def read_features(path, extractor: str | None = None) -> pd.DataFrame:
    """A feature cache, refused with an error naming the file unless its schema and metadata say
    sendflow's feature stage wrote it (with the `extractor` kind, when given)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowInvalid) as err:
        raise SendDataError(path, f"not a readable Parquet file ({err})") from None
    missing = [c for c in FEATURE_COLUMNS if c not in schema.names]
    if missing:
        raise SendDataError(path, f"not a sendflow feature cache: missing column(s) {missing}")
    meta = {k.decode(): v.decode() for k, v in (schema.metadata or {}).items()}
    if "sendflow.extractor_sha256" not in meta:
        raise SendDataError(path, "no sendflow.extractor_sha256 metadata: not written by sendflow's feature stage")
    if extractor is not None and meta.get("sendflow.extractor") != extractor:
        raise SendDataError(path, f"features of extractor {meta.get('sendflow.extractor')!r}, expected {extractor!r}")
    return pd.read_parquet(path)


def load_clips(features: pd.DataFrame, edges) -> dict[str, Clip]:
    """One Clip per clip_id, steps in order."""
    df = features.astype({"clip_id": str}).sort_values(["clip_id", "step"], kind="stable")
    x = np.stack(df["feature"].to_numpy()).astype(np.float32)
    valence = df["valence"].to_numpy(np.float32)
    label = classify(valence, edges).astype(np.int64)
    clips, ids = {}, df["clip_id"].to_numpy()
    bounds = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1], True])
    for a, b in zip(bounds[:-1], bounds[1:]):
        part = df.iloc[a:b]
        clips[ids[a]] = Clip(
            ids[a],
            int(part["speaker"].iloc[0]),
            part["step"].to_numpy(),
            part["t"].to_numpy(float),
            x[a:b],
            valence[a:b],
            label[a:b],
        )
    return clips


def feature_stats(clips: dict[str, Clip], train_ids) -> tuple[np.ndarray, np.ndarray]:
    """The training clips' feature mean and standard deviation per column, by the one NaN rule
    of sendflow.sources.standardise (over the steps that have the value)."""
    mean, std = train_statistics(np.concatenate([clips[c].x for c in train_ids]))
    return mean.astype(np.float32), std.astype(np.float32)


def standardise_clips(clips: dict[str, Clip], mean: np.ndarray, std: np.ndarray) -> dict[str, Clip]:
    """(x - mean) / std; a missing value (NaN) becomes 0, the training mean."""
    return {c: replace(clip, x=np.nan_to_num((clip.x - mean) / std)) for c, clip in clips.items()}


def speaker_means(clips: dict[str, Clip]) -> dict[int, np.ndarray]:
    """Each speaker's mean feature over all of their clips' steps that have it (0 where none)."""
    by_speaker: dict[int, list[np.ndarray]] = {}
    for clip in clips.values():
        by_speaker.setdefault(clip.speaker, []).append(clip.x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return {s: np.nan_to_num(np.nanmean(np.concatenate(xs), axis=0)) for s, xs in by_speaker.items()}


def centre_per_speaker(clips: dict[str, Clip], means: dict[int, np.ndarray]) -> dict[str, Clip]:
    """Subtract each speaker's mean feature (`speaker_means`: features only, never ratings, so
    it is as legitimate on test speakers as on training ones). What stays is how a face differs
    from that person's usual look: identity, hair, glasses and background, which a few training
    speakers cannot teach a model to ignore, drop out; clip-to-clip differences within a speaker
    remain."""
    return {c: replace(clip, x=clip.x - means[clip.speaker]) for c, clip in clips.items()}


def missing_members_as_nan(clips: dict[str, Clip], blocks: list[Block]) -> dict[str, Clip]:
    """A fused table's masked members (their columns, mask included) as NaN on the steps whose
    mask is 0, so that speaker means and training statistics come from the steps that have
    the member only, and standardisation then makes those steps 0."""
    masked = [b for b in blocks if b.masked]
    if not masked:
        return clips
    out = {}
    for c, clip in clips.items():
        x = clip.x.copy()
        for b in masked:
            x[x[:, b.stop - 1] == 0, b.start : b.stop] = np.nan
        out[c] = replace(clip, x=x)
    return out


@dataclass(frozen=True)
class ModalityDropout:
    """Training clips of a fused table whose member (`parts`: the [start, stop) columns of each
    member that is dropped, with its rate) is set, at that rate per clip and epoch, to 0: what a
    step without the member looks like to the model, so that the model also learns to predict
    without it."""

    parts: tuple[tuple[int, int, float], ...]

    def apply(self, clips: list[Clip], rng: np.random.Generator) -> list[Clip]:
        for start, stop, rate in self.parts:
            dropped = rng.random(len(clips)) < rate
            clips = [_blanked(c, start, stop) if drop else c for c, drop in zip(clips, dropped)]
        return clips


def _blanked(clip: Clip, start: int, stop: int) -> Clip:
    x = clip.x.copy()
    x[:, start:stop] = 0
    return replace(clip, x=x)


def pad(features: list[np.ndarray], device="cpu"):
    """Sequences [T_i, D] as padded tensors: x [B, D, T] and mask [B, 1, T] (1 = real step)."""
    import torch  # here, not above: the per-step baselines' jobs never load torch

    T, D = max(len(f) for f in features), features[0].shape[1]
    x = np.zeros((len(features), D, T), np.float32)
    mask = np.zeros((len(features), 1, T), np.float32)
    for i, f in enumerate(features):
        x[i, :, : len(f)], mask[i, :, : len(f)] = f.T, 1
    return torch.from_numpy(x).to(device), torch.from_numpy(mask).to(device)


def batch(clips: list[Clip], device="cpu"):
    """Padded tensors: x [B, D, T], mask [B, 1, T], classes long [B, T] (-1 = unrated or
    padding) and valence float [B, T] (NaN = unrated or padding)."""
    import torch

    x, mask = pad([c.x for c in clips], device)
    T = x.shape[2]
    classes = np.full((len(clips), T), -1, np.int64)
    valence = np.full((len(clips), T), np.nan, np.float32)
    for i, c in enumerate(clips):
        classes[i, : len(c.x)], valence[i, : len(c.x)] = c.label, c.valence
    return x, mask, torch.from_numpy(classes).to(device), torch.from_numpy(valence).to(device)
