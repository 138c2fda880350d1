"""MiniZinc's solution printer, kept across parts.

A part run from the plan's flattening prints raw FlatZinc values (``q = array1d(1..8, [...]);``),
which ``minizinc --ozn-file model.ozn`` turns into the model's output text. Starting that printer
costs about 27 ms of CPU before its first solution (it parses MiniZinc's whole standard library),
more than starting the solver itself, and every part that finds a solution paid it. A
:class:`Printer` is one such process that outlives its part: a part takes one from the pool when
its solver prints its first solution, streams its solutions to it (whole solutions, as they
come) while it reads their text back, and gives it back when it ends, for the next part of the
same plan.

The printer is told ``--non-unique`` (it would otherwise drop a solution equal to one printed
before, which a part searched again from scratch prints again) and a separator of its own after
each solution (a model's output text may hold a line of dashes), which the caller turns back into
``----------``. A part's CPU includes what its printer used while the part held it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from typing import BinaryIO

from modelsplit.workers import cputime

END = b"%%%modelsplit-solution-end"  # the printer's line after each solution's text
PART_END = b"%%%modelsplit-part-end"  # a comment sent after a part's last solution, copied back
SEPARATOR = b"----------"
IDLE_AT_MOST = 32  # printers kept idle per process; more are ended when given back


class PrinterError(Exception):
    """The printer ended or failed on a solution; ``text`` is what it wrote to stderr."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


class Printer:
    """One ``minizinc --ozn-file OZN`` process, fed one part's solutions after another's."""

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
        self.busy = False  # a part's output sent, its text not all read yet
        self.broken = False

    def cpu(self) -> float:
        """CPU seconds it has used so far (0 once it has ended)."""
        return cputime.usage([self.proc.pid]).cpu

    def print_stream(self, first: bytes, source: BinaryIO) -> Iterator[bytes]:
        """The text of a part's solutions: ``first`` (the first line of its first solution) and
        the rest of the solver's output ``source``, fed to the printer by a thread of its own as
        it comes, whole solutions at a time. Ends with the lines after the last solution that
        the printer would copy (status and comments; a solution cut short is dropped, as the
        printer would); PrinterError if the printer failed."""
        assert self.proc.stdout is not None
        self.busy = True
        trailing: list[bytes] = []
        feeder = threading.Thread(target=self._feed, args=(first, source, trailing), daemon=True)
        feeder.start()
        for line in self.proc.stdout:
            key = line.rstrip(b"\r\n")
            if key == END:
                yield SEPARATOR + b"\n"
            elif key == PART_END:
                break
            else:
                yield line
        else:
            self.broken = True
            feeder.join(1.0)
            raise PrinterError(self.stderr_text())
        feeder.join()
        self.busy = False
        yield from (ln for ln in trailing if ln.startswith((b"=====", b"%")) or not ln.strip())

    def _feed(self, first: bytes, source: BinaryIO, trailing: list[bytes]) -> None:
        """Copy the solver's output to the printer up to its last whole solution, as it comes;
        at its end, keep the rest in ``trailing`` and mark the part's end (a comment the printer
        copies at once)."""
        assert self.proc.stdin is not None
        carry = first  # a solution that prints nothing is its separator alone: whole already
        try:
            while True:
                cut = _after_last_separator(carry)
                if cut:
                    self.proc.stdin.write(carry[:cut])
                    self.proc.stdin.flush()
                    carry = carry[cut:]
                chunk = source.read1(1 << 16)
                if not chunk:
                    break
                carry += chunk
            trailing.extend(carry.splitlines(keepends=True))
            self.proc.stdin.write(PART_END + b"\n")
            self.proc.stdin.flush()
        except (OSError, ValueError):  # the printer ended, or the output was closed under it
            pass

    def stderr_text(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def kill(self) -> None:
        self.broken = True
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
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

    def take(self, command: list[str], ozn: str, env: dict[str, str]) -> Printer:
        """An idle printer of ``ozn`` (one that ended meanwhile is dropped), else a new one
        started with ``command``."""
        stat = os.stat(ozn)
        key = (ozn, stat.st_size, stat.st_mtime_ns)
        while True:
            with self._lock:
                printer = next((p for p in self._idle if p.key == key), None)
                if printer is not None:
                    self._idle.remove(printer)
            if printer is None:
                return Printer(command, key, env)  # started outside the lock
            if printer.proc.poll() is None:
                return printer
            printer.kill()

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


def _after_last_separator(data: bytes) -> int:
    """Where the text after the last solution separator of ``data`` starts (0: none in it)."""
    at = data.rfind(b"\n" + SEPARATOR + b"\n")
    if at >= 0:
        return at + len(SEPARATOR) + 2
    return len(SEPARATOR) + 1 if data.startswith(SEPARATOR + b"\n") else 0


POOL = PrinterPool()
