"""Errors that point the user at the file and the problem."""

from pathlib import Path


class SendDataError(ValueError):
    """Bad or missing input data; the message names the offending file."""

    def __init__(self, path, problem: str):
        self.path = Path(path) if path is not None else None
        self.problem = problem
        where = f"{self.path}: " if self.path is not None else ""
        super().__init__(f"{where}{problem}")
