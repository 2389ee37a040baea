"""Benchmark: the frame stage's time per clip against a bare ffmpeg decode of the same clip.

Both run here, on one 60 s 640x480 30 fps H.264 clip of the synthetic dataset:
  baseline: ffmpeg -i clip -vf fps=2,scale=W:H -f rawvideo -pix_fmt rgb24 -  (to a null sink)
  stage:    sendflow.frames.extract.extract_clip (decode, Haar face detection, smoothing, crops)
Prints seconds (best of --repeats), the ratio stage/baseline (bar <= 2.0, goal 1.3) and
frames per second. Usage: python bench/frames.py [--repeats 5] [--fps 2] [--no-face-crop]
"""

import argparse
import subprocess
import tempfile
from pathlib import Path

from timing import best_of  # bench/timing.py, beside this script

from sendflow.ffmpeg_bin import ffmpeg_path
from sendflow.frames.decode import scaled_size
from sendflow.frames.extract import extract_clip
from sendflow.synth import generate_dataset


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--fps", type=float, default=2)
    parser.add_argument("--no-face-crop", action="store_true")
    parser.add_argument("--detector", default="yunet", choices=["yunet", "haar"])
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "send"
        generate_dataset(
            root,
            speakers=3,
            clips_per_speaker=1,
            seconds=60,
            seed=1,
            width=640,
            height=480,
            limited_fraction=0.0,
            style="demo",
        )
        video = sorted(root.glob("videos/*/*.mp4"))[0]
        clip = video.name.split("_vid")[0][2:] + "_" + video.name.split("_vid")[1].split("_")[0]
        observer = next(root.glob(f"ratings/*/observer_EWE/results_{clip}.csv"))
        cfg = dict(
            fps=args.fps,
            size=112,
            decode_width=320,
            detect_width=160,
            detector=args.detector,
            face_crop=not args.no_face_crop,
            margin=0.2,
            smooth_window=5,
            max_rating_overhang_s=2.0,
        )
        out_w, out_h = scaled_size(640, 480, cfg["decode_width"])
        bare = [
            ffmpeg_path(),
            "-v",
            "error",
            "-nostdin",
            "-threads",
            "1",
            "-i",
            str(video),
            "-vf",
            f"fps={args.fps},scale={out_w}:{out_h}:flags=area",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-threads",
            "1",
            "-",
        ]
        base_s, _ = best_of(args.repeats, lambda: subprocess.run(bare, stdout=subprocess.DEVNULL, check=True))
        stage_s, arrays = best_of(args.repeats, lambda: extract_clip(video, observer, cfg))

    n = len(arrays["times"])
    print(
        f"clip: 60 s 640x480 30 fps H.264, sampled at {args.fps:g} fps -> {n} frames, "
        f"face crop {'on' if cfg['face_crop'] else 'off'}, face found in "
        f"{100 * arrays['face_rate']:.0f}% of frames"
    )
    print(f"bare ffmpeg decode : {base_s:6.3f} s  ({n / base_s:7.1f} frames/s)")
    print(f"frame stage        : {stage_s:6.3f} s  ({n / stage_s:7.1f} frames/s)")
    print(f"ratio stage/bare   : {stage_s / base_s:6.2f}  (bar <= 2.0, goal 1.3)")


if __name__ == "__main__":
    main()
