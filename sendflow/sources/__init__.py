"""Feature sources: what the classifiers train on.

The contract. A source yields, per clip, one feature vector per 0.5 s rating step, NaN where a
step has no observation of a value. The workflow then standardises it per fold on the fold's
training speakers (sources/standardise.py: one NaN rule for every source and fusion member),
caches it as Parquet in one schema (sendflow/feature_table.py: clip_id, speaker, step, t,
n_frames, valence, feature) and every classifier reads that table.

Kinds, one module each:
- *learned* (the ResNets of sendflow/models/resnet_attention.py, trained per fold and repeat:
  `resattn` and `resnet`), whose feature tables rules/extractor.smk writes;
- *table* (sources/table.py): per-frame files another tool wrote, configured by name under
  `tables:` with a format (one module per format in sources/formats/) and a path pattern
  (sources/patterns.py);
- *coder* (sources/coder.py): a pretrained, frozen face network run on the frame crops,
  configured by name under `coders:` (the built-in `fer`, or an ONNX or TorchScript file);
- *fusion* (sources/fusion.py): several sources side by side, configured under `fusions:`.

A source's name is lower-case letters, digits and `_`, and names one thing: a learned
extractor, a table or a fusion. Adding a table format is one module in sources/formats/ and its
name in the schema's format enum; a table or fusion is config only.
"""

import re
from dataclasses import dataclass

from ..names import EXTRACTORS

KINDS = ("learned", "table", "coder", "fusion")
BUILT_IN_CODER = "fer"  # coders.<name>.model that names sendflow's own FER2013 network
NAME = re.compile(r"^[a-z0-9_]+$")


@dataclass(frozen=True)
class Source:
    name: str
    kind: str  # one of KINDS
    members: tuple[str, ...] = ()  # a fusion's sources, its base first


def defined_sources(config: dict) -> dict[str, Source]:
    """Every source the config defines, by name: the learned extractors, `tables`, `coders` and
    `fusions`."""
    found = {name: Source(name, "learned") for name in EXTRACTORS}
    found.update({name: Source(name, "table") for name in config.get("tables") or {}})
    found.update({name: Source(name, "coder") for name in config.get("coders") or {}})
    found.update({name: Source(name, "fusion", tuple(f["of"])) for name, f in (config.get("fusions") or {}).items()})
    return found


def check_sources(config: dict) -> None:
    """Names that are valid and unique, fusions of defined non-fusion sources, and every source
    in extractor.kinds defined. Raises ValueError naming the key."""
    from .formats import format_names
    from .patterns import pattern_fields

    tables, fusions = config.get("tables") or {}, config.get("fusions") or {}
    sections = {"tables": tables, "coders": config.get("coders") or {}, "fusions": fusions}
    for section, entries in sections.items():
        for name in entries:
            if not NAME.match(name):
                raise ValueError(f"{section}.{name}: a source name is lower-case letters, digits and _ only")
            if name in EXTRACTORS:
                raise ValueError(f"{section}.{name}: {name!r} is a built-in learned extractor; choose another name")
    for i, (first, a) in enumerate(sections.items()):
        for second, b in list(sections.items())[i + 1 :]:
            both = sorted(set(a) & set(b))
            if both:
                raise ValueError(f"{both[0]!r} is defined both under {first} and {second}; a source has one definition")
    for name, table in tables.items():
        if table["format"] not in format_names():
            raise ValueError(f"tables.{name}.format {table['format']!r}: formats are {', '.join(format_names())}")
        pattern_fields(table["path"])  # names an unknown field
    defined = defined_sources(config)
    for name, fusion in fusions.items():
        members = fusion["of"]
        if len(set(members)) != len(members) or len(members) < 2:
            raise ValueError(f"fusions.{name}.of {members}: a fusion joins two or more different sources")
        for member in members:
            if member not in defined or defined[member].kind == "fusion":
                raise ValueError(
                    f"fusions.{name}.of: {member!r} is not a learned extractor or a table "
                    f"(sources that can be fused: {', '.join(n for n, s in defined.items() if s.kind != 'fusion')})"
                )
        check_modality_dropout(fusion, f"fusions.{name}")
    unknown = [k for k in config["extractor"]["kinds"] if k not in defined]
    if unknown:
        raise ValueError(
            f"extractor.kinds: {', '.join(map(repr, unknown))} is not defined; sources: {', '.join(defined)} "
            "(add a table under tables: or a fusion under fusions:)"
        )


def check_modality_dropout(fusion: dict, where: str) -> None:
    """A fusion's `modality_dropout` is one rate for every member but the base (the first in
    `of`, never dropped: the model always has it), or rates by name of those members."""
    rate, base, others = fusion["modality_dropout"], fusion["of"][0], fusion["of"][1:]
    stray = sorted(set(rate) - set(others)) if isinstance(rate, dict) else []
    if stray:
        raise ValueError(
            f"{where}.modality_dropout names {stray}: rates are for the members after the base "
            f"{base!r} ({', '.join(others)})"
        )


def reads_frames(kind: str) -> bool:
    """Whether a kind of source reads the frame crops (so the run decodes video)."""
    return kind in ("learned", "coder")


def sources_used(config: dict) -> dict[str, Source]:
    """The sources the run computes: extractor.kinds and the members of its fusions."""
    defined = defined_sources(config)
    used: dict[str, Source] = {}
    for name in config["extractor"]["kinds"]:
        for needed in (*defined[name].members, name):
            used.setdefault(needed, defined[needed])
    return used


def of_kind(config: dict, kind: str) -> list[str]:
    """The sources of `kind` the run computes, in a fixed order (learned: EXTRACTORS')."""
    used = sources_used(config)
    if kind == "learned":
        return [name for name in EXTRACTORS if name in used]
    return sorted(name for name, source in used.items() if source.kind == kind)


def is_trained(name: str, config: dict) -> bool:
    """Whether a source's features differ per training repeat: a learned extractor, or a fusion
    with one among its members. A table or coder is not trained (one file per fold for every
    repeat)."""
    source = defined_sources(config)[name]
    return source.kind == "learned" or any(is_trained(m, config) for m in source.members)


def modality(name: str, config: dict) -> str:
    """What a source reads, in the terms of SEND's published results (report/published.py)."""
    from .formats import load

    source = defined_sources(config)[name]
    if source.kind in ("learned", "coder"):
        return "visual"
    if source.kind == "table":
        return load(config["tables"][name]["format"]).MODALITY
    kinds = sorted({modality(m, config) for m in source.members})
    return " + ".join(kinds)
