"""A one-line progress bar on stderr, for long work a person waits for (no dependency)."""

import sys
import time


class ProgressBar:
    """`update(n)` with the count done so far; redraws at most 5 times a second. On a terminal
    the line is redrawn in place; in a log file a line is written every 25%."""

    def __init__(self, label: str, total: int | None, unit: str = "frames", stream=sys.stderr):
        self.label, self.total, self.unit, self.stream = label, total, unit, stream
        self.tty = stream.isatty()
        self.started, self.drawn_at, self.quarter, self.n = time.monotonic(), 0.0, 0, 0

    def update(self, n: int) -> None:
        self.n = n
        now = time.monotonic()
        if self.tty and now - self.drawn_at > 0.2:
            self.drawn_at = now
            self.stream.write("\r" + self._line())
            self.stream.flush()
        elif not self.tty and self.total and self.quarter < n * 4 // self.total < 4:
            self.quarter = n * 4 // self.total
            self.stream.write(self._line() + "\n")

    def close(self, note: str = "") -> None:
        end = f" {note}" if note else ""
        self.stream.write(("\r" if self.tty else "") + self._line(done=True) + end + "\n")
        self.stream.flush()

    def _line(self, done: bool = False) -> str:
        seconds = time.monotonic() - self.started
        total = self.n if done else self.total
        if total:
            share = min(self.n / total, 1.0)
            bar = "#" * round(24 * share) + "." * (24 - round(24 * share))
            count = f"[{bar}] {self.n}/{total} {self.unit}"
        else:
            count = f"{self.n} {self.unit}"
        return f"{self.label}: {count} ({seconds:.1f} s)"
