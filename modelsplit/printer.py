"""MiniZinc's solution printer, kept across parts.

A part run from the plan's flattening prints raw FlatZinc values (``q = array1d(1..8, [...]);``),
which ``minizinc --ozn-file model.ozn`` turns into the model's output text. Starting that printer
costs about 27 ms of CPU before its first solution (it parses MiniZinc's whole standard library),
more than starting the solver itself, and every part that finds a solution paid it. A
:class:`Printer` is one such process that outlives its part: a part takes one from the pool when
its solver prints its first solution, sends it each solution as it comes and reads back that
solution's text, and gives it back when it ends, for the next part of the same plan.

The printer is told ``--non-unique`` (it would otherwise drop a solution equal to one printed
before, which a part searched again from scratch prints again) and a separator of its own after
each solution (a model's output text may hold a line of dashes), which the caller turns back into
``----------``. A part's CPU includes what its printer used while the part held it.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading

from modelsplit.workers import cputime

END = b"%%%modelsplit-solution-end"  # the printer's line after each solution's text
SEPARATOR = b"----------"
IDLE_AT_MOST = 32  # printers kept idle per process; more are ended when given back


class PrinterError(Exception):
    """The printer ended or failed on a solution; ``text`` is what it wrote to stderr."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


class Printer:
    """One ``minizinc --ozn-file OZN`` process, fed one solution at a time."""

    def __init__(self, command: list[str], key: tuple, env: dict[str, str]):
        self.key = key
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            start_new_session=True,
            env=env,
        )
        self.busy = False  # a solution sent, its text not read yet
        self.broken = False
        self.used = False  # by a part before: it may have ended since (see PrinterPool.take)

    def cpu(self) -> float:
        """CPU seconds it has used so far (0 once it has ended)."""
        return cputime.usage([self.proc.pid]).cpu

    def format(self, block: list[bytes]) -> list[bytes]:
        """The text of one solution (its raw lines, ending with the solver's separator), ending with
        ``----------``; PrinterError if the printer could not print it."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.busy = True
        out = []
        try:
            self.proc.stdin.write(b"".join(block))
            self.proc.stdin.flush()
            for line in self.proc.stdout:
                if line.rstrip(b"\r\n") == END:
                    out.append(SEPARATOR + b"\n")
                    self.busy = False
                    return out
                out.append(line)
        except (OSError, ValueError):
            pass
        self.broken = True
        raise PrinterError(self.stderr_text())

    def stderr_text(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def kill(self) -> None:
        self.broken = True
        try:
            os.killpg(self.proc.pid, 9)
        except (ProcessLookupError, PermissionError):
            pass
        self.close()

    def close(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._stderr.close()


class PrinterPool:
    """Idle printers of this process, by output specification (file, size and modification time:
    a file written again is another specification)."""

    def __init__(self):
        self._idle: list[Printer] = []
        self._lock = threading.Lock()

    def take(self, command: list[str], ozn: str, env: dict[str, str], fresh: bool = False) -> Printer:
        """An idle printer of ``ozn``, else (or if ``fresh``) a new one started with ``command``."""
        stat = os.stat(ozn)
        key = (ozn, stat.st_size, stat.st_mtime_ns)
        with self._lock:
            for i, printer in enumerate(self._idle if not fresh else ()):
                if printer.key == key:
                    return self._idle.pop(i)
        return Printer(command, key, env)

    def give_back(self, printer: Printer) -> None:
        """A part is done with ``printer``: kept for the next part, unless it is broken, stopped
        in the middle of a solution, or there are enough idle ones."""
        if printer.broken or printer.busy or printer.proc.poll() is not None:
            printer.kill()
            return
        with self._lock:
            if len(self._idle) < IDLE_AT_MOST:
                self._idle.append(printer)
                return
        printer.close()

    def close(self) -> None:
        """End every idle printer."""
        with self._lock:
            idle, self._idle = self._idle, []
        for printer in idle:
            printer.close()


POOL = PrinterPool()
