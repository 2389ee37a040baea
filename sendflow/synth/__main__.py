"""CLI: python -m sendflow.synth OUT --speakers N --clips-per-speaker M --seconds S --seed K --style NAME"""

import argparse
import sys

from .dataset import generate_dataset
from .styles import STYLE_NAMES, STYLES


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m sendflow.synth",
        description=__doc__.split(":")[0] + ": write a synthetic dataset in the SENDv1 layout.",
    )
    p.add_argument("out", help="dataset folder to create")
    p.add_argument("--speakers", type=int, default=6)
    p.add_argument("--clips-per-speaker", type=int, default=2)
    p.add_argument("--seconds", type=float, default=20.0, help="length of each clip")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--width", type=int, default=320)
    p.add_argument("--height", type=int, default=240)
    p.add_argument(
        "--fps",
        type=float,
        default=30000 / 1001,
        help="video frame rate, as 29.97 / n for the nearest whole n (default: SEND's 29.97)",
    )
    p.add_argument(
        "--limited-fraction",
        type=float,
        default=0.15,
        help="share of clips shipped without video (ratings and features only)",
    )
    p.add_argument(
        "--split-case",
        choices=("title", "lower"),
        default="title",
        help="Train/Valid/Test or train/valid/test folder names",
    )
    p.add_argument(
        "--style",
        choices=STYLE_NAMES,
        default="demo",
        help="how the faces are drawn: "
        + "; ".join(f"{s.name}: {s.description}" for s in STYLES.values())
        + "; mixed: a style per speaker",
    )
    p.add_argument(
        "--test-style",
        choices=STYLE_NAMES,
        default=None,
        help="draw the Test split's speakers in this style instead (train on one, test on another)",
    )
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument("--force", action="store_true", help="replace OUT if it exists")
    a = p.parse_args(argv)
    try:
        path = generate_dataset(
            a.out,
            a.speakers,
            a.clips_per_speaker,
            a.seconds,
            a.seed,
            width=a.width,
            height=a.height,
            fps=a.fps,
            limited_fraction=a.limited_fraction,
            split_case=a.split_case,
            jobs=a.jobs,
            force=a.force,
            style=a.style,
            test_style=a.test_style,
        )
    except (ValueError, FileExistsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
