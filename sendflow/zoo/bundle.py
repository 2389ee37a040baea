"""One bundle per (extractor, classifier, label scheme): every fold's extractor and classifier,
and `bundle.json`, which says how frames were cut, which labels the classes mean, what the
models scored, and what produced them, with a sha256 per file; `bundle.sha256` holds the sha256
of bundle.json itself (in `sha256sum -c` form), which no file can hold of itself.

A bundle loads with nothing but itself: `load_bundle` checks the format version, bundle.json's
checksum and every model file's before any weights are read (all with `weights_only=True`), so
a bundle from an incompatible sendflow or with any edited file (bundle.json's class names, label
edges and frame settings included) fails with a message that says which.
"""

import fcntl
import json
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .. import __version__
from ..atomic import atomic_dir, file_sha256, write_json, write_text
from ..errors import SendDataError
from .card import model_card

FORMAT = "sendflow-model-bundle"
FORMAT_VERSION = 3  # 2: bundle.sha256 guards bundle.json; 3: `source` says what makes the features
MANIFEST = "bundle.json"
MANIFEST_SHA256 = "bundle.sha256"
REBUILD = "rebuild the bundle: delete its folder and rerun the workflow that wrote it"


class BundleError(ValueError):
    """A bundle that cannot be used; the message names the bundle and the problem."""


FICLONE = 0x40049409  # Linux ioctl: share the source's blocks copy-on-write (btrfs, XFS, ...)


def _place(src, dst: Path, recorded_sha256: str) -> str:
    """Copy a trained model file into a bundle (a reflink where the file system allows, so it
    costs no disk until one side changes), after checking it against the sha256 its training
    job recorded; returns the copy's sha256. Never a hard link: editing a bundle file would
    then change the training output too."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src, "rb") as source, open(dst, "wb") as copy:
        try:
            fcntl.ioctl(copy.fileno(), FICLONE, source.fileno())
        except OSError:  # ext4, tmpfs, NFS...: a plain copy
            shutil.copyfileobj(source, copy, 1 << 20)
    digest = file_sha256(dst)
    if digest != recorded_sha256:
        raise BundleError(
            f"{src}: its sha256 is not the one its training job recorded ({recorded_sha256[:12]}..., "
            f"now {digest[:12]}...): the file changed after training. Delete it and rerun to "
            "retrain it; no bundle is made from it"
        )
    return digest


def write_bundle(out_dir, name: str, members: list[dict], description: dict, task: str, feature_dim: int) -> dict:
    """Write the bundle folder atomically. `members`: one dict per fold with `fold`, the model
    file paths (`classifier`, and `extractor` for a learned source or `coder` for a coder, whose
    one file serves every fold), `sha256` (what their jobs recorded, per role; a file that no
    longer matches is refused) and, for a coder or table, `standardise` (the fold's training
    mean and std of its features); a fusion's have `parts` (each member source's, as above,
    with its `name` and `transform`) and `blocks` instead; `description`: what bundle.json says
    about the model (extractor, source, classifier, labels, frames, cv, metrics, config,
    commit); `task` and `feature_dim`:
    what its classifiers predict and read, as their training jobs recorded (so that writing a
    bundle never loads a model). Returns the manifest."""
    out_dir = Path(out_dir)
    with atomic_dir(out_dir) as tmp:
        entries, files = [], {}

        def place(item: dict, fold: int, prefix: str = "") -> dict:
            """`item`'s model files copied into the bundle (a coder's once for every fold);
            its entry with their paths there and anything else it holds."""
            entry = {k: v for k, v in item.items() if k not in ("extractor", "coder", "classifier", "sha256", "parts")}
            for role in ("extractor", "coder", "classifier"):
                if role not in item:
                    continue
                suffix = Path(item[role]).suffix  # .pt, .npz (baselines), .hdf5, .onnx (coders)
                rel = f"{prefix}coder{suffix}" if role == "coder" else f"fold{fold}/{prefix}{role}{suffix}"
                if rel not in files:
                    files[rel] = _place(item[role], tmp / rel, item["sha256"][role])
                entry[role] = rel
            return entry

        for member in members:
            entry = place(member, member["fold"])
            if "parts" in member:  # a fusion: each member source's files, under its name
                entry["parts"] = [place(part, member["fold"], f"{part['name']}-") for part in member["parts"]]
            entries.append(entry)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": name,
            "sendflow_version": __version__,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "task": task,
            "feature_dim": feature_dim,
            **description,
            "members": entries,
            "files": files,
        }
        write_json(manifest, tmp / MANIFEST)
        write_text(f"{file_sha256(tmp / MANIFEST)}  {MANIFEST}\n", tmp / MANIFEST_SHA256)
        write_text(model_card(manifest), tmp / "README.md")
    return manifest


@dataclass
class LoadedBundle:
    path: Path
    manifest: dict
    # per fold: fold, classifier (TrainedClassifier), and extractor (nn.Module), or the fold's
    # `standardise` (mean, std) of a coder's (a sources.coder.Coder, the same for every fold)
    # or a table's features, or a fusion's `parts` (each member's, with its `name` and
    # `transform`) and `blocks`
    members: list[dict]

    @property
    def frames(self) -> dict:
        return self.manifest["frames"]

    @property
    def labels(self) -> dict:
        return self.manifest["labels"]

    @property
    def table(self) -> dict | None:
        """The table a table source's bundle reads (its settings and columns); None otherwise."""
        return self.manifest["source"].get("table") if self.manifest["source"]["kind"] == "table" else None


def read_manifest(path) -> dict:
    """bundle.json of the bundle at `path`, after checking format, version and every checksum."""
    path = Path(path)
    manifest_path = path / MANIFEST
    if not path.exists():
        raise BundleError(
            f"{path}: no such folder; bundles are the folders under results/model_zoo/ "
            "(e.g. results/model_zoo/resattn-mstcn-three)"
        )
    if not manifest_path.is_file():
        raise BundleError(
            f"{path}: not a sendflow model bundle (no {MANIFEST}); bundles are the folders under results/model_zoo/"
        )
    try:
        manifest = json.loads(manifest_path.read_text())
    except json.JSONDecodeError as err:
        raise BundleError(f"{manifest_path}: not valid JSON ({err}); the bundle is damaged") from err
    if manifest.get("format") != FORMAT:
        raise BundleError(f"{manifest_path}: format {manifest.get('format')!r} is not {FORMAT!r}")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BundleError(
            f"{path}: bundle format version {manifest.get('format_version')} (written by sendflow "
            f"{manifest.get('sendflow_version')}), but this sendflow {__version__} reads version "
            f"{FORMAT_VERSION}; {REBUILD}, or run it with the sendflow version that wrote it"
        )
    _check_manifest_unchanged(path)
    for rel, expected in manifest["files"].items():
        file = path / rel
        if not file.is_file():
            raise BundleError(f"{file}: missing from the bundle")
        if file_sha256(file) != expected:
            raise BundleError(
                f"{file}: its sha256 does not match {MANIFEST} (the file was "
                "modified or is corrupt); refusing to load it"
            )
    return manifest


def _check_manifest_unchanged(path: Path) -> None:
    """bundle.json against the sha256 that bundle.sha256 recorded when the bundle was written:
    every setting predict reads (class names, label edges, frame settings) is in bundle.json."""
    recorded_file = path / MANIFEST_SHA256
    if not recorded_file.is_file():
        raise BundleError(f"{recorded_file}: missing from the bundle; {REBUILD}")
    recorded = recorded_file.read_text().split(maxsplit=1)[:1]
    if recorded != [file_sha256(path / MANIFEST)]:
        raise BundleError(
            f"{path / MANIFEST}: changed after the bundle was written (its sha256 is not the one in "
            f"{MANIFEST_SHA256}); refusing to use it; {REBUILD}"
        )


def load_bundle(path, device="cpu") -> LoadedBundle:
    """A verified bundle with every fold's classifier, and what makes its features loaded on
    `device`: the fold's extractor, or the coder, or a table's columns, or for a fusion each
    member's (its `parts`) with the fused table's column blocks."""
    from ..classifier.trained import load_classifier  # torch: imported only when loading models

    path = Path(path)
    manifest = read_manifest(path)
    coders: dict = {}
    members = []
    for entry in manifest["members"]:
        try:  # a file with the checksum bundle.json records may still not be plain tensors
            if "parts" in entry:
                parts = [_features_maker(path, part, manifest, coders, device) for part in entry["parts"]]
                member = {"parts": parts, "blocks": entry["blocks"]}
                feature_dim, made_by = entry["blocks"][-1][2], "the fusion's parts"
                role = None
            else:
                member = _features_maker(path, entry, manifest, coders, device)
                role = next((r for r in ("extractor", "coder") if r in entry), None)  # None: a table
                feature_dim, made_by = (
                    member.pop("feature_dim"),
                    entry.get(role) or f"the {manifest['extractor']} table",
                )
            classifier, about = load_classifier(path / entry["classifier"], device)
        except SendDataError as error:
            raise BundleError(str(error)) from None
        if role and about.get("extractor_sha256") != manifest["files"][made_by]:
            raise BundleError(f"{path / entry['classifier']}: trained on features of another {role} than {made_by}")
        if feature_dim != len(classifier.mean):
            raise BundleError(
                f"{path / entry['classifier']}: reads {len(classifier.mean)} features per step, but fold "
                f"{entry['fold']}'s {'fusion' if 'parts' in entry else role or 'table'} {made_by} gives "
                f"{feature_dim}; {REBUILD}"
            )
        members.append({**member, "fold": entry["fold"], "classifier": classifier})
    return LoadedBundle(path, manifest, members)


def _features_maker(path: Path, entry: dict, manifest: dict, coders: dict, device) -> dict:
    """What an entry (a fold, or a fusion's part of it) makes features with: `extractor`, or
    `coder` (loaded once per file) and `standardise`, or a table's `standardise`; with
    `feature_dim`, `name` and `transform` where the entry has them."""
    out = {key: entry[key] for key in ("name", "transform") if key in entry}
    if "standardise" in entry:
        out["standardise"] = tuple(np.asarray(entry["standardise"][k]) for k in ("mean", "std"))
    if "extractor" in entry:
        from ..models.resnet_attention import load_extractor

        out["extractor"] = load_extractor(path / entry["extractor"], device)
        out["feature_dim"] = out["extractor"].feature_dim
    elif "coder" in entry:
        if entry["coder"] not in coders:
            about = manifest["source"]
            spec = about["members"][entry["name"]]["coder"] if "name" in entry else about["coder"]
            coders[entry["coder"]] = _load_coder(spec, path / entry["coder"], device)
        out["coder"], out["feature_dim"] = coders[entry["coder"]]
    else:
        out["feature_dim"] = len(manifest["source"]["table"]["columns"])
    return out


def _load_coder(spec: dict, file: Path, device):
    """A coder and the number of features it gives per frame."""
    from ..sources.coder import load_coder

    coder = load_coder(spec, file, device)
    return coder, coder.encode(np.zeros((1, 16, 16, 3), np.uint8)).shape[1]
