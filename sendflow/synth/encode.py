"""Pipe raw frames into the ffmpeg binary and get an H.264 mp4 like the release's."""

import subprocess

from ..ffmpeg_bin import ffmpeg_path


class Mp4Writer:
    """Context manager: write(frame_bgr_uint8) per frame; raises if ffmpeg fails."""

    def __init__(self, path, width, height, fps="30000/1001", crf=28):
        self.path = path
        cmd = [
            ffmpeg_path(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "bgr24",
            "-s",
            f"{width}x{height}",
            "-r",
            fps,
            "-i",
            "-",
            "-an",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            str(crf),
            "-pix_fmt",
            "yuv420p",
            "-threads",
            "1",
            "-x264-params",
            "threads=1:log-level=error",
            "-movflags",
            "+faststart",
            str(path),
        ]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)

    def write(self, frame):
        self.proc.stdin.write(frame.tobytes())

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.proc.stdin.close()
        err = self.proc.stderr.read().decode(errors="replace")
        code = self.proc.wait()
        if exc_type is None and code != 0:
            raise RuntimeError(f"ffmpeg failed writing {self.path} (exit {code}): {err.strip()}")
        return False
