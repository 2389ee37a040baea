"""Feature cache: per-step pooling, the Parquet schema and its metadata, bounded streaming."""

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch

from sendflow.atomic import file_sha256
from sendflow.extractor.data import preprocess
from sendflow.features import cache_features
from sendflow.frames.files import skipped_clip, write_clip
from sendflow.models.resnet_attention import build_extractor, load_extractor
from sendflow.pooling import pool_steps


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    torch.manual_seed(0)
    model = build_extractor("resattn", 18, num_classes=3, regression=True, reduction=16)
    path = tmp_path_factory.mktemp("model") / "model.pt"
    torch.save(
        {
            "config": model.config,
            "state_dict": model.state_dict(),
            "edges": [-0.15, 0.15],
            "image_size": 32,
            "epoch": 1,
        },
        path,
    )
    return path


def fake_clip(path, n_frames, fps, seed):
    rng = np.random.default_rng(seed)
    times = np.arange(n_frames) / fps
    valence = np.linspace(-0.5, 0.5, n_frames).astype(np.float32)
    valence[1] = np.nan  # an unrated frame is left out of its step's mean
    write_clip(
        {
            "frames": rng.integers(0, 255, (n_frames, 32, 32, 3), dtype=np.uint8),
            "times": times,
            "steps": np.floor(times / 0.5 + 1e-3).astype(np.int32),
            "valence": valence,
            "boxes": np.zeros((n_frames, 3), np.float32),
            "frame_size": np.array([32, 32], np.int32),
            "detected": np.ones(n_frames, bool),
            "face_rate": np.float32(1),
            "skipped": np.bool_(False),
            "reason": np.str_(""),
        },
        path,
    )
    return path


def test_pool_steps_averages_frames_of_a_step():
    features = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], np.float32)
    pooled = pool_steps(features, np.array([0, 0, 2]), np.array([0.2, np.nan, -0.4]))
    assert pooled["step"].tolist() == [0, 2] and pooled["n_frames"].tolist() == [2, 1]
    np.testing.assert_allclose(pooled["feature"], [[2.0, 3.0], [5.0, 6.0]])
    np.testing.assert_allclose(pooled["valence"], [0.2, -0.4])


def test_cache_round_trips_with_metadata(tmp_path, model_path):
    clips = [
        ("111_1", 111, fake_clip(tmp_path / "111_1.npz", 9, 6, 1)),  # 6 fps: 3 per step
        ("112_1", 112, fake_clip(tmp_path / "112_1.npz", 4, 2, 2)),
    ]
    write_clip(skipped_clip("corrupt video", 32), tmp_path / "113_1.npz")
    clips.append(("113_1", 113, tmp_path / "113_1.npz"))
    out = tmp_path / "features" / "fold0.parquet"
    cache_features(model_path, clips, out, batch_size=4, device="cpu", extra_metadata={"sendflow.fold": 0})

    schema = pq.read_schema(out)
    meta = {k.decode(): v.decode() for k, v in schema.metadata.items()}
    assert meta["sendflow.extractor_sha256"] == file_sha256(model_path)
    assert meta["sendflow.feature_dim"] == "512" and meta["sendflow.fold"] == "0"
    feature_type = schema.field("feature").type
    assert feature_type.list_size == 512 and str(feature_type.value_type) == "float"

    table = pd.read_parquet(out)
    assert table["clip_id"].tolist() == ["111_1"] * 3 + ["112_1"] * 4  # skipped clip left out
    assert table["step"].tolist() == [0, 1, 2, 0, 1, 2, 3]
    np.testing.assert_allclose(table["t"], table["step"] * 0.5)
    assert table["n_frames"].tolist() == [3, 3, 3, 1, 1, 1, 1]

    model = load_extractor(model_path)
    frames = np.load(clips[0][2])["frames"]
    with torch.no_grad():
        direct = model.embed(preprocess(frames)).numpy()
    np.testing.assert_allclose(
        np.stack(table["feature"].iloc[:3]), direct.reshape(3, 3, -1).mean(1), rtol=1e-4, atol=1e-5
    )
    assert not list(out.parent.glob(".*tmp*"))  # the temporary file was renamed away
