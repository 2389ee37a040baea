"""Benchmark: the feature job against a bare forward pass of the same model, and training speed.

In one process, on synthetic frame files (random crops, so only speed is measured):
  baseline: model.embed() on the job's own input tensors, preprocessed beforehand and held in
            memory, in the job's batches (each clip's frames, `--batch` at a time), nothing else
  job:      sendflow.features.cache_features (load .npz, preprocess, embed, pool, write Parquet)
Both see the same tensors in the same batch shapes: the model's speed depends on the memory
format (preprocess gives channels-last, 30% faster than a contiguous torch.randn batch) and the
job never pads a clip's last batch. Prints frames/s of both (best of --repeats, interleaved) and
the ratio job/bare (bar >= 0.85, goal >= 0.95), then the training images/s of one epoch of
sendflow.extractor.train.
Usage: python bench/features.py [--depth D] [--width W] [--size 48] [--clips 12] [--frames 120]
                                [--batch 128] [--kind resattn] [--repeats 3] [--threads T]
                                (D, W: the configured extractor; T: torch's default)
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from sendflow.config import schema_defaults
from sendflow.device import resolve_device
from sendflow.extractor.data import preprocess
from sendflow.extractor.train import train_extractor
from sendflow.features import cache_features
from sendflow.frames.files import load_clip, write_clip
from sendflow.models.resnet_attention import build_extractor, load_extractor


def write_fake_clips(folder: Path, clips: int, frames: int, size: int) -> list[Path]:
    rng = np.random.default_rng(0)
    paths = []
    for i in range(clips):
        times = np.arange(frames) * 0.5
        path = folder / f"{100 + i}_1.npz"
        write_clip(
            {
                "frames": rng.integers(0, 255, (frames, size, size, 3), dtype=np.uint8),
                "times": times,
                "steps": np.arange(frames, dtype=np.int32),
                "valence": rng.uniform(-1, 1, frames).astype(np.float32),
                "boxes": np.zeros((frames, 3), np.float32),
                "frame_size": np.array([size, size]),
                "detected": np.ones(frames, bool),
                "face_rate": np.float32(1),
                "skipped": np.bool_(False),
                "reason": np.str_(""),
            },
            path,
        )
        paths.append(path)
    return paths


def job_batches(paths: list[Path], batch: int, device) -> list[torch.Tensor]:
    """The input tensors the job embeds, split as sendflow.features.embed_frames splits them."""
    batches = []
    for path in paths:
        frames = load_clip(path, ["frames"])["frames"]
        batches += [preprocess(frames[i : i + batch]).to(device) for i in range(0, len(frames), batch)]
    return batches


@torch.inference_mode()
def bare_forward(model, batches: list[torch.Tensor], device) -> float:
    amp = device.type == "cuda"
    start = time.perf_counter()
    for x in batches:
        with torch.autocast(device.type, enabled=amp):
            model.embed(x).float().cpu()
    return time.perf_counter() - start


def best_of(repeats: int, *runs):
    """Each of `runs` (functions returning seconds) `repeats` times, interleaved; the minima."""
    times = [[run() for run in runs] for _ in range(repeats)]
    return [min(column) for column in zip(*times)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=48)
    parser.add_argument("--clips", type=int, default=12)
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--kind", default="resattn")
    parser.add_argument("--depth", type=int, default=schema_defaults()["extractor"]["depth"])
    parser.add_argument("--width", type=int, default=schema_defaults()["extractor"]["width"])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    device = resolve_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths = write_fake_clips(tmp, args.clips, args.frames, args.size)
        model = build_extractor(
            args.kind,
            args.depth,
            num_classes=3,
            regression=True,
            width=args.width,
            reduction=schema_defaults()["extractor"]["reduction"],
        )
        model_path = tmp / "model.pt"
        torch.save({"config": model.config, "state_dict": model.state_dict(), "image_size": args.size}, model_path)
        model = load_extractor(model_path, device)
        n = args.clips * args.frames
        batches = job_batches(paths, args.batch, device)
        bare_forward(model, batches[:1], device)  # warm-up
        clips = [(p.stem, 100 + i, p) for i, p in enumerate(paths)]

        def job() -> float:
            start = time.perf_counter()
            cache_features(model_path, clips, tmp / "features.parquet", args.batch, str(device))
            return time.perf_counter() - start

        bare_s, job_s = best_of(args.repeats, lambda: bare_forward(model, batches, device), job)

        print(
            f"{args.kind}-{args.depth} width {args.width} at {args.size} px on {device}, batch {args.batch}, "
            f"{n} frames in {len(batches)} batches of {', '.join(sorted({str(len(b)) for b in batches}))}, "
            f"{torch.get_num_threads()} threads, best of {args.repeats}"
        )
        print(f"bare forward pass : {n / bare_s:8.1f} frames/s")
        print(f"feature job       : {n / job_s:8.1f} frames/s")
        print(f"ratio job/bare    : {bare_s / job_s:8.2f}  (bar >= 0.85, goal >= 0.95)")

        files = {"train": paths[: args.clips // 2], "select": paths[args.clips // 2 :]}
        cfg = {
            **schema_defaults()["extractor"],
            "kind": args.kind,
            "epochs": 1,
            "batch_size": 32,
            "device": str(device),
        }
        train_extractor(files, tmp / "train", cfg, [-0.15, 0.15], seed=0)
        history = pd.read_csv(tmp / "train" / "history.csv")
        print(
            f"training          : {history['images_per_s'].iloc[0]:8.1f} images/s "
            f"(batch 32, augmentation, forward + backward)"
        )


if __name__ == "__main__":
    main()
