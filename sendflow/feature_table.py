"""Feature tables: the Parquet schema every feature source writes, and the per-fold steps of
the sources that are not a learned extractor (Emotient action units, and their fusion with an
extractor's features). Torch-free, so these jobs start quickly.

A table has one row per (clip, 0.5 s step): clip_id, speaker, step, t, n_frames, valence and
`feature`, a fixed-size float32 list. Schema metadata says what made it.
"""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .atomic import atomic_path
from .errors import SendDataError

STEP_COLUMNS = ["clip_id", "speaker", "step", "t", "n_frames", "valence"]
# The learned-feature cache dictionary-encodes the step columns only: the features' float32s
# hardly repeat, so their dictionary is built and dropped per page, two thirds of the feature
# job's writing time. The small Emotient tables keep the default encoding: their files' hashes
# are recorded in every model trained on them.
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


def require_training_steps(
    steps: pd.DataFrame, x: np.ndarray, roles: dict[str, str], fold: int, source: str, path
) -> None:
    """Stop, naming the fold, its training speakers and the source, when none of the fold's
    training clips has a usable step of `source` (`steps`/`x`, read from `path`): e.g. every
    training speaker is ratings-only, with no video and no Emotient file."""
    train = sorted(c for c, r in roles.items() if r == "train")
    usable = steps["clip_id"].isin(train).to_numpy() & ~np.isnan(x).any(axis=1)
    if usable.any():
        return
    speakers = sorted({int(c.split("_")[0]) for c in train})
    raise SendDataError(
        path,
        (
            f"fold {fold}: none of its {len(train)} training clips (speakers {', '.join(map(str, speakers))}) has "
            f"{source}, so the {source} cannot be standardised or learnt on this fold. Give those speakers the "
            f"files it needs, or leave the sources that need {source} out of extractor.kinds"
        ),
    )


def train_statistics(x: np.ndarray, use: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and standard deviation over the rows `use` (the fold's training
    speakers' steps); 1 where a column is constant, so it standardises to 0."""
    rows = x[use & ~np.isnan(x).any(axis=1)]
    if len(rows) == 0:
        raise ValueError("no training step with features to standardise with")
    mean, std = rows.mean(0), rows.std(0)
    std[std < 1e-8] = 1.0
    return mean, std


def standardise(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """(x - mean) / std, with missing values (steps without a face) at 0, the training mean."""
    return np.nan_to_num((x - mean) / std, nan=0.0).astype(np.float32)


def fold_steps(steps: pd.DataFrame, x: np.ndarray, roles: dict[str, str]) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """The steps of a fold's clips, standardised with statistics of its `train` clips only:
    (steps, features, {"mean": [...], "std": [...]})."""
    keep = steps["clip_id"].isin(roles).to_numpy()
    steps, x = steps[keep].reset_index(drop=True), x[keep]
    mean, std = train_statistics(x, (steps["clip_id"].map(roles) == "train").to_numpy())
    return steps, standardise(x, mean, std), {"mean": mean.tolist(), "std": std.tolist()}


def principal_components(x: np.ndarray, use: np.ndarray, components: int) -> np.ndarray:
    """`x` (standardised) projected on the first `components` principal axes of its rows `use`
    (the training speakers' steps), each scaled to unit variance over those rows."""
    rows = x[use]
    _, singular, axes = np.linalg.svd(rows - rows.mean(0), full_matrices=False)
    scale = singular[:components] / np.sqrt(len(rows))
    scale[scale < 1e-8] = 1.0
    return ((x - rows.mean(0)) @ axes[:components].T / scale).astype(np.float32)


def fuse(
    learned: tuple[pd.DataFrame, np.ndarray],
    units: tuple[pd.DataFrame, np.ndarray],
    roles: dict[str, str],
    components: int = 0,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Per (clip, step): the learned features (standardised on the fold's `train` clips, and
    where `components` is below their number, reduced to that many principal components of
    the `train` clips), a mask that is 1 where the step has them, and the action units; steps
    either source has. Where one part is missing (no video, or no Emotient row) it is 0, the
    training mean."""
    (a_steps, a_x), (u_steps, u_x) = learned, units
    a_steps = a_steps[a_steps["clip_id"].isin(roles)]
    a_x = a_x[a_steps.index.to_numpy()]
    is_train = (a_steps["clip_id"].map(roles) == "train").to_numpy()
    mean, std = train_statistics(a_x, is_train)
    a_x = standardise(a_x, mean, std)
    if 0 < components < a_x.shape[1]:
        a_x = principal_components(a_x, is_train, components)
    key = ["clip_id", "step"]
    joined = pd.merge(
        a_steps.reset_index(drop=True).assign(_a=np.arange(len(a_steps))),
        u_steps.reset_index(drop=True).assign(_u=np.arange(len(u_steps))),
        on=key,
        how="outer",
        suffixes=("_a", ""),
        sort=True,
    )
    has_a, has_u = joined["_a"].notna().to_numpy(), joined["_u"].notna().to_numpy()
    x = np.zeros((len(joined), a_x.shape[1] + 1 + u_x.shape[1]), np.float32)
    x[has_a, : a_x.shape[1]] = a_x[joined.loc[has_a, "_a"].astype(int)]
    x[has_a, a_x.shape[1]] = 1.0
    x[has_u, a_x.shape[1] + 1 :] = u_x[joined.loc[has_u, "_u"].astype(int)]
    for column in ("speaker", "t", "valence"):  # the same for both sources where both have the step
        joined[column] = joined[column].fillna(joined[f"{column}_a"])
    joined["n_frames"] = joined["n_frames"].fillna(0)  # Emotient rows averaged into the step
    steps = joined[STEP_COLUMNS].astype({"speaker": "int64", "step": "int32", "n_frames": "int32"})
    return steps, x
