"""Feature cache: embed every frame of a fold's clips with that fold's extractor, pool per
0.5 s rating step, and stream the rows into one Parquet file.

Clips are embedded one at a time in batches, so memory is bounded by the longest clip, never
by the dataset. The Parquet schema metadata records which checkpoint made the features.
"""

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import torch

from .atomic import atomic_path, file_sha256
from .device import resolve_device
from .extractor.data import preprocess
from .feature_table import WRITE_OPTIONS, feature_batch, feature_schema
from .frames.files import EMBEDDED_KEYS, load_clip
from .models.resnet_attention import load_extractor
from .pooling import pool_steps
from .ratings import RATING_STEP_S

log = logging.getLogger(__name__)


@torch.inference_mode()
def embed_frames(model, frames: np.ndarray, batch_size: int, device: torch.device) -> np.ndarray:
    """Penultimate-layer features [T, D] of uint8 RGB frames [T, S, S, 3]."""
    amp = device.type == "cuda"
    out = []
    for start in range(0, len(frames), batch_size):
        batch = preprocess(frames[start : start + batch_size]).to(device, non_blocking=True)
        with torch.autocast(device.type, enabled=amp):
            out.append(model.embed(batch).float().cpu())
    return torch.cat(out).numpy()


def cache_features(
    model_path,
    clips: list[tuple[str, int, Path]],
    out_path,
    batch_size: int,
    device: str,
    extra_metadata: dict | None = None,
) -> dict:
    """Embed `clips` ((clip_id, speaker, frames .npz) each) and write `out_path` atomically."""
    device = resolve_device(device)
    model = load_extractor(model_path, device)
    metadata = {
        "sendflow.extractor_sha256": file_sha256(model_path),
        "sendflow.feature_dim": model.feature_dim,
        "sendflow.extractor": model.config.get("kind", ""),
        **(extra_metadata or {}),
    }
    schema = feature_schema(model.feature_dim, metadata)
    n_frames, started = 0, time.perf_counter()
    with atomic_path(out_path) as tmp, pq.ParquetWriter(tmp, schema, **WRITE_OPTIONS) as writer:
        for i, (clip_id, speaker, npz) in enumerate(clips, 1):
            arrays = load_clip(npz, EMBEDDED_KEYS)
            if arrays["skipped"] or len(arrays["frames"]) == 0:
                log.info("clip %s has no frames (%s); not in the cache", clip_id, arrays["reason"])
                continue
            pooled = pool_steps(
                embed_frames(model, arrays["frames"], batch_size, device), arrays["steps"], arrays["valence"]
            )
            n = len(pooled["step"])
            steps = pd.DataFrame(
                {
                    "clip_id": clip_id,
                    "speaker": speaker,
                    "step": pooled["step"],
                    "t": pooled["step"] * RATING_STEP_S,
                    "n_frames": pooled["n_frames"],
                    "valence": pooled["valence"],
                }
            )
            writer.write_table(feature_batch(schema, steps, pooled["feature"]))
            n_frames += len(arrays["frames"])
            elapsed = time.perf_counter() - started
            log.info(
                "[%d/%d] %s: %d frames -> %d steps (%.0f frames/s so far)",
                i,
                len(clips),
                clip_id,
                len(arrays["frames"]),
                n,
                n_frames / max(elapsed, 1e-9),
            )
    return {"frames": n_frames, "seconds": time.perf_counter() - started, **metadata}
