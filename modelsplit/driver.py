"""Running MiniZinc: find the `minizinc` executable, ask it, flatten with it, start and stop processes.

Every process modelsplit starts is started here or through what this module offers, with two
exceptions: splitters/probe.py runs the solver's FlatZinc executable itself (the race and the
probes, each in a session of its own; the race is stopped with :func:`kill_session`), and the
local cluster of workers/dask.py starts Dask worker processes. Through this module: the queries
(:func:`minizinc_json`, :func:`installed_solvers`, :func:`config_dirs`) and flattenings
(:func:`compile_model`) of model/inspect.py, workers/solvers.py, workers/gecode.py and
workers/flat.py; the parts, which workers/backend.py starts as a :class:`SolverProcess`
(`minizinc`) or a :class:`FlatZincProcess` (a FlatZinc executable and MiniZinc's printer), and
workers/cpsat/proto.py as a SolverProcess that runs its own worker command; and the checks of
offline/verify.py (:func:`run_limited`).

Solver processes run in a session of their own (``setsid``) and, where ``setpriv`` is available,
receive SIGTERM (a `minizinc` driver) or SIGKILL (a FlatZinc solver, a printer) when the thread
that started them dies, so no ``minizinc`` or ``fzn-*`` process outlives the coordinator. Stopping a process sends SIGTERM to the ``minizinc`` driver (which stops
its solver cleanly) and, after a grace period, SIGKILL to every process left in the session.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from modelsplit.errors import ModelError, SolverNotFoundError
from modelsplit.printer import END, POOL, Printer, PrinterError

INSTALL_HINT = "install it with `sudo apt-get install minizinc` (Debian/Ubuntu) or put it on PATH"


def find_minizinc() -> str:
    """Path of the `minizinc` executable (``$MODELSPLIT_MINIZINC`` or PATH)."""
    exe = os.environ.get("MODELSPLIT_MINIZINC") or shutil.which("minizinc")
    if not exe:
        raise SolverNotFoundError(f"`minizinc` was not found on PATH; {INSTALL_HINT}")
    return exe


@cache
def _query_json(exe: str, flag: str) -> object:
    try:
        out = subprocess.run([exe, flag], capture_output=True, text=True, timeout=60, check=False)
    except OSError as exc:
        raise SolverNotFoundError(f"cannot run {exe}: {exc}; {INSTALL_HINT}") from exc
    if out.returncode != 0:
        raise SolverNotFoundError(f"`{exe} {flag}` failed: {out.stderr.strip()[:300]}")
    return json.loads(out.stdout)


def minizinc_json(args: Sequence[str], cwd: str | os.PathLike[str], *, stream: bool) -> dict:
    """Ask `minizinc` (with ``args``, e.g. ``--model-interface-only``) for an answer in JSON.

    With ``stream`` the query runs with ``--json-stream`` and the answer is its one message that is
    not a warning or a timing; else it is the JSON object the output ends with. Raises ModelError
    with MiniZinc's words when there is no answer.
    """
    out = subprocess.run(
        [find_minizinc(), *(["--json-stream"] if stream else []), *args],
        cwd=cwd,
        env=solver_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    messages = _json_messages(out.stdout.splitlines())
    result = None
    if out.returncode == 0:
        if stream:
            result = next((m for m in messages if m.get("type") not in ("warning", "time")), None)
        elif "{" in out.stdout:
            try:
                result = json.loads(out.stdout[out.stdout.index("{") :])
            except json.JSONDecodeError:
                result = None
    if result is None:
        err = error_from_messages(messages, out.stderr)
        raise err or ModelError(f"minizinc could not read the model (exit {out.returncode})")
    return result


def _json_messages(lines: Iterable[str]) -> list[dict]:
    """The lines of a ``--json-stream`` output that are JSON objects, read (others are skipped)."""
    messages = []
    for line in lines:
        if line.startswith("{"):
            try:
                messages.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return messages


@cache
def minizinc_version() -> tuple[int, ...]:
    """The version of the `minizinc` modelsplit runs, e.g. ``(2, 6, 4)``; ``()`` when it does not
    say one."""
    exe = find_minizinc()
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60, check=False)
    except OSError as exc:
        raise SolverNotFoundError(f"cannot run {exe}: {exc}; {INSTALL_HINT}") from exc
    m = re.search(r"version (\d+(?:\.\d+)*)", out.stdout)
    return tuple(int(n) for n in m.group(1).split(".")) if m else ()


def keeps_default_output() -> bool:
    """Whether MiniZinc prints its default output (the dzn of a model without an output item)
    next to an output item in a section of its own, such as the plan's values section.

    MiniZinc 2.6 and 2.7 do: the default output is made whenever no output item is in the
    "default" section. From 2.8 on, an output item in any section but a JSON one (``json_section``,
    which 2.6 does not know) silences it.
    """
    return (2, 6) <= minizinc_version()[:2] < (2, 8)


def installed_solvers() -> list[dict]:
    """The solver configurations `minizinc --solvers-json` reports."""
    return list(_query_json(find_minizinc(), "--solvers-json"))  # type: ignore[arg-type]


def config_dirs() -> dict:
    """What `minizinc --config-dirs` reports (stdlib location, solver search paths)."""
    return dict(_query_json(find_minizinc(), "--config-dirs"))  # type: ignore[arg-type]


def _session_members(sid: int) -> list[int]:
    """PIDs of the processes whose session id is ``sid`` (Linux /proc)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode(errors="replace")
        except OSError:
            continue
        # the command name (field 2) may contain spaces or parentheses: split after the last ')'
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 3 and int(fields[3]) == sid:
            pids.append(int(entry))
    return pids


def kill_session(sid: int) -> None:
    """SIGKILL every process of session ``sid``."""
    for pid in _session_members(sid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def session_alive(sid: int) -> bool:
    return bool(_session_members(sid))


_SCRATCH: Path | None = None
_SCRATCH_LOCK = threading.Lock()


def scratch_root() -> Path:
    """This process's directory for part scratch files, made on first use.

    Roots of processes that died without cleaning up (kill -9) are removed here, so repeated
    crashes do not fill the temporary directory.
    """
    global _SCRATCH
    with _SCRATCH_LOCK:
        if _SCRATCH is None or not _SCRATCH.exists():
            base = Path(tempfile.gettempdir())
            for old in base.glob("modelsplit-scratch-*-*"):
                try:
                    pid = int(old.name.split("-")[2])
                    os.kill(pid, 0)
                except ProcessLookupError:
                    shutil.rmtree(old, ignore_errors=True)
                except (ValueError, IndexError, PermissionError):
                    pass
            _SCRATCH = Path(tempfile.mkdtemp(prefix=f"modelsplit-scratch-{os.getpid()}-"))
            atexit.register(shutil.rmtree, _SCRATCH, True)
        return _SCRATCH


def solver_env(label: str | None = None) -> dict[str, str]:
    """The environment of a solver process: TMPDIR is this process's scratch root, so that the
    temporary files `minizinc` makes there (``mznfile*.fzn``) are swept by a later run when a
    kill -9 leaves them behind. ``label`` goes in as MODELSPLIT_PART, inherited by the solver the
    driver starts: it tells which part a process on the machine belongs to."""
    env = dict(os.environ, TMPDIR=str(scratch_root()))
    if label:
        env["MODELSPLIT_PART"] = label
    return env


@cache
def pdeathsig_prefix(sig: str = "TERM") -> tuple[str, ...]:
    """``setpriv`` arguments that send ``sig`` to a process when the thread that started it dies.

    TERM lets a `minizinc` driver stop its solver; a FlatZinc solver or a printer gets KILL,
    which also ends a process that is paused (a virtual run pauses them with SIGSTOP, and a
    paused process would hold SIGTERM for ever)."""
    setpriv = shutil.which("setpriv")
    if not setpriv:
        return ()
    probe = subprocess.run([setpriv, "--pdeathsig", sig, "--", "true"], capture_output=True, check=False)
    return (setpriv, "--pdeathsig", sig, "--") if probe.returncode == 0 else ()


_REAP_LOCK = threading.Lock()


def reap(proc: subprocess.Popen, timeout: float | None = None) -> bool:
    """Wait for ``proc`` to end (at most ``timeout`` seconds; None: as long as it takes), with
    ``wait4`` so that its CPU seconds (and its reaped children's) are kept in ``proc.cpu_seconds``.

    Popen's own wait() and poll() reap a process without its resource usage; the stopping thread
    and the reading thread both reap through here, so whichever comes first records the CPU time.
    True once the process has ended.
    """
    if timeout is None:  # block in wait4 itself: a part's end is seen at once
        with _REAP_LOCK:
            if proc.returncode is not None:
                return True
        try:
            pid, status, usage = os.wait4(proc.pid, 0)
        except ChildProcessError:  # the other thread reaped it (and recorded it under the lock)
            pid = 0
        with _REAP_LOCK:
            if pid:
                proc.returncode = os.waitstatus_to_exitcode(status)
                proc.cpu_seconds = usage.ru_utime + usage.ru_stime
            elif proc.returncode is None:
                proc.wait()
        return True
    end = time.monotonic() + timeout
    pause = 0.002
    while True:
        with _REAP_LOCK:
            if proc.returncode is not None:
                return True
            try:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            except ChildProcessError:  # reaped outside this function (its CPU time is unknown)
                proc.wait()
                return True
            if pid:
                proc.returncode = os.waitstatus_to_exitcode(status)
                proc.cpu_seconds = usage.ru_utime + usage.ru_stime
                return True
        if time.monotonic() >= end:
            return False
        time.sleep(pause)
        pause = min(0.02, pause * 2)


def cpu_seconds(proc: subprocess.Popen) -> float:
    """CPU seconds recorded by :func:`reap` (0 when it did not reap the process)."""
    return getattr(proc, "cpu_seconds", 0.0)


class SolverProcess:
    """One running `minizinc --json-stream` process whose messages are read as they come."""

    def __init__(self, args: Sequence[str], *, cwd: str | os.PathLike[str], label: str | None = None):
        """``label`` goes into the environment as MODELSPLIT_PART (see :func:`solver_env`)."""
        self.args = self._command(args)
        env = solver_env(label)
        self._stderr = tempfile.TemporaryFile()
        self._stopped = threading.Event()
        self.proc = subprocess.Popen(
            [*pdeathsig_prefix(), *self.args],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            start_new_session=True,
            env=env,
        )
        self.pid = self.proc.pid
        self.cpu: float | None = None

    @staticmethod
    def _command(args: Sequence[str]) -> list[str]:
        """The command line to run: `minizinc` with ``args`` (a subclass may run something else)."""
        return [find_minizinc(), *args]

    def sessions(self) -> list[subprocess.Popen]:
        """The process sessions this run started (their leaders): one."""
        return [self.proc]

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def stop(self, grace: float = 1.0) -> None:
        """Stop the solver: SIGTERM to the driver, then SIGKILL to the whole session."""
        self._stopped.set()
        if not reap(self.proc, 0):
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            reap(self.proc, grace)
        kill_session(self.pid)

    def wait(self) -> int:
        """Wait for the driver; record the CPU seconds it and its solver used (``self.cpu``)."""
        reap(self.proc)
        # reaped children (the solver) are accounted to the driver when it waits for them
        self.cpu = cpu_seconds(self.proc)
        # the driver is gone; make sure nothing it started is left
        kill_session(self.pid)
        return self.proc.returncode

    def lines(self) -> Iterator[bytes]:
        """The driver's output, line by line."""
        assert self.proc.stdout is not None
        return iter(self.proc.stdout)

    def stderr_text(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def close(self) -> None:
        if self.proc.stdout:
            self.proc.stdout.close()
        self._stderr.close()


class FlatZincProcess:
    """A FlatZinc solver run directly, its solutions turned into the model's text by MiniZinc.

    ``solver_args`` start the solver's FlatZinc executable on a ``.fzn`` (e.g. ``fzn-gecode -a
    part.fzn``). Its raw output goes through MiniZinc's solution printer (``minizinc --ozn-file
    model.ozn``, which evaluates the model's output item), so :meth:`lines` yields the same text
    ``minizinc`` prints when it flattens and solves the model itself. The printer is taken from
    the process's pool (see :mod:`modelsplit.printer`) when the solver prints its first solution
    and given back when the part ends: a part that finds none costs one solver start-up, and a
    part that does no longer pays a printer's. Same interface as :class:`SolverProcess`; the
    solver runs in a session of its own (the printer is not the part's: :meth:`sessions`).
    """

    def __init__(
        self, solver_args: Sequence[str], ozn: str | os.PathLike[str], *, cwd, label=None, bounds: bool = False
    ):
        self._env = solver_env(label)
        self._ozn = str(ozn)
        self._stderr = tempfile.TemporaryFile()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self.solver = subprocess.Popen(
            [*pdeathsig_prefix("KILL"), *solver_args],
            cwd=cwd,
            stdin=subprocess.PIPE if bounds else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            start_new_session=True,
            env=self._env,
        )
        self.printer: Printer | None = None
        self._printer_cpu = 0.0  # CPU of the printer this part held, once given back
        self._printer_start = 0.0  # the held printer's CPU when this part took it
        self._printer_failed = False
        self.proc = self.solver  # what an outside observer waits for first
        self.pid = self.solver.pid
        self.cpu: float | None = None

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def sessions(self) -> list[subprocess.Popen]:
        """The process sessions this run started (their leaders): the solver's."""
        return [self.solver]

    def printer_cpu(self) -> float:
        """CPU seconds the printers used while this part held them."""
        with self._lock:
            held = self.printer
        return self._printer_cpu + (max(0.0, held.cpu() - self._printer_start) if held is not None else 0.0)

    def lines(self) -> Iterator[bytes]:
        """The printed output, line by line (status lines before any solution pass straight)."""
        assert self.solver.stdout is not None
        for raw in self.solver.stdout:
            if raw.startswith((b"=====", b"%")) or not raw.strip():
                yield raw  # a status line or comment of the solver's own: the printer would copy it
                continue
            printer = self._take()
            if printer is None:  # stopped meanwhile
                return
            try:
                yield from printer.print_stream(raw, self.solver.stdout)
            except PrinterError as exc:  # the part fails with the printer's message
                self._stderr.write(exc.text.encode())
                self._printer_failed = True
                self._kill_solver()
            self._give_back()
            return

    def tighten(self, limit: int) -> bool:
        """Tell a solver started with ``bounds`` (``fzn-gecode-bound``) that from now on the
        objective must be at most ``limit`` (minimize) or at least ``limit`` (maximize); whether
        it was told (False: no such solver, or it has ended)."""
        stdin = self.solver.stdin
        if stdin is None:
            return False
        with self._lock:
            try:
                stdin.write(f"{limit}\n".encode())
                stdin.flush()
            except (OSError, ValueError):  # it has ended (a broken pipe), or its pipe is closed
                return False
        return True

    def _take(self) -> Printer | None:
        with self._lock:
            if self.stopped:
                return None
            command = [find_minizinc(), "--non-unique", "--soln-sep", END.decode(), "--ozn-file", self._ozn]
            self.printer = POOL.take(command, self._ozn, self._env)
            self._printer_start = self.printer.cpu()
            return self.printer

    def _give_back(self) -> None:
        """The part is done with its printer (kept for the next part if it is sound)."""
        with self._lock:
            printer, self.printer = self.printer, None
            if printer is not None:
                self._printer_cpu += max(0.0, printer.cpu() - self._printer_start)
        if printer is not None:
            POOL.give_back(printer)

    def _kill_solver(self) -> None:
        if not reap(self.solver, 0):
            try:
                os.kill(self.solver.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        kill_session(self.solver.pid)

    def stop(self, grace: float = 1.0) -> None:
        """Stop the solver (SIGTERM, then SIGKILL). Its printer gets the rest of its output and
        goes back to the pool when :meth:`lines` ends (or is ended by :meth:`close`, if it is
        still printing then)."""
        self._stopped.set()
        if not reap(self.solver, 0):
            try:
                os.kill(self.solver.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            reap(self.solver, grace)
        kill_session(self.solver.pid)

    def wait(self) -> int:
        """Wait for the solver; a failure of the printer wins over its exit code."""
        reap(self.solver)
        kill_session(self.solver.pid)
        self._give_back()
        self.cpu = cpu_seconds(self.solver) + self._printer_cpu
        return 1 if self._printer_failed else self.solver.returncode

    def stderr_text(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def close(self) -> None:
        self._give_back()
        for pipe in (self.solver.stdin, self.solver.stdout):
            if pipe:
                try:
                    pipe.close()
                except OSError:  # a broken pipe: the solver has ended
                    pass
        self._stderr.close()


def error_from_messages(messages: Sequence[dict], stderr: str = "") -> ModelError | None:
    """The first `error` message of a json stream as a ModelError (None when there is none)."""
    for msg in messages:
        if msg.get("type") == "error":
            loc = msg.get("location") or {}
            where = None
            if loc.get("filename"):
                where = f"{loc['filename']}:{loc.get('firstLine', '?')}.{loc.get('firstColumn', '?')}"
            text = " ".join(str(msg.get("message", "")).split())
            what = msg.get("what")
            return ModelError(text or "MiniZinc reported an error", location=where, what=what)
    lines = [
        ln.strip()
        for ln in stderr.splitlines()
        if ln.strip() and not ln.startswith("Warning") and "deprecated" not in ln
    ]
    first = next((i for i, ln in enumerate(lines) if ln.startswith("Error") or "error:" in ln), None)
    if first is not None:
        where = next((ln for ln in reversed(lines[:first]) if re.match(r"^\S+\.mzn:\d+", ln)), None)
        text = " ".join(lines[first:])[:500]
        return ModelError(text.removeprefix("Error: "), location=where.rstrip(":") if where else None)
    if lines:
        return ModelError(" ".join(lines[-3:])[:500])
    return None


@dataclass(frozen=True)
class Finished:
    returncode: int | None  # None when the time limit stopped it
    stdout: str
    stderr: str
    wall: float
    cpu: float  # CPU seconds of the process and the children it waited for


def run_limited(
    args: Sequence[str], timeout: float, *, cwd: str | os.PathLike[str] | None = None
) -> Finished:
    """Run a command (e.g. `minizinc`) with a time limit, leaving no process behind.

    The command runs in a session of its own; at the limit it gets SIGTERM (a `minizinc` driver
    then stops its solver), and after a grace period every process left in the session is killed.
    SIGKILL of the driver alone would orphan the solver, which runs in a process group of its own.
    """
    start = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            args,
            cwd=cwd,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=solver_env(),
        )
        deadline = start + timeout
        code: int | None = None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                code = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > deadline:
                os.kill(proc.pid, signal.SIGTERM)
                grace = time.monotonic() + 1.0
                while time.monotonic() < grace:
                    pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                    if pid:
                        break
                    time.sleep(0.02)
                else:
                    kill_session(proc.pid)
                    _, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.01)
        kill_session(proc.pid)
        proc.returncode = -1 if code is None else code
        wall = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        return Finished(
            code,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            wall,
            usage.ru_utime + usage.ru_stime,
        )


@dataclass(frozen=True)
class Compiled:
    fzn: Path
    ozn: Path
    messages: tuple[dict, ...]


def compile_model(
    files: Sequence[str | os.PathLike[str]],
    *,
    solver: str,
    workdir: str | os.PathLike[str],
    extra_args: Sequence[str] = (),
    timeout: float | None = None,
    json_stream: bool = True,
) -> Compiled:
    """Flatten ``files`` for ``solver`` into ``workdir`` (raises ModelError with MiniZinc's words).

    ``json_stream=False`` for a ``.ozn`` that prints text: the stream mode is written into it."""
    workdir = Path(workdir)
    fzn, ozn = workdir / "model.fzn", workdir / "model.ozn"
    args = [
        find_minizinc(),
        *(["--json-stream"] if json_stream else []),
        "--solver",
        solver,
        "-c",
        *extra_args,
        *[str(Path(f).resolve()) for f in files],
        "--fzn",
        str(fzn),
        "--ozn",
        str(ozn),
    ]
    try:
        out = subprocess.run(
            args,
            cwd=workdir,
            env=solver_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            start_new_session=True,
        )
    except subprocess.TimeoutExpired as exc:
        raise ModelError(
            f"flattening the model took longer than {timeout:.0f} s; "
            "check the model and data, or give a larger --compile-timeout"
        ) from exc
    messages = _json_messages(line.strip() for line in out.stdout.splitlines())
    if out.returncode != 0 or not fzn.exists():
        err = error_from_messages(messages, out.stderr)
        raise err or ModelError(f"minizinc failed to flatten the model (exit {out.returncode})")
    return Compiled(fzn=fzn, ozn=ozn, messages=tuple(messages))
