"""CP-SAT part servers kept by a worker across the parts of a plan (the servers: :mod:`.server`).

A :class:`ServerPool` belongs to a backend: a part of a CP-SAT plan runs on an idle server that
has the plan's model loaded, or on a new one (which reads and translates the model once). At most
one part runs on a server at a time, so a worker that runs W parts at once keeps W servers. The
pool hands the backend a :class:`ServerPart` for each part, with the interface of a solver
process (``lines``, ``stop``, ``wait``, ``stderr_text``, ``close``, ``cpu``), so the backend reads
a part's output as it reads any solver's.

* Stopping a part asks its server to stop the search (CP-SAT's ``stop_search``); the server stays
  for the next part. A server that has not ended the part within STOP_GRACE is killed (its whole
  process session), and the part ends stopped; one still reading the model gets LOAD_GRACE (it
  ends the part as soon as the model is read, and keeps the model for the next part).
* A server that dies during a part (killed, crashed) ends the part as a crash, which the
  dispatcher retries (once); the next part starts a new server.
* A part's CPU seconds are those its server (and the server's printer) used during the part.
* Servers start from a thread of the pool's own that lives as long as the process, so that
  they get SIGKILL when the process dies (a thread's end would otherwise kill them early);
  their input closing (the process gone) ends them too.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from modelsplit.driver import find_minizinc, kill_session, pdeathsig_prefix, reap, solver_env
from modelsplit.workers import cputime

SERVER_MODULE = "modelsplit.workers.cpsat.server"
END = b"%%%modelsplit-run-end"
LOADED = b"%%%modelsplit-loaded"
SEPARATOR = b"----------"
STOP_GRACE = 1.0  # seconds a stopped part's server has to end the part before it is killed
LOAD_GRACE = 30.0  # ... while it still reads and translates the model (it stops once it has)
CLOSE_GRACE = 1.0  # seconds a closed server has to end before it is killed
# "1": a bound found while a part runs stops its search and starts it again under it (tighten);
# off by default: measured slower (2026-12-07, bench/cpsat.py: golomb m=9 0.86 s -> 5.03 s, jobshop
# 10x10 2.44 s -> 4.50 s; CP-SAT given a bound searches slower than it goes on without one)
RESUME_ENV = "MODELSPLIT_CPSAT_RESUME"

_SPAWNER = ThreadPoolExecutor(1, thread_name_prefix="cpsat-servers")


@dataclass(frozen=True)
class RunRecord:
    """One part a server ran, as its end line told (for tests and the bench)."""

    pid: int  # the server process
    runs: int  # parts that server had run, this one included
    loads: int  # translations that server had made (one per server)
    startup: float | None  # seconds from the part's start to its search's (None: it did not end)
    workers: int = 1  # CP-SAT workers of the part's search (num_workers; 0: no search ran)
    hints: int = 0  # variables its search started from the incumbent's values (a solution hint)
    resumes: int = 0  # times its search stopped for a bound told while it ran, and went on below it


class Server:
    """One server process: what it loaded (``key``, its arguments) and its pipes."""

    def __init__(self, key: tuple[str, ...], label: str | None):
        self.key = key
        self._stderr = tempfile.TemporaryFile()
        cmd = [*pdeathsig_prefix("KILL"), sys.executable, "-m", SERVER_MODULE, *key]
        self.proc: subprocess.Popen = _SPAWNER.submit(
            subprocess.Popen,
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            start_new_session=True,
            env=solver_env(label),
        ).result()
        self.pid = self.proc.pid
        self.runs = 0
        self.loaded = False  # it has read and translated the model
        self._send = threading.Lock()  # requests come from the part's thread and the coordinator's

    def send(self, message: dict) -> None:
        """Write one request (OSError when the server has gone)."""
        assert self.proc.stdin is not None
        with self._send:
            self.proc.stdin.write(json.dumps(message).encode() + b"\n")
            self.proc.stdin.flush()

    def stderr_size(self) -> int:
        return os.fstat(self._stderr.fileno()).st_size

    def stderr_since(self, offset: int) -> str:
        """What the server wrote on stderr from ``offset`` on (a part's error lines)."""
        size = self.stderr_size()
        return os.pread(self._stderr.fileno(), max(0, size - offset), offset).decode(errors="replace")

    def cpu(self) -> float:
        """CPU seconds of the server and its printer so far (their total once it has been reaped)."""
        if self.proc.returncode is not None:
            return getattr(self.proc, "cpu_seconds", 0.0)
        return cputime.usage([self.pid]).cpu

    def kill(self) -> None:
        kill_session(self.pid)
        reap(self.proc, CLOSE_GRACE)

    def close(self) -> None:
        """End the server: its input closes (it stops and ends), then its session is killed."""
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        except OSError:
            pass
        reap(self.proc, CLOSE_GRACE)
        self.kill()
        # its output pipe is left to the reader of a part that may still run on it (it sees the
        # end of the output), and closed with the Popen object


@dataclass
class ServerPool:
    """The part servers of one backend: idle ones by what they loaded (see the module)."""

    records: list[RunRecord] = field(default_factory=list)  # every part run, in the order they ended
    _idle: list[Server] = field(default_factory=list)
    _busy: set = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _closed: bool = False
    _minizinc: str | None = None

    def fzn_part(self, flat, argv: list[str], label: str | None) -> ServerPart:
        """A FlatZinc part (a :class:`~modelsplit.workers.flat.FlatPart`) with ``fzn-cpsat``'s
        flags ``argv``, on a server of the plan's flattening."""
        free = [a for a in argv if a in ("-f", "--free-search")][:1]  # search annotations: read at load
        if self._minizinc is None:
            self._minizinc = find_minizinc()
        key = ("fzn", flat.fzn, "--ozn", flat.ozn, "--minizinc", self._minizinc, *free)
        request = {"argv": argv, "constraints": flat.constraints, "hint": [list(h) for h in flat.hint]}
        return self.part(key, request, label)

    def proto_part(
        self, model_file: str, all_solutions: bool, cube, bound, label: str | None, threads: int = 1, hint=()
    ) -> ServerPart:
        """A part of a CP-SAT model file: its cube's ranges, the objective bound, the CP-SAT
        workers of its search (``threads``) and its solution hint (``(name, value)`` pairs)."""
        ranges = [[r.slot.var, r.lo, r.hi] for r in cube.restrictions]
        request = {"all": all_solutions, "cube": ranges, "bound": bound, "threads": threads, "hint": [list(h) for h in hint]}
        return self.part(("proto", model_file), request, label)

    def part(self, key: tuple[str, ...], request: dict, label: str | None) -> ServerPart:
        """Start a part: on an idle server with ``key`` loaded, else on a new one. Idle servers of
        other plans are ended (a worker runs one plan's parts at a time)."""
        started = time.monotonic()
        with self._lock:
            if self._closed:
                raise RuntimeError("this CP-SAT server pool is closed")
            server = next((s for s in self._idle if s.key == key), None)
            stale = [s for s in self._idle if s.key != key]
            self._idle = [s for s in self._idle if s.key == key and s is not server]
        for old in stale:
            old.close()
        for fresh in (False, True):
            if server is None or server.proc.poll() is not None:
                server = Server(key, label)
            try:
                part = ServerPart(self, server, request, started)
                break
            except OSError:  # an idle server that died meanwhile: once more on a new one
                server.kill()
                server = None
                if fresh:
                    raise
        with self._lock:
            self._busy.add(server)
        return part

    def release(self, server: Server, record: RunRecord, healthy: bool) -> None:
        """A part ended on ``server``: keep it for the next one, or end it."""
        with self._lock:
            self.records.append(record)
            self._busy.discard(server)
            keep = healthy and not self._closed
            if keep:
                self._idle.append(server)
        if not keep:
            server.close()

    def close_idle(self) -> None:
        """End the servers no part runs on (a Dask worker's, when a run ends)."""
        with self._lock:
            servers, self._idle = self._idle, []
        for server in servers:
            server.close()

    def close(self) -> None:
        """End every server (a part still running on one ends as stopped)."""
        with self._lock:
            self._closed = True
            servers, self._idle = [*self._idle, *self._busy], []
        for server in servers:
            server.close()


def _protocol(line: bytes) -> bool:
    """A line that ends a solution's text: a status line or a statistics line."""
    return (line.startswith(b"=====") and line.endswith(b"=====")) or line.startswith(b"%%%mzn-stat")


class ServerPart:
    """One part on a server, read as a solver process is (see the module)."""

    def __init__(self, pool: ServerPool, server: Server, request: dict, started: float):
        self.pool = pool
        self.server = server
        self.started = started
        self.proc = server.proc  # what an outside observer waits for
        self.pid = server.pid
        self.cpu: float | None = None
        self.end: dict | None = None  # the server's end line, once read
        self._cpu0 = server.cpu()
        self._err0 = server.stderr_size()
        self._ended = threading.Event()
        self._stopped = threading.Event()
        self._closed = False
        server.runs += 1
        self.run = server.runs
        server.send({"run": self.run, **request})

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def sessions(self) -> list[subprocess.Popen]:
        """The process session the part runs in while it runs (the server's)."""
        return [] if self._closed else [self.server.proc]

    def lines(self) -> Iterator[bytes]:
        """The part's printed output, line by line, up to its end line (or the server's death).

        A solution whose text the part printed before is left out, as the printer of a part's
        own would (the server's printer prints repeats: see server._printer)."""
        assert self.server.proc.stdout is not None
        seen: set[bytes] = set()  # digests of the solution texts printed (an enumeration has many)
        block: list[bytes] = []  # the lines of the solution being printed
        try:
            for raw in self.server.proc.stdout:
                if raw.startswith(END):
                    self.end = dict(kv.split("=", 1) for kv in raw.decode().split()[1:])
                    return
                if raw.startswith(LOADED):
                    self.server.loaded = True
                    continue
                bare = raw.rstrip(b"\r\n")
                if bare == SEPARATOR:
                    digest = hashlib.blake2b(b"".join(block), digest_size=16).digest()
                    if digest not in seen:
                        seen.add(digest)
                        yield from block
                        yield raw
                    block = []
                elif _protocol(bare):
                    yield from block
                    block = []
                    yield raw
                else:
                    block.append(raw)
            yield from block
        finally:
            self._ended.set()

    def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop the part's search; its server is killed if it has not ended the part ``grace``
        seconds later (LOAD_GRACE while it still reads the model: it ends the part once it has).
        Returns at once: the part's reader sees the end."""
        self._stopped.set()
        if self._ended.is_set() or self._closed:
            return
        try:
            self.server.send({"stop": self.run})
        except OSError:
            pass
        timer = threading.Timer(grace if self.server.loaded else max(grace, LOAD_GRACE), self._kill_unless_ended)
        timer.daemon = True
        timer.start()

    def tighten(self, limit: int) -> bool:
        """Tell the part's search that from now on its objective must be at most ``limit``
        (minimize) or at least ``limit`` (maximize): the server stops the search and starts it
        again within that limit, from the part's last solution as a hint. Whether it was told
        (False: a part that has ended or been stopped, or RESUME_ENV is not "1"; a satisfaction's
        server ignores it)."""
        if os.environ.get(RESUME_ENV) != "1" or self._ended.is_set() or self._stopped.is_set() or self._closed:
            return False
        try:
            self.server.send({"tighten": self.run, "limit": int(limit)})
        except (OSError, ValueError):  # the server has gone, or its pipe is closed
            return False
        return True

    def _kill_unless_ended(self) -> None:
        if not self._ended.is_set():
            self.server.kill()

    def wait(self) -> int:
        """The part's exit code, once :meth:`lines` has ended: the server's ``rc``, or the dead
        server's exit code (negative: killed by that signal) when it did not end the part."""
        if self.end is not None:
            rc = int(self.end.get("rc", 1))
        else:
            reap(self.server.proc, CLOSE_GRACE)
            kill_session(self.server.pid)  # its printer too
            rc = self.server.proc.returncode
            rc = -9 if rc is None or rc == 0 else rc  # gone without a word: a crash
        self.cpu = max(0.0, self.server.cpu() - self._cpu0)
        return rc

    def stderr_text(self) -> str:
        return self.server.stderr_since(self._err0)

    def close(self) -> None:
        """The part is over: its server goes back to the pool (or ends, if it did not end the part)."""
        if self._closed:
            return
        self._closed = True
        end = self.end
        startup = None
        if end is not None and "solving" in end:
            startup = max(0.0, float(end["solving"]) - self.started)
        runs, loads = (int(end["runs"]), int(end["loads"])) if end else (self.run, 1)
        workers, hints, resumes = (int(end.get(k, 0)) for k in ("workers", "hints", "resumes")) if end else (0, 0, 0)
        record = RunRecord(self.pid, runs, loads, startup, workers, hints, resumes)
        self.pool.release(self.server, record, healthy=end is not None and self.server.proc.poll() is None)
