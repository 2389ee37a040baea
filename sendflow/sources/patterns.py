"""Where a table source's file of a clip is: a path pattern, resolved per clip.

Fields: `{root}` (the dataset folder read), `{split}` (the split folder, any letter case), `{n}`
(speaker), `{m}` (clip number), `{clip}` (`{n}_{m}`) and `{stem}` (the clip's video file name
without extension; clips without video have none). A `*` stands for the rest of a name, and
exactly one file may match. Resolved here, in Python: Snakemake would format the braces of a
plain-string param as wildcards.
"""

import glob
import string
from pathlib import Path

from ..errors import SendDataError

FIELDS = ("root", "split", "n", "m", "clip", "stem")


def pattern_fields(pattern: str) -> set[str]:
    """The fields `pattern` uses; ValueError naming any field that is not one of FIELDS."""
    try:
        used = {field for _, field, spec, _ in string.Formatter().parse(pattern) if field is not None}
    except ValueError as error:
        raise ValueError(f"path pattern {pattern!r}: {error}") from None
    unknown = sorted(used - set(FIELDS))
    if unknown:
        raise ValueError(
            f"path pattern {pattern!r}: unknown field(s) {', '.join('{' + f + '}' for f in unknown)}; "
            f"fields: {', '.join('{' + f + '}' for f in FIELDS)}"
        )
    return used


def _literal(text: str) -> str:
    """`text` as a glob that matches it exactly, but for `*`, which stays a wildcard."""
    return "*".join(glob.escape(part) for part in text.split("*"))


def _any_case(text: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else glob.escape(c) for c in text)


def resolve(pattern: str, *, root, split: str, speaker: int, clip: int, video_path: str | None) -> Path | None:
    """The one file `pattern` names for a clip; None where none exists (or the pattern needs
    `{stem}` and the clip has no video). More than one match is an error naming them."""
    used = pattern_fields(pattern)
    if "stem" in used and not video_path:
        return None
    values = {
        "root": glob.escape(str(root)),
        "split": _any_case(split),
        "n": str(speaker),
        "m": str(clip),
        "clip": f"{speaker}_{clip}",
        "stem": glob.escape(Path(video_path).stem) if video_path else "",
    }
    parts = []
    for text, field, _, _ in string.Formatter().parse(pattern):
        parts.append(_literal(text))
        if field is not None:
            parts.append(values[field])
    matches = sorted(glob.glob("".join(parts)))
    if len(matches) > 1:
        raise SendDataError(
            matches[0],
            f"{len(matches)} files match {pattern!r} for clip {speaker}_{clip} "
            f"({', '.join(matches[:3])}{', ...' if len(matches) > 3 else ''}); make the pattern name one",
        )
    return Path(matches[0]) if matches else None


def resolve_all(pattern: str, root, index) -> dict[str, str]:
    """Clip ID -> its file, for the clips of `index` (the clip table) that have one."""
    found = {}
    for row in index.itertuples():
        path = resolve(
            pattern,
            root=root,
            split=row.split,
            speaker=row.speaker,
            clip=row.clip,
            video_path=row.video_path if row.has_video else None,
        )
        if path is not None:
            found[row.clip_id] = str(path)
    return found


def resolve_for_video(pattern: str, video) -> Path:
    """The one file `pattern` names for a new video (`sendflow predict --table`): `{stem}` is the
    video's file name without extension (the only field a new video has), `*` the rest of a
    name. No match, or more than one, is an error naming the pattern."""
    parts = []
    for text, field, _, _ in string.Formatter().parse(pattern):
        parts.append(_literal(text))
        if field is not None:
            parts.append(glob.escape(Path(video).stem))
    matches = sorted(glob.glob("".join(parts)))
    if len(matches) != 1:
        found = f"{len(matches)} files match" if matches else "no file matches"
        raise SendDataError(video, f"{found} the table pattern {pattern!r} for this video")
    return Path(matches[0])
