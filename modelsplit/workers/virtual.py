"""The virtual Executor: W workers simulated on this machine's cores, with real solver processes.

Every part runs as a real solver process, but on a virtual clock: a part's clock is the virtual
time it started plus the CPU seconds its processes have used (read from the kernel, reaped
children included). Up to ``workers`` parts are "running" at once; of those, only the ``cores``
parts with the smallest clocks are allowed to run, and the others are paused (SIGSTOP, resumed
with SIGCONT), so all running parts advance together in virtual time, a quantum at a time.
Virtual *now* is the smallest clock among them: the moment every worker has reached.

Events are stamped with the clock of the part that produced them (a solution: the part's clock
when it was read; a part's end: its start plus its total CPU) and reach the dispatcher in that
order, only once virtual now has reached them, so the dispatcher sees what W idle cores would
show it, in the same order: an incumbent reaches other parts at the virtual time it was found,
never earlier. The parts advance only inside :meth:`VirtualExecutor.next_event`: while the
dispatcher decides, every part is paused, so its own CPU is not charged to the parts (it is
measured apart, see ``coordinator_cpu``). But the dispatcher's time passes as it would beside W
busy workers: its clock (:meth:`VirtualExecutor.clock`) is virtual now plus the CPU seconds it has
used since it last waited for an event, a part it starts starts then (plus ``latency``, a task's
round trip to a worker on a real cluster), and before the next wait the parts run on to that
time. So a coordinator that takes long over a turn delays the parts it starts, as on a real
cluster, and finds the events that came meanwhile together, to handle in one turn.

Each part runs in processes of its own (a backend that keeps processes across parts, as CP-SAT's
part servers, is told not to), so a part's CPU is its own; MiniZinc's solution printer, shared by
the parts in turn, is charged to the part that holds it for the CPU it used meanwhile.

Paused processes still hold their memory: W of them must fit in this machine's memory, and a
run whose parts would not is stopped with an error that names the largest W that fits.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import signal
import threading
import time
from dataclasses import dataclass, field

from modelsplit.driver import cpu_seconds
from modelsplit.errors import SolveError
from modelsplit.plan.task import PartTask
from modelsplit.status import Status
from modelsplit.workers import cputime
from modelsplit.workers.backend import FLUSH_EVERY, FLUSH_SIZE, Backend, PartResult, Solution, StopToken
from modelsplit.workers.executor import DoneEvent, Event, SolutionEvent
from modelsplit.workers.local import default_workers
from modelsplit.workers.threads import PartThreads

LATENCY = 0.005  # virtual seconds from a part's start to its solver's start (a Dask task's round trip)
QUANTUM = 0.01  # real seconds between looks at the running parts' clocks
TICK = 0.05  # virtual seconds after which next_event returns, so the dispatcher checks its timers
MEMORY_SHARE = 0.8  # of the memory available at the start, what paused solver processes may use


@dataclass
class _Part:
    """One attempt of a part on a virtual worker."""

    task: PartTask
    slot: int
    start: float  # virtual time it started
    token: StopToken
    cpu: float = 0.0  # CPU seconds used so far (never decreases)
    rss: int = 0  # resident bytes at the last reading
    paused: bool = False
    # told to stop: the virtual time it ends at the latest (what it runs after that, resumed only
    # to receive the signal, is the simulation's, not the search's)
    stop_by: float | None = None
    end: float | None = None  # virtual time it ended, once its solver has
    done: threading.Event | None = field(default=None, repr=False)  # set once its thread has returned

    @property
    def clock(self) -> float:
        if self.end is not None:
            return self.end
        if self.stop_by is not None:
            return min(self.start + self.cpu, self.stop_by)
        return self.start + self.cpu


def _signal(part: _Part, signum: int) -> bool:
    """SIGSTOP or SIGCONT to every process of a part, read from the kernel now, not from the part's
    last reading: a process its solver started since (``minizinc`` starting the solver it
    flattened for) would otherwise run on while the part is paused, or stay paused when it is
    resumed. The tree is read again until no new process shows up (one forked just before its
    parent stopped).

    A part one of whose processes is still ``setpriv`` (not yet the solver it starts) is not
    stopped at all, and False is returned (it is not paused yet; the next step tries again): a
    process stopped before it has set its parent-death signal would outlive a coordinator killed
    with -9, stopped for ever. (``setpriv`` starts only the session leaders, read once here.)"""
    leaders = [
        leader.pid
        for process in list(part.token.processes)
        for leader in process.sessions()
        if leader.returncode is None
    ]
    if signum == signal.SIGSTOP and any(cputime.command(pid) == "setpriv" for pid in leaders):
        return False
    sent: set[int] = set()
    for _ in range(3):
        pids = [pid for leader in leaders for pid in cputime.tree(leader) if pid not in sent]
        if not pids:
            break
        cputime.signal_all(pids, signum)
        sent.update(pids)
    return True


def charge_split(timing: dict, workers: int, measured: float | None = None) -> float:
    """Virtual seconds the split takes on ``workers`` workers.

    ``timing`` is the plan's record of its split. The race runs on one worker while the probes
    share the others, so the split's search takes the longer of the race and the probes spread
    over ``workers - 1``; the coordinator's own work (inspection, choosing cubes) comes before.
    Writing the plan's files (``write_cpu``) comes last. CPU seconds are charged where the plan
    recorded them (``race_cpu``, ``probe_cpu``, ``coordinator_cpu``, ``write_cpu``): unlike wall
    seconds, they grow little when this machine is busy. A plan of an earlier version has wall
    seconds only (``race``, ``probe_seconds``, ``seconds``); ``measured``, the wall seconds of the
    whole split, then adds what was not search.
    """
    if "coordinator_cpu" in timing:
        search = max(timing.get("race_cpu", 0.0), timing.get("probe_cpu", 0.0) / max(1, workers - 1))
        return timing["coordinator_cpu"] + search + timing.get("write_cpu", 0.0)
    search = max(timing.get("race", 0.0), timing.get("probe_seconds", 0.0) / max(1, workers - 1))
    rest = 0.0 if measured is None else max(0.0, measured - timing.get("seconds", 0.0))
    return rest + search


class VirtualExecutor:
    """Runs parts as real solver processes for ``workers`` virtual workers (see the module)."""

    name = "virtual"

    def __init__(
        self,
        backend: Backend,
        workers: int,
        *,
        cores: int | None = None,
        latency: float = LATENCY,
        start: float = 0.0,
    ):
        if workers < 1:
            raise SolveError(f"--virtual needs at least 1 worker (got {workers})")
        if getattr(backend, "long_lived", False):
            # a part is charged the CPU of its own processes: none is shared by parts here
            backend = dataclasses.replace(backend, long_lived=False)
        self.backend = backend
        self.workers = workers
        self.cores = cores or default_workers()
        self.latency = latency
        self.now = start  # virtual seconds: where every running part has got to
        self.peak_rss = 0  # the most memory one part's processes held
        self.simulation_cpu = 0.0  # CPU seconds of this thread spent simulating (not coordinating)
        self.charged = 0.0  # CPU seconds the dispatcher spent outside its thread (see charge)
        self._memory = cputime.available_memory()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._parts: dict[int, _Part] = {}
        self._events: list[tuple[float, int, Event]] = []  # a heap, by virtual time
        self._seq = itertools.count()
        self._free_slots: list[int] = []  # a heap: slots given back by ended parts, lowest first
        self._threads = PartThreads()
        self._closed = False
        # the dispatcher's thread and its CPU seconds when it last waited (None: it has not yet
        # started a part): what it has used since is time that passed for the workers
        self._owner: int | None = None
        self._mark = 0.0
        self._target = start  # virtual time the parts must reach before the next event is looked for

    # ---- the executor interface -----------------------------------------------------------------
    @property
    def free(self) -> int:
        return self.workers - len(self._parts)

    dashboard: str | None = None  # nothing to watch

    def clock(self) -> float:
        """The dispatcher's clock on a virtual run: virtual now, plus (read from the dispatcher's
        thread) the CPU seconds it has used since it last waited for an event."""
        return self.now + self._busy()

    def charge(self, seconds: float) -> None:
        """CPU seconds the dispatcher spent in a process it waited for: its own, as its thread's."""
        self._mark, self.charged = self._mark - seconds, self.charged + seconds

    def _busy(self) -> float:
        if self._owner != threading.get_ident():
            return 0.0
        return max(0.0, time.thread_time() - self._mark)

    def placement(self, part_id: int) -> str | None:
        part = self._parts.get(part_id)
        return None if part is None else f"virtual/{part.slot}"

    def start(self, task: PartTask) -> None:
        if self._closed:
            raise SolveError("this virtual executor is closed")
        if self._owner is None:  # the dispatcher's first part: its time counts from here
            self._owner, self._mark = threading.get_ident(), time.thread_time()
        slot = heapq.heappop(self._free_slots) if self._free_slots else len(self._parts) + 1
        part = _Part(task, slot, self.clock() + self.latency, StopToken())
        with self._lock:
            self._parts[task.part_id] = part
        # its solver starts once the dispatcher waits, among the slowest ``cores`` (see _launch)

    def next_event(self, timeout: float | None) -> Event | None:
        """The next event in virtual time; every part is paused when it returns.

        ``timeout`` 0 only takes an event already due. Otherwise the parts first run on to the
        dispatcher's clock (the time its turn took, see :meth:`clock`), then on until an event is
        due, at most TICK virtual seconds (and ``timeout`` real seconds) more."""
        if timeout == 0:
            return self._due()
        cpu = time.thread_time()
        self._target = max(self._target, self.now + self._busy())
        event = None
        try:
            if self._parts:
                event = self._advance(self._target, timeout)
        finally:
            _freeze(self)
            done = time.thread_time()
            self.simulation_cpu += done - cpu
            if self._owner == threading.get_ident():
                self._mark = done
        return event if event is not None else self._due()

    def _advance(self, target: float, timeout: float | None) -> Event | None:
        """Run the parts until virtual now has reached ``target`` and an event is due (taking it),
        or TICK virtual seconds past ``target``, or ``timeout`` real seconds."""
        until_real = None if timeout is None else time.monotonic() + timeout
        until_virtual = target + TICK
        while True:
            self._step(target)
            if self.now >= target:
                event = self._due()
                if event is not None or self.now >= until_virtual:
                    return event
            if not self._parts or (until_real is not None and time.monotonic() >= until_real):
                return None
            self._wake.wait(QUANTUM)
            self._wake.clear()

    def stop(self, part_id: int) -> None:
        part = self._parts.get(part_id)
        if part is not None and part.end is None and part.done is None:
            # its solver has not started (see _launch): it ends unrun, or now waits for ever
            part.stop_by = part.start
            part.token.stop()  # a thread that took it after all stops its solver at once
            self._end(part, PartResult(part_id, part.task.attempt, Status.UNKNOWN, stopped=True))
        elif part is not None and part.end is None:
            self._measure(part)
            # told now, it ends now (and the latency): a clock that ran ahead (a process that ran
            # while the dispatcher started other parts) is search it would not have done by now
            part.stop_by = self.clock() + self.latency
            _signal(part, signal.SIGCONT)  # a paused process would hold SIGTERM until resumed
            part.paused = False
            part.token.stop()

    def stop_all(self) -> None:
        for part_id in list(self._parts):
            self.stop(part_id)

    def tighten(self, part_id: int, bound: int | float) -> bool:
        # read when the part runs next: every clock is at least virtual now, so a bound never
        # reaches a part before the time it was found (a paused process holds it in its pipe)
        part = self._parts.get(part_id)
        return part is not None and part.end is None and part.token.tighten(bound)

    def close(self, timeout: float = 5.0) -> None:
        """Stop every part and wait for its solver to end; nothing is left paused."""
        self._closed = True
        self.stop_all()
        for part in list(self._parts.values()):
            if part.done is not None:
                part.done.wait(timeout)
            _signal(part, signal.SIGCONT)
        self._threads.close()
        close = getattr(self.backend, "close", None)  # the idle solution printers end
        if close is not None:
            close()

    # ---- inside ---------------------------------------------------------------------------------
    def _run(self, part: _Part) -> None:
        """A part's thread: solve it, stamping its solutions and its end with its clock."""
        task = part.task
        held = _Held(task.enumerates)

        def report(solutions: list[Solution]) -> None:
            self._measure(part)
            if held.add(solutions, part.clock):
                self._push(part.clock, SolutionEvent.of(task.part_id, task.attempt, held.take()))

        try:
            result = self.backend.solve(task, report, part.token)
        except Exception as exc:  # a crash of the backend is a failed attempt, not a crash of the run
            result = PartResult(task.part_id, task.attempt, Status.ERROR, error=repr(exc))
        self._measure(part)
        if held.solutions:
            self._push(part.clock, SolutionEvent.of(task.part_id, task.attempt, held.take()))
        self._end(part, result)

    def _end(self, part: _Part, result: PartResult) -> None:
        """A part ended: ended and queued at once (the clock never passes an end not yet queued)."""
        result.worker = f"virtual/{part.slot}"
        with self._lock:
            # the CPU the kernel reported when the processes were reaped is the exact total
            part.cpu = max(part.cpu, result.cpu or 0.0)
            end = part.clock
            result.elapsed = end - part.start  # the re-split budget is made of these
            event = DoneEvent(part.task.part_id, part.task.attempt, result)
            heapq.heappush(self._events, (end, next(self._seq), event))
            part.end = end
        self._wake.set()

    def _push(self, when: float, event: Event) -> None:
        with self._lock:
            heapq.heappush(self._events, (when, next(self._seq), event))
        self._wake.set()

    def _due(self) -> Event | None:
        """The earliest event if virtual now has reached it."""
        with self._lock:
            if not self._events or self._events[0][0] > self.now:
                return None
            when, _, event = heapq.heappop(self._events)
            if isinstance(event, DoneEvent):
                part = self._parts.pop(event.part_id, None)
                if part is not None:
                    heapq.heappush(self._free_slots, part.slot)
            return event

    def _measure(self, part: _Part) -> int:
        """Read a part's CPU seconds and memory from the kernel; its resident bytes."""
        total, rss = _usage(part)
        with self._lock:
            if part.end is None:
                part.cpu = max(part.cpu, total)
                part.rss = rss
        return rss

    def _step(self, target: float) -> None:
        """Move virtual now up to the slowest running part, and let only the slowest ``cores`` run.

        Now stops at the first event not yet taken, unless it is before ``target`` (the
        dispatcher's clock: it was busy until then, and takes the events of that time together)."""
        parts = list(self._parts.values())
        for part in parts:
            if part.end is None and not part.paused:
                _check_memory(self, self._measure(part))
        with self._lock:
            first = self._events[0][0] if self._events else None
        reach = min((p.clock for p in parts if p.end is None), default=None)
        if first is not None:
            reach = max(target, first) if reach is None else min(reach, max(target, first))
        self.now = max(self.now, target if reach is None else reach)
        # a part being stopped runs on to its end: a paused process would hold its SIGTERM
        runnable = sorted((p for p in parts if p.end is None and not p.token.stopped), key=lambda p: p.clock)
        for i, part in enumerate(runnable):
            if i < self.cores and part.done is None:
                self._launch(part)
            elif i < self.cores and part.paused:
                _signal(part, signal.SIGCONT)
                part.paused = False
            elif i >= self.cores and part.done is not None and not part.paused:
                part.paused = _signal(part, signal.SIGSTOP)

    def _launch(self, part: _Part) -> None:
        """Start a part's solver on a thread, only among the ``cores`` slowest parts: all at once
        (1,024), they would run unpaused, ahead of virtual now, and not in the dispatcher's turn."""
        part.paused = False
        part.done = self._threads.run(lambda: self._run(part))


class _Held:
    """The solutions a virtual worker holds before it reports them.

    An enumeration's are held as a worker holds them, but on the part's clock: until FLUSH_EVERY
    virtual seconds have passed since the first one held, or FLUSH_SIZE of them, or the part's
    end. (The backend holds them FLUSH_EVERY real seconds, in which a part paused for most of
    them advances far less: its events would be many times smaller, and many times more, than on
    a worker of its own.) Other solutions are reported at once."""

    def __init__(self, enumerates: bool):
        self.enumerates = enumerates
        self.solutions: list[Solution] = []
        self.since = 0.0  # the part's clock when the oldest solution held came

    def add(self, solutions: list[Solution], clock: float) -> bool:
        """Hold ``solutions``, found by ``clock``; True when the ones held are to be reported."""
        if not self.solutions:
            self.since = clock
        self.solutions.extend(solutions)
        return not self.enumerates or len(self.solutions) >= FLUSH_SIZE or clock - self.since >= FLUSH_EVERY

    def take(self) -> list[Solution]:
        taken, self.solutions = self.solutions, []
        return taken


def _freeze(executor: VirtualExecutor) -> None:
    """Pause every part while the dispatcher decides (its own time is its CPU: see clock)."""
    for part in list(executor._parts.values()):
        if part.end is None and part.done is not None and not part.paused and not part.token.stopped:
            executor._measure(part)
            part.paused = _signal(part, signal.SIGSTOP)


def _usage(part: _Part) -> tuple[float, int]:
    """A part's CPU seconds and resident bytes, read from the kernel."""
    total, rss = 0.0, 0
    for process in list(part.token.processes):
        for leader in process.sessions():
            if leader.returncode is not None:  # reaped: the kernel's total for it and its children
                total += cpu_seconds(leader)
                continue
            usage = cputime.usage([leader.pid])
            total += usage.cpu
            rss += usage.rss
        lent = getattr(process, "printer_cpu", None)  # a printer outside its sessions (see driver)
        total += lent() if lent is not None else 0.0
    return total, rss


def _check_memory(executor: VirtualExecutor, rss: int) -> None:
    """Keep the largest ``rss`` a part's processes held; refuse the executor's workers as many
    paused solver processes of that size if they would not fit."""
    if rss <= executor.peak_rss:
        return
    executor.peak_rss = rss
    workers, memory = executor.workers, executor._memory
    if memory is None or workers * rss <= MEMORY_SHARE * memory:
        return
    fits = max(1, int(MEMORY_SHARE * memory // rss))
    raise SolveError(
        f"--virtual {workers} would hold {workers} paused solver processes of about "
        f"{rss / 2**20:.0f} MiB each, more than this machine's {memory / 2**30:.1f} GiB of "
        f"free memory: use --virtual {fits} or fewer"
    )
