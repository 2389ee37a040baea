"""Benchmark: seconds per MS-TCN training epoch with batch 1 (the reference) and the default batch.

Runs both, in this process, on one fold's cached demo features (the fold's train clips, features
standardised as the classifier stage does), with the MS-TCN settings of the schema's defaults
(and the keys of --config FILE over them).
Usage: python bench/mstcn.py [--features results/features/resattn/fold0.parquet]
                             [--folds results/index/folds.parquet] [--fold 0] [--epochs 3] [--config my.yaml]
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from quality import load_config  # bench/quality.py, beside this script

from sendflow.classifier.data import batch, feature_stats, load_clips, standardise_clips
from sendflow.folds import fold_roles
from sendflow.models.losses import mstcn_loss
from sendflow.models.registry import build, classifier_settings

LOSS_SETTINGS = ("task", "smooth_weight", "tau", "regression_loss", "regression_weight")


def epoch_seconds(clips, cfg, batch_size, epochs) -> float:
    torch.manual_seed(0)
    model = build(cfg, clips[0].x.shape[1], 3)
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    times = []
    for epoch in range(epochs):
        order = np.random.default_rng(epoch).permutation(len(clips))
        start = time.perf_counter()
        for i in range(0, len(order), batch_size):
            x, mask, classes, valence = batch([clips[j] for j in order[i : i + batch_size]])
            loss = mstcn_loss(model(x, mask), mask, classes, valence, **{k: cfg[k] for k in LOSS_SETTINGS})
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", default="results/features/resattn/fold0.parquet")
    parser.add_argument("--folds", default="results/index/folds.parquet")
    parser.add_argument("--config", type=Path, help="a YAML file of the keys to change from the schema's defaults")
    parser.add_argument("--fold", type=int, default=0, help="the fold the features belong to")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    config = load_config(args.config)["classifier"]
    features, folds = pd.read_parquet(args.features), pd.read_parquet(args.folds)
    roles = fold_roles(folds, args.fold, features)
    clips = {c: clip for c, clip in load_clips(features, [-0.15, 0.15]).items() if c in roles}
    train_ids = [c for c in clips if roles[c] == "train"]
    scaled = standardise_clips(clips, *feature_stats(clips, train_ids))
    train = [scaled[c] for c in train_ids]
    default = config["training"]["batch_size"]
    mstcn = classifier_settings(config, "mstcn")  # what the classifier job trains with
    one = epoch_seconds(train, mstcn, 1, args.epochs)
    many = epoch_seconds(train, mstcn, default, args.epochs)
    steps = sum(len(c.x) for c in train)
    print(
        f"MS-TCN {config['mstcn']['stages']}x{config['mstcn']['layers']}, {len(train)} train clips, "
        f"{steps} steps, D={train[0].x.shape[1]}, best of {args.epochs} epochs, {torch.get_num_threads()} threads"
    )
    print(f"batch 1          : {one:7.3f} s/epoch")
    print(f"batch {default:<11d}: {many:7.3f} s/epoch   ({one / many:.2f}x faster)")


if __name__ == "__main__":
    main()
