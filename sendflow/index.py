"""Build the clip index of a SENDv1 root: one row per clip, with every path and a few facts.

Every clip has observer ratings (the standard target); "limited use" clips have no video and
are listed with `has_video = False` so that video stages skip them and feature sources that
do not need video can still use them.
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from . import layout
from .errors import SendDataError
from .ffmpeg_bin import probe_duration
from .names import SPLITS
from .ratings import RATING_STEP_S, read_observer, read_self

log = logging.getLogger(__name__)

COLUMNS = [
    "clip_id",
    "speaker",
    "clip",
    "split",
    "has_video",
    "video_path",
    "observer_path",
    "self_path",
    "emotient_path",
    "n_ratings",
    "duration_s",
]


def _scan_split(root: Path, split: str, dirs: dict[str, dict[str, Path]]) -> list[dict]:
    """Rows for one split: observer ratings anchor a clip; the other files are optional."""

    def files(kind: str, sub: str, pattern):
        folder = dirs[kind].get(split)
        return layout.find_files(folder / sub if sub else folder, pattern) if folder else {}

    observers = files("ratings", "observer_EWE", layout.OBSERVER_NAME)
    selves = files("ratings", "target", layout.SELF_NAME)
    videos = files("videos", "", layout.VIDEO_NAME)
    emotients = files("features", "emotient", layout.EMOTIENT_NAME)

    orphans = sorted(set(videos) - set(observers))
    if orphans:
        video = videos[orphans[0]]
        raise SendDataError(
            video,
            f"video of clip {orphans[0]} has no observer ratings (expected "
            f"ratings/{split}/observer_EWE/results_{orphans[0]}.csv)"
            + (f"; {len(orphans) - 1} more such videos" if len(orphans) > 1 else ""),
        )
    rows = []
    for cid, observer in observers.items():
        speaker, clip = (int(x) for x in cid.split("_"))
        rows.append(
            {
                "clip_id": cid,
                "speaker": speaker,
                "clip": clip,
                "split": split,
                "has_video": cid in videos,
                "video_path": str(videos[cid]) if cid in videos else None,
                "observer_path": str(observer),
                "self_path": str(selves[cid]) if cid in selves else None,
                "emotient_path": str(emotients[cid]) if cid in emotients else None,
            }
        )
    return rows


def _add_rating_facts(row: dict) -> dict:
    """Count usable ratings and find the clip's duration (video if present, else ratings)."""
    ratings = read_observer(row["observer_path"])
    if row["self_path"]:
        read_self(row["self_path"])  # fail early, naming the file, if it is unreadable
    row["n_ratings"] = len(ratings)
    row["ewe_range"] = (float(ratings["valence"].min() + 1) * 50, float(ratings["valence"].max() + 1) * 50)
    row["ratings_s"] = float(ratings["time"].iloc[-1]) + RATING_STEP_S
    row["video_s"] = video_s = probe_duration(row["video_path"]) if row["has_video"] else None
    if row["has_video"] and video_s is None:
        log.warning("%s: ffmpeg reports no duration; the frame stage will check it", row["video_path"])
    row["duration_s"] = video_s if video_s is not None else row["ratings_s"]
    return row


def check_rating_span(rows: list[dict], root: Path, min_span: float) -> None:
    """Refuse a dataset whose observer ratings, all files together, span fewer than `min_span`
    EWE points: on the wrong scale (0-1 instead of 0-100) every step is one class and every
    class score perfect, with nothing else to show for it."""
    low = min(row["ewe_range"][0] for row in rows)
    high = max(row["ewe_range"][1] for row in rows)
    if high - low >= min_span:
        return
    examples = ", ".join(row["observer_path"] for row in rows[:2])
    examples += f" and {len(rows) - 2} more" if len(rows) > 2 else ""
    raise SendDataError(
        root / "ratings",
        (
            f"the observer ratings of all {len(rows)} files ({examples}) span only {low:g} to {high:g}, "
            f"{high - low:.3g} points of SEND's 0-100 evaluatorWeightedEstimate scale (data.min_rating_span is "
            f"{min_span:g}). Ratings on a 0-1 scale? Multiply that column by 100. If these ratings are right, "
            "set data.min_rating_span: 0"
        ),
    )


def check_rating_files(rows: list[dict], action: str = "warn") -> None:
    """Warn about (or with `action="error"` refuse) single observer rating files that pass every
    other check yet look wrong: a file that ends long before its video (truncated), and a file
    whose ratings all lie within 0-10 where the dataset's median file reaches far higher (another
    scale). Each is logged with its numbers; with "error" the first stops the index."""
    problems = [*_short_ratings(rows), *_low_ratings(rows)]
    for path, problem in problems:
        log.warning("%s: %s", path, problem)
    if problems and action == "error":
        path, problem = problems[0]
        more = f" ({len(problems) - 1} more such files in the log)" if len(problems) > 1 else ""
        raise SendDataError(path, f"{problem}{more}")


# Real rating files end up to a few rows (0.5 s each) before their video; the shortest SEND
# clips last about 35 s, so ten percent of a clip is several seconds more than that raggedness.
MIN_RATING_COVERAGE = 0.9
# One file on a 0-10 scale (or 0-1) passes the 0-100 range check and, among right files, the
# dataset-wide span check. Its highest rating is at most 10 where the dataset's other files reach
# far higher. Values alone cannot tell it from a clip rated deeply negative throughout (valence
# -0.8 or below from start to end), so the rule asks both: every rating within 0-10, and the
# median file's highest rating (the median, so one odd file cannot move the bar) over five times
# higher. A rule on the ratio alone fired on the short synthetic clips, which sit at one extreme.
LOW_SCALE_TOP = 10.0
LOW_MAX_FRACTION = 0.2


def _short_ratings(rows: list[dict]):
    for row in rows:
        video_s, rated_s = row["video_s"], row["ratings_s"]
        if video_s and rated_s < MIN_RATING_COVERAGE * video_s:
            yield (
                row["observer_path"],
                f"observer ratings cover only {rated_s:.1f} s of the {video_s:.1f} s video "
                f"{row['video_path']} ({rated_s / video_s:.0%}): truncated rating file? Clip steps past "
                f"{rated_s:.1f} s have no target",
            )


def _low_ratings(rows: list[dict]):
    median_max = float(np.median([row["ewe_range"][1] for row in rows]))
    for row in rows:
        top = row["ewe_range"][1]
        if top <= LOW_SCALE_TOP and top < LOW_MAX_FRACTION * median_max:
            yield (
                row["observer_path"],
                f"observer ratings stay within 0-{LOW_SCALE_TOP:g} (highest {top:g}) where the median file of the "
                f"dataset's {len(rows)} reaches {median_max:g}: on a 0-10 scale? SEND's is 0-100",
            )


def build_index(
    root,
    threads: int = 4,
    min_rating_span: float = 0.0,
    *,
    unknown_split: str,
    rating_checks: str,
) -> pd.DataFrame:
    """Index every clip under the SENDv1 `root`; raise SendDataError on bad input, including
    observer ratings that span fewer than `min_rating_span` EWE points in all, and split folders
    of unknown names (`unknown_split="warn"` skips them with a warning). Rating files that look
    truncated or on another scale are logged, or refused with `rating_checks="error"`."""
    root = Path(root)
    if not root.exists():
        raise SendDataError(root, "dataset root does not exist")
    if not root.is_dir() or not any(root.iterdir()):
        raise SendDataError(root, "dataset root is empty or not a folder")
    dirs = {kind: layout.split_dirs(root / kind, unknown_split) for kind in ("ratings", "videos", "features")}
    if not dirs["ratings"]:
        raise SendDataError(root, "no ratings/<Train|Valid|Test> folders: not a SENDv1 root")
    rows = [row for split in SPLITS for row in _scan_split(root, split, dirs)]
    if not rows:
        raise SendDataError(root / "ratings", "no observer rating files (results_<n>_<m>.csv)")
    seen: dict[str, str] = {}
    for row in rows:
        if row["clip_id"] in seen:
            raise SendDataError(
                row["observer_path"],
                f"duplicate clip ID {row['clip_id']} (also {seen[row['clip_id']]})",
            )
        seen[row["clip_id"]] = row["observer_path"]
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        rows = list(pool.map(_add_rating_facts, rows))
    check_rating_span(rows, root, min_rating_span)
    check_rating_files(rows, rating_checks)
    index = pd.DataFrame(rows, columns=COLUMNS)
    index = index.sort_values(["split", "speaker", "clip"], key=_split_order).reset_index(drop=True)
    return index.astype(
        {"speaker": "int64", "clip": "int64", "n_ratings": "int64", "duration_s": "float64", "has_video": "bool"}
    )


def _split_order(column: pd.Series) -> pd.Series:
    return column.map(SPLITS.index) if column.name == "split" else column


def describe(index: pd.DataFrame) -> str:
    """A few lines for the log: clips and speakers per split, and the limited-use clips."""
    lines = []
    for split, group in index.groupby("split", sort=False):
        lines.append(
            f"{split}: {len(group)} clips, {group['speaker'].nunique()} speakers, "
            f"{int(group['has_video'].sum())} with video"
        )
    limited = index.loc[~index["has_video"], "clip_id"].tolist()
    lines.append(
        f"{len(limited)} limited-use clips without video (skipped by video stages): "
        + (", ".join(limited) if limited else "none")
    )
    return "\n".join(lines)
