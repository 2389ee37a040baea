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
    longer matches is refused) and, for a coder, `standardise` (the fold's training mean and
    std of its features); `description`: what bundle.json says about the model (extractor,
    source, classifier, labels, frames, cv, metrics, config, commit); `task` and `feature_dim`:
    what its classifiers predict and read, as their training jobs recorded (so that writing a
    bundle never loads a model). Returns the manifest."""
    out_dir = Path(out_dir)
    with atomic_dir(out_dir) as tmp:
        entries, files = [], {}
        for member in members:
            entry = {"fold": member["fold"]}
            for role in ("extractor", "coder", "classifier"):
                if role not in member:
                    continue
                suffix = Path(member[role]).suffix  # .pt, .npz (baselines), .hdf5, .onnx (coders)
                rel = f"coder{suffix}" if role == "coder" else f"fold{member['fold']}/{role}{suffix}"
                if rel not in files:
                    files[rel] = _place(member[role], tmp / rel, member["sha256"][role])
                entry[role] = rel
            if "standardise" in member:
                entry["standardise"] = member["standardise"]
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
    # or a table's features
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
    """A verified bundle with every fold's classifier, and its extractor (or the coder, or a
    table's columns) loaded on `device`."""
    from ..classifier.trained import load_classifier  # torch: imported only when loading models

    path = Path(path)
    manifest = read_manifest(path)
    members, coders = [], {}
    for entry in manifest["members"]:
        role = next((r for r in ("extractor", "coder") if r in entry), None)  # None: a table
        features_from = entry.get(role) or f"the {manifest['extractor']} table"
        try:  # a file with the checksum bundle.json records may still not be plain tensors
            if role == "coder":
                if features_from not in coders:
                    coders[features_from] = _load_coder(manifest, path / features_from, device)
                made, feature_dim = coders[features_from]
            elif role == "extractor":
                from ..models.resnet_attention import load_extractor

                made = load_extractor(path / features_from, device)
                feature_dim = made.feature_dim
            else:
                made, feature_dim = None, len(manifest["source"]["table"]["columns"])
            classifier, about = load_classifier(path / entry["classifier"], device)
        except SendDataError as error:
            raise BundleError(str(error)) from None
        if role and about.get("extractor_sha256") != manifest["files"][features_from]:
            raise BundleError(
                f"{path / entry['classifier']}: trained on features of another {role} than {features_from}"
            )
        if feature_dim != len(classifier.mean):
            raise BundleError(
                f"{path / entry['classifier']}: reads {len(classifier.mean)} features per step, but fold "
                f"{entry['fold']}'s {role or 'table'} {features_from} gives {feature_dim}; {REBUILD}"
            )
        member = {"fold": entry["fold"], "classifier": classifier}
        if role == "extractor":
            member["extractor"] = made
        else:
            stats = entry["standardise"]
            member["standardise"] = (np.asarray(stats["mean"]), np.asarray(stats["std"]))
            if role == "coder":
                member["coder"] = made
        members.append(member)
    return LoadedBundle(path, manifest, members)


def _load_coder(manifest: dict, file: Path, device):
    """The bundle's coder and the number of features it gives per frame."""
    from ..sources.coder import load_coder

    coder = load_coder(manifest["source"]["coder"], file, device)
    return coder, coder.encode(np.zeros((1, 16, 16, 3), np.uint8)).shape[1]
