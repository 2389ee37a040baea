"""The *fusion* kind: several sources side by side on the steps any of them has.

The first source in a fusion's `of` is its base; every other member can be missing where the
base is present (a clip without video, a tool that lost the face) and can be dropped out in
training, so each carries a mask column (1 where the step has it) after its features. The
table's columns: each other member's features and mask, in `of` order, then the base's
features. A missing member is 0, its training mean. Members are standardised on the fold's
training speakers (those whose tables are not already), and `components` reduces each member
wider than the narrowest to that many principal components of the training speakers' steps.
"""

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..feature_table import STEP_COLUMNS, Block
from .standardise import fit_components, project, standardise, train_statistics

KEY = ["clip_id", "step"]
SHARED = ("speaker", "t", "valence")  # the same for every member that has the step


@dataclass(frozen=True)
class Member:
    name: str
    steps: pd.DataFrame
    x: np.ndarray
    standardised: bool  # its table holds the fold's standardised values already


def _prepared(
    member: Member, roles: dict[str, str], components: int, narrowest: int
) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """A member's steps of the fold's clips, standardised and reduced, and how (`transform`:
    the `mean` and `std` it was standardised with here, the principal axes it was reduced to:
    what a new video's features need to become the same columns)."""
    steps = member.steps[member.steps["clip_id"].isin(roles)]
    x = member.x[steps.index.to_numpy()]
    is_train = (steps["clip_id"].map(roles) == "train").to_numpy()
    transform = {}
    if not member.standardised:
        transform["mean"], transform["std"] = train_statistics(x, is_train)
        x = standardise(x, transform["mean"], transform["std"])
    if x.shape[1] > narrowest and 0 < components < x.shape[1]:
        transform["components"] = fit_components(x, is_train, components)
        x = project(x, transform["components"])
    return steps.reset_index(drop=True), x, transform


def fuse(
    members: list[Member], roles: dict[str, str], components: int = 0
) -> tuple[pd.DataFrame, np.ndarray, list[Block], dict[str, dict]]:
    """The fused steps, features and column blocks of `members` (the base first) on a fold's
    clips (`roles`), and each member's transform (`_prepared`)."""
    narrowest = min(m.x.shape[1] for m in members)
    prepared = [_prepared(m, roles, components, narrowest) for m in members]
    joined = None
    for k, (steps, _, _) in enumerate(prepared):
        part = steps[[*KEY, *SHARED, "n_frames"]].rename(columns={c: f"{c}_{k}" for c in (*SHARED, "n_frames")})
        part[f"_row{k}"] = np.arange(len(part))
        joined = part if joined is None else pd.merge(joined, part, on=KEY, how="outer", sort=True)
    order = [*range(1, len(members)), 0]  # the other members in `of` order, then the base
    widths = [prepared[k][1].shape[1] + (k != 0) for k in order]
    x = np.zeros((len(joined), sum(widths)), np.float32)
    blocks, start = [], 0
    for k, width in zip(order, widths):
        has = joined[f"_row{k}"].notna().to_numpy()
        values = prepared[k][1]
        x[has, start : start + values.shape[1]] = values[joined.loc[has, f"_row{k}"].astype(int)]
        if k != 0:
            x[has, start + width - 1] = 1.0
        blocks.append(Block(members[k].name, start, start + width, k != 0))
        start += width
    for column in SHARED:  # the base's, else the first other member's that has the step
        value = joined[f"{column}_0"]
        for k in range(1, len(members)):
            value = value.fillna(joined[f"{column}_{k}"])
        joined[column] = value
    joined["n_frames"] = joined["n_frames_0"].fillna(0)  # the base's frames averaged into the step
    steps = joined[STEP_COLUMNS].astype({"speaker": "int64", "step": "int32", "n_frames": "int32"})
    return steps, x, blocks, {m.name: transform for m, (_, _, transform) in zip(members, prepared)}


def transforms_to_json(transforms: dict[str, dict]) -> str:
    """`fuse`'s member transforms as JSON (arrays as lists), for a fused table's metadata."""

    def plain(value):
        return {k: plain(v) for k, v in value.items()} if isinstance(value, dict) else np.asarray(value).tolist()

    return json.dumps({name: plain(transform) for name, transform in transforms.items()})


def apply_transform(x: np.ndarray, transform: dict) -> np.ndarray:
    """A member's features of new steps through the transform fitted on a fold (`_prepared`)."""
    if "mean" in transform:
        x = standardise(x, transform["mean"], transform["std"])
    if "components" in transform:
        x = project(x, transform["components"])
    return x.astype(np.float32)
