"""Rule `model_zoo`: every fold's extractor (or the coder) and classifier of one model, with what
they need and scored -> results/model_zoo/{extractor}-{classifier}-{labels}/."""

import json
from pathlib import Path

import _workflow  # noqa: F401  (this workflow's sendflow first)
import pyarrow.parquet as pq

from sendflow.feature_table import MEMBERS_KEY
from sendflow.logs import setup
from sendflow.names import METRICS
from sendflow.report.aggregate import fold_table
from sendflow.report.manifest import git_commit
from sendflow.zoo import write_bundle
from sendflow.zoo.card import provenance

log = setup(snakemake.log[0])
params, wildcards = snakemake.params, snakemake.wildcards
folds = fold_table(snakemake.input.metrics).set_index("fold").loc[params.folds]
# write_json stores an undefined score (NaN) as null
metrics = {
    name: {"mean": folds[name].mean(), "sd": folds[name].std(ddof=1), "per_fold": folds[name].tolist()}
    for name in METRICS
}
fold_metrics = [json.loads(Path(p).read_text()) for p in snakemake.input.metrics]
classes_from = [m["classes_from"] for m in fold_metrics]


def made_by(inputs: dict, prefix: str = "") -> list[dict]:
    """Per fold, what makes a source's features: its extractor file (learned), the coder file
    (a coder, the same for every fold) or nothing (a table), with the sha256 each job recorded
    (a file edited since is refused), and a coder's or table's standardisation."""
    if f"{prefix}features" not in inputs:  # learned: the fold's extractor
        summaries = [json.loads(Path(p).read_text()) for p in inputs[f"{prefix}extractor_summaries"]]
        return [
            {"extractor": path, "sha256": {"extractor": summary["model_sha256"]}}
            for path, summary in zip(inputs[f"{prefix}extractors"], summaries)
        ]
    parts = []
    for path in inputs[f"{prefix}features"]:
        meta = pq.read_schema(path).metadata
        part = {
            "sha256": {},
            "standardise": {k: json.loads(meta[f"sendflow.train_{k}".encode()]) for k in ("mean", "std")},
        }
        if f"{prefix}coder" in inputs:
            part.update(coder=inputs[f"{prefix}coder"], sha256={"coder": meta[b"sendflow.extractor_sha256"].decode()})
        parts.append(part)
    return parts


inputs = dict(snakemake.input.items())
if params.source["kind"] == "fusion":  # per fold: every member's part, as the fused table made it
    fused = [pq.read_schema(p).metadata for p in inputs["features"]]
    per_member = {m: made_by(inputs, f"{m}__") for m in params.source["members"]}
    members = [
        {
            "parts": [
                {"name": m, **parts[i], "transform": json.loads(meta[b"sendflow.member_transforms"])[m]}
                for m, parts in per_member.items()
            ],
            "blocks": json.loads(meta[MEMBERS_KEY.encode()]),
        }
        for i, meta in enumerate(fused)
    ]
else:
    members = made_by(inputs)
for member, fold, classifier, m in zip(members, params.folds, inputs["classifiers"], fold_metrics):
    member.update(fold=fold, classifier=classifier)
    member.setdefault("sha256", {})["classifier"] = m["model_sha256"]
summaries = inputs.get("extractor_summaries")
# what extractor.weights held when training started (null: random or ImageNet weights, or no extractor)
initial_weights = json.loads(Path(summaries[0]).read_text()).get("initial_weights_sha256") if summaries else None
source = dict(params.source)  # its kind; a coder's settings, origin and licence (a fusion's: per member)
for about in [source, *source.get("members", {}).values()]:
    if about["coder"]:
        about["provenance"] = provenance(about["coder"])
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
