"""One clip -> one .npz of face crops on the rating grid, with times, boxes and valence."""

import logging
from pathlib import Path

import numpy as np

from ..errors import SendDataError
from ..ratings import rating_steps, read_observer, valence_at
from .decode import decode_frames
from .faces import OTHER_DETECTOR, centre_box, crop_square, face_detector, fill_and_smooth

log = logging.getLogger(__name__)


def crop_faces(video, cfg: dict, on_frame=None) -> dict:
    """Decode `video` at `cfg["fps"]`, find the face in each frame and crop it: frames, times,
    steps, boxes and detection flags. Raises SendDataError naming the video if it is bad.
    `on_frame(n)` is called after each decoded frame (progress)."""
    video = Path(video)
    if not video.exists():
        raise SendDataError(video, "video file not found")
    if video.stat().st_size == 0:
        raise SendDataError(video, "video file is empty (0 bytes)")
    detect = face_detector(cfg["detector"], cfg["detect_width"]) if cfg["face_crop"] else None
    frames_iter, times, info = decode_frames(video, cfg["fps"], cfg["decode_width"])
    # Detect while ffmpeg keeps decoding in its own process: the two overlap.
    frames, detections = [], []
    for frame in frames_iter:
        frames.append(frame)
        if detect:
            detections.append(detect(frame))
        if on_frame:
            on_frame(len(frames))
    if info["returncode"] != 0 or not frames:
        problem = info["stderr"].strip().splitlines()[-1:] or ["no frames decoded"]
        raise SendDataError(video, f"ffmpeg could not decode the video: {problem[0]}")
    if detect:
        detect, detections = _second_opinion(video, frames, detect, detections, cfg)
    times = np.asarray(times[: len(frames)], dtype=np.float64)
    if len(times) != len(frames):
        raise SendDataError(video, "ffmpeg reported fewer frame times than frames")

    height, width = frames[0].shape[:2]
    if cfg["face_crop"]:
        detected = np.array([d is not None for d in detections])
        boxes = fill_and_smooth(detections, cfg["smooth_window"])
        if boxes is None:
            log.warning("%s: no face found in any frame; using a centre crop", video)
            boxes = np.tile(centre_box(width, height), (len(frames), 1))
        margin = cfg["margin"]
    else:
        detected = np.zeros(len(frames), dtype=bool)
        boxes = np.tile(centre_box(width, height), (len(frames), 1))
        margin = 0.0
    crops = np.stack([crop_square(f, b, margin, cfg["size"]) for f, b in zip(frames, boxes)])
    return {
        "frames": crops,
        "times": times,
        "steps": rating_steps(times),
        # Boxes as (centre x, centre y, side) in pixels of the decoded (scaled) frame.
        "boxes": boxes.astype(np.float32),
        "frame_size": np.array([width, height], dtype=np.int32),
        "detected": detected,
        "face_rate": np.float32(detected.mean() if cfg["face_crop"] else np.nan),
        "detector": np.str_(detect.name if detect else "none"),  # what ran, after any fallback
    }


def _second_opinion(video, frames, detect, detections, cfg):
    """Where the detector finds a face in fewer than `fallback_below` of a clip's frames, run the
    other one on the clip and keep whichever finds more (faces unlike the ones a detector knows:
    rolled, small, oddly coloured). Bundles made before this setting existed have none: off."""
    threshold = cfg.get("fallback_below", 0.0)
    found = sum(d is not None for d in detections)
    if found >= threshold * len(frames):
        return detect, detections
    other = face_detector(OTHER_DETECTOR[detect.name], cfg["detect_width"])
    if other.name == detect.name:  # the other one is not installed
        return detect, detections
    second = [other(frame) for frame in frames]
    found_other = sum(d is not None for d in second)
    log.info(
        "%s: %s found a face in %d of %d frames, %s in %d; keeping %s",
        video,
        detect.name,
        found,
        len(frames),
        other.name,
        found_other,
        other.name if found_other > found else detect.name,
    )
    return (other, second) if found_other > found else (detect, detections)


def extract_clip(video, observer, cfg: dict) -> dict:
    """Face crops of one clip (`crop_faces`) with its observer valence at each frame time, and
    how far the ratings run past the last frame (`overhang_s`, with the problem to report when
    that is too far: sendflow.frames.check decides, so that its setting reruns no frame job);
    raises SendDataError naming the file if the video or its ratings cannot be read."""
    ratings = read_observer(observer)
    arrays = crop_faces(video, cfg)
    covered = arrays["times"][-1] + 1.0 / cfg["fps"]
    rated = float(ratings["time"].iloc[-1])
    return {
        **arrays,
        "valence": valence_at(ratings, arrays["times"]).astype(np.float32),
        "skipped": np.bool_(False),
        "reason": np.str_(""),
        "overhang_s": np.float32(rated - covered),
        "overhang_problem": np.str_(
            f"{video}: video is much shorter than its ratings: frames cover {covered:.1f} s but "
            f"{observer} runs to {rated:.1f} s (truncated file?)"
        ),
    }
