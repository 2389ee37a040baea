"""Benchmark: the coder job's frames per second against a bare forward of the same network.

Writes --clips frame files of --frames face crops each (results/frames' format, --size px,
random pixels) to a temporary folder, then times, best of --repeats, in this process and on one
thread (as the job runs):
  baseline: the network's forward alone on crops already resized, grey and scaled, in batches
            of the coder's batch_size (the most a coder job could do)
  job:      sendflow.sources.coder.code_clips, what rule coder_steps runs: each clip's file read,
            its crops resized, turned grey and scaled, coded, and pooled per rating step
Prints frames/s of both and their ratio (goal: the job at 0.9 of the bare forward or more);
exit status 1 below the goal.
Usage: python bench/coder.py [--clips 12] [--frames 300] [--size 112] [--repeats 3]
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from timing import best_of  # bench/timing.py, beside this script

from sendflow.frames.files import write_clip
from sendflow.models.fer import load_fer
from sendflow.sources.coder import code_clips, crops_to_input, load_coder

GOAL = 0.9
SPEC = {"model": "fer", "input": {"size": 64, "channels": 1, "mean": 0.5, "std": 0.5}, "outputs": ["logits"]}


def frame_files(folder: Path, clips: int, frames: int, size: int) -> list[Path]:
    rng = np.random.default_rng(0)
    paths = []
    for k in range(clips):
        path = folder / f"{100 + k}_1.npz"
        arrays = {
            "frames": rng.integers(0, 256, (frames, size, size, 3), dtype=np.uint8),
            "steps": np.arange(frames) // 2,
            "valence": np.zeros(frames),
            "skipped": np.bool_(False),
            "reason": np.str_(""),
        }
        write_clip(arrays, path)
        paths.append(path)
    return paths


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clips", type=int, default=12)
    p.add_argument("--frames", type=int, default=300)
    p.add_argument("--size", type=int, default=112, help="side of the frame crops (frames.size; 112 on SEND)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    coder = load_coder({**SPEC, "batch_size": a.batch_size})
    total = a.clips * a.frames
    with tempfile.TemporaryDirectory() as tmp:
        paths = frame_files(Path(tmp), a.clips, a.frames, a.size)
        crops = np.concatenate([np.load(p)["frames"] for p in paths])
        ready = torch.from_numpy(crops_to_input(crops, **SPEC["input"]))
        network = load_fer()

        @torch.inference_mode()
        def bare():
            for start in range(0, total, a.batch_size):
                network(ready[start : start + a.batch_size])

        speakers = {p.stem: 100 + k for k, p in enumerate(paths)}
        bare_s = best_of(a.repeats, bare)[0]
        job_s = best_of(a.repeats, lambda: code_clips(coder, paths, speakers))[0]
    ratio = bare_s / job_s
    print(f"{total} frames ({a.clips} clips, {a.size} px crops), best of {a.repeats}, 1 thread")
    print(f"bare forward: {total / bare_s:8.0f} frames/s")
    print(f"coder job:    {total / job_s:8.0f} frames/s")
    print(f"ratio job/bare: {ratio:.2f} (goal {GOAL})")
    return 0 if ratio >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
