"""Ask the solver about cubes before they become parts, with a tiny search of each.

The model is flattened once (during inspection). Each cube becomes a few FlatZinc constraints
(``int_le``, ``bool_eq``) inserted before the solve item, and Gecode searches it with a limit of
PROBE_FAILS failures and PROBE_MS milliseconds (failures only on a virtual cluster, where a
wall-clock limit would depend on this machine's load). What it answers classifies the cube:

- ``REFUTED``: ``=====UNSATISFIABLE=====``: the cube holds no solution (no solution at or below
  the bound, for optimisation) and can be dropped without losing anything;
- ``FINISHED``: an optimisation whose search ended within the limit (``==========``): the cube
  is small, a part of its own that needs no finer split;
- ``OPEN``: the limit was reached, or a satisfaction search found a solution: work remains.

A probe of an optimisation that stops at its limit still prints the best solution it reached, so
the probes find solutions too: the best of them tightens the bound of every later probe and comes
back as :meth:`Probe.found` (an incumbent found while splitting, where no race runs before the
parts: see splitters/race.py).

For an optimisation the probe first looks for an incumbent (:meth:`Probe.find_incumbent`): the
whole model runs for a moment, and from then on every probe carries the bound ``objective <= B``
of the best solution it found. The optimum is at most B, so a cube with no solution at or below B
holds no optimum either; with that bound propagation refutes whole regions that cannot beat it.
A probe costs one solver start-up plus its small search (10-20 ms); probes run in parallel.

Probes start solver processes themselves, with :mod:`subprocess`, on this machine: not through an
Executor or a Backend as parts are. Each cube probed is one run of Gecode's FlatZinc executable on
a temporary ``.fzn`` file (``modelsplit-probe-*``), and the incumbent search is one more
(``modelsplit-inc-*``), killed with its whole session when it stops early.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from modelsplit.driver import cpu_seconds, kill_session, reap, scratch_root
from modelsplit.model.cube import Cube
from modelsplit.model.fzn import cube_constraints, read_flatzinc, split_at_solve
from modelsplit.model.goal import Goal
from modelsplit.model.info import ModelInfo, Slot
from modelsplit.splitters.base import Outcome
from modelsplit.workers import gecode_bound
from modelsplit.workers.flat import flatzinc_executable
from modelsplit.workers.gecode_bound import RootCheck

PROBE_TIMEOUT = 20.0  # seconds for one probe process at most; a probe that takes longer is OPEN
PROBE_SECONDS = 3.0  # seconds of probing at most: later cubes are OPEN without asking
PROBE_FAILS = 100  # failures a probe may search
PROBE_MS = 10  # ... and milliseconds of search
INCUMBENT_MIN = 0.5  # CPU seconds the incumbent search runs at least (unless it ends sooner)
VIRTUAL_RACE_SHARE = 0.02  # a virtual split's race gets its CPU seconds within wall / this at most
INCUMBENT_PATIENCE = 0.6  # stop once no better solution came for this share of its CPU time so far


@dataclass(frozen=True)
class Incumbent:
    """What the short search of the whole model found."""

    objective: int | None  # best objective found (None: no solution)
    complete: bool  # the search ended: the objective is the optimum, or None means UNSAT
    seconds: float
    values: dict[Slot, int] = field(default_factory=dict)  # the best solution's slot values
    cpu: float = 0.0  # CPU seconds the search used
    started: float = 0.0  # Unix time the search started (0: not a search of its own)
    # each improving solution as it came: (wall seconds since the start, CPU seconds of the
    # search by then, objective); a report draws them, so the incumbent is seen from the start
    trace: tuple[tuple[float, float, int], ...] = ()


@dataclass
class _Found:
    """What the incumbent search has printed so far."""

    best: int | None = None  # the best objective (None: no solution, or none exists)
    values: dict[str, str] = field(default_factory=dict)  # FlatZinc name -> value text, of the best
    at: float = 0.0  # the search's clock when the best came
    complete: bool = False  # the search ended
    began: float = 0.0  # time.monotonic() when the search started
    trace: list[tuple[float, float, int]] = field(default_factory=list)  # see Incumbent.trace


class Probe:
    """Tiny searches of cubes of one flattened model (Gecode's FlatZinc executable)."""

    def __init__(self, info: ModelInfo, executable: str, workers: int = 2):
        self.info = info
        self.executable = executable
        self.workers = max(1, workers)
        self._head, self._tail = split_at_solve(info.fzn_text)
        self.flat = read_flatzinc(info.fzn_text) if info.goal.optimises else None
        self.bound: int | None = None  # objective <= bound (minimize) / >= bound (maximize)
        self._lock = threading.Lock()
        self.probes = 0
        self.seconds = 0.0  # wall seconds spent in probes
        self.cpu = 0.0  # CPU seconds of the probe processes
        self._race: Future | None = None
        self.first_bound: int | None = None  # the bound when the first cube was probed
        self._found: tuple[int, dict[str, str]] | None = None  # the probes' best: objective, shown values
        # the head with the objective and the slots printed: a probe's best solution can bound the split
        objective = self._objective_var()
        slots = {name for name in info.fzn_names.values() if not _is_literal(name)}
        self._shown_head = self._head if objective is None else _show(self._head, {objective, *slots})
        self.first_at: float | None = None  # when the first cube was probed
        self.skipped = 0  # cubes not asked about: the probing budget was spent
        self.budget = PROBE_SECONDS  # seconds of probing at most (less within a run's time limit)
        # on a virtual cluster the probes would run on ``spread`` workers at once: the budget is
        # then their CPU seconds over ``spread``, not this machine's wall seconds (None)
        self.spread: int | None = None
        self._stop = threading.Event()  # stop the race now (the split failed)
        self._threads = _Threads(self.workers)  # kept from one classify to the next
        self._check = _root_check(info, self.flat)  # propagation alone, asked before any process
        self.checked = 0  # cubes propagation alone refuted

    @classmethod
    def for_solver(cls, info: ModelInfo, solver_arg: str, tag: str, workers: int = 2) -> Probe | None:
        """A probe for the Gecode solver configuration, or None where the solver has no such use."""
        exe = flatzinc_executable(solver_arg, tag) if info.fzn_text else None
        return cls(info, exe, workers) if exe else None

    # ---- the incumbent ---------------------------------------------------------------------------
    def _objective_var(self) -> str | None:
        """The FlatZinc name of an integer objective variable, or None."""
        if self.flat is None or not self.flat.objective:
            return None
        var = self.flat.variables.get(self.flat.objective)
        return var.name if var is not None and var.type == "int" and var.fixed is None else None

    def find_incumbent(self, limit: float) -> Incumbent | None:
        """Search the whole model briefly for a good solution and bound every later probe by it.

        Runs until no better solution came for INCUMBENT_PATIENCE of the time so far (at least
        INCUMBENT_MIN, at most ``limit`` seconds), or until the search ends. None for satisfaction
        models and objectives that are not integer variables. The solution's slot values come
        back too (where the flattening names the slots), so a splitter can tell which cube holds it.
        """
        objective = self._objective_var()
        if objective is None:
            return None
        slots = {name: slot for slot, name in self.info.fzn_names.items() if not _is_literal(name)}
        path = _write_fzn(_show(self._head, {objective, *slots}) + self._tail, "modelsplit-inc-")
        start, unix = time.monotonic(), time.time()
        proc = subprocess.Popen(
            [self.executable, "-a", *_time_limit(self.spread, limit), path],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        found = _Found(began=start)
        clock = _race_clock(proc.pid, start)
        reader = threading.Thread(
            target=self._read_solutions, args=(proc, objective, found, clock), daemon=True
        )
        reader.start()
        try:
            self._await(reader, found, clock, start, limit)
        finally:
            kill_session(proc.pid)  # (not poll(): it would reap the process without its CPU time)
            reap(proc)
            reader.join()
            os.unlink(path)
        values = _slot_values(self.info, found.values)
        seconds, cpu = time.monotonic() - start, cpu_seconds(proc)
        return Incumbent(found.best, found.complete, seconds, values, cpu, unix, tuple(found.trace))

    def _read_solutions(
        self, proc: subprocess.Popen, objective: str, found: _Found, clock: Callable[[], float | None]
    ) -> None:
        """Read the incumbent search's output as it comes; each solution it prints bounds the probes
        running meanwhile at once."""
        block: dict[str, str] = {}
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("----------"):
                if objective in block:
                    found.best, found.values = int(block[objective]), block
                    self.tighten(found.best)  # probes running meanwhile use it at once
                    found.at = clock() or 0.0
                    found.trace.append((time.monotonic() - found.began, found.at, found.best))
                block = {}
            elif line.startswith("=========="):
                found.complete = True
            elif line.startswith("=====UNSATISFIABLE"):
                found.complete, found.best = True, None
            elif " = " in line:
                name, _, value = line.partition(" = ")
                block[name.strip()] = value.strip().rstrip(";")
        proc.stdout.close()

    def _await(
        self,
        reader: threading.Thread,
        found: _Found,
        clock: Callable[[], float | None],
        start: float,
        limit: float,
    ) -> None:
        """Wait while the incumbent search is worth its core: until its output ends, the limit
        passes, the race is stopped, or patience runs out."""
        while reader.is_alive():
            if _race_over(self.spread, clock, time.monotonic() - start, limit) or self._stop.is_set():
                return
            # patience: stop once the incumbent has not improved for a while (its core then
            # goes to the probes)
            if found.best is not None and (clock() or 0.0) >= max(
                INCUMBENT_MIN, found.at * (1 + INCUMBENT_PATIENCE) + 0.05
            ):
                return
            reader.join(0.01)

    def tighten(self, objective: int) -> bool:
        """Bound later probes by a solution of this objective, if it is better than the bound."""
        with self._lock:
            if self.bound is not None and not self.info.goal.better(objective, self.bound):
                return False
            self.bound = objective
            return True

    def found(self) -> Incumbent | None:
        """The best solution a probe printed (None: none did), as an incumbent that is not complete.

        Its cost is in the probes' own: it has no seconds or CPU of its own."""
        if self._found is None:
            return None
        objective, shown = self._found
        return Incumbent(objective, False, 0.0, _slot_values(self.info, shown))

    def _keep_best(self, out: str) -> None:
        """Remember the last (best) solution of a probe's output if it beats every earlier one."""
        objective = self._objective_var()
        end = out.rfind("----------")
        if objective is None or end < 0:
            return
        start = out.rfind("----------", 0, end)
        block = _assignments(out[start + len("----------") if start >= 0 else 0 : end])
        value = block.get(objective)
        if value is not None and _is_literal(value) and self.tighten(int(value)):
            with self._lock:
                if self._found is None or self.info.goal.better(int(value), self._found[0]):
                    self._found = (int(value), block)

    def start_race(self, limit: float) -> Future:
        """Run :meth:`find_incumbent` in the background; probes made meanwhile use its best
        objective as soon as it has one (and leave it a core: one probe at a time fewer)."""
        pool = ThreadPoolExecutor(1, thread_name_prefix="race")
        self._stop.clear()
        self._race = pool.submit(self.find_incumbent, limit)
        pool.shutdown(wait=False)
        return self._race

    def stop_race(self) -> None:
        """Stop a race started with :meth:`start_race` at once and wait for it to end."""
        self._stop.set()
        if self._race is not None:
            self._race.exception()  # waits; whatever it raised does not matter any more

    # ---- probing cubes -----------------------------------------------------------------------------
    def constraints(self, cube: Cube) -> list[str] | None:
        """FlatZinc constraints for a cube (and the bound); None when a fixed value already
        violates the cube. Slots missing from this flattening are left out: that only weakens
        the probe."""
        lines = cube_constraints(self.info, self.info.fzn_names, cube)
        if lines is None:
            return None
        name = self._objective_var()
        if self.bound is not None and name is not None:
            if self.info.goal == Goal.MINIMIZE:
                lines.append(f"constraint int_le({name}, {self.bound});")
            else:
                lines.append(f"constraint int_le({self.bound}, {name});")
        return lines

    def _classify(self, cube: Cube) -> Outcome:
        # a model whose solver start-up is slow (a large flattening: seconds to parse) would
        # spend minutes on probes; past the budget, cubes are left open without asking
        if self.first_at is not None and self._probing_seconds() > self.budget:
            with self._lock:
                self.skipped += 1
            return Outcome.OPEN
        lines = self.constraints(cube)
        if lines is None:
            return Outcome.REFUTED
        path = _write_fzn(self._shown_head + "\n".join(lines) + "\n" + self._tail, "modelsplit-probe-")
        try:
            out, cpu = _run_probe([self.executable, "-fail", str(PROBE_FAILS), *_time_limit(self.spread), path])
        finally:
            os.unlink(path)
        with self._lock:
            self.cpu += cpu
        if out is None:  # it took longer than PROBE_TIMEOUT
            return Outcome.OPEN
        if self.info.goal.optimises:
            self._keep_best(out)
        if "=====UNSATISFIABLE=====" in out:
            return Outcome.REFUTED
        if self.info.goal.optimises and "==========" in out:
            return Outcome.FINISHED
        return Outcome.OPEN

    def _probing_seconds(self) -> float:
        """Seconds the probing has taken so far: on this machine's clock, or on a virtual
        cluster's (``spread``)."""
        if self.spread is not None:
            return self.cpu / self.spread
        return time.monotonic() - (self.first_at or time.monotonic())

    def classify(self, cubes: list[Cube]) -> list[Outcome]:
        """For each cube, what a tiny search of it says; a cube that propagation alone refutes
        (:class:`RootCheck`, in microseconds) is not searched."""
        start = time.monotonic()
        refuted = _refuted(self, cubes)
        asked = [c for c, out in zip(cubes, refuted) if not out]
        with self._lock:
            if not self.probes and asked:
                self.first_bound = self.bound
                self.first_at = start
            self.probes += len(asked)  # processes: what the budget is about
        workers = self.workers - 1 if self._race is not None and not self._race.done() else self.workers
        if workers <= 1:  # else on the pool's threads, even one cube: they are kept, not made
            answers = iter([self._classify(c) for c in asked])
        else:
            answers = iter(self._threads.map(self._classify, asked, workers))
        self.seconds += time.monotonic() - start
        return [Outcome.REFUTED if out else next(answers) for out in refuted]

    def close(self) -> None:
        """End the probes' threads and the check's process (the split is done asking)."""
        self._threads.close()
        if self._check is not None:
            self._check.close()


class _Threads:
    """The threads a split's probes run on, made once for every level of the split: a split on
    many workers asks about thousands of cubes level by level, and starting threads afresh at
    every level cost the coordinator more than its choices."""

    def __init__(self, size: int):
        self.size = size
        self._pool: ThreadPoolExecutor | None = None

    def map(self, call: Callable, items: list, at_once: int) -> list:
        """``call`` of each item, ``at_once`` at a time; returns once every call has ended."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.size, thread_name_prefix="probe")
        result: list = [None] * len(items)
        todo = iter(range(len(items)))
        taking = threading.Lock()

        def drain() -> None:
            while True:
                with taking:
                    i = next(todo, None)
                if i is None:
                    return
                result[i] = call(items[i])

        running = [self._pool.submit(drain) for _ in range(min(at_once, len(items)))]
        wait(running)  # every call has ended, even when one failed
        for future in running:
            future.result()
        return result

    def close(self) -> None:
        """End the threads (a later :meth:`map` makes them again)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)


def _root_check(info: ModelInfo, flat) -> RootCheck | None:
    """The check by propagation of a Gecode flattening's cubes, where ``fzn-gecode-bound`` is built."""
    runner = gecode_bound.runner()
    if runner is None:
        return None
    flat = flat if flat is not None else read_flatzinc(info.fzn_text)
    return RootCheck(runner, info.fzn_text, info.fzn_names, flat, scratch_root())


def _refuted(probe: Probe, cubes: list[Cube]) -> list[bool]:
    """Which cubes propagation alone refutes (under the bound). The CPU of its answers
    counts with the probes' (``cpu``: a virtual cluster spreads it over the workers, each of
    which would ask about its share); reading the model is the coordinator's, once."""
    check = probe._check
    if check is None:
        return [False] * len(cubes)
    bound, name = probe.bound, probe._objective_var()
    limits = (None, None)
    if bound is not None and name is not None:
        limits = (None, bound) if probe.info.goal == Goal.MINIMIZE else (bound, None)
    before = check.cpu - check.parse_cpu
    refuted = check.refuted(cubes, limits)
    with probe._lock:
        probe.cpu += max(0.0, check.cpu - check.parse_cpu - before)
    probe.checked += sum(refuted)
    return refuted


def _slot_values(info: ModelInfo, shown: dict[str, str]) -> dict[Slot, int]:
    """The slots' values in a solution the solver printed (FlatZinc name -> value text);
    slots the flattening fixed to a literal have that value."""
    values = {}
    for slot, name in info.fzn_names.items():
        text = name if _is_literal(name) else shown.get(name)
        if text is not None and _is_literal(text):
            values[slot] = 1 if text == "true" else 0 if text == "false" else int(text)
    return values


def _run_probe(args: list[str]) -> tuple[str | None, float]:
    """Run one probe: its output (None when it took longer than PROBE_TIMEOUT) and CPU seconds."""
    proc = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        out = _read_until(proc.stdout.fileno(), time.monotonic() + PROBE_TIMEOUT)
        if out is None:
            kill_session(proc.pid)
        proc.stdout.close()
    finally:
        reap(proc)  # keeps the probe's CPU seconds
    return out, cpu_seconds(proc)


def _read_until(fd: int, deadline: float) -> str | None:
    """Everything a pipe gives until it closes, or None if it is still open at ``deadline``
    (read on the caller's thread: a split makes thousands of probes, a timer thread each cost
    more than the reading)."""
    chunks, ready = [], select.poll()  # (not select.select: a thousand probes' pipes pass FD_SETSIZE)
    ready.register(fd, select.POLLIN)
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not ready.poll(left * 1000):
            return None
        data = os.read(fd, 1 << 16)
        if not data:
            return b"".join(chunks).decode(errors="replace")
        chunks.append(data)


def _time_limit(spread: int | None, seconds: float = PROBE_MS / 1000) -> list[str]:
    """The solver's wall-clock limit for one probe (PROBE_MS) or the race (``seconds``), except on
    a virtual cluster (``spread`` set).

    There a split must make the choices it would make on idle cores, and a limit of 10 ms of
    wall time is far less search on a busy machine (a twentieth of it at a load of 40 on two
    cores): the failure limit alone then decides a probe, which is what binds on an idle core for
    most models, and the race is stopped on its own CPU seconds (see ``Probe._await``)."""
    return [] if spread is not None else ["-time", str(int(seconds * 1000))]


def _assignments(text: str) -> dict[str, str]:
    """``name = value;`` lines of a solver's solution block, as name -> value text."""
    block = {}
    for line in text.splitlines():
        name, sep, value = line.partition(" = ")
        if sep:
            block[name.strip()] = value.strip().rstrip(";")
    return block


def _write_fzn(text: str, prefix: str) -> str:
    """Write FlatZinc to a temporary file for the solver; its path (the caller removes it)."""
    # in this process's scratch directory: removed at exit, and swept by the next run after a kill
    with tempfile.NamedTemporaryFile(
        "w", suffix=".fzn", prefix=prefix, delete=False, dir=scratch_root()
    ) as fh:
        fh.write(text)
        return fh.name


def _race_over(spread: int | None, clock: Callable[[], float | None], wall: float, limit: float) -> bool:
    """The race has spent its ``limit``: wall seconds (the solver's own limit stops it first), or on
    a virtual cluster (``spread`` set) its CPU seconds, however busy this machine is."""
    if spread is None:
        return wall >= limit + 1.0
    return (clock() or 0.0) >= limit or wall >= limit / VIRTUAL_RACE_SHARE


def _race_clock(pid: int, start: float) -> Callable[[], float | None]:
    """The clock patience counts in: the search's own CPU seconds where /proc has them, else wall
    seconds since ``start``."""
    # probes beside the search (or anything else on the machine) slow it down, and a wall-clock
    # patience would stop it before it gets as far
    if _cpu_seconds(pid) is not None:
        return lambda: _cpu_seconds(pid)
    return lambda: time.monotonic() - start


def _cpu_seconds(pid: int) -> float | None:
    """CPU seconds a running process has used so far (Linux /proc; None where not readable)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().decode(errors="replace").rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def _is_literal(text: str) -> bool:
    return text in ("true", "false") or text.lstrip("-").isdigit()


_DECL_RE = re.compile(r"^var [^:]*:\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<rest>.*?);\s*$")


def _show(head: str, names: set[str]) -> str:
    """The FlatZinc declarations of ``names`` marked ``output_var``, so the solver prints them."""
    lines = head.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("var "):
            m = _DECL_RE.match(line)
            if m and m.group("name") in names and "output_var" not in m.group("rest"):
                lines[i] = f"{line.rstrip()[:-1]} :: output_var;"
    return "\n".join(lines)
