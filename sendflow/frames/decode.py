"""Stream frames out of ffmpeg at a fixed sampling rate, with the decoder's own timestamps.

ffmpeg samples (`fps` filter) and scales the frames, so Python only ever sees the few small
frames it keeps; `showinfo` reports each output frame's pts_time, which we use as its time
instead of assuming index / rate (streams can start late or drop frames).
"""

import queue
import re
import threading
from collections.abc import Iterator

import ffmpeg
import numpy as np

from ..errors import SendDataError
from ..ffmpeg_bin import ffmpeg_path, probe

_PTS_TIME = re.compile(r"\bn:\s*\d+.*?\bpts_time:\s*(-?[\d.]+)")


def scaled_size(width: int, height: int, target_width: int) -> tuple[int, int]:
    """Output size for a target width: never upscale, keep the aspect, even dimensions."""
    out_w = min(target_width, width) // 2 * 2
    out_h = max(2, int(round(height * out_w / width / 2)) * 2)
    return out_w, out_h


def decode_frames(path, fps: float, width: int) -> tuple[Iterator[np.ndarray], list[float], dict]:
    """Start decoding `path`; return (frame iterator, frame times filled as frames arrive, info).

    After the iterator is exhausted, `info["returncode"]` and `info["stderr"]` are set.
    """
    meta = probe(path)
    if meta.width is None:
        raise SendDataError(path, "ffmpeg finds no video stream (corrupt or not a video file)")
    if meta.still_image:
        raise SendDataError(path, f"a still image ({meta.container}), not a video: it has a single frame")
    out_w, out_h = scaled_size(meta.width, meta.height, width)
    process = (
        ffmpeg.input(str(path), threads=1)  # one decoder thread: the job's other core detects faces
        .filter("fps", fps=fps)
        .filter("scale", out_w, out_h, flags="area")
        .filter("showinfo")
        .output("pipe:", format="rawvideo", pix_fmt="rgb24", threads=1)
        .run_async(cmd=[ffmpeg_path(), "-hide_banner", "-nostdin"], pipe_stdout=True, pipe_stderr=True)
    )
    times: list[float] = []
    stderr_lines: list[str] = []
    info: dict = {}

    def drain_stderr():  # a full stderr pipe would stall ffmpeg, so read it concurrently
        for raw in process.stderr:
            line = raw.decode(errors="replace")
            match = _PTS_TIME.search(line)
            if match and "Parsed_showinfo" in line:
                times.append(float(match.group(1)))
            else:
                stderr_lines.append(line)

    reader = threading.Thread(target=drain_stderr, daemon=True)
    reader.start()

    frame_bytes = out_w * out_h * 3
    buffered: queue.Queue = queue.Queue(maxsize=32)

    def read_stdout():
        # A pipe holds less than one frame, so without this reader ffmpeg would wait for the
        # caller (e.g. face detection) after every frame instead of decoding ahead.
        while True:
            buf = process.stdout.read(frame_bytes)
            if len(buf) < frame_bytes:
                buffered.put(None)
                return
            buffered.put(buf)

    threading.Thread(target=read_stdout, daemon=True).start()

    def frames():
        try:
            while (buf := buffered.get()) is not None:
                yield np.frombuffer(buf, np.uint8).reshape(out_h, out_w, 3)
        finally:
            process.stdout.close()
            info["returncode"] = process.wait()
            reader.join()
            info["stderr"] = "".join(stderr_lines[-20:])

    return frames(), times, info
