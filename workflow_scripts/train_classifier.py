"""Rules `classifier` and `per_step_classifier`: one temporal model (or baseline) per
(extractor, classifier, labels, fold), trained once per repeat with that repeat's features and
seed -> predictions.parquet (test clips), metrics.json, and the trained model (model.pt for torch
models, model.npz for the per-step baselines, whose jobs never import torch)."""

from pathlib import Path

import _workflow  # noqa: F401  (this workflow's sendflow first)
import pandas as pd
import pyarrow.parquet as pq

from sendflow.atomic import file_sha256, write_json, write_parquet
from sendflow.classifier import train_and_predict
from sendflow.classifier.data import read_features
from sendflow.feature_table import MEMBERS_KEY, blocks_from_json
from sendflow.logs import setup
from sendflow.models.registry import temporal_model

log = setup(snakemake.log[0])
if temporal_model(snakemake.wildcards.classifier).torch:
    import torch

    torch.set_num_threads(snakemake.threads)
fold = int(snakemake.wildcards.fold)
scheme = snakemake.params.scheme
folds = pd.read_parquet(snakemake.input.folds)
roles = folds[folds["fold"] == fold].groupby("role")["clip_id"].apply(sorted).to_dict()
out = snakemake.output
for repeat, (features_path, seed, predictions_path, metrics_path, model_path) in enumerate(
    zip(snakemake.input.features, snakemake.params.seeds, out.predictions, out.metrics, out.model)
):
    log.info(
        "%s on %s features, labels %s, fold %d, repeat %d (seed %d)",
        snakemake.wildcards.classifier,
        snakemake.wildcards.extractor,
        snakemake.wildcards.labels,
        fold,
        repeat,
        seed,
    )
    feature_meta = pq.read_schema(features_path).metadata
    predictions, metrics, trained = train_and_predict(
        read_features(features_path, snakemake.wildcards.extractor),
        folds,
        fold,
        snakemake.wildcards.labels,
        scheme["edges"],
        snakemake.params.classifier,
        seed,
        Path(predictions_path).parent,
        log,
        blocks=blocks_from_json(feature_meta.get(MEMBERS_KEY.encode())),
    )
    metrics["extractor"] = snakemake.wildcards.extractor
    metrics["feature_dim"] = len(trained.mean)  # so that model_zoo need not load the model (torch)
    trained.save(
        model_path,
        fold=fold,
        extractor=snakemake.wildcards.extractor,
        extractor_sha256=feature_meta[b"sendflow.extractor_sha256"].decode(),
        labels=snakemake.wildcards.labels,
        class_names=list(scheme["names"]),
        clips=roles,
        seed=seed,
    )
    metrics["model_sha256"] = file_sha256(model_path)  # model_zoo refuses the file if it changes
    write_parquet(predictions, predictions_path)
    write_json(metrics, metrics_path)
    log.info(
        "test: CCC %.3f (pooled %.3f), accuracy %.3f, macro-F1 %.3f, edit %.1f, F1@25 %.1f",
        metrics["ccc"],
        metrics["ccc_pooled"],
        metrics["accuracy"],
        metrics["macro_f1"],
        metrics["edit"],
        metrics["f1@25"],
    )
