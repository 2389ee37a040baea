"""Benchmark: reading an OpenFace CSV's default columns against pandas reading the whole file.

Writes a 4-minute 30 fps OpenFace 2.x file in the real layout (7,200 rows of 714 columns,
`, ` between fields; sendflow/synth/tool_formats.py) to a temporary folder, then times, best of
--repeats in this process:
  baseline: pandas.read_csv(path, skipinitialspace=True), every column
  reader:   sendflow.sources.formats.openface.read(path, DEFAULT_COLUMNS, {"min_confidence": 0.75})
Prints both, the ratio reader/baseline, and exits 1 when the reader takes 1 s or more.
Usage: python bench/read_openface.py [--repeats 5] [--seconds 240]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from timing import best_of  # bench/timing.py, beside this script

from sendflow.config import schema_defaults
from sendflow.sources.formats import openface
from sendflow.synth.identity import make_identity
from sendflow.synth.signals import STREAM_OPENFACE, clip_rng, make_clip_signals
from sendflow.synth.tool_formats import write_openface

GOAL_S = 1.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=240)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ID111_vid1_crop_downsized.csv"
        ident = make_identity(1, 111, "demo")
        sig = make_clip_signals(1, 111, 1, args.seconds, ident)
        start = time.perf_counter()
        write_openface(sig, ident, clip_rng(1, 111, 1, STREAM_OPENFACE), 1, 640, 480, path)
        written = time.perf_counter() - start
        with open(path) as f:
            rows = sum(1 for _ in f) - 1
            f.seek(0)
            cols = len(f.readline().split(","))
        print(f"file: {rows} rows x {cols} columns, {path.stat().st_size / 1e6:.1f} MB, written in {written:.2f} s")

        base_s, whole = best_of(args.repeats, lambda: pd.read_csv(path, skipinitialspace=True))
        options = {"min_confidence": schema_defaults()["tables"]["emotient"]["min_confidence"]}  # a table's default
        read_s, (times, values) = best_of(args.repeats, lambda: openface.read(path, openface.DEFAULT_COLUMNS, options))
        # one row per frame of the face tracked longest (a clip may show a second face)
        assert values.shape == (whole["face_id"].value_counts().max(), len(openface.DEFAULT_COLUMNS))
        print(f"baseline pandas.read_csv, all {whole.shape[1]} columns: {base_s:.3f} s (best of {args.repeats})")
        print(f"openface.read, {len(openface.DEFAULT_COLUMNS)} default columns: {read_s:.3f} s")
        print(f"ratio reader/baseline: {read_s / base_s:.2f} (goal: reader < {GOAL_S:g} s)")
    return 0 if read_s < GOAL_S else 1


if __name__ == "__main__":
    sys.exit(main())
