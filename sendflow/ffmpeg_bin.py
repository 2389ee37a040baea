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
_STREAM = re.compile(r"^\s*Stream #", re.MULTILINE)
_FPS = re.compile(r", (\d+(?:\.\d+)?) fps")
# A phone's display rotation: side data in ffmpeg >= 7 ("Display Matrix: rotation of -90.00
# degrees"), 4-6 ("displaymatrix: ..."), and before 5 also a stream tag ("rotate : 90").
_ROTATION = re.compile(r"display ?matrix: rotation of (-?\d+(?:\.\d+)?) degrees", re.IGNORECASE)
_ROTATE_TAG = re.compile(r"^\s*rotate\s*:\s*(-?\d+(?:\.\d+)?)\s*$", re.MULTILINE)
_CONTAINER = re.compile(r"^Input #0, ([\w,]+), from ", re.M)


@dataclass(frozen=True)
class VideoInfo:
    """`width` x `height` is the frame as displayed (and as ffmpeg decodes it, autorotating):
    the stored size turned by `rotation`, the stream's display rotation in degrees."""

    duration_s: float | None
    width: int | None
    height: int | None
    rotation: float = 0.0
    container: str | None = None  # ffmpeg's demuxer, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "png_pipe"
    fps: float | None = None  # the video stream's frame rate, as ffmpeg reports it

    @property
    def still_image(self) -> bool:
        """Read by one of ffmpeg's image demuxers (png_pipe, jpeg_pipe, image2...): one frame."""
        return self.container is not None and (self.container == "image2" or self.container.endswith("_pipe"))


def display_rotation(stream_text: str) -> float:
    """The display rotation (degrees) in `ffmpeg -i`'s lines about one video stream; 0 if none."""
    found = _ROTATION.search(stream_text) or _ROTATE_TAG.search(stream_text)
    return float(found.group(1)) if found else 0.0


def turns_sideways(rotation: float) -> bool:
    """Whether ffmpeg's autorotation swaps width and height: within a degree of a quarter turn,
    as ffmpeg decides (other angles it rotates within the stored frame)."""
    angle = rotation % 360
    return abs(angle - 90) < 1 or abs(angle - 270) < 1


def probe(path) -> VideoInfo:
    """Duration, displayed frame size and rotation read from `ffmpeg -i` (imageio-ffmpeg ships no ffprobe)."""
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
    kind = container.group(1) if container else None
    if not size:
        return VideoInfo(seconds, None, None, container=kind)
    width, height = (int(v) for v in size.groups())
    rest = proc.stderr[size.end() :]
    next_stream = _STREAM.search(rest)
    stream = rest[: next_stream.start()] if next_stream else rest
    rotation = display_rotation(stream)
    if turns_sideways(rotation):  # a phone held upright: stored sideways, decoded upright
        width, height = height, width
    fps = _FPS.search(proc.stderr[size.start() :].split("\n", 1)[0])
    return VideoInfo(seconds, width, height, rotation, kind, float(fps.group(1)) if fps else None)


def video_fps(path) -> float | None:
    """The video stream's frame rate; None if ffmpeg cannot tell. ffmpeg prints two decimals:
    a rate that is an NTSC one (n x 1000/1001: 29.97, 23.98, 5.99) is taken exactly, so that
    frame counts turn into times without drifting (0.2 s after 5 minutes at 5.99)."""
    shown = probe(path).fps
    if shown is None:
        return None
    ntsc = round(shown * 1.001)
    return ntsc / 1.001 if abs(shown * 1.001 - ntsc) < 0.01 else shown


def probe_duration(path) -> float | None:
    """Container duration in seconds; None if ffmpeg cannot tell."""
    return probe(path).duration_s
