"""Progress on stderr: a line rewritten in place on a terminal, nothing otherwise."""

from __future__ import annotations

import sys
import time

from ..dispatcher import Progress


class ProgressLine:
    def __init__(self, quiet: bool = False, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = not quiet and self.stream.isatty()
        self._last = 0.0
        self._width = 0

    def __call__(self, p: Progress) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.2:
            return
        self._last = now
        parts = p.parts
        text = (
            f"parts {parts['done']}/{parts['total']} done, {parts['running']} running"
            f", {p.n_solutions} solution{'s' if p.n_solutions != 1 else ''}"
        )
        if p.incumbent is not None:
            text += f", best {p.incumbent}"
        text += f", {p.elapsed:.1f} s"
        self.stream.write("\r" + text.ljust(self._width))
        self._width = len(text)
        self.stream.flush()

    def clear(self) -> None:
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
