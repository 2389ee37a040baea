"""py-feat's `Fex` CSVs, as `Detector.detect(video, data_type="video", save=...)` or `Fex.to_csv`
write them: one row per detected face per frame, in frame order (`frame` counts video frames
from 0), with the face box and its `FaceScore`, landmarks `x_0..y_67`, pose, the action units
and emotions, identity embeddings, and text columns (`input`, `approx_time`, `Identity`) that
are not read. A frame without a face has one row with empty values.

`frame` counts frames, not seconds (`approx_time` is rounded to whole seconds), so the table job
passes the video's frame rate: time = frame / fps (`NEEDS_FPS`). Where a frame has several
faces, the one with the highest FaceScore is kept; a frame whose best row has no FaceScore is
NaN. Frames must not go back.

DEFAULT_COLUMNS: the 20 action units of py-feat's detectors (feat/pretrained.py,
AU_LANDMARK_MAP["Feat"]: AU01 ... AU43, probabilities 0-1) and the 7 emotions
(feat/utils/__init__.py, FEAT_EMOTION_COLUMNS: anger, disgust, fear, happiness, sadness,
surprise, neutral), as in py-feat 2.1's `Detector.forward`.
"""

import numpy as np

from ...errors import SendDataError
from .parse import check_increasing, read_numeric

MODALITY = "visual"  # in the terms of SEND's published results (report/published.py)
NEEDS_FPS = True
FRAME, SCORE = "frame", "FaceScore"
AUS = (
    *("AU01", "AU02", "AU04", "AU05", "AU06", "AU07", "AU09", "AU10", "AU11", "AU12"),
    *("AU14", "AU15", "AU17", "AU20", "AU23", "AU24", "AU25", "AU26", "AU28", "AU43"),
)
EMOTIONS = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")
DEFAULT_COLUMNS = (*AUS, *EMOTIONS)
HINT = "set the table's columns to py-feat column names (AU01, happiness, Pitch, x_0, ...)"


def read(path, columns, options=None) -> tuple[np.ndarray, np.ndarray]:
    fps = (options or {}).get("fps")
    if not fps or fps <= 0:
        raise SendDataError(
            path,
            "py-feat files count frames, not seconds, and this clip's frame rate is unknown (no video to "
            "probe): set tables.<name>.fps to the frame rate of the videos py-feat read",
        )
    columns = list(columns)
    table = read_numeric(path, "py-feat", [FRAME, SCORE, *columns], HINT)
    table = table[~np.isnan(table[FRAME].to_numpy())]
    frame = table[FRAME].to_numpy()
    back = np.flatnonzero(np.diff(frame) < 0)
    if len(back):
        raise SendDataError(path, f"{FRAME} goes back: frame {frame[back[0] + 1]:g} follows frame {frame[back[0]]:g}")
    score = table[SCORE].to_numpy()
    values = table[columns].to_numpy(np.float64, copy=True)
    # per frame, the row with the highest score (the first on a tie; a row without one last)
    order = np.lexsort((-np.nan_to_num(score, nan=-np.inf), frame))
    first = np.r_[True, np.diff(frame[order]) != 0]
    best = order[first]
    values = values[best]
    values[np.isnan(score[best])] = np.nan  # no face in that frame
    times = frame[best] / float(fps)
    check_increasing(times, path, FRAME)
    return times, values
