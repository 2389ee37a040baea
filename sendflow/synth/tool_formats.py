"""What other tools would write for a synthetic clip: OpenFace 2.x `FeatureExtraction` CSVs,
py-feat `Fex` CSVs and SEND's eGeMAPS acoustic files, drawn from the clip's signals.

Each format draws from its own random stream (signals.STREAM_OPENFACE, ...), so these files
never shift the videos, ratings or Emotient files. Column layouts follow the tools' own code:
OpenFace's `RecorderCSV.cpp` (lib/local/Utilities), py-feat 2.1's `Detector.forward` and
`feat/utils/__init__.py`, and openSMILE's eGeMAPSv02 functionals (their names as the library
reports them for `config/egemaps/v02/eGeMAPSv02.conf`). Files are written through Arrow's CSV
writer from values rounded to a few decimals: a 4-minute 30 fps OpenFace file takes about a
fifth of a second.
"""

import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from .identity import Identity
from .signals import FPS, STREAM_EGEMAPS, STREAM_OPENFACE, STREAM_PYFEAT, ClipSignals, clip_rng, rating_times

# --- OpenFace 2.x ------------------------------------------------------------------------------
OPENFACE_AU_R = (
    *("AU01", "AU02", "AU04", "AU05", "AU06", "AU07", "AU09", "AU10", "AU12"),
    *("AU14", "AU15", "AU17", "AU20", "AU23", "AU25", "AU26", "AU45"),
)
OPENFACE_AU_C = tuple(sorted((*OPENFACE_AU_R, "AU28")))  # presence adds AU28 (lip suck)
N_LANDMARKS, N_EYE_LANDMARKS, N_MODES = 68, 56, 34  # OpenFace 2.x: 68 face, 2 x 28 eye points

# (smile, frown, mouth opening, blink) loadings of each AU intensity (0-5)
_OPENFACE_DRIVE = {
    "AU01": (0, 2.0, 0, 0),
    "AU02": (0.3, 0.4, 0, 0),
    "AU04": (0, 2.2, 0, 0),
    "AU05": (0, 0, 0.3, 0),
    "AU06": (2.5, 0, 0, 0),
    "AU07": (0.8, 0.6, 0, 0.5),
    "AU09": (0, 0.6, 0, 0),
    "AU10": (0.6, 0, 0, 0),
    "AU12": (3.0, 0, 0, 0),
    "AU14": (0.5, 0.3, 0, 0),
    "AU15": (0, 2.2, 0, 0),
    "AU17": (0, 1.5, 0, 0),
    "AU20": (0, 0.4, 0, 0),
    "AU23": (0, 0.5, 0, 0),
    "AU25": (0.4, 0, 3.0, 0),
    "AU26": (0, 0, 2.5, 0),
    "AU45": (0, 0, 0, 4.0),
}


def openface_columns() -> list[str]:
    """The header of `FeatureExtraction` on a video with every output on (714 columns)."""
    eye = [f"eye_lmk_{a}_{i}" for a in "xyXYZ" for i in range(N_EYE_LANDMARKS)]
    return [
        *("frame", "face_id", "timestamp", "confidence", "success"),
        *("gaze_0_x", "gaze_0_y", "gaze_0_z", "gaze_1_x", "gaze_1_y", "gaze_1_z", "gaze_angle_x", "gaze_angle_y"),
        *eye,
        *("pose_Tx", "pose_Ty", "pose_Tz", "pose_Rx", "pose_Ry", "pose_Rz"),
        *[f"{a}_{i}" for a in "xyXYZ" for i in range(N_LANDMARKS)],
        *("p_scale", "p_rx", "p_ry", "p_rz", "p_tx", "p_ty"),
        *[f"p_{i}" for i in range(N_MODES)],
        *[f"{au}_r" for au in OPENFACE_AU_R],
        *[f"{au}_c" for au in OPENFACE_AU_C],
    ]


def _template() -> np.ndarray:
    """68 landmarks in face coordinates (origin at the face centre, y down, unit = half the face
    height), in the iBUG order: jaw, brows, nose, eyes, outer and inner lips. [68, 2]"""
    jaw_t = np.linspace(-1, 1, 17)
    jaw = np.stack([0.72 * jaw_t, 0.05 + 0.8 * np.sqrt(1 - 0.9 * jaw_t**2)], axis=1)
    brows = [np.stack([s * np.linspace(0.55, 0.12, 5)[::s], np.full(5, -0.38)], axis=1) for s in (-1, 1)]
    bridge = np.stack([np.zeros(4), np.linspace(-0.25, 0.1, 4)], axis=1)
    nostrils = np.stack([np.linspace(-0.14, 0.14, 5), np.full(5, 0.2)], axis=1)
    th6 = np.linspace(0, 2 * np.pi, 7)[:-1]
    eyes = [np.stack([s * 0.3 - 0.1 * np.cos(th6), -0.2 - 0.05 * np.sin(th6)], axis=1) for s in (-1, 1)]
    th12, th8 = np.linspace(0, 2 * np.pi, 13)[:-1], np.linspace(0, 2 * np.pi, 9)[:-1]
    outer = np.stack([-0.27 * np.cos(th12), 0.45 - 0.09 * np.sin(th12)], axis=1)
    inner = np.stack([-0.18 * np.cos(th8), 0.45 - 0.04 * np.sin(th8)], axis=1)
    return np.vstack([jaw, *brows, bridge, nostrils, *eyes, outer, inner])


_TEMPLATE = _template()
_MOUTH = np.arange(48, 68)
_LIDS = np.r_[37, 38, 40, 41, 43, 44, 46, 47]  # upper and lower lid points
_EYE_CENTRES = np.array([[-0.3, -0.2], [0.3, -0.2]])


def _smooth_noise(rng, n, d, width) -> np.ndarray:
    """[n, d] unit-variance noise averaged over `width` neighbouring rows."""
    width = max(1, int(width))
    c = np.cumsum(rng.normal(size=(n + width, d)), axis=0)
    return (c[width:] - c[:-width]) / np.sqrt(width)


def _runs(rng, n, per_row, lo, hi) -> np.ndarray:
    """Boolean [n]: about n * per_row runs, each lo..hi rows long (at least one run)."""
    out = np.zeros(n, bool)
    for _ in range(max(1, rng.poisson(n * per_row))):
        start = int(rng.integers(0, max(1, n - lo)))
        out[start : start + int(rng.integers(lo, hi + 1))] = True
    return out


def _drives(sig: ClipSignals, frames: np.ndarray) -> np.ndarray:
    """(smile, frown, mouth opening, blink) at the given signal frames. [n, 4]"""
    e = sig.expression[frames]
    return np.stack([np.clip(e, 0, None), np.clip(-e, 0, None), sig.mouth_open[frames], sig.blink[frames]], axis=1)


def _face_points(sig, ident: Identity, frames, width, height):
    """Pixel landmarks [n, 68, 2], face centre [n, 2], unit (px per face unit) [n] and roll (rad)."""
    d = _drives(sig, frames)
    smile, frown, mouth, blink = d.T
    pts = np.broadcast_to(_TEMPLATE * [ident.face_ratio / 0.8, 1.0], (len(frames), N_LANDMARKS, 2)).copy()
    pts[:, _MOUTH, 1] += 0.5 * (pts[:, _MOUTH, 1] - 0.45) * 3 * mouth[:, None]  # the jaw drops
    corners = [48, 54, 60, 64]
    pts[:, corners, 1] -= 0.08 * smile[:, None] - 0.05 * frown[:, None]
    pts[:, 17:27, 1] -= 0.05 * frown[:, None]
    pts[:, _LIDS, 1] += (-0.2 - pts[:, _LIDS, 1]) * blink[:, None]  # lids meet when the eye closes
    dx, dy, roll_deg, scale = sig.head[frames].T
    unit = 0.5 * ident.face_size * height * scale
    centre = np.stack([width * (0.5 + dx + ident.offset[0]), height * (0.46 + dy + ident.offset[1])], axis=1)
    roll = np.deg2rad(roll_deg)
    cos, sin = np.cos(roll)[:, None], np.sin(roll)[:, None]
    x, y = pts[..., 0], pts[..., 1]
    px = np.stack([cos * x - sin * y, sin * x + cos * y], axis=-1) * unit[:, None, None] + centre[:, None, :]
    return px, pts, centre, unit, roll


def openface_table(sig: ClipSignals, ident: Identity, rng, frame_step: int, width: int, height: int) -> dict:
    """Columns of the OpenFace CSV of a clip's video (every `frame_step`-th signal frame), as
    numpy arrays keyed by name, plus `lost` (bool per face-0 row: success 0 or confidence
    under 0.75, the rows a reader must leave out)."""
    frames = np.arange(0, len(sig.t), frame_step)
    n, fps = len(frames), FPS / frame_step
    px, face, centre, unit, roll = _face_points(sig, ident, frames, width, height)
    drives = _drives(sig, frames)
    smooth = max(1, round(5 / frame_step))  # about a sixth of a second
    cols: dict[str, np.ndarray] = {
        "frame": np.arange(1, n + 1),
        "face_id": np.zeros(n, np.int64),
        "timestamp": np.round(np.arange(n) / fps, 3),
    }
    conf = np.clip(0.97 + 0.01 * rng.normal(size=n), 0.85, 0.98)
    low = _runs(rng, n, 1 / (30 * fps), max(2, int(0.2 * fps)), max(3, int(fps)))  # tracking falters
    failed = _runs(rng, n, 1 / (25 * fps), max(2, int(0.3 * fps)), max(3, int(1.5 * fps)))  # face lost
    conf[low] = rng.uniform(0.3, 0.7, low.sum())
    conf[failed] = rng.uniform(0.0, 0.2, failed.sum())
    cols["confidence"] = np.round(conf, 2)
    cols["success"] = (~failed).astype(np.int64)

    gaze = 0.15 * np.tanh(_smooth_noise(rng, n, 2, 3 * smooth))  # where the eyes look (rad)
    for eye, off in ((0, 0.03), (1, -0.03)):
        v = np.stack([np.sin(gaze[:, 0] + off), np.sin(gaze[:, 1]), -np.ones(n)], axis=1)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        for k, a in enumerate("xyz"):
            cols[f"gaze_{eye}_{a}"] = np.round(v[:, k], 3)
    cols["gaze_angle_x"], cols["gaze_angle_y"] = np.round(gaze[:, 0], 3), np.round(gaze[:, 1], 3)

    ring = np.linspace(0, 2 * np.pi, 29)[:-1]  # 28 points per eye: lids and iris
    radius = np.where(np.arange(28) < 20, 0.1, 0.04)
    eye_pts = []  # [n, 56, 2] in face units
    for centre_e in _EYE_CENTRES:
        open_ = 1 - drives[:, 3:4]
        ex = centre_e[0] + radius * np.cos(ring) + np.where(np.arange(28) < 20, 0, 0.1) * gaze[:, :1]
        ey = centre_e[1] + radius * np.sin(ring) * np.where(np.arange(28) < 20, open_, 1)
        eye_pts.append(np.stack([np.broadcast_to(ex, (n, 28)), ey], axis=-1))
    eye_pts = np.concatenate(eye_pts, axis=1)
    cos, sin = np.cos(roll)[:, None], np.sin(roll)[:, None]
    eye_px = np.stack(
        [cos * eye_pts[..., 0] - sin * eye_pts[..., 1], sin * eye_pts[..., 0] + cos * eye_pts[..., 1]], -1
    )
    eye_px = eye_px * unit[:, None, None] + centre[:, None, :]
    tz = 600 / sig.head[frames, 3]
    mm = 75.0  # millimetres per face unit
    for k, a in enumerate("xy"):
        for i in range(N_EYE_LANDMARKS):
            cols[f"eye_lmk_{a}_{i}"] = eye_px[:, i, k]
    eye_3d = [eye_pts[..., 0] * mm + (centre[:, :1] - width / 2), eye_pts[..., 1] * mm + (centre[:, 1:] - height / 2)]
    eye_3d.append(tz[:, None] - 10 + np.zeros((1, N_EYE_LANDMARKS)))
    for k, a in enumerate("XYZ"):
        for i in range(N_EYE_LANDMARKS):
            cols[f"eye_lmk_{a}_{i}"] = eye_3d[k][:, i]

    tilt = 0.1 * np.tanh(_smooth_noise(rng, n, 2, 6 * smooth))
    cols.update(
        {
            "pose_Tx": centre[:, 0] - width / 2,
            "pose_Ty": centre[:, 1] - height / 2,
            "pose_Tz": tz,
            "pose_Rx": np.round(tilt[:, 0], 3),
            "pose_Ry": np.round(tilt[:, 1], 3),
            "pose_Rz": np.round(roll, 3),
        }
    )
    for k, a in enumerate("xy"):
        for i in range(N_LANDMARKS):
            cols[f"{a}_{i}"] = px[:, i, k]
    depth = -40 * np.exp(-((_TEMPLATE[:, 0] / 0.3) ** 2 + ((_TEMPLATE[:, 1] - 0.1) / 0.4) ** 2))  # the nose stands out
    for i in range(N_LANDMARKS):
        cols[f"X_{i}"] = face[:, i, 0] * mm + cols["pose_Tx"]
        cols[f"Y_{i}"] = face[:, i, 1] * mm + cols["pose_Ty"]
        cols[f"Z_{i}"] = tz + depth[i]
    cols.update(
        {
            "p_scale": np.round(unit / 100, 3),
            "p_rx": cols["pose_Rx"],
            "p_ry": cols["pose_Ry"],
            "p_rz": cols["pose_Rz"],
            "p_tx": np.round(centre[:, 0], 3),
            "p_ty": np.round(centre[:, 1], 3),
        }
    )
    modes = 2 * _smooth_noise(rng, n, N_MODES, 4 * smooth) / np.sqrt(1 + np.arange(N_MODES))
    modes[:, :4] += drives @ rng.normal(0, 8, (4, 4))  # the first modes carry the expression
    for i in range(N_MODES):
        cols[f"p_{i}"] = np.round(modes[:, i], 3)
    for name in cols:
        if name.startswith(("eye_lmk_", "pose_T", "x_", "y_", "X_", "Y_", "Z_")):
            cols[name] = np.round(cols[name], 1)

    load = np.array([_OPENFACE_DRIVE[au] for au in OPENFACE_AU_R], float).T  # [4, 17]
    resting = rng.uniform(0, 0.4, len(OPENFACE_AU_R))
    intensity = np.clip(resting + drives @ load + 0.25 * _smooth_noise(rng, n, len(OPENFACE_AU_R), smooth), 0, 5)
    for k, au in enumerate(OPENFACE_AU_R):
        cols[f"{au}_r"] = np.round(intensity[:, k], 2)
    lip_suck = _smooth_noise(rng, n, 1, smooth)[:, 0] > 1.8
    for au in OPENFACE_AU_C:
        on = lip_suck if au == "AU28" else cols[f"{au}_r"] > 1.0
        cols[f"{au}_c"] = on.astype(np.int64)

    features = openface_columns()[5:]
    for name in features:  # a frame where the face is lost: OpenFace writes zeros
        cols[name] = np.where(failed, 0, cols[name]) + 0  # + 0 turns -0.0 into 0
    cols["lost"] = failed | (cols["confidence"] < 0.75)
    return cols


def openface_second_face(cols: dict, rng) -> dict:
    """Rows of a second face (face_id 1) tracked for a short run of frames: someone passing
    behind the speaker. Same columns as `openface_table` (no `lost`)."""
    n = len(cols["frame"])
    length = int(rng.integers(max(2, n // 40), max(3, n // 10) + 1))
    start = int(rng.integers(0, max(1, n - length)))
    rows = np.arange(start, min(n, start + length))
    other = {}
    for name in openface_columns():
        base = cols[name][rows]
        if name in ("frame", "timestamp"):
            other[name] = base
        elif name == "face_id":
            other[name] = np.ones(len(rows), np.int64)
        elif name == "success":
            other[name] = np.ones(len(rows), np.int64)
        elif name == "confidence":
            other[name] = np.round(rng.uniform(0.8, 0.9, len(rows)), 2)
        elif name.endswith("_c"):
            other[name] = (rng.random(len(rows)) < 0.2).astype(np.int64)
        elif name.endswith("_r"):
            other[name] = np.round(rng.uniform(0, 1.5, len(rows)), 2)
        else:
            other[name] = np.round(base * 0.6 + 5, 1)
    return other


def _write_csv(cols: dict, names, path: Path, sep: str = ", "):
    """Write the columns `names` of `cols` (numeric arrays or strings) through Arrow: floats as
    their shortest text, NaN as an empty cell, nothing quoted, then `sep` between fields."""
    table = pa.table({name: pa.array(cols[name], from_pandas=True) for name in names})  # NaN: empty
    out = io.BytesIO()
    pacsv.write_csv(table, out, pacsv.WriteOptions(include_header=True, quoting_style="none", quoting_header="none"))
    data = out.getvalue()
    if sep != ",":
        data = data.replace(b",", sep.encode())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def openface_rows(sig, ident, rng, frame_step, width, height) -> dict:
    """The OpenFace file's rows: face 0 on every frame, and on some clips (a fifth) a second face
    for a short run, its rows after face 0's of the same frame, as FaceLandmarkVidMulti orders
    them. `lost` marks face 0's rows that a reader must leave out."""
    cols = openface_table(sig, ident, rng, frame_step, width, height)
    lost = cols.pop("lost")
    if rng.random() < 0.2:
        other = openface_second_face(cols, rng)
        order = np.argsort(np.concatenate([cols["frame"], other["frame"]]), kind="stable")
        cols = {name: np.concatenate([cols[name], other[name]])[order] for name in cols}
    cols["lost"] = lost
    return cols


def write_openface(sig, ident, rng, frame_step, width, height, path) -> np.ndarray:
    """Write a clip's OpenFace CSV (`, ` between fields, as OpenFace 2.0 writes); return face
    0's `lost` rows."""
    cols = openface_rows(sig, ident, rng, frame_step, width, height)
    _write_csv(cols, openface_columns(), Path(path))
    return cols["lost"]


# --- py-feat -------------------------------------------------------------------------------------
PYFEAT_AUS = (
    *("AU01", "AU02", "AU04", "AU05", "AU06", "AU07", "AU09", "AU10", "AU11", "AU12"),
    *("AU14", "AU15", "AU17", "AU20", "AU23", "AU24", "AU25", "AU26", "AU28", "AU43"),
)  # feat/pretrained.py AU_LANDMARK_MAP["Feat"]
PYFEAT_EMOTIONS = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")


def pyfeat_columns() -> list[str]:
    """A `Detector.detect(..., data_type="video")` CSV's columns in py-feat 2.1's order, less
    the 512 identity embeddings (Identity_1..512), left out to keep the demo small."""
    return [
        *("FaceRectX", "FaceRectY", "FaceRectWidth", "FaceRectHeight", "FaceScore"),
        *[f"x_{i}" for i in range(N_LANDMARKS)],
        *[f"y_{i}" for i in range(N_LANDMARKS)],
        *("Pitch", "Roll", "Yaw", "X", "Y", "Z"),
        *PYFEAT_AUS,
        *PYFEAT_EMOTIONS,
        *("gaze_pitch", "gaze_yaw", "gaze_angle", "FrameHeight", "FrameWidth"),
        *("input", "frame", "approx_time", "Identity"),
    ]


def pyfeat_rows(sig, ident, rng, frame_step, width, height, video_name: str) -> dict:
    """One row per video frame (0-based `frame`), NaN in every value where no face was found
    (a few short runs), and on some clips (a fifth) a second, weaker detection beside the
    speaker's for a run of frames (its row after the speaker's). `no_face` marks the frames
    without the speaker's face."""
    frames = np.arange(0, len(sig.t), frame_step)
    n, fps = len(frames), FPS / frame_step
    px, _, centre, unit, roll = _face_points(sig, ident, frames, width, height)
    drives = _drives(sig, frames)
    smile, frown, mouth, blink = drives.T
    cols: dict[str, np.ndarray] = {}
    lo, hi = px.min(axis=1), px.max(axis=1)
    cols.update(
        {
            "FaceRectX": lo[:, 0] - 0.1 * unit,
            "FaceRectY": lo[:, 1] - 0.5 * unit,
            "FaceRectWidth": hi[:, 0] - lo[:, 0] + 0.2 * unit,
            "FaceRectHeight": hi[:, 1] - lo[:, 1] + 0.6 * unit,
            "FaceScore": np.clip(0.985 + 0.01 * rng.normal(size=n), 0.9, 0.999),
        }
    )
    for k, a in enumerate("xy"):
        for i in range(N_LANDMARKS):
            cols[f"{a}_{i}"] = px[:, i, k]
    tilt = 8 * np.tanh(_smooth_noise(rng, n, 2, max(1, round(30 / frame_step))))
    cols.update({"Pitch": tilt[:, 0], "Roll": np.rad2deg(roll), "Yaw": tilt[:, 1]})
    cols.update({"X": centre[:, 0], "Y": centre[:, 1], "Z": 600 / sig.head[frames, 3]})
    noise = 0.08 * _smooth_noise(rng, n, len(PYFEAT_AUS) + len(PYFEAT_EMOTIONS), max(1, round(5 / frame_step)))
    au_drive = {"AU06": smile, "AU12": smile, "AU04": frown, "AU15": frown, "AU01": frown, "AU25": mouth}
    au_drive |= {"AU26": mouth, "AU43": blink}
    for k, au in enumerate(PYFEAT_AUS):
        cols[au] = np.clip(0.15 + 0.75 * au_drive.get(au, 0 * smile) + noise[:, k], 0, 1)
    logits = np.stack([frown, 0.5 * frown, 0.3 * frown, 2 * smile, 1.5 * frown, mouth, 1 - abs(sig.expression[frames])])
    logits = 3 * logits.T + 4 * noise[:, len(PYFEAT_AUS) :]
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    for k, emo in enumerate(PYFEAT_EMOTIONS):
        cols[emo] = p[:, k]
    cols.update({"gaze_pitch": 0.1 * tilt[:, 0] / 8, "gaze_yaw": 0.1 * tilt[:, 1] / 8})
    cols["gaze_angle"] = np.arccos(np.cos(cols["gaze_pitch"]) * np.cos(cols["gaze_yaw"]))
    for name in cols:
        cols[name] = np.round(cols[name], 3) + 0
    cols["FrameHeight"] = np.full(n, float(height))
    cols["FrameWidth"] = np.full(n, float(width))
    cols["input"] = np.full(n, video_name, dtype=object)
    cols["frame"] = frames // frame_step
    seconds = cols["frame"] / fps
    cols["approx_time"] = np.array([f"{int(s // 60):02d}:{int(s % 60):02d}" for s in seconds], dtype=object)
    cols["Identity"] = np.full(n, "Person_0", dtype=object)

    no_face = _runs(rng, n, 1 / (30 * fps), max(2, int(0.3 * fps)), max(3, int(fps)))
    for name in pyfeat_columns()[:-6]:
        if name not in ("FrameHeight", "FrameWidth"):
            cols[name] = np.where(no_face, np.nan, cols[name])
    cols["Identity"] = np.where(no_face, "", cols["Identity"])
    if rng.random() < 0.2:  # a second, weaker detection for a run of frames
        length = int(rng.integers(max(2, n // 40), max(3, n // 10) + 1))
        start = int(rng.integers(0, max(1, n - length)))
        rows = np.flatnonzero(~no_face[start : start + length]) + start
        other = {}
        for name in cols:
            base = cols[name][rows]
            if name == "FaceScore":
                other[name] = np.round(rng.uniform(0.55, 0.85, len(rows)), 3)
            elif name == "Identity":
                other[name] = np.full(len(rows), "Person_1", dtype=object)
            elif name in PYFEAT_AUS or name in PYFEAT_EMOTIONS:
                other[name] = np.round(rng.uniform(0, 1, len(rows)), 3)
            elif base.dtype.kind == "f" and name not in ("FrameHeight", "FrameWidth"):
                other[name] = np.round(base * 0.5 + 3, 3)
            else:
                other[name] = base
        order = np.argsort(np.concatenate([cols["frame"], other["frame"]]), kind="stable")
        cols = {name: np.concatenate([cols[name], other[name]])[order] for name in cols}
    cols["no_face"] = no_face
    return cols


def write_pyfeat(sig, ident, rng, frame_step, width, height, path, video_name) -> np.ndarray:
    """Write a clip's py-feat CSV (`,` between fields, as pandas writes); return `no_face`."""
    cols = pyfeat_rows(sig, ident, rng, frame_step, width, height, video_name)
    _write_csv(cols, pyfeat_columns(), Path(path), sep=",")
    return cols["no_face"]


# --- eGeMAPS (openSMILE) -------------------------------------------------------------------------
def _egemaps_names() -> tuple[str, ...]:
    """The 88 eGeMAPSv02 functionals, in openSMILE's order."""
    f0, loud = "F0semitoneFrom27.5Hz_sma3nz", "loudness_sma3"
    contour = ("amean", "stddevNorm", "percentile20.0", "percentile50.0", "percentile80.0", "pctlrange0-2")
    contour += ("meanRisingSlope", "stddevRisingSlope", "meanFallingSlope", "stddevFallingSlope")
    mean_sd = ("amean", "stddevNorm")
    voiced = ["jitterLocal", "shimmerLocaldB", "HNRdBACF", "logRelF0-H1-H2", "logRelF0-H1-A3"]
    for k in (1, 2, 3):
        voiced += [f"F{k}frequency", f"F{k}bandwidth", f"F{k}amplitudeLogRelF0"]
    spectral_v = ["alphaRatioV", "hammarbergIndexV", "slopeV0-500", "slopeV500-1500", "spectralFluxV"]
    spectral_v += [f"mfcc{k}V" for k in range(1, 5)]
    unvoiced = ("alphaRatioUV", "hammarbergIndexUV", "slopeUV0-500", "slopeUV500-1500", "spectralFluxUV")
    return (
        *(f"{f0}_{f}" for f in contour),
        *(f"{loud}_{f}" for f in contour),
        *(f"{c}_sma3_{f}" for c in ("spectralFlux", *(f"mfcc{k}" for k in range(1, 5))) for f in mean_sd),
        *(f"{c}_sma3nz_{f}" for c in voiced for f in mean_sd),
        *(f"{c}_sma3nz_{f}" for c in spectral_v for f in mean_sd),
        *(f"{c}_sma3nz_amean" for c in unvoiced),
        *("loudnessPeaksPerSec", "VoicedSegmentsPerSec", "MeanVoicedSegmentLengthSec"),
        *("StddevVoicedSegmentLengthSec", "MeanUnvoicedSegmentLength", "StddevUnvoicedSegmentLength"),
        "equivalentSoundLevel_dBp",
    )


EGEMAPS_NAMES = _egemaps_names()


def egemaps_rows(sig: ClipSignals, seconds: float, rng, speaker_rng) -> dict:
    """One row per 0.5 s (SEND's acoustic files): `name` 'unknown', `frameTime`, and the 88
    functionals. Pitch (F0 mean, semitones) and loudness follow the speaker's valence and
    whether they talk; everything else is noise around a per-speaker level."""
    times = rating_times(seconds)
    n = len(times)
    valence = sig.valence(times)
    talk = sig.talking[np.minimum(np.round(times * FPS).astype(int), len(sig.t) - 1)]
    level = speaker_rng.normal(0, 1, len(EGEMAPS_NAMES))
    spread = 0.2 + 0.3 * speaker_rng.random(len(EGEMAPS_NAMES))
    values = level + spread * rng.normal(size=(n, len(EGEMAPS_NAMES)))
    pitch = speaker_rng.uniform(26, 36) + 2.0 * valence + 0.5 * talk + 0.6 * rng.normal(size=n)
    loudness = np.clip(0.5 + 0.3 * valence + 0.15 * talk + 0.08 * rng.normal(size=n), 0.02, None)
    column = {name: k for k, name in enumerate(EGEMAPS_NAMES)}
    for stat, offset in (("amean", 0), ("percentile20.0", -2), ("percentile50.0", 0), ("percentile80.0", 2)):
        values[:, column[f"F0semitoneFrom27.5Hz_sma3nz_{stat}"]] = pitch + offset
        values[:, column[f"loudness_sma3_{stat}"]] = loudness * (1 + 0.25 * offset)
    values[:, column["equivalentSoundLevel_dBp"]] = -30 + 12 * loudness + 0.5 * rng.normal(size=n)
    cols = {"name": np.full(n, "'unknown'", dtype=object), "frameTime": np.round(times, 6)}
    for name, k in column.items():
        cols[name] = np.round(values[:, k], 4) + 0
    return cols


def write_egemaps(sig, seconds, rng, speaker_rng, path) -> None:
    """Write a clip's eGeMAPS file (`, ` between fields, names after the first with a space)."""
    cols = egemaps_rows(sig, seconds, rng, speaker_rng)
    _write_csv(cols, ["name", "frameTime", *EGEMAPS_NAMES], Path(path))


def write_clip_files(root, split_dir, seed, n, m, seconds, sig, ident, has_video, frame_step, width, height, stem):
    """A clip's files of other tools: eGeMAPS for every clip, OpenFace and py-feat where the
    clip has a video (named after its stem), each from its own random stream."""
    root = Path(root)
    write_egemaps(
        sig,
        seconds,
        clip_rng(seed, n, m, STREAM_EGEMAPS),
        clip_rng(seed, n, 0, STREAM_EGEMAPS),  # the speaker's voice (no clip is numbered 0)
        root / "features" / split_dir / "acoustic-egemaps" / f"ID{n}_vid{m}_acousticFeatures.csv",
    )
    if has_video:
        rng = clip_rng(seed, n, m, STREAM_OPENFACE)
        write_openface(sig, ident, rng, frame_step, width, height, root / "openface" / f"{stem}.csv")
        rng = clip_rng(seed, n, m, STREAM_PYFEAT)
        write_pyfeat(sig, ident, rng, frame_step, width, height, root / "pyfeat" / f"{stem}.csv", f"{stem}.mp4")
