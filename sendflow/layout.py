"""The SENDv1 release layout: where each kind of file lives and how it is named.

Split folders are `Train/Valid/Test` in the lab's code and `train/valid/test` in the released
zips, so they are matched case-insensitively; videos come as `_crop_downsized` or `_downsized`.
"""

import hashlib
import os
import re
from pathlib import Path

from .errors import SendDataError
from .names import SPLITS

VIDEO_NAME = re.compile(r"^ID(\d+)_vid(\d+)_(?:crop_)?downsized\.mp4$", re.IGNORECASE)
OBSERVER_NAME = re.compile(r"^results_(\d+)_(\d+)\.csv$", re.IGNORECASE)
SELF_NAME = re.compile(r"^target_(\d+)_(\d+)_normal\.csv$", re.IGNORECASE)
EMOTIENT_NAME = re.compile(r"^ID(\d+)_vid(\d+)_(?:crop_)?downsized\.txt$", re.IGNORECASE)
# Each pattern's file type and expected name, for the error on a file of that type whose name
# does not follow it.
NAME_FORMS = {
    VIDEO_NAME: (".mp4", "ID<speaker>_vid<clip>_crop_downsized.mp4 (or _downsized.mp4)"),
    OBSERVER_NAME: (".csv", "results_<speaker>_<clip>.csv"),
    SELF_NAME: (".csv", "target_<speaker>_<clip>_normal.csv"),
    EMOTIENT_NAME: (".txt", "ID<speaker>_vid<clip>_crop_downsized.txt (or _downsized.txt)"),
}


def clip_id(speaker: int, clip: int) -> str:
    return f"{speaker}_{clip}"


def split_dirs(parent: Path) -> dict[str, Path]:
    """Map canonical split names to the folders under `parent`, matched case-insensitively."""
    found: dict[str, Path] = {}
    if not parent.is_dir():
        return found
    canonical = {s.lower(): s for s in SPLITS}
    for child in sorted(parent.iterdir()):
        split = canonical.get(child.name.lower())
        if split is None or not child.is_dir():
            continue
        if split in found:
            raise SendDataError(child, f"split folder given twice (also {found[split].name})")
        found[split] = child
    return found


def find_files(folder: Path, pattern: re.Pattern) -> dict[str, Path]:
    """Clip ID -> file for the files in `folder` whose names match `pattern`.

    Two files for one clip (e.g. both `_crop_downsized` and `_downsized`) are an error, and so
    is a file of the expected type whose name does not say its clip (other files are ignored).
    """
    files: dict[str, Path] = {}
    if not folder.is_dir():
        return files
    suffix, form = NAME_FORMS[pattern]
    for path in sorted(folder.iterdir()):
        match = pattern.match(path.name)
        if not match:
            if path.suffix.lower() == suffix and not path.name.startswith("."):
                raise SendDataError(path, f"file name does not name a clip: expected {form}")
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
