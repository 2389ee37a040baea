"""A clip's frame file (`results/frames/{clip}.npz`): written atomically, read member by member.
NumPy only, so the stages that read frames (features, figures, the face report) never load
OpenCV or ffmpeg."""

import numpy as np

from ..atomic import atomic_path

# Of a frames .npz, what the feature cache and the coders read.
EMBEDDED_KEYS = ["frames", "steps", "valence", "skipped", "reason"]


def skipped_clip(reason: str, size: int) -> dict:
    """What a clip whose video could not be read stores: no frames and the reason (the frame
    check then stops the run or skips the clip, by frames.on_bad_video)."""
    return {
        "frames": np.zeros((0, size, size, 3), np.uint8),
        "times": np.zeros(0),
        "steps": np.zeros(0, np.int32),
        "boxes": np.zeros((0, 3), np.float32),
        "frame_size": np.zeros(2, np.int32),
        "detected": np.zeros(0, bool),
        "face_rate": np.float32(np.nan),
        "detector": np.str_("none"),
        "valence": np.zeros(0, np.float32),
        "skipped": np.bool_(True),
        "reason": np.str_(reason),
        "overhang_s": np.float32(np.nan),
        "overhang_problem": np.str_(""),
    }


def write_clip(arrays: dict, path) -> None:
    """Save atomically, so an interrupted job never leaves a partial .npz behind."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)


def load_clip(path, keys=None) -> dict:
    """The arrays of a clip's .npz; only `keys` when given (members are read on demand)."""
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in (keys or data.files)}
