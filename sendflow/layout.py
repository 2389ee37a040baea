"""The SENDv1 release layout: where each kind of file lives and how it is named.

Split folders are `Train/Valid/Test` in the lab's code and `train/valid/test` in the released
zips, so they are matched case-insensitively; videos come as `_crop_downsized` or `_downsized`.
"""

import hashlib
import logging
import os
import re
import shlex
import time
from datetime import datetime, timezone
from pathlib import Path

from .errors import SendDataError
from .names import SPLITS

log = logging.getLogger(__name__)

# The video containers indexed: the release's mp4 and the common ones ffmpeg decodes, so that a
# re-encoded copy (webm, mkv, ...) is read, never taken for a limited-use clip without video.
VIDEO_EXTENSIONS = ("mp4", "m4v", "mov", "mkv", "webm", "avi", "mpg", "mpeg", "wmv", "flv", "ogv", "3gp", "ts")
_CLIP_VIDEO = r"^ID(\d+)_vid(\d+)_(?:crop_)?downsized\."
VIDEO_NAME = re.compile(_CLIP_VIDEO + f"(?:{'|'.join(VIDEO_EXTENSIONS)})$", re.IGNORECASE)
# A clip's video name with any other ending: refused by name rather than left out.
CLIP_VIDEO_ANY_ENDING = re.compile(_CLIP_VIDEO + ".+$", re.IGNORECASE)
OBSERVER_NAME = re.compile(r"^results_(\d+)_(\d+)\.csv$", re.IGNORECASE)
SELF_NAME = re.compile(r"^target_(\d+)_(\d+)_normal\.csv$", re.IGNORECASE)
EMOTIENT_NAME = re.compile(r"^ID(\d+)_vid(\d+)_(?:crop_)?downsized\.txt$", re.IGNORECASE)
# Each pattern's file types and expected name, for the error on a file of such a type whose name
# does not follow it.
NAME_FORMS = {
    VIDEO_NAME: (
        tuple(f".{ext}" for ext in VIDEO_EXTENSIONS),
        "ID<speaker>_vid<clip>_crop_downsized.mp4 (or _downsized.mp4)",
    ),
    OBSERVER_NAME: ((".csv",), "results_<speaker>_<clip>.csv"),
    SELF_NAME: ((".csv",), "target_<speaker>_<clip>_normal.csv"),
    EMOTIENT_NAME: ((".txt",), "ID<speaker>_vid<clip>_crop_downsized.txt (or _downsized.txt)"),
}


def clip_id(speaker: int, clip: int) -> str:
    return f"{speaker}_{clip}"


def split_dirs(parent: Path, unknown: str = "error") -> dict[str, Path]:
    """Map canonical split names to the folders under `parent`, matched case-insensitively.

    A folder of any other name (`Validation`, `dev`) would lose its clips without a word, so it
    stops the index (`unknown="error"`) or is skipped with a warning (`"warn"`); hidden folders
    are ignored."""
    found: dict[str, Path] = {}
    if not parent.is_dir():
        return found
    canonical = {s.lower(): s for s in SPLITS}
    for child in sorted(parent.iterdir()):
        if not child.is_dir() or child.name.startswith("."):
            continue
        split = canonical.get(child.name.lower())
        if split is None:
            _unknown_split(child, unknown)
            continue
        if split in found:
            raise SendDataError(child, f"split folder given twice (also {found[split].name})")
        found[split] = child
    return found


def _unknown_split(folder: Path, unknown: str) -> None:
    accepted = ", ".join(SPLITS)
    if unknown == "warn":
        log.warning(
            "%s: skipped, not a split folder (accepted: %s, any letter case; data.unknown_split is warn)",
            folder,
            accepted,
        )
        return
    raise SendDataError(
        folder,
        f"unknown split folder: accepted names are {accepted} (any letter case). Rename it, move it out of "
        f"{folder.parent.name}/, or set data.unknown_split: warn to skip it",
    )


def find_files(folder: Path, pattern: re.Pattern) -> dict[str, Path]:
    """Clip ID -> file for the files in `folder` whose names match `pattern`.

    Two files for one clip (e.g. both `_crop_downsized` and `_downsized`, or `.mp4` and
    `.webm`) are an error, and so is a file of an expected type whose name does not say its clip,
    and a clip's video with an ending no video container has (other files are ignored).
    """
    files: dict[str, Path] = {}
    if not folder.is_dir():
        return files
    suffixes, form = NAME_FORMS[pattern]
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        match = pattern.match(path.name)
        if not match:
            if path.suffix.lower() in suffixes:
                raise SendDataError(path, f"file name does not name a clip: expected {form}")
            if pattern is VIDEO_NAME and CLIP_VIDEO_ANY_ENDING.match(path.name):
                raise SendDataError(
                    path, f"not a video container sendflow reads: accepted endings are .{', .'.join(VIDEO_EXTENSIONS)}"
                )
            continue
        cid = clip_id(int(match.group(1)), int(match.group(2)))
        if cid in files:
            raise SendDataError(path, f"duplicate clip ID {cid} (also {files[cid]})")
        files[cid] = path
    return files


def file_stamps(paths) -> str:
    """sha256 over each file's path, size and mtime_ns (in the order given). Any change to any
    of them, in any direction, changes it: a corrected file copied in with its older time
    (`cp -p`, `rsync -a`, unzipping the release again) as well as an edited one."""
    digest = hashlib.sha256()
    for path in paths:
        stat = os.stat(path)
        digest.update(f"{path}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


CLOCK_TOLERANCE_S = 5.0  # clocks of a file server and this machine can differ by a second or two


def check_not_in_future(paths, root, tolerance_s: float = CLOCK_TOLERANCE_S) -> None:
    """Refuse dataset files modified after now: Snakemake would find them newer than every
    output made from them and delete or rerun those outputs on every run until that time."""
    now = time.time()
    ahead = [(path, mtime) for path in paths if (mtime := os.stat(path).st_mtime) > now + tolerance_s]
    if not ahead:
        return
    path, mtime = max(ahead, key=lambda item: item[1])

    def utc(seconds):
        return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")

    if len(ahead) > 1:
        touch_all = f"find {shlex.quote(str(root))} -newermt now -exec touch {{}} +"
        fix = f"{len(ahead) - 1} more such files; set them all to now with: {touch_all}"
    else:
        fix = f"set its time to now with: touch {shlex.quote(str(path))}"
    raise SendDataError(
        path,
        f"modified in the future, {utc(mtime)} (this machine's clock says {utc(now)}): Snakemake would take every "
        f"output made from it for out of date until then; {fix}",
    )
