"""Backends run one part with one solver: ``Backend.solve(task, report, token) -> PartResult``.

:class:`MiniZincBackend` runs the `minizinc` CLI with any installed solver. A task carries what a
worker needs (model files, the part's constraint text, nogoods); results stream back as
:class:`Solution` objects through the ``report`` callback (in batches while enumerating, at once
otherwise) and end in one :class:`PartResult`.
"""

from __future__ import annotations

import json
import re
import shlex
import signal
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from modelsplit.driver import FlatZincProcess, SolverProcess, error_from_messages, scratch_root
from modelsplit.model.dzn import parse_solution
from modelsplit.model.goal import Goal
from modelsplit.plan.plan import VALUES_MARKER
from modelsplit.plan.task import PartTask
from modelsplit.printer import POOL as PRINTERS
from modelsplit.status import Status
from modelsplit.workers import gecode_bound
from modelsplit.workers.cpsat.pool import ServerPool
from modelsplit.workers.flat import part_text


@dataclass(frozen=True)
class Solution:
    part_id: int
    values_json: str  # the solution's values as a JSON object (kept as text: cheap to pass on)
    text: str  # what minizinc prints for the solution
    objective: int | float | None
    time: float  # seconds since the part started

    @property
    def values(self) -> dict:
        return json.loads(self.values_json)


Report = Callable[[list[Solution]], None]
FLUSH_EVERY = 0.05  # seconds: how long an enumerating part may hold solutions before reporting
FLUSH_SIZE = 500  # solutions: ... and how many


@dataclass
class PartResult:
    part_id: int
    attempt: int
    status: Status
    n_solutions: int = 0
    objective: int | float | None = None
    elapsed: float = 0.0
    error: str | None = None
    stopped: bool = False
    crashed: bool = False  # the solver died without saying why (signal, crash): worth a retry
    cpu: float | None = None  # CPU seconds of the solver processes, when known
    worker: str | None = None  # where it ran, as the executor names it (host/slot, a Dask worker)
    statistics: dict | None = None  # the solver's own statistics lines (with -s), by name
    # a stopped lexicographic search: the point up to which it searched (see fzn_gecode_bound.cpp)
    searched: tuple[int, ...] | None = None


class StopToken:
    """Lets the coordinator stop a running part from another thread, or tell it a better bound.

    A backend hands it the solver process it starts (:meth:`attach`): stopping the token stops
    the process, and an executor that watches processes (the virtual one) finds them here. A
    solver that takes bounds while it runs is told them through :meth:`tighten`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stopped = False
        self._callbacks: list[Callable[[], None]] = []
        self.processes: list = []  # the solver processes attached so far (SolverProcess and kin)
        self._bound: Callable[[int | float], bool] | None = None  # see on_bound
        self._told: int | float | None = None  # the last bound told (see tighten)

    def attach(self, process) -> None:
        """A solver process of the part started: stopping the token stops it."""
        self.processes.append(process)
        self.on_stop(process.stop)

    @property
    def stopped(self) -> bool:
        return self._stopped

    def on_stop(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if not self._stopped:
                self._callbacks.append(callback)
                return
        callback()

    def on_bound(self, callback: Callable[[int | float], bool]) -> None:
        """How to tell the part's solver a better bound while it runs (see :meth:`tighten`); it
        is told at once the last bound that came before its solver started."""
        with self._lock:
            self._bound = callback
            told = self._told
        if told is not None:
            callback(told)

    @property
    def takes_bounds(self) -> bool:
        """Whether the part's solver takes bounds while it runs (told through :meth:`tighten`)."""
        return self._bound is not None

    def tighten(self, bound: int | float) -> bool:
        """Tell the running part the strict objective bound ``bound`` (the incumbent's, as
        :meth:`Plan.part_bound` gives it, each tighter than the last); whether its solver took it
        (False: it cannot take bounds while it runs, has not started yet, or has ended or
        stopped). A bound that came before its solver started is told to it when it starts."""
        with self._lock:
            if self._stopped:
                return False
            self._told = bound
            tell = self._bound
        return tell is not None and tell(bound)

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            cb()


class Backend(Protocol):
    def solve(self, task: PartTask, report: Report, token: StopToken) -> PartResult: ...


STATUS_LINES = {
    "=====UNSATISFIABLE=====": Status.UNSATISFIABLE,
    "=====UNKNOWN=====": Status.UNKNOWN,
    "=====ERROR=====": Status.ERROR,
    "=====UNBOUNDED=====": Status.UNBOUNDED,
    "=====UNSATorUNBOUNDED=====": Status.UNSAT_OR_UNBOUNDED,
}
SEPARATOR = "----------"
COMPLETE = "=========="
STAT_PREFIX = "%%%mzn-stat"  # a statistics line (``%%%mzn-stat: name=value``) or a block's end
FLAT_STATISTICS = "% Generated FlatZinc statistics:"  # `minizinc -s` heads the flattening's with it
SEARCHED_PREFIX = "%%%modelsplit-searched:"  # fzn-gecode-bound, stopped: where its search got to


def read_statistic(line: str, into: dict) -> None:
    """Add the value of one ``%%%mzn-stat: name=value`` line to ``into`` (a number where it is
    one, else the text, unquoted); block ends and headings add nothing."""
    name, eq, value = line.removeprefix(STAT_PREFIX + ":").strip().partition("=")
    if not eq or line.startswith(STAT_PREFIX + "-"):
        return
    for kind in (int, float):
        try:
            into[name] = kind(value)
            return
        except ValueError:
            pass
    into[name] = value.strip('"')


@dataclass
class MiniZincBackend:
    """Runs a part with the `minizinc` CLI in a scratch directory and reads its text output.

    The text protocol (solutions ended by ``----------``, a final ``==========`` or
    ``=====STATUS=====``) costs the solver far less than ``--json-stream`` when parts print many
    solutions. Solution values come from a line that the plan's values section prints last in each
    solution (after ``VALUES_MARKER``), or, for parts that print dzn (``--output-mode dzn``),
    from the dzn text.

    A part from the plan's one flattening (``task.flat``) runs its solver's FlatZinc executable
    instead; with CP-SAT and ``long_lived``, on a part server the backend keeps across parts
    (:mod:`modelsplit.workers.cpsat.pool`), which has translated the plan's model once.
    :meth:`close` ends those servers.
    """

    extra_args: tuple[str, ...] = field(default_factory=tuple)
    long_lived: bool = True
    _servers: ServerPool | None = field(default=None, init=False, repr=False)

    def command(self, task: PartTask, extra: Path) -> list[str]:
        flags: list[str] = []
        if task.goal == Goal.SATISFY and task.all_solutions:
            flags.append("-a")
        elif task.goal.optimises:
            flags.append("--intermediate")
        if task.output_mode == "dzn":
            flags += ["--output-mode", "dzn"]
            if task.goal.optimises:
                flags.append("--output-objective")
        flags += task.flags
        if task.fzn_flags:
            flags += ["--fzn-flags", shlex.join(task.fzn_flags)]
        return ["--solver", task.solver, *flags, *self.extra_args, *task.model_files, str(extra)]

    def flat_flags(self, task: PartTask) -> list[str]:
        """The flags of a flattened part's FlatZinc executable."""
        flags = ["-a"] if task.all_solutions or task.goal.optimises else []
        return [*flags, *task.flags, *task.fzn_flags]

    def flat_command(self, task: PartTask, fzn: Path) -> list[str]:
        assert task.flat is not None
        return [task.flat.executable, *self.flat_flags(task), str(fzn)]

    def servers(self) -> ServerPool:
        """The CP-SAT part servers this backend keeps (made on first use)."""
        if self._servers is None:
            self._servers = ServerPool()
        return self._servers

    def close(self) -> None:
        """End the part servers this backend keeps (parts still running on them end stopped),
        and the idle solution printers."""
        if self._servers is not None:
            self._servers.close()
        PRINTERS.close()

    def close_idle(self) -> None:
        """End the part servers no part runs on now, and the idle solution printers."""
        if self._servers is not None:
            self._servers.close_idle()
        PRINTERS.close()

    def start(self, task: PartTask, tmp: str):
        """Start the part's solver process(es) in the scratch directory ``tmp`` (or the part on a
        server, which has the interface of a solver process)."""
        if task.flat is not None:
            if task.solver_tag == "cp-sat" and self.long_lived:
                return self.servers().fzn_part(task.flat, self.flat_flags(task), task.key)
            fzn = Path(tmp) / f"modelsplit_part_{task.part_id}.fzn"
            fzn.write_text(part_text(task.flat))
            command = self.flat_command(task, fzn)
            # Gecode's parts take a better bound while they run where fzn-gecode-bound is built
            bounded = task.solver_tag == "gecode" and task.goal.optimises and gecode_bound.runner()
            if bounded:
                command[0] = bounded
            return FlatZincProcess(command, task.flat.ozn, cwd=tmp, label=task.key, bounds=bool(bounded))
        extra = Path(tmp) / f"modelsplit_part_{task.part_id}.mzn"
        extra.write_text(task.constraints)
        return SolverProcess(self.command(task, extra), cwd=tmp, label=task.key)

    def solve(self, task: PartTask, report: Report, token: StopToken) -> PartResult:
        start = time.monotonic()
        result = PartResult(task.part_id, task.attempt, Status.UNKNOWN)
        if token.stopped:
            result.stopped = True
            return result
        with tempfile.TemporaryDirectory(prefix="modelsplit-part-", dir=scratch_root()) as tmp:
            proc = self.start(task, tmp)
            token.attach(proc)
            if getattr(proc, "tighten", None) is not None:
                token.on_bound(lambda bound: _tighten(proc, task.goal, bound))
            reader = OutputReader(task)
            batch: list[Solution] = []
            # an enumeration reports its solutions in batches, each held at most FLUSH_EVERY
            # seconds: its lines are read by a thread of their own, so that a batch is handed over
            # when the solver pauses, not only when its next solution comes
            lines = LinePump(proc.lines()) if task.enumerates else None
            flushed = time.monotonic()
            try:
                held = lambda: FLUSH_EVERY if batch else None  # noqa: E731 (reads the batch held now)
                for raw in lines.lines(held) if lines else proc.lines():
                    now = time.monotonic()
                    sol = None if raw is None else reader.feed(raw.decode(errors="replace"), now - start)
                    if sol is not None:
                        result.n_solutions += 1
                        if sol.objective is not None:
                            result.objective = sol.objective
                        batch.append(sol)
                    if batch and (not lines or len(batch) >= FLUSH_SIZE or now - flushed >= FLUSH_EVERY):
                        report(batch)
                        batch, flushed = [], now
                rc = proc.wait()
            finally:
                if batch:
                    report(batch)
                proc.stop(grace=0.2)
                if lines:
                    lines.join(1.0)
                stderr = proc.stderr_text()
                proc.close()
        result.elapsed = time.monotonic() - start
        result.cpu = proc.cpu
        result.statistics = reader.statistics or None
        result.searched = reader.searched
        final = reader.status
        if token.stopped:
            result.stopped = True
            result.status = Status.SATISFIED if result.n_solutions else Status.UNKNOWN
            return result
        if final == Status.ERROR or (rc != 0 and final is None):
            err = error_from_messages([], stderr)
            result.status = Status.ERROR
            result.error = str(err) if err else ended_by(rc)
            # killed by a signal, or died without a word from MiniZinc: worth another try
            result.crashed = rc < 0 or rc > 128 or not stderr.strip()
            return result
        if final is None:
            final = Status.SATISFIED if result.n_solutions else Status.UNKNOWN
        result.status = final
        return result


def _tighten(proc, goal: Goal, bound) -> bool:
    """Tell a running solver process the strict objective bound ``bound`` (``objective < bound``
    when minimising) as the inclusive limit it reads; False where it cannot take it (a float
    bound that is not an integer, a process that takes no bounds or has ended)."""
    if isinstance(bound, float) and not bound.is_integer():
        return False
    limit = int(bound) - 1 if goal == Goal.MINIMIZE else int(bound) + 1
    return proc.tighten(limit)


def ended_by(rc: int) -> str:
    """How a solver process that said nothing ended: its exit code, or the signal that killed it
    (the process may be `minizinc`, Gecode's FlatZinc executable or a CP-SAT part server)."""
    if rc < 0:
        try:
            name = signal.Signals(-rc).name
        except ValueError:
            name = f"signal {-rc}"
        return f"the solver process was killed by {name}"
    return f"the solver process exited with code {rc} without a message"


class LinePump:
    """The lines of a solver process, read by a thread of their own, so that the part's thread
    can wait for the next one with a time-out (and hand over the solutions it holds meanwhile).

    Lines pass through a deque (appends and pops need no lock); an Event wakes the reader only
    when it found the deque empty."""

    def __init__(self, source: Iterator[bytes]):
        self._lines: deque[bytes] = deque()
        self._ready = threading.Event()
        self._done = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._pump, args=(source,), name="part-lines", daemon=True)
        self._thread.start()

    def _pump(self, source: Iterator[bytes]) -> None:
        try:
            for raw in source:
                self._lines.append(raw)
                if not self._ready.is_set():
                    self._ready.set()
        except (OSError, ValueError) as exc:  # the stream was closed under it
            self._error = exc
        finally:
            self._done = True
            self._ready.set()

    def lines(self, timeout: Callable[[], float | None]) -> Iterator[bytes | None]:
        """Every line, in order; None when ``timeout()`` seconds passed without one."""
        while True:
            if self._lines:
                yield self._lines.popleft()
                continue
            if self._done:
                if self._lines:
                    continue
                return
            self._ready.clear()
            if self._lines or self._done:  # came while the event was being cleared
                continue
            if not self._ready.wait(timeout()):
                yield None

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


class OutputReader:
    """Reads MiniZinc's text output for a part, line by line: solutions and the final status.

    Used on live solver output and on result files that come back from other machines.
    """

    def __init__(self, task: PartTask):
        self.task = task
        self.block: list[str] = []
        self.status: Status | None = None  # the final status line, once seen
        self.n_solutions = 0
        self.statistics: dict = {}  # the solver's statistics lines (``%%%mzn-stat: name=value``)
        self.searched: tuple[int, ...] | None = None  # where a stopped search got to, if it says

    def feed(self, line: str, elapsed: float = 0.0) -> Solution | None:
        """Take one line (with its newline); return the solution it completes, if any."""
        bare = line.rstrip("\r\n")
        if bare == SEPARATOR:
            sol = _solution(self.task, "".join(self.block), elapsed)
            self.block = []
            if sol is None:
                return None  # not a solution: a separator printed while the solver was stopped
            self.n_solutions += 1
            return sol
        if bare.startswith(STAT_PREFIX) or bare == FLAT_STATISTICS:
            read_statistic(bare, self.statistics)
        elif bare.startswith(SEARCHED_PREFIX):
            self.searched = tuple(int(v) for v in bare[len(SEARCHED_PREFIX) :].split())
        elif bare == COMPLETE:
            self.status = _complete_status(self.task)
        elif bare in STATUS_LINES:
            self.status = STATUS_LINES[bare]
        else:
            self.block.append(line)
        return None

    def read(self, text: str) -> list[Solution]:
        """All solutions of a whole output text (status in ``self.status``)."""
        sols = []
        for line in text.splitlines(keepends=True):
            sol = self.feed(line)
            if sol is not None:
                sols.append(sol)
        return sols


def _complete_status(task: PartTask) -> Status:
    if task.goal == Goal.SATISFY:
        return Status.ALL_SOLUTIONS if task.all_solutions else Status.SATISFIED
    return Status.OPTIMAL_SOLUTION


_OBJECTIVE_LINE = re.compile(r"^_objective = [^;]*;\n?", re.MULTILINE)


def _cut_values(block: str) -> tuple[str, str] | None:
    """The values section's JSON in a solution's block, and the block without it (None: the
    block has no values section).

    The section may come before or after the model's own output (MiniZinc does not fix the order
    of output sections): exactly its text is cut out, wherever it is. After ``VALUES_MARKER`` it
    prints one line of JSON (a model with an output item), or ``outputJSON``'s object: ``{`` on
    the marker's line, one line per variable, ``}`` on a line of its own (a model without one;
    showJSON never prints a line break inside a value).
    """
    cut = block.rfind(VALUES_MARKER)
    if cut < 0:
        return None
    start = cut + len(VALUES_MARKER)
    end = block.find("\n", start)
    end = len(block) if end < 0 else end
    if block[start:end].strip() == "{":
        close = block.find("\n}", end)
        end = len(block) if close < 0 else block.find("\n", close + 2)
        end = len(block) if end < 0 else end
    return block[start:end].strip(), block[:cut] + block[end + 1 :]


def _solution(task: PartTask, block: str, elapsed: float) -> Solution | None:
    """The solution a block of output describes; None for a block that is none.

    Every solution of a part prints its values (the values line, or the dzn assignments), so a
    block without them is not a solution: MiniZinc can print a bare separator when it is stopped.
    """
    objective = None
    if task.output_mode == "dzn":  # the dzn text is what minizinc prints: its values are read back
        values = parse_solution(block) if block.strip() else {}
        if not values and not task.shows_nothing:
            return None
        objective = values.pop("_objective", None)
        text = _OBJECTIVE_LINE.sub("", block)
        values_json = json.dumps(values)
    else:
        cut = _cut_values(block)
        if cut is None:
            return None
        values_json, text = cut
        if task.goal.optimises:
            values = json.loads(values_json)
            objective = values.pop("_objective", None)
            values_json = json.dumps(values)
    if text and not text.endswith("\n"):
        text += "\n"  # minizinc ends a solution's text with a newline before the separator
    return Solution(task.part_id, values_json, text, objective, elapsed)
