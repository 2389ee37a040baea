"""Quality study: train the temporal models on a finished run's cached features under a small
grid of settings and print select-speaker and test CCC per fold.

Tune on the `select` column only: the test speakers are for the final table. Every setting
starts from the classifier section of the schema's defaults (with the keys of --config FILE
over them); a grid axis overrides one key. Runs in minutes on the demo's features.

Usage:
  python bench/quality.py [--extractor resattn] [--labels three] [--classifiers mstcn,framewise]
      [--set task=multitask,regression --set regression_loss=ccc,mse ...] [--jobs 2] [--config my.yaml]
Each --set KEY=V1,V2 adds a grid axis; the grid is their product (one row per setting, model).
"""

import argparse
import itertools
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
import torch
import yaml

from sendflow.classifier import train_and_predict
from sendflow.config import project_values, validated
from sendflow.models.registry import classifier_settings


def load_config(path: Path | None) -> dict:
    """The schema's defaults with the keys of the YAML file `path` (if given: only the keys it
    changes) merged over them and validated, as a run merges a --configfile."""
    return validated(project_values(path) if path else {})


def parse_value(text: str):
    value = yaml.safe_load(text)
    if isinstance(value, str):
        try:
            return float(text)  # YAML 1.1 reads 1e-3 as a string
        except ValueError:
            pass
    return value


def grid(axes: list[str]) -> list[dict]:
    keys, values = [], []
    for axis in axes:
        key, _, options = axis.partition("=")
        keys.append(key)
        values.append([parse_value(v) for v in options.split(",")])
    return [dict(zip(keys, combo)) for combo in itertools.product(*values)]


def run_one(job: dict) -> dict:
    torch.set_num_threads(1)
    features = pd.read_parquet(job["features"])
    folds = pd.read_parquet(job["folds"])
    with tempfile.TemporaryDirectory() as out_dir:
        _, metrics, _ = train_and_predict(
            features, folds, job["fold"], job["labels"], job["edges"], job["cfg"], job["seed"], out_dir
        )
    return {
        **job["row"],
        "fold": job["fold"],
        "select": metrics["select_score"],
        "test": metrics["ccc"],
        "test_acc": metrics["accuracy"],
        "epochs": metrics["best_epoch"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="a YAML file of the keys to change from the schema's defaults")
    parser.add_argument("--extractor", default="resattn")
    parser.add_argument(
        "--features",
        default="results/features/{extractor}/fold{fold}.parquet",
        help="feature cache per fold ({extractor} and {fold} are filled in)",
    )
    parser.add_argument("--folds", default="results/index/folds.parquet")
    parser.add_argument("--labels", default="three")
    parser.add_argument("--classifiers", default="mstcn")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=V1,V2",
        help="a grid axis over one classifier setting (repeatable)",
    )
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()

    config = load_config(args.config)
    folds_path = Path(args.folds)
    fold_ids = sorted(int(f) for f in pd.read_parquet(folds_path)["fold"].unique())
    edges = config["labels"]["schemes"][args.labels]["edges"]
    section = config["classifier"]
    jobs = []
    for setting in grid(args.set):
        for name in args.classifiers.split(","):
            cfg = {**classifier_settings(section, name), "device": "cpu", **setting}
            for fold in fold_ids:
                features = args.features.format(extractor=args.extractor, fold=fold)
                jobs.append(
                    dict(
                        features=features,
                        folds=str(folds_path),
                        fold=int(fold),
                        labels=args.labels,
                        edges=edges,
                        cfg=cfg,
                        seed=config["seed"],
                        row={"classifier": name, **{k: str(v) for k, v in setting.items()}},
                    )
                )
    print(f"{len(jobs)} trainings ({args.extractor} features, labels {args.labels}, folds {fold_ids})", flush=True)
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(run_one, jobs))
    table = pd.DataFrame(rows)
    keys = [c for c in table.columns if c not in ("fold", "select", "test", "test_acc", "epochs")]
    wide = table.pivot_table(index=keys, columns="fold", values=["select", "test"], aggfunc="first")
    wide.columns = [f"{metric}{fold}" for metric, fold in wide.columns]
    summary = table.groupby(keys, sort=False).agg(
        select=("select", "mean"), test=("test", "mean"), test_min=("test", "min"), test_acc=("test_acc", "mean")
    )
    out = summary.join(wide).sort_values("select", ascending=False)
    with pd.option_context("display.width", 200, "display.max_columns", 50, "display.float_format", "{:.3f}".format):
        print("sorted by mean select CCC (choose on this column; test columns are for the final report)")
        print(out.to_string())


if __name__ == "__main__":
    main()
