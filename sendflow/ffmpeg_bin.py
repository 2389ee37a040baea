"""Locate an ffmpeg binary: the system one if on PATH, else the static one imageio-ffmpeg ships."""

import functools
import os
import re
import shutil
import subprocess


@functools.lru_cache(maxsize=None)
def ffmpeg_path() -> str:
    """Path of the ffmpeg executable; `SENDFLOW_FFMPEG` overrides the search."""
    override = os.environ.get("SENDFLOW_FFMPEG")
    if override:
        return override
    system = shutil.which("ffmpeg")
    if system:
        return system
    import imageio_ffmpeg  # only needed when there is no system ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")


def probe_duration(path) -> float | None:
    """Container duration in seconds, read from `ffmpeg -i` (no ffprobe needed); None if unknown."""
    proc = subprocess.run(
        [ffmpeg_path(), "-hide_banner", "-i", str(path)],
        capture_output=True, text=True, errors="replace",
    )
    match = _DURATION.search(proc.stderr)
    if not match:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
