"""`sendflow predict`: valence over time for new videos, with a trained model bundle.

Each video is cut exactly as in training (the bundle's frame settings: sampling rate, face
detector, crop), embedded by every fold's extractor (or coded by the bundle's coder and
standardised as each fold's training features were), pooled per 0.5 s step and read by that
fold's temporal model; the folds' class probabilities and valence are averaged (kfold
bundles are ensembles). Per video it writes `NAME.csv` (t, valence, class, one probability
per class, face_found) and `NAME.png`.
"""

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from .config import schema_defaults
from .errors import SendDataError
from .ffmpeg_bin import probe_duration
from .labels import classify
from .progress import ProgressBar

log = logging.getLogger("sendflow.predict")


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sendflow predict",
        description="Predict valence over time for videos with a trained model bundle "
        "(a folder under results/model_zoo/). Writes NAME.csv and NAME.png per video.",
        epilog="Exit status: 0 when every video was predicted, 1 when any failed (the others "
        "still run), 2 for a bad command line (e.g. a --device this machine lacks, --out a file) "
        "or an unusable bundle; both are checked before any video is decoded.",
    )
    parser.add_argument(
        "videos",
        nargs="+",
        metavar="VIDEO",
        type=Path,
        help="video files (any length, size and frame rate ffmpeg reads)",
    )
    parser.add_argument(
        "--model",
        required=True,
        type=Path,
        metavar="BUNDLE",
        help="model bundle folder, e.g. results/model_zoo/resattn-mstcn-three",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("predictions"),
        metavar="DIR",
        help="folder for the CSV and PNG files (default: ./predictions)",
    )
    parser.add_argument(
        "--device", default="auto", help="auto (CUDA when present, else CPU), cpu, cuda or cuda:N (default: auto)"
    )
    parser.add_argument(
        "--fold",
        type=int,
        default=None,
        metavar="K",
        help="use fold K's models only instead of the ensemble of all folds",
    )
    parser.add_argument(
        "--one-person",
        action="store_true",
        help="the videos show one person: with a model trained on per-speaker "
        "centred features, centre them over all these videos together (as "
        "training does per speaker) instead of each video on its own",
    )
    parser.add_argument(
        "--table",
        action="append",
        default=[],
        metavar="NAME=PATTERN",
        help="the files a table source's bundle reads (e.g. OpenFace CSVs a tool wrote for each video): "
        "NAME is the bundle's source, PATTERN a path where {stem} stands for the video's name and * for "
        "the rest of a name, e.g. --table 'openface=/data/openface/{stem}.csv'",
    )
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        default=schema_defaults()["extractor"]["feature_batch_size"],
        metavar="N",
        help="frames per extractor forward pass (default: extractor.feature_batch_size's, %(default)s)",
    )
    return parser


def _table_steps(video: Path, bundle, pattern: str) -> dict:
    """A table source's file of one video (found by `pattern`), averaged per rating step and
    standardised as each fold's training features were."""
    from .ffmpeg_bin import video_fps
    from .sources.formats import load
    from .sources.patterns import resolve_for_video
    from .sources.table import resample

    table = bundle.table
    path = resolve_for_video(pattern, video)
    reader = load(table["format"])
    fps = table.get("fps") or (video_fps(video) if getattr(reader, "NEEDS_FPS", False) else None)
    steps = resample(*reader.read(path, table["columns"], {**table, "fps": fps}))
    features = [
        np.nan_to_num((steps["feature"] - m["standardise"][0]) / m["standardise"][1]).astype(np.float32)
        for m in bundle.members
    ]
    return {"step": steps["step"], "face_found": steps["n_frames"] > 0, "features": features}


def _video_steps(video: Path, bundle, batch_size: int, device) -> dict:
    """Face crops of one video, embedded by each fold's extractor (or coded once by the coder and
    standardised with each fold's training statistics) and pooled per rating step."""
    from .features import embed_frames
    from .frames.extract import crop_faces
    from .pooling import pool_steps

    frames_cfg = bundle.frames
    duration = probe_duration(video) if video.is_file() else None
    bar = ProgressBar(video.name, round(duration * frames_cfg["fps"]) if duration else None)
    arrays = crop_faces(video, frames_cfg, on_frame=bar.update)
    bar.close(f"face found in {100 * np.nan_to_num(arrays['face_rate']):.0f}% of frames")
    unrated = np.full(len(arrays["frames"]), np.nan)
    done: dict = {}  # pooled features per extractor or coder: a coder codes once for every fold

    def pooled(maker: dict) -> dict:
        model = maker.get("extractor") or maker["coder"]
        if id(model) not in done:
            per_frame = (
                embed_frames(model, arrays["frames"], batch_size, device)
                if "extractor" in maker
                else model.encode(arrays["frames"])
            )
            done[id(model)] = pool_steps(per_frame, arrays["steps"], unrated)
        steps = done[id(model)]
        if "standardise" in maker:  # a coder's features, as its table was standardised on the fold
            mean, std = maker["standardise"]
            steps = {**steps, "feature": ((steps["feature"] - mean) / std).astype(np.float32)}
        return steps

    features = []
    for m in bundle.members:
        if "parts" in m:  # a fusion: every member's features through its fold's transform, side by side
            parts = {part["name"]: pooled(part) for part in m["parts"]}
            features.append(_fused(parts, {p["name"]: p["transform"] for p in m["parts"]}, m["blocks"]))
        else:
            features.append(pooled(m))
    steps = features[0]["step"]
    face_found = np.zeros(len(steps), bool)
    face_found[np.searchsorted(steps, arrays["steps"][arrays["detected"]])] = True
    return {"step": steps, "face_found": face_found, "features": [f["feature"] for f in features]}


def _fused(parts: dict[str, dict], transforms: dict[str, dict], blocks: list) -> dict:
    """A fused table's columns for a new video, whose every member has every step: each member
    through its transform, masks at 1, the base last (sources/fusion.py's layout)."""
    from .sources.fusion import apply_transform

    first = next(iter(parts.values()))
    x = np.zeros((len(first["step"]), blocks[-1][2]), np.float32)
    for name, start, stop, masked in blocks:
        values = apply_transform(parts[name]["feature"], {k: _arrays(v) for k, v in transforms[name].items()})
        x[:, start : stop - masked] = values
        if masked:
            x[:, stop - 1] = 1.0
    return {**first, "feature": x}


def _arrays(value):
    return {k: np.asarray(v) for k, v in value.items()} if isinstance(value, dict) else np.asarray(value)


def _predict_group(per_video: dict[Path, dict], bundle, device) -> dict[Path, pd.DataFrame]:
    """Tables for videos whose features are centred together (one person, or one video)."""
    from .classifier.trained import ensemble_class_source
    from .ratings import RATING_STEP_S

    videos = list(per_video)
    probs, values = [], []
    for i, member in enumerate(bundle.members):
        outputs = member["classifier"].predict([per_video[v]["features"][i] for v in videos], device)
        probs.append([p for p, _ in outputs])
        values.append([v for _, v in outputs])
    names, edges = bundle.labels["names"], bundle.labels["edges"]
    # classes as most of the fold models chose them on their select speakers (model card)
    from_valence = ensemble_class_source([m["classifier"].classes_from for m in bundle.members]) == "valence"
    tables = {}
    for j, video in enumerate(videos):
        valence = np.mean([member[j] for member in values], axis=0)
        table = pd.DataFrame({"t": per_video[video]["step"] * RATING_STEP_S, "valence": valence})
        mean_probs = None if probs[0][j] is None else np.mean([member[j] for member in probs], axis=0)
        classes = classify(valence, edges) if mean_probs is None or from_valence else mean_probs.argmax(1)
        table["class"] = np.asarray(names, dtype=object)[classes]
        if mean_probs is not None:
            for k, name in enumerate(names):
                table[f"prob_{name.replace(' ', '_')}"] = mean_probs[:, k]
        table["face_found"] = per_video[video]["face_found"]
        tables[video] = table
    return tables


def _write(video: Path, table: pd.DataFrame, bundle, out_dir: Path, dpi: int) -> None:
    from .atomic import write_csv
    from .figures.prediction import plot_prediction

    write_csv(table, out_dir / f"{video.stem}.csv", float_format="%.6g")
    title = f"{video.name} · {bundle.manifest['name']}"
    plot_prediction(table, bundle.labels, out_dir / f"{video.stem}.png", title, dpi)
    print(f"{video}: {len(table)} steps -> {out_dir / video.stem}.csv, .png", file=sys.stderr)


def _out_problem(out: Path) -> str | None:
    """Why `out` cannot be the output folder (it, or the nearest of its parents that exists, is
    a file), or None. Checked before decoding, without creating the folder."""
    existing = next(p for p in (out, *out.parents) if p.exists() or p == Path(p.anchor))
    if not existing.is_dir():
        return f"--out {out}: {existing} is a file, not a folder"
    return None


def run(args) -> int:
    from .device import DeviceError, resolve_device
    from .zoo import BundleError, load_bundle

    stems = [v.stem for v in args.videos]
    clashes = sorted({s for s in stems if stems.count(s) > 1})
    if clashes:
        print(
            f"error: several videos are named {', '.join(clashes)}; their outputs would "
            "overwrite each other (predict them into different --out folders)",
            file=sys.stderr,
        )
        return 2
    out_problem = _out_problem(args.out)
    if out_problem:
        print(f"error: {out_problem}", file=sys.stderr)
        return 2
    try:
        device = resolve_device(args.device)
    except DeviceError as err:
        print(f"error: --device {err}", file=sys.stderr)
        return 2
    try:
        bundle = load_bundle(args.model, device)
    except BundleError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.fold is not None:
        folds = [m["fold"] for m in bundle.members]
        if args.fold not in folds:
            print(f"error: --fold {args.fold}: the bundle has folds {folds}", file=sys.stderr)
            return 2
        bundle.members = [m for m in bundle.members if m["fold"] == args.fold]

    tables = dict(entry.partition("=")[::2] for entry in args.table)
    if bundle.table is not None and not tables.get(bundle.manifest["extractor"]):
        name = bundle.manifest["extractor"]
        print(
            f"error: {args.model} reads the {name} table (format {bundle.table['format']}): files a tool wrote "
            f"for each video, which a video alone does not give. Add --table {name}=PATTERN, e.g. "
            f"--table '{name}=/data/{name}/{{stem}}.csv'",
            file=sys.stderr,
        )
        return 2
    if bundle.table is not None:
        from .sources.patterns import pattern_fields

        pattern = tables[bundle.manifest["extractor"]]
        try:
            unknown = pattern_fields(pattern) - {"stem"}
        except ValueError as err:
            unknown = {str(err)}
        if unknown:
            print(f"error: --table {pattern!r}: a new video's file is found by {{stem}} only", file=sys.stderr)
            return 2
    failed, per_video = [], {}
    for video in args.videos:
        try:
            if bundle.table is not None:
                per_video[video] = _table_steps(video, bundle, tables[bundle.manifest["extractor"]])
            else:
                per_video[video] = _video_steps(video, bundle, args.batch_size, device)
        except SendDataError as err:
            print(f"error: {err}", file=sys.stderr)
            failed.append(video)
    args.out.mkdir(parents=True, exist_ok=True)
    groups = [per_video] if args.one_person else [{v: steps} for v, steps in per_video.items()]
    dpi = schema_defaults()["report"]["dpi"]  # the report's default resolution: a bundle holds no report settings
    for group in filter(None, groups):
        for video, table in _predict_group(group, bundle, device).items():
            _write(video, table, bundle, args.out, dpi)
    if failed:
        print(f"{len(failed)} of {len(args.videos)} videos failed: {', '.join(map(str, failed))}", file=sys.stderr)
    return 1 if failed else 0


def main(argv=None) -> int:
    from .logs import setup

    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup(level=logging.WARNING)  # warnings (e.g. no face found) reach stderr
    return run(args)
