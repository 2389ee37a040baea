"""Config handling shared by the Snakefile and the `sendflow` launcher.

schemas/config.schema.yaml is the one source of every key's type, default and meaning:
config.yaml is a commented copy generated from it (sendflow/config_reference.py) whose values,
where a user uncomments them, count like a `--configfile` given before any other.

Snakemake (>= 8.17) refuses dotted keys such as `--config data.root=/x` on its command line,
and reads nested `--config data={root: 5}` values as strings. The launcher turns dotted keys
into nested mappings, and `prepare` coerces strings to the types the schema asks for, so that
both spellings reach validation with the right types.
"""

import copy
import math
from pathlib import Path

import yaml

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
    """The schema, with the enums of classifier names filled in from its sections marked
    `x-model` (sendflow/models/registry.py), so a model added as a section is a valid name."""
    with open(path) as handle:
        schema = yaml.load(handle, Loader=_SAFE_LOADER)
    classifier = schema["properties"]["classifier"]["properties"]
    models = [name for name, section in classifier.items() if "x-model" in section]
    classifier["names"]["items"]["enum"] = models
    schema["properties"]["report"]["properties"]["timelines"]["properties"]["classifier"]["enum"] = [*models, None]
    return schema


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


# Keys that moved (when feature sources became configurable, and when temporal models became
# plug-ins whose section keys are their arguments): an old config is told where.
MOVED = {
    "emotient": "tables.emotient and fusions.fused",
    "emotient.columns": "tables.emotient.columns",
    "emotient.fuse_with": "fusions.fused.of (the members after the base, emotient)",
    "emotient.modality_dropout": "fusions.fused.modality_dropout",
    "emotient.fuse_components": "fusions.fused.components",
    "emotient.mem_mb": "tables.emotient.mem_mb and fusions.fused.mem_mb",
    "classifier.bigru.rnn_layers": "classifier.bigru.layers",
    **{
        f"classifier.{model}.{key}": f"classifier.training.{key} (shared by the torch models)"
        for model in ("mstcn", "sstcn", "bigru")
        for key in ("smooth_weight", "tau")
    },
}


def _moved(config: dict, where: str = ""):
    """`old.key: moved to new.key` for each moved key a config has (the deepest one known)."""
    for key, value in config.items():
        dotted = f"{where}.{key}" if where else str(key)
        deeper = list(_moved(value, dotted)) if isinstance(value, dict) else []
        if deeper:
            yield from deeper
        elif dotted in MOVED:
            yield f"{dotted}: moved to {MOVED[dotted]}"


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


def fill_defaults(config: dict, schema: dict) -> dict:
    """Fill in, in place, every key the schema gives a default and `config` leaves out, at any
    depth: the entries of named sections (tables, coders, fusions) too. Snakemake's
    `validate(..., set_default=True)` does the same, from the file rather than this schema."""
    import jsonschema

    base = jsonschema.Draft202012Validator

    def set_defaults(validator, properties, instance, subschema):
        if isinstance(instance, dict):
            for key, sub in properties.items():
                if "default" in sub:
                    instance.setdefault(key, copy.deepcopy(sub["default"]))  # never the schema's own object
        yield from base.VALIDATORS["properties"](validator, properties, instance, subschema)

    jsonschema.validators.extend(base, {"properties": set_defaults})(schema).validate(config)
    return config


def project_values(path) -> dict:
    """The values a user has uncommented in the project's config.yaml ({} as generated, or
    where the file is gone)."""
    if not Path(path).exists():
        return {}
    try:
        with open(path) as handle:
            values = yaml.load(handle, Loader=_SAFE_LOADER)
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({error})") from None
    if values is not None and not isinstance(values, dict):
        raise ConfigError(f"{path}: a config file holds keys at the top level, not a {type(values).__name__}")
    return values or {}


def validated(config: dict, project_file=None) -> dict:
    """The run's config, validated once: the schema's defaults, under the values of
    `project_file` (config.yaml), under `config` (from --configfile and --config), each merged
    key by key as Snakemake merges config files, so a table added under `tables` keeps the
    preset `emotient` beside it; dotted keys unflattened and strings coerced; every key checked
    against the schema (each bad one named); the defaults of entries the user added filled in;
    then `check_consistency`."""
    schema = load_schema()
    given = _merge(project_values(project_file), unflatten(config)) if project_file else config
    prepared = _merge(fill_defaults({}, schema), prepare(given, schema))
    check(prepared, schema)
    fill_defaults(prepared, schema)
    check_consistency(prepared)
    return prepared


def schema_defaults() -> dict:
    """The whole config as the schema's defaults give it: the one source of every default."""
    return fill_defaults({}, load_schema())
