"""Feature tables: the Parquet schema every feature source writes. Torch-free, so the jobs of
the sources that are not a learned extractor start quickly.

A table has one row per (clip, 0.5 s step): clip_id, speaker, step, t, n_frames, valence and
`feature`, a fixed-size float32 list. Schema metadata says what made it.
"""

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .atomic import atomic_path

STEP_COLUMNS = ["clip_id", "speaker", "step", "t", "n_frames", "valence"]
# The learned-feature cache dictionary-encodes the step columns only: the features' float32s
# hardly repeat, so their dictionary is built and dropped per page, two thirds of the feature
# job's writing time. The small table sources keep the default encoding: their steps files'
# hashes are recorded in every model trained on them.
WRITE_OPTIONS = {"use_dictionary": STEP_COLUMNS}


def feature_schema(dim: int, metadata: dict | None = None) -> pa.Schema:
    fields = [
        ("clip_id", pa.string()),
        ("speaker", pa.int64()),
        ("step", pa.int32()),
        ("t", pa.float64()),
        ("n_frames", pa.int32()),
        ("valence", pa.float32()),
        ("feature", pa.list_(pa.float32(), dim)),
    ]
    meta = {k.encode(): str(v).encode() for k, v in (metadata or {}).items()}
    return pa.schema(fields, metadata=meta)


def feature_batch(schema: pa.Schema, steps: pd.DataFrame, x: np.ndarray) -> pa.Table:
    """Rows `steps` (STEP_COLUMNS) with features `x` [N, D] as a table of `schema`."""
    columns = {c: pa.array(steps[c].to_numpy(), schema.field(c).type) for c in STEP_COLUMNS}
    dim = schema.field("feature").type.list_size
    columns["feature"] = pa.FixedSizeListArray.from_arrays(pa.array(np.asarray(x, np.float32).ravel()), dim)
    return pa.table(columns, schema=schema)


def write_feature_table(steps: pd.DataFrame, x: np.ndarray, path, metadata: dict) -> None:
    """Write a whole feature table atomically."""
    schema = feature_schema(x.shape[1], metadata)
    with atomic_path(path) as tmp:
        pq.write_table(feature_batch(schema, steps.reset_index(drop=True), x), tmp)


def read_feature_table(path) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """(steps, features [N, D] float32, metadata) of a feature table."""
    table = pq.read_table(path)
    meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
    feature = table.column("feature").combine_chunks()
    x = feature.flatten().to_numpy(zero_copy_only=False).reshape(len(table), feature.type.list_size)
    return table.drop_columns(["feature"]).to_pandas(), x.astype(np.float32), meta


@dataclass(frozen=True)
class Block:
    """A fusion member's columns in a fused table: [start, stop), the last of them its mask
    (1 where the step has the member) where `masked`. Fused tables list them in their metadata
    (MEMBERS_KEY), so that classifiers can treat a missing member as missing and drop members out."""

    name: str
    start: int
    stop: int
    masked: bool


MEMBERS_KEY = "sendflow.members"


def blocks_to_json(blocks: list[Block]) -> str:
    return json.dumps([[b.name, b.start, b.stop, b.masked] for b in blocks])


def blocks_from_json(text: str | bytes | None) -> list[Block]:
    """The blocks a fused table's metadata lists; none for any other table."""
    return [Block(*item) for item in json.loads(text)] if text else []
