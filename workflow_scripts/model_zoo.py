"""Rule `model_zoo`: every fold's extractor and classifier of one model, with what they need
and scored -> results/model_zoo/{extractor}-{classifier}-{labels}/."""

import json
from pathlib import Path

import _workflow  # noqa: F401  (this workflow's sendflow first)

from sendflow.logs import setup
from sendflow.names import METRICS
from sendflow.report.aggregate import fold_table
from sendflow.report.manifest import git_commit
from sendflow.zoo import write_bundle

log = setup(snakemake.log[0])
params, wildcards = snakemake.params, snakemake.wildcards
folds = fold_table(snakemake.input.metrics).set_index("fold").loc[params.folds]
# write_json stores an undefined score (NaN) as null
metrics = {
    name: {"mean": folds[name].mean(), "sd": folds[name].std(ddof=1), "per_fold": folds[name].tolist()}
    for name in METRICS
}
fold_metrics = [json.loads(Path(p).read_text()) for p in snakemake.input.metrics]
classes_from = [m.get("classes_from", "head") for m in fold_metrics]
# the sha256 each training job recorded of its model file: a file edited since is refused
extractor_summaries = [json.loads(Path(p).read_text()) for p in snakemake.input.extractor_summaries]
extractor_sha256 = [summary["model_sha256"] for summary in extractor_summaries]
members = [
    {
        "fold": fold,
        "extractor": extractor,
        "classifier": classifier,
        "sha256": {"extractor": extractor_hash, "classifier": m["model_sha256"]},
    }
    for fold, extractor, classifier, extractor_hash, m in zip(
        params.folds, snakemake.input.extractors, snakemake.input.classifiers, extractor_sha256, fold_metrics
    )
]
description = {
    "extractor": wildcards.extractor,
    "classifier": wildcards.classifier,
    "labels": params.labels,
    "frames": params.frames,
    "cv": params.cv,
    "seed": params.seed,
    "data_root": params.data_root,
    "metrics": metrics,
    "config": params.config,
    "commit": git_commit(Path(snakemake.scriptdir).parent),
    "classes_from": classes_from,
    # what extractor.weights held when training started (null: random or ImageNet weights)
    "initial_weights_sha256": extractor_summaries[0].get("initial_weights_sha256"),
}
manifest = write_bundle(
    snakemake.output.bundle,
    Path(snakemake.output.bundle).name,
    members,
    description,
    task=fold_metrics[0]["task"],
    feature_dim=fold_metrics[0]["feature_dim"],
)
log.info("%s: %d fold(s), CCC %s over folds", manifest["name"], len(members), metrics["ccc"]["mean"])
