"""Write outputs atomically: to a temporary sibling first, renamed into place when complete.

A run killed mid-write then leaves no partial file that Snakemake could mistake for a result.
"""

import contextlib
import errno
import glob
import hashlib
import json
import math
import os
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import OutputWriteError

# errno values of a write that the file system refused, as opposed to a bug in the writer
WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EACCES, errno.EPERM, errno.EROFS, errno.EIO}


def file_sha256(path) -> str:
    """sha256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fresh_temporary(path: Path) -> Path:
    """This process's temporary name for `path`, after removing those a killed job left behind
    (one job writes each output, so no other writer's temporary can be live)."""
    for stale in path.parent.glob(glob.escape(f".{path.name}") + ".tmp-*"):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink(missing_ok=True)
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def write_failure(path: Path, tmp: Path, error: BaseException) -> OutputWriteError | None:
    """The error to report when writing `path` (through `tmp`) failed for want of disk, quota
    or permission, or None when `error` is not such a failure. torch's writer loses the errno
    ("unexpected pos ..."), so for its errors the free space decides."""
    try:
        written = tmp.stat().st_size
    except OSError:
        written = 0
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        free = None
    if isinstance(error, OSError) and error.errno in WRITE_ERRNOS:
        return OutputWriteError(path, os.strerror(error.errno), written, free)
    if (
        isinstance(error, OSError)
        and error.errno is None
        and any(  # pyarrow's IO errors carry no errno
            os.strerror(code) in str(error) for code in WRITE_ERRNOS
        )
    ):
        return OutputWriteError(path, str(error), written, free)
    if isinstance(error, RuntimeError) and ("unexpected pos" in str(error) or "PytorchStreamWriter" in str(error)):
        reason = (
            os.strerror(errno.ENOSPC)
            if free is not None and free < (1 << 20)
            else "the write stopped part way: disk full, a quota or a file size limit"
        )
        return OutputWriteError(path, reason, written, free)
    return None


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path next to `path`; rename it to `path` only if the block succeeds.
    A write the disk refuses is reported as OutputWriteError, naming `path`."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        if error.errno in WRITE_ERRNOS:
            raise OutputWriteError(path, f"its folder cannot be made: {os.strerror(error.errno)}", 0, None) from None
        raise
    tmp = _fresh_temporary(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except (OSError, RuntimeError) as error:
        failure = write_failure(path, tmp, error)
        if failure is None:
            raise
        raise failure from error
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_dir(path):
    """Yield a fresh temporary sibling folder; it replaces `path` only if the block succeeds."""
    path = Path(path)
    tmp = _fresh_temporary(path)
    try:
        tmp.mkdir(parents=True)
        yield tmp
        shutil.rmtree(path, ignore_errors=True)  # os.replace cannot overwrite a non-empty folder
        os.replace(tmp, path)
    except (OSError, RuntimeError) as error:
        failure = write_failure(path, tmp, error)
        if failure is None:
            raise
        raise failure from error
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_parquet(frame: pd.DataFrame, path, metadata: dict[str, str] | None = None) -> None:
    """Write `frame` as Parquet atomically, with optional key/value schema metadata."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if metadata:
        merged = dict(table.schema.metadata or {})
        merged.update({k.encode(): str(v).encode() for k, v in metadata.items()})
        table = table.replace_schema_metadata(merged)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def write_csv(frame: pd.DataFrame, path, **to_csv) -> None:
    """Write `frame` as CSV atomically (no index unless asked for)."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, **{"index": False, **to_csv})


def write_text(text: str, path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def _plain(obj):
    """`obj` with NaN and infinities as None (JSON has no NaN) and NumPy scalars as Python's."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):  # a NumPy scalar
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_json(obj, path) -> None:
    """Write `obj` as indented, strict JSON atomically: NaN becomes null, NumPy scalars plain."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(_plain(obj), indent=2, allow_nan=False))
