"""Config handling shared by the Snakefile and the `sendflow` launcher.

Snakemake (>= 8.17) refuses dotted keys such as `--config data.root=/x` on its command line,
and reads nested `--config data={root: 5}` values as strings. The launcher turns dotted keys
into nested mappings, and `prepare` coerces strings to the types the schema asks for, so that
both spellings reach validation with the right types.
"""

import math
from pathlib import Path

import yaml

from .names import PER_STEP_TRAINING, TEMPORAL_TRAINING, TORCH_CLASSIFIERS

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "config.schema.yaml"
# libyaml's parser where PyYAML has it: the schema loads faster (bench/README.md), into the same values.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def unflatten(config: dict) -> dict:
    """Turn `{"data.root": x}` into `{"data": {"root": x}}`, merging with what is there."""
    result: dict = {}
    for key, value in config.items():
        value = unflatten(value) if isinstance(value, dict) else value
        *parents, leaf = str(key).split(".")
        node = result
        for part in parents:
            node = node.setdefault(part, {})
        if isinstance(node.get(leaf), dict) and isinstance(value, dict):
            node[leaf] = _merge(node[leaf], value)
        else:
            node[leaf] = value
    return result


def _merge(base: dict, update: dict) -> dict:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(merged.get(key), dict) and isinstance(value, dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


# Python types of the non-string JSON-schema types a command-line string may stand for.
_PYTHON_TYPES = {"integer": int, "number": (int, float), "boolean": bool, "array": list, "null": type(None)}


def _coerce(value, schema: dict):
    """Parse a command-line string into the scalar type its schema asks for."""
    types = schema.get("type")
    types = [types] if isinstance(types, str) else list(types or [])
    if isinstance(value, dict):
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        extra = extra if isinstance(extra, dict) else {}
        return {k: _coerce(v, props.get(k, extra)) for k, v in value.items()}
    if isinstance(value, list) and "items" in schema:
        return [_coerce(v, schema["items"]) for v in value]
    scalars = set(types) & set(_PYTHON_TYPES)
    if not isinstance(value, str) or not scalars:
        return value
    parsed = yaml.safe_load(value)
    if "number" in scalars and isinstance(parsed, str):
        try:
            parsed = float(value)  # YAML 1.1 reads 1e-3 (no dot) as a string
        except ValueError:
            pass
    if not isinstance(parsed, tuple(_PYTHON_TYPES[t] for t in scalars)):
        return value  # a string after all (or a bad value, which validation then names)
    return parsed


def load_schema(path=SCHEMA_PATH) -> dict:
    with open(path) as handle:
        return yaml.load(handle, Loader=_SAFE_LOADER)


def prepare(config: dict, schema: dict | None = None) -> dict:
    """Unflatten dotted keys and coerce command-line strings; validation comes after."""
    return _coerce(unflatten(config), schema or load_schema())


def rewrite_cli_config(entries: list[str]) -> list[str]:
    """`data.root=/x` -> `data={root: "/x"}` so Snakemake's parser accepts it."""
    rewritten = []
    for entry in entries:
        key, sep, value = entry.partition("=")
        if not sep or "." not in key:
            rewritten.append(entry)
            continue
        nested: object = value
        for part in reversed(key.split(".")[1:]):
            nested = {part: nested}
        flow = yaml.safe_dump(nested, default_flow_style=True, width=10**6).strip()
        rewritten.append(f"{key.split('.')[0]}={flow}")
    return rewritten


class ConfigError(ValueError):
    """A config value the schema rejects; the message names every offending key."""


def _non_finite(value, where: str):
    """`key: nan is not a finite number` for each NaN or infinity in `value`, at any depth:
    JSON schema cannot say finite, and a NaN learning rate trains to NaN before anything fails."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _non_finite(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _non_finite(item, f"{where}.{index}")
    elif isinstance(value, float) and not math.isfinite(value):
        yield f"{where}: {value} is not a finite number"


# Keys that moved when feature sources became configurable: an old config is told where.
MOVED = {
    "emotient.columns": "tables.emotient.columns",
    "emotient.fuse_with": "fusions.fused.of (the members after the base, emotient)",
    "emotient.modality_dropout": "fusions.fused.modality_dropout",
    "emotient.fuse_components": "fusions.fused.components",
    "emotient.mem_mb": "tables.emotient.mem_mb and fusions.fused.mem_mb",
}


def _moved(config: dict):
    """`old.key: moved to new.key` for each key of the emotient section an old config has."""
    if "emotient" not in config:
        return
    section = config["emotient"]
    for old in [f"emotient.{k}" for k in section] if isinstance(section, dict) and section else ["emotient"]:
        yield f"{old}: moved to {MOVED.get(old, 'tables.emotient and fusions.fused')}"


def check(config: dict, schema: dict | None = None) -> None:
    """Raise ConfigError listing each invalid or unknown key, or non-finite number, as a dotted path."""
    import jsonschema

    moved = list(_moved(config))
    if moved:
        raise ConfigError("invalid config:\n  " + "\n  ".join(moved))
    schema = schema or load_schema()
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path)):
        where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        if error.validator == "additionalProperties":
            known = sorted(error.schema.get("properties", {}))
            for key in sorted(set(error.instance) - set(known)):
                unknown = f"{where}.{key}" if error.absolute_path else key
                problems.append(f"{unknown}: unknown key; known keys of {where}: {', '.join(known)}")
        else:
            problems.append(f"{where}: {error.message}")
    problems.extend(_non_finite(config, ""))
    if problems:
        raise ConfigError("invalid config:\n  " + "\n  ".join(problems))


def check_consistency(config: dict) -> None:
    """What the schema cannot say: label schemes that make sense and exist where named, and an
    attention fold that the run has. Raises ConfigError naming the key."""
    from .folds import fold_ids
    from .labels import check_scheme
    from .sources import check_sources

    for key, path in (("data.root", config["data"]["root"]), ("data.demo.dir", config["data"]["demo"]["dir"])):
        if "{" in path or "}" in path:  # Snakemake formats string params and paths with wildcards
            raise ConfigError(
                f"{key} {path!r}: braces {{ }} in the path are not supported by Snakemake's rule "
                "parameters; rename the folder or link it from a path without braces"
            )
    try:
        check_sources(config)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    schemes = config["labels"]["schemes"]
    try:
        for name, scheme in schemes.items():
            check_scheme(name, scheme)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    if config["extractor"]["labels"] not in schemes:
        raise ConfigError(
            f"extractor.labels {config['extractor']['labels']!r} is not one of labels.schemes ({', '.join(schemes)})"
        )
    unknown = set(config["classifier"]["labels"]) - set(schemes)
    if unknown:
        raise ConfigError(f"classifier.labels names unknown label schemes: {sorted(unknown)}")
    folds = fold_ids(config["cv"]["mode"], config["cv"]["k"])
    attention = config["report"]["attention"]["fold"]
    if attention != "best" and attention not in folds:
        raise ConfigError(
            f"report.attention.fold {attention} is not a fold of this run (folds {folds[0]}..{folds[-1]})"
        )


def validated(config: dict, schema_path, fill_defaults) -> dict:
    """The run's config, validated once: dotted keys unflattened and strings coerced, every
    key checked against the schema (each bad one named), the defaults filled in by
    `fill_defaults` (Snakemake's `validate(..., set_default=True)`), then `check_consistency`."""
    schema = load_schema(schema_path)
    prepared = prepare(config, schema)
    check(prepared, schema)
    fill_defaults(prepared)
    check_consistency(prepared)
    return prepared


def schema_defaults(path=SCHEMA_PATH) -> dict:
    """The whole config as the schema's defaults give it (filled in as the Snakefile fills
    them): the one source of every default."""
    from snakemake.utils import validate

    config: dict = {}
    validate(config, str(path), set_default=True)
    return config


def classifier_settings(section: dict, name: str) -> dict:
    """One classifier's settings from the config's `classifier` section: the `training` keys it
    reads, overridden by its own section (e.g. framewise.speaker_norm). Only these reach its
    jobs, so changing a setting another classifier reads does not rerun them."""
    shared = TEMPORAL_TRAINING if name in TORCH_CLASSIFIERS else PER_STEP_TRAINING
    training = {key: section["training"][key] for key in shared}
    return {**training, **section.get(name, {}), "name": name}
