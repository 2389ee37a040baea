"""Benchmark: the project's extractor training epoch against a bare PyTorch loop of the same model.

In one process, same model, batch size, crop size and thread count:
  bare:    forward + loss + backward + AdamW step on random tensors already in memory; no data
           loading, no augmentation, no evaluation
  project: sendflow.extractor.train's epoch on frame files (random crops): class-balanced
           sampling, batched augmentation, the same steps, then the select-set evaluation
Prints training images/s of both, the ratio project/bare (goal >= 0.9), and where the project's
time goes (data path, select evaluation). Usage:
  python bench/extractor.py [--depth D] [--width W] [--size 48] [--batch B] [--frames 2000] [--threads T]
                            [--kind resattn]      (D, W, B, T: the configured defaults)
"""

import argparse
import tempfile
import time
from pathlib import Path

import torch
from features import write_fake_clips  # bench/features.py: synthetic frame files
from torch import nn

from sendflow.config import schema_defaults
from sendflow.device import resolve_device
from sendflow.extractor.augment import augment
from sendflow.extractor.train import _build, _train_epoch, evaluate_on, make_loaders

EDGES = [-0.15, 0.15]
EXTRACTOR = schema_defaults()["extractor"]


def settings(args) -> dict:
    """The configured extractor settings (the schema's defaults), with the model and batch given."""
    return {
        **EXTRACTOR,
        "kind": args.kind,
        "depth": args.depth,
        "width": args.width,
        "batch_size": args.batch,
        "num_workers": 0,
    }


def bare_epoch(model, n_images, batch, size, device) -> float:
    """Seconds for the training steps alone, on random tensors."""
    x = torch.randn(batch, 3, size, size, device=device)
    y = torch.randint(0, 3, (batch,), device=device)
    v = torch.rand(batch, device=device) * 2 - 1
    criterion = nn.CrossEntropyLoss()
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-3, fused=True)
    model.train()
    start = time.perf_counter()
    for _ in range(n_images // batch):
        out = model(x)
        loss = criterion(out["logits"], y) + 0.5 * nn.functional.mse_loss(out["valence"], v)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=EXTRACTOR["depth"])
    parser.add_argument("--width", type=int, default=EXTRACTOR["width"])
    parser.add_argument("--size", type=int, default=48)
    parser.add_argument("--batch", type=int, default=EXTRACTOR["batch_size"])
    parser.add_argument("--frames", type=int, default=2000, help="training frames (select: a quarter)")
    parser.add_argument("--threads", type=int, default=EXTRACTOR["threads"])
    parser.add_argument("--kind", default="resattn")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    cfg = settings(args)

    with tempfile.TemporaryDirectory() as tmp:
        per_clip = 100
        paths = write_fake_clips(Path(tmp), (args.frames + args.frames // 4) // per_clip, per_clip, args.size)
        n_train = args.frames // per_clip
        files = {"train": paths[:n_train], "select": paths[n_train:]}
        train_loader, select_loader = make_loaders(files, cfg, EDGES, torch.Generator().manual_seed(0))
        counts = train_loader.dataset.class_counts(3)
        model, criterion, optimiser, _, scaler = _build(cfg, EDGES, counts, device)
        bare_epoch(model, 4 * args.batch, args.batch, args.size, device)  # warm-up

        n = len(train_loader) * args.batch
        bare_s = bare_epoch(model, n, args.batch, args.size, device)
        start = time.perf_counter()
        _, _, trained = _train_epoch(model, train_loader, criterion, optimiser, scaler, device, cfg)
        train_s = time.perf_counter() - start
        start = time.perf_counter()
        for x, *_ in train_loader:  # the data path alone: sampling, batching, augmentation
            augment(x.to(device))
        data_s = time.perf_counter() - start
        start = time.perf_counter()
        evaluate_on(model, select_loader, criterion, device, cfg)
        select_s = time.perf_counter() - start

    print(
        f"{args.kind}-{args.depth} width {args.width} at {args.size} px on {device}, batch {args.batch}, "
        f"{args.threads} threads, {trained} training images, {len(select_loader.dataset)} select images"
    )
    print(f"bare training loop   : {n / bare_s:8.1f} images/s")
    print(f"project, train steps : {trained / train_s:8.1f} images/s")
    print(f"project, whole epoch : {trained / (train_s + select_s):8.1f} images/s (with select evaluation)")
    print(
        f"ratio project/bare   : {bare_s / train_s * trained / n:8.2f} train steps, "
        f"{bare_s / (train_s + select_s) * trained / n:.2f} whole epoch  (goal >= 0.9)"
    )
    print(
        f"data path alone      : {data_s:8.2f} s of the epoch's {train_s:.2f} s "
        f"({100 * data_s / train_s:.0f}%); select evaluation {select_s:.2f} s"
    )


if __name__ == "__main__":
    main()
