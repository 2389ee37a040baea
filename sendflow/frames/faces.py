"""Face boxes per frame: Haar detection on a small grey copy, gaps filled, jitter smoothed."""

import functools

import cv2
import numpy as np


@functools.lru_cache(maxsize=1)
def _cascade() -> cv2.CascadeClassifier:
    # Ships inside opencv-python-headless (<5), so nothing is downloaded.
    return cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")


def detect_face(frame: np.ndarray, detect_width: int = 160) -> np.ndarray | None:
    """The largest face in an RGB frame as (centre x, centre y, side) in frame pixels."""
    scale = detect_width / frame.shape[1]
    small = cv2.resize(frame, (detect_width, int(round(frame.shape[0] * scale))),
                       interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)  # no histogram equalisation: it hurts on dark skin
    faces = _cascade().detectMultiScale(grey, scaleFactor=1.1, minNeighbors=4,
                                        minSize=(detect_width // 8, detect_width // 8))
    if len(faces) == 0:
        return None
    x, y, w, h = max(faces, key=lambda f: f[2] * f[3]) / scale
    return np.array([x + w / 2, y + h / 2, max(w, h)], dtype=np.float64)


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
        filled = np.stack([np.median(padded[i:i + window], axis=0) for i in steps])
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
