"""Speaker-wise cross-validation folds.

Every fold gives each clip one role: `train` (fit), `select` (model selection / early
stopping, never the test fold), or `test`. All clips of a speaker share one role in a fold,
so no person is ever on both sides of a comparison.
"""

import numpy as np
import pandas as pd

from .errors import SendDataError
from .names import ROLES, SPLITS

COLUMNS = ["fold", "clip_id", "speaker", "split", "role"]


def fold_ids(mode: str, k: int) -> list[int]:
    """The fold numbers a config produces, known before any data is read."""
    return list(range(k)) if mode == "kfold" else [0]


def _balanced_groups(speakers: pd.Series, k: int, rng: np.random.Generator) -> list[list[int]]:
    """Split speakers into k groups of similar clip counts (shuffled, then greedy by size)."""
    counts = speakers.value_counts()
    order = rng.permutation(counts.index.to_numpy())
    order = sorted(order, key=lambda s: -counts[s])  # stable: ties keep the shuffled order
    groups: list[list[int]] = [[] for _ in range(k)]
    sizes = [0] * k
    for speaker in order:
        smallest = int(np.argmin(sizes))
        groups[smallest].append(int(speaker))
        sizes[smallest] += int(counts[speaker])
    return groups


def _carve_select(train_speakers: list[int], fraction: float, rng) -> tuple[list[int], list[int]]:
    n_select = max(1, int(round(fraction * len(train_speakers))))
    shuffled = [int(s) for s in rng.permutation(sorted(train_speakers))]
    return shuffled[n_select:], shuffled[:n_select]


def _rows(fold: int, clips: pd.DataFrame, roles: dict[int, str]) -> pd.DataFrame:
    part = clips[clips["speaker"].isin(roles)].copy()
    part["role"] = part["speaker"].map(roles)
    part["fold"] = fold
    return part[COLUMNS]


def make_folds(
    index: pd.DataFrame,
    mode: str,
    *,
    k: int | None = None,
    select_fraction: float | None = None,
    seed: int | None = None,
) -> pd.DataFrame:
    """One row per (fold, clip) with the clip's role in that fold. `official` follows the
    release's splits and reads nothing else; `kfold` needs `k`, `select_fraction` and `seed`."""
    if mode == "kfold" and None in (k, select_fraction, seed):
        raise TypeError("make_folds in kfold mode needs k, select_fraction and seed")
    rng = np.random.default_rng(seed)
    if mode == "official":
        by_split = {s: sorted(index.loc[index["split"] == s, "speaker"].unique()) for s in SPLITS}
        empty = [s for s, speakers in by_split.items() if not speakers]
        if empty:
            raise SendDataError(None, f"cv.mode official needs clips in every split; none in {empty}")
        splits = index.groupby("speaker")["split"].unique()
        mixed = {int(s): sorted(v) for s, v in splits.items() if len(v) > 1}
        if mixed:  # official roles follow splits: such a speaker would leak between roles
            speaker, where = next(iter(mixed.items()))
            raise SendDataError(
                None,
                f"cv.mode official: {len(mixed)} speaker(s) have clips in more than one "
                f"split (e.g. speaker {speaker} in {', '.join(where)}): fix the "
                "dataset's split folders, or use cv.mode kfold",
            )
        roles = {s: r for split, r in zip(SPLITS, ROLES) for s in by_split[split]}
        folds = _rows(0, index, roles)
    elif mode == "kfold":
        pool = index[index["split"].isin(["Train", "Valid"])]
        n_speakers = pool["speaker"].nunique()
        if n_speakers < k + 2:
            raise SendDataError(
                None,
                f"cv.k={k} needs at least {k + 2} Train+Valid speakers (test, select and "
                f"train in every fold); the dataset has {n_speakers}",
            )
        parts = []
        for fold, test_speakers in enumerate(_balanced_groups(pool["speaker"], k, rng)):
            rest = sorted(set(pool["speaker"]) - set(test_speakers))
            train, select = _carve_select(rest, select_fraction, rng)
            roles = {
                **{s: "train" for s in train},
                **{s: "select" for s in select},
                **{s: "test" for s in test_speakers},
            }
            parts.append(_rows(fold, pool, roles))
        folds = pd.concat(parts, ignore_index=True)
    else:
        raise ValueError(f"unknown cv.mode {mode!r}")
    check_folds(folds)
    return folds.reset_index(drop=True)


def check_folds(folds: pd.DataFrame) -> None:
    """Fail loudly if any speaker or clip holds two roles within one fold."""
    for column in ("speaker", "clip_id"):
        roles_per = folds.groupby(["fold", column])["role"].nunique()
        leaked = roles_per[roles_per > 1]
        if not leaked.empty:
            fold, value = leaked.index[0]
            raise AssertionError(f"fold {fold}: {column} {value} holds more than one role")
    missing = [r for r in ROLES for f, g in folds.groupby("fold") if r not in set(g["role"])]
    if missing:
        raise AssertionError(f"a fold lacks role(s) {sorted(set(missing))}")


def fold_roles(folds: pd.DataFrame, fold: int, features: pd.DataFrame | None = None) -> dict[str, str]:
    """clip_id -> role for one fold; AssertionError if a clip or a speaker holds two roles
    (speakers are taken from the folds and, when given, from the features too)."""
    rows = folds[folds["fold"] == fold]
    if rows.empty:
        raise ValueError(f"fold {fold} is not in the folds table")
    bad = set(rows["role"]) - set(ROLES)
    assert not bad, f"fold {fold}: unknown role(s) {sorted(bad)}"
    per_clip = rows.groupby("clip_id")["role"].agg(lambda r: sorted(set(r)))
    for clip, roles in per_clip.items():
        assert len(roles) == 1, f"fold {fold}: clip {clip} appears in more than one role: {roles}"
    roles = {str(c): r[0] for c, r in per_clip.items()}
    pairs = [rows[["speaker", "clip_id"]]]
    if features is not None:
        pairs.append(features[["speaker", "clip_id"]].drop_duplicates())
    pairs = pd.concat(pairs).astype({"clip_id": str})
    pairs = pairs[pairs["clip_id"].isin(roles)]
    per_speaker = pairs.assign(role=pairs["clip_id"].map(roles)).groupby("speaker")["role"].unique()
    for speaker, spk_roles in per_speaker.items():
        assert len(spk_roles) == 1, f"fold {fold}: speaker {speaker} spans roles {sorted(spk_roles)}"
    return roles
