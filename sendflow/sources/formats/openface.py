"""OpenFace 2.x `FeatureExtraction` (or `FaceLandmarkVidMulti`) CSVs: one row per frame and
tracked face, `frame, face_id, timestamp, confidence, success`, then gaze, eye landmarks, pose,
2D and 3D landmarks, shape parameters and the action units (`AUxx_r` intensities 0-5, `AUxx_c`
presence). OpenFace 2.0 writes `, ` between fields, later versions `,`: both are read.

Times come from `timestamp` (seconds). A row where tracking failed (`success` 0, where OpenFace
writes zeros in every feature) or whose `confidence` is under the table's `min_confidence` is
NaN, not zeros. With several faces (`face_id`), the one tracked longest (most rows with success
1; on a tie the lower id) is kept. Only the columns asked for are converted, so a 4-minute
30 fps file (7,200 rows of 714 columns) reads in a fraction of a second (bench/read_openface.py).

Column names: OpenFace's lib/local/Utilities/src/RecorderCSV.cpp and its wiki page "Output
Format" (github.com/TadasBaltrusaitis/OpenFace/wiki/Output-Format).
"""

import logging

import numpy as np

from .parse import check_increasing, read_numeric

log = logging.getLogger(__name__)

MODALITY = "visual"  # in the terms of SEND's published results (report/published.py)
TIME, FACE, CONFIDENCE, SUCCESS = "timestamp", "face_id", "confidence", "success"
# The 17 action unit intensities OpenFace 2.x estimates (RecorderCSV writes them sorted).
DEFAULT_COLUMNS = (
    *("AU01_r", "AU02_r", "AU04_r", "AU05_r", "AU06_r", "AU07_r", "AU09_r", "AU10_r", "AU12_r"),
    *("AU14_r", "AU15_r", "AU17_r", "AU20_r", "AU23_r", "AU25_r", "AU26_r", "AU45_r"),
)
HINT = "set the table's columns to OpenFace column names (AU01_r, AU12_c, pose_Rx, gaze_angle_x, ...)"


def _one_face(table, path):
    """The rows of the face tracked longest; logs what was dropped."""
    face = table[FACE].to_numpy()
    ids = np.unique(face[~np.isnan(face)])
    if len(ids) <= 1:
        return table if not np.isnan(face).any() else table[~np.isnan(face)]
    tracked = np.array([np.sum((face == i) & (table[SUCCESS].to_numpy() == 1)) for i in ids])
    keep = ids[int(np.argmax(tracked))]  # the first of the longest: ids are sorted
    kept = face == keep
    log.info(
        "%s: %d faces (face_id %s); kept face_id %g, tracked in %d rows; dropped %d rows of the others",
        path,
        len(ids),
        ", ".join(f"{i:g}" for i in ids),
        keep,
        int(tracked.max()),
        int((~kept).sum()),
    )
    return table[kept]


def read(path, columns, options) -> tuple[np.ndarray, np.ndarray]:
    min_confidence = float(options["min_confidence"])  # the table's; its default is in the schema
    columns = list(columns)
    table = read_numeric(path, "OpenFace", [TIME, CONFIDENCE, SUCCESS, *columns], HINT, optional=(FACE,))
    if FACE in table.columns:
        table = _one_face(table, path)
    times = table[TIME].to_numpy()
    values = table[columns].to_numpy(np.float64, copy=True)
    confidence, success = table[CONFIDENCE].to_numpy(), table[SUCCESS].to_numpy()
    values[~((success == 1) & (confidence >= min_confidence))] = np.nan  # NaN compares False: missing
    timed = ~np.isnan(times)
    times, values = times[timed], values[timed]
    check_increasing(times, path, TIME)
    return times, values
