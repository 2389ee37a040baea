"""Errors that point the user at the file and the problem."""

from pathlib import Path


class SendDataError(ValueError):
    """Bad or missing input data; the message names the offending file."""

    def __init__(self, path, problem: str):
        self.path = Path(path) if path is not None else None
        self.problem = problem
        where = f"{self.path}: " if self.path is not None else ""
        super().__init__(f"{where}{problem}")


class OutputWriteError(OSError):
    """An output that could not be written (disk full, quota, read-only or unwritable folder);
    the message names the file, its size where known, what was written, and the free space."""

    def __init__(self, path, reason: str, written: int, free: int | None, needed: int | None = None):
        self.path, self.reason, self.written, self.free = Path(path), reason, written, free
        sizes = [f"{written / 1e6:.1f} MB written when it stopped"]
        if needed is not None:
            sizes.insert(0, f"it needs about {needed / 1e6:.1f} MB")
        sizes.append(f"{free / 1e6:.1f} MB free on that disk" if free is not None else "free space unknown")
        super().__init__(
            f"{self.path}: could not be written ({reason}; {', '.join(sizes)}). Free space "
            "there (or run from a folder on a bigger disk) and rerun: finished outputs are kept."
        )
