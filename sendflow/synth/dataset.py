"""Plan a synthetic SENDv1-layout dataset and write it atomically, one clip per worker task."""

import os
import shutil
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from . import ratings as R
from . import tool_formats as TF
from .encode import Mp4Writer
from .face import FrameRenderer
from .identity import make_identity
from .signals import (
    FPS,
    STREAM_FEATURES,
    STREAM_RAGGED,
    STREAM_RATINGS,
    STREAM_VIDEO,
    clip_rng,
    make_clip_signals,
    rating_times,
)
from .styles import STYLE_NAMES

FIRST_SPEAKER = 111
TRUTH_FILE = "synth_truth.csv"


@dataclass(frozen=True)
class ClipSpec:
    speaker: int
    clip: int
    split: str  # canonical Train / Valid / Test
    has_video: bool

    @property
    def clip_id(self):
        return f"{self.speaker}_{self.clip}"


def assign_splits(speaker_ids, seed) -> dict:
    """Speaker-disjoint ~60/20/20 split; every split gets a speaker once there are three."""
    n = len(speaker_ids)
    n_valid = max(1, round(0.2 * n)) if n >= 3 else 0
    n_test = max(1, round(0.2 * n)) if n >= 2 else 0
    order = np.random.default_rng([seed, 0, 0, 7]).permutation(n)
    names = ["Train"] * (n - n_valid - n_test) + ["Valid"] * n_valid + ["Test"] * n_test
    return {speaker_ids[i]: names[k] for k, i in enumerate(order)}


def choose_limited(clips, fraction, seed) -> set:
    """Clip IDs shipped without video; each split keeps at least one video clip."""
    total = len(clips)
    k = round(fraction * total)
    if total >= 4 and fraction > 0:
        k = max(k, 1)
    videos_left = Counter(c.split for c in clips)
    chosen = set()
    for i in np.random.default_rng([seed, 0, 0, 8]).permutation(total):
        if len(chosen) >= k:
            break
        c = clips[i]
        if videos_left[c.split] > 1:
            chosen.add(c.clip_id)
            videos_left[c.split] -= 1
    return chosen


def plan(speakers, clips_per_speaker, seed, limited_fraction):
    ids = [FIRST_SPEAKER + i for i in range(speakers)]
    split = assign_splits(ids, seed)
    clips = [ClipSpec(n, m, split[n], True) for n in ids for m in range(1, clips_per_speaker + 1)]
    limited = choose_limited(clips, limited_fraction, seed)
    return [ClipSpec(c.speaker, c.clip, c.split, c.clip_id not in limited) for c in clips]


def _make_clip(job):
    """Write one clip's ratings, features and (if shared) video; return its truth table."""
    spec, root, seed, seconds, width, height, frame_step, split_dir, style = job
    n, m = spec.speaker, spec.clip
    ident = make_identity(seed, n, style)
    sig = make_clip_signals(seed, n, m, seconds, ident)
    times = rating_times(seconds)
    root = Path(root)
    paths = {
        "ewe": root / "ratings" / split_dir / "observer_EWE" / f"results_{n}_{m}.csv",
        "self": root / "ratings" / split_dir / "target" / f"target_{n}_{m}_normal.csv",
        "emo": root / "features" / split_dir / "emotient" / f"ID{n}_vid{m}_crop_downsized.txt",
        "mp4": root / "videos" / split_dir / f"ID{n}_vid{m}_crop_downsized.mp4",
    }
    for p in paths.values():
        p.parent.mkdir(parents=True, exist_ok=True)

    rng = clip_rng(seed, n, m, STREAM_RATINGS)
    ragged = R.Ragged(clip_rng(seed, n, m, STREAM_RAGGED))
    R.write_csv(R.observer_ratings(sig, times, rng), paths["ewe"], ragged)
    R.write_csv(R.self_ratings(sig, times, rng, ident.self_bias), paths["self"], ragged)
    emo = R.emotient_features(sig, clip_rng(seed, n, m, STREAM_FEATURES), R.au_baseline(seed, n))
    R.write_csv(emo, paths["emo"])
    TF.write_clip_files(
        root, split_dir, seed, n, m, seconds, sig, ident, spec.has_video, frame_step, width, height, paths["mp4"].stem
    )

    if spec.has_video:
        renderer = FrameRenderer(ident, width, height, clip_rng(seed, n, m, STREAM_VIDEO))
        with Mp4Writer(paths["mp4"], width, height, f"30000/{1001 * frame_step}") as out:
            for i in range(0, len(sig.t), frame_step):
                out.write(
                    renderer.frame(i, sig.expression[i], sig.mouth_open[i], sig.blink[i], sig.head[i], sig.light[i])
                )

    nearest = np.minimum(np.round(times * 30000 / 1001).astype(int), len(sig.t) - 1)
    truth = pd.DataFrame(
        {
            "clip_id": spec.clip_id,
            "speaker": n,
            "clip": m,
            "split": spec.split,
            "has_video": spec.has_video,
            "t": times,
            "valence": sig.valence(times),
            "expression": sig.shown(times),
            "burst": sig.bursts(times),
            "talking": sig.talking[nearest],
            "lag_s": sig.lag_s,
            "expressiveness": ident.expressiveness,
            "ragged": not ragged.clean,
            "style": ident.style.name,
        }
    )
    return spec, truth


def video_frame_step(fps: float) -> int:
    """Every n-th frame of the 29.97 fps signals goes into the video: n = round(29.97 / fps)."""
    return max(1, round(FPS / fps))


def _check_args(speakers, clips_per_speaker, seconds, width, height, limited_fraction, split_case, fps, styles):
    for style in styles:
        if style not in STYLE_NAMES:
            raise ValueError(f"unknown style {style!r}; choose from {', '.join(STYLE_NAMES)}")
    if speakers < 1 or clips_per_speaker < 1:
        raise ValueError("need at least one speaker and one clip per speaker")
    if seconds < 1:
        raise ValueError(f"--seconds must be at least 1 (got {seconds})")
    if width < 64 or height < 64 or width % 2 or height % 2:
        raise ValueError(f"video size must be even and at least 64x64 (got {width}x{height})")
    if not 2 <= fps <= FPS + 0.01:
        raise ValueError(f"video fps must be between 2 and 29.97 (got {fps})")
    if not 0 <= limited_fraction < 1:
        raise ValueError(f"--limited-fraction must be in [0, 1) (got {limited_fraction})")
    if split_case not in ("title", "lower"):
        raise ValueError(f"split_case must be 'title' or 'lower' (got {split_case!r})")


def generate_dataset(
    out,
    speakers,
    clips_per_speaker,
    seconds,
    seed,
    *,
    width,
    height,
    fps=FPS,
    limited_fraction,
    split_case="title",
    jobs=None,
    force=False,
    style,
    test_style=None,
) -> Path:
    """Write a synthetic SENDv1-layout dataset to `out`, its faces drawn in `style`
    (sendflow/synth/styles.py; `mixed`: a style per speaker), the Test split's in `test_style`
    where given (train on one style, test on another: `cv.mode: official`); returns its path.

    Videos run at 29.97 / n fps for the whole n nearest `fps` (SEND's are 29.97). Faces, ratings
    and Emotient rows (29.97 per second, as the release's) are the same at any rate: a lower
    one only leaves frames out, which makes the demo quicker to write and to decode.

    Built in a sibling `OUT.tmp-<pid>` folder and renamed into place when complete, so a
    crash never leaves a half-written dataset behind. `force` replaces an earlier generated
    dataset; a non-empty folder the generator did not make is never touched.
    """
    _check_args(
        speakers,
        clips_per_speaker,
        seconds,
        width,
        height,
        limited_fraction,
        split_case,
        fps,
        [style, *([test_style] if test_style else [])],
    )
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()):
        if not (out / TRUTH_FILE).is_file():  # never replace a folder this generator did not make
            raise FileExistsError(
                f"{out} is not empty and was not made by sendflow's generator (it has no "
                f"{TRUTH_FILE}): refusing to replace it; choose an empty or new folder"
            )
        if not force:
            raise FileExistsError(f"{out} exists and is not empty; pass --force to replace it")

    clips = plan(speakers, clips_per_speaker, seed, limited_fraction)
    tmp = out.parent / f"{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    case = str.lower if split_case == "lower" else str
    work = [
        (
            c,
            str(tmp),
            seed,
            seconds,
            width,
            height,
            video_frame_step(fps),
            case(c.split),
            test_style if test_style and c.split == "Test" else style,
        )
        for c in clips
    ]
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(work)))
    truths, start, pool = {}, time.time(), None
    try:
        if jobs == 1:
            results = map(_make_clip, work)
        else:
            # Threads, not forked processes: forking a process that already runs threads
            # (OpenCV's pool, a caller's) can deadlock. OpenCV, numpy and the ffmpeg pipe
            # release the GIL, and x264 encodes in its own process.
            cv_threads = cv2.getNumThreads()
            cv2.setNumThreads(1)  # one core per clip; parallelism comes from the pool
            pool = ThreadPoolExecutor(jobs)
            results = pool.map(_make_clip, work)
        for k, (spec, truth) in enumerate(results, 1):
            truths[spec.clip_id] = truth
            kind = "video" if spec.has_video else "limited (no video)"
            print(
                f"[synth {k}/{len(work)}] {spec.clip_id} {spec.split} {kind} {time.time() - start:.1f}s",
                file=sys.stderr,
                flush=True,
            )
        table = pd.concat([truths[c.clip_id] for c in clips], ignore_index=True)
        table.to_csv(tmp / TRUTH_FILE, index=False, float_format="%.6f", lineterminator="\n")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
            cv2.setNumThreads(cv_threads)

    if out.exists():
        old = out.parent / f"{out.name}.old-{os.getpid()}"
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old)
    else:
        tmp.rename(out)
    return out
