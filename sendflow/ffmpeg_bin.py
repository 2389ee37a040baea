"""Locate an ffmpeg binary: the system one if on PATH, else the static one imageio-ffmpeg ships."""

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass


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
_VIDEO_SIZE = re.compile(r"Stream #.*?Video:.*?, (\d{2,5})x(\d{2,5})")
_CONTAINER = re.compile(r"^Input #0, ([\w,]+), from ", re.M)


@dataclass(frozen=True)
class VideoInfo:
    duration_s: float | None
    width: int | None
    height: int | None
    container: str | None = None  # ffmpeg's demuxer, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "png_pipe"

    @property
    def still_image(self) -> bool:
        """Read by one of ffmpeg's image demuxers (png_pipe, jpeg_pipe, image2...): one frame."""
        return self.container is not None and (self.container == "image2" or self.container.endswith("_pipe"))


def probe(path) -> VideoInfo:
    """Duration and frame size read from `ffmpeg -i` (imageio-ffmpeg ships no ffprobe)."""
    proc = subprocess.run(
        [ffmpeg_path(), "-hide_banner", "-i", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
    )
    duration = _DURATION.search(proc.stderr)
    size = _VIDEO_SIZE.search(proc.stderr)
    container = _CONTAINER.search(proc.stderr)
    seconds = None
    if duration:
        hours, minutes, secs = duration.groups()
        seconds = int(hours) * 3600 + int(minutes) * 60 + float(secs)
    width, height = (int(v) for v in size.groups()) if size else (None, None)
    return VideoInfo(seconds, width, height, container.group(1) if container else None)


def probe_duration(path) -> float | None:
    """Container duration in seconds; None if ffmpeg cannot tell."""
    return probe(path).duration_s
