"""Rule `model_zoo`: every fold's extractor (or the coder) and classifier of one model, with what
they need and scored -> results/model_zoo/{extractor}-{classifier}-{labels}/."""

import json
from pathlib import Path

import _workflow  # noqa: F401  (this workflow's sendflow first)
import pyarrow.parquet as pq

from sendflow.logs import setup
from sendflow.names import METRICS
from sendflow.report.aggregate import fold_table
from sendflow.report.manifest import git_commit
from sendflow.sources import provenance
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
# the sha256 each job recorded of its model file: a file edited since is refused
if "features" in snakemake.input.keys():  # a coder or a table: not trained, standardised per fold
    feature_meta = [pq.read_schema(p).metadata for p in snakemake.input.features]
    members = [
        {
            "fold": fold,
            "classifier": classifier,
            "sha256": {"classifier": m["model_sha256"]},
            "standardise": {key: json.loads(meta[f"sendflow.train_{key}".encode()]) for key in ("mean", "std")},
        }
        for fold, classifier, meta, m in zip(params.folds, snakemake.input.classifiers, feature_meta, fold_metrics)
    ]
    if "coder" in snakemake.input.keys():  # one coder for every fold
        for member, meta in zip(members, feature_meta):
            member["coder"] = snakemake.input.coder
            member["sha256"]["coder"] = meta[b"sendflow.extractor_sha256"].decode()
    initial_weights = None
else:
    extractor_summaries = [json.loads(Path(p).read_text()) for p in snakemake.input.extractor_summaries]
    members = [
        {
            "fold": fold,
            "extractor": extractor,
            "classifier": classifier,
            "sha256": {"extractor": summary["model_sha256"], "classifier": m["model_sha256"]},
        }
        for fold, extractor, classifier, summary, m in zip(
            params.folds, snakemake.input.extractors, snakemake.input.classifiers, extractor_summaries, fold_metrics
        )
    ]
    # what extractor.weights held when training started (null: random or ImageNet weights)
    initial_weights = extractor_summaries[0].get("initial_weights_sha256")
source = dict(params.source)  # its kind; a coder's settings, origin and licence
if source["coder"]:
    source["provenance"] = provenance(source["coder"])
description = {
    "extractor": wildcards.extractor,
    "source": {
        **params.source,
        **({"provenance": provenance(params.source["coder"])} if params.source["coder"] else {}),
    },
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
    "initial_weights_sha256": initial_weights,
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
