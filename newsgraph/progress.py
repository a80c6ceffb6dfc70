"""A progress bar for terminals only: pipes and CI logs get just the summary line."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Redraws at most ten times a second on a TTY; silent otherwise."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.label = label
        self.total = 0
        self._drawn_at = 0.0

    def set_total(self, total: int) -> None:
        self.total = total

    def update(self, done: int) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self._drawn_at < 0.1 and done < self.total):
            return
        self._drawn_at = now
        width = 30
        filled = int(width * done / self.total) if self.total else width
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done}/{self.total}")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self._drawn_at:
            self.stream.write("\r\033[K")
            self.stream.flush()
