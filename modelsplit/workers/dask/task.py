"""The worker side of a Dask run: a part's task (:func:`run_part`), and the check that a worker has
the plan's solver (:class:`SolverCheck`).

The solver is resolved again on the worker from the plan's solver tag: the coordinator's paths mean
nothing there. A :class:`SolverCheck` worker plugin resolves it on every worker when the run starts
(and on workers that join later), so a worker without the solver fails the run with one line
naming it.

Solving. A worker process keeps one backend per model format (:func:`worker_backend`), so the
CP-SAT part servers it keeps solve part after part of a plan, each translating the plan's model
once; the coordinator ends the idle ones when a run ends (:func:`release_part_servers`). A part
from the plan's flattening (CP-SAT's, or Gecode's) gets the .fzn and .ozn shipped as the model
files are, and runs from them where this worker's solver library and MiniZinc are those the
flattening was made with (:func:`~modelsplit.workers.flat.made_with`); elsewhere it runs through
the CLI, which flattens it here.

Stopping. Dask cannot interrupt a running task, so the task runs the backend (whose solver runs in
a process session of its own) in a thread and, every ``POLL`` seconds, checks a stop flag of its
own attempt (a ``distributed.Event`` named after the job, the part key and the attempt), the
job's stop flag (every ``JOB_POLL_EVERY`` polls), its deadline, and whether Dask still wants the
task (a cancelled future, a coordinator that went away). Any of them stops the backend's
``StopToken``, which kills the whole solver session (on a part server: stops its search); the
task then returns normally, with ``stopped=True``. A part whose solver takes bounds while it runs
(Gecode's, through fzn-gecode-bound) also reads the job's bound every ``JOB_POLL_EVERY`` polls
(:class:`~modelsplit.workers.dask.flags.Bound`, published by the coordinator as the incumbent
improves) and hands a new one to its solver. A worker process that dies takes its solver
with it (the solver receives SIGTERM when the thread that started it dies; a part server, SIGKILL
when the process that started it dies).

Streaming. While the part runs, the task sends its solutions to the coordinator through the job's
stream queue: at most one :class:`StreamMessage` every ``POLL`` seconds, with at most
``STREAM_MAX`` solutions. A message that could not be put is not counted as streamed: its
solutions go in a later message. What has not been streamed when the solver ends travels with the
task's result, a :class:`TaskOutcome` that lists the messages this run of the task streamed.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid

from distributed import Event as Flag
from distributed import Queue, get_worker
from distributed.client import ClosedClientError
from distributed.diagnostics.plugin import WorkerPlugin

from modelsplit.errors import SolverNotFoundError
from modelsplit.formats import format_named
from modelsplit.formats.base import ModelFormat
from modelsplit.formats.cpsat import NATIVE_CPSAT
from modelsplit.plan.task import PartTask
from modelsplit.status import Status
from modelsplit.workers.backend import Backend, PartResult, Solution, StopToken
from modelsplit.workers.cpsat._ortools import import_cp_model
from modelsplit.workers.dask.files import ModelFiles, materialize
from modelsplit.workers.dask.flags import Bound, job_stop_name, stop_name
from modelsplit.workers.dask.messages import StreamMessage, TaskOutcome, queue_name, row
from modelsplit.workers.flat import made_with, part_executable
from modelsplit.workers.solvers import Solver, resolve_solver

POLL = 0.2  # seconds between a running task's checks of its stop flags (and stream messages)
JOB_POLL_EVERY = 5  # the job-wide stop flag is checked every this many polls
STREAM_MAX = 1000  # solutions per stream message at most; the rest wait (or go with the result)
DEADLINE_GRACE = 2.0  # seconds past the deadline a worker waits for the coordinator to stop it



def solver_on_worker(tag: str, address: str) -> Solver | None:
    """Resolve the plan's solver on this worker (None for a native CP-SAT plan: OR-Tools is there).

    A missing solver raises :class:`SolverNotFoundError` naming the worker.
    """
    if tag == NATIVE_CPSAT:
        try:
            import_cp_model()
        except ImportError as exc:
            raise SolverNotFoundError(
                f"Dask worker {address} cannot run CP-SAT model parts ({exc}); install OR-Tools "
                "there with `pip install ortools`"
            ) from None
        return None
    try:
        return resolve_solver(tag)
    except SolverNotFoundError as exc:
        raise SolverNotFoundError(f"Dask worker {address} cannot run solver {tag!r}: {exc}") from None


class SolverCheck(WorkerPlugin):
    """Resolves the plan's solver on each worker as it starts (or when the run registers it)."""

    def __init__(self, tag: str):
        self.tag = tag

    def setup(self, worker) -> None:
        solver_on_worker(self.tag, worker.address)


_BACKENDS: dict[str, Backend] = {}  # format name -> this worker process's backend, kept across tasks
_BACKENDS_LOCK = threading.Lock()


def worker_backend(fmt: ModelFormat) -> Backend:
    """This worker process's backend for a model format, made once: the CP-SAT part servers it
    keeps solve part after part of a plan (see workers/cpsat/pool.py)."""
    with _BACKENDS_LOCK:
        backend = _BACKENDS.get(fmt.name)
        if backend is None:
            backend = _BACKENDS[fmt.name] = fmt.backend()
        return backend


def release_part_servers() -> None:
    """End this worker process's idle part servers and solution printers (the coordinator runs
    it on every worker when a run ends)."""
    with _BACKENDS_LOCK:
        backends = list(_BACKENDS.values())
    for backend in backends:
        close_idle = getattr(backend, "close_idle", None)
        if close_idle is not None:
            close_idle()


def part_server_records() -> list:
    """What this worker process's CP-SAT part servers have run so far (each part's
    :class:`~modelsplit.workers.cpsat.pool.RunRecord`): ``client.run`` asks every worker."""
    with _BACKENDS_LOCK:
        backends = list(_BACKENDS.values())
    pools = [b._servers for b in backends if getattr(b, "_servers", None) is not None]
    return [r for pool in pools for r in pool.records]


def run_part(
    model: ModelFiles, task: PartTask, job: str, deadline: float | None, flat: ModelFiles | None = None
) -> TaskOutcome:
    """Solve one part on this worker; stream solutions; stop when told. Runs as a Dask task.
    ``flat``: the plan's flattening (its .fzn and .ozn), for a part that runs from it."""
    worker = get_worker()
    fmt = format_named(task.format)
    solver = solver_on_worker(fmt.requirement(task.solver_tag), worker.address)
    solver_arg = solver.arg if solver else task.solver
    here = dataclasses.replace(task, model_files=materialize(model), solver=solver_arg)
    if flat is not None and task.flat is not None and task.flat.made_with == made_with(solver_arg, task.solver_tag):
        fzn, ozn = materialize(flat)
        exe = part_executable(solver_arg, task.solver_tag) or task.flat.executable
        here = dataclasses.replace(here, flat=dataclasses.replace(task.flat, fzn=fzn, ozn=ozn, executable=exe))
    else:  # this worker's solver library or MiniZinc is not the flattening's: the CLI flattens
        here = dataclasses.replace(here, flat=None)
    run = uuid.uuid4().hex[:12]
    watch = _Watch(worker, task, job, deadline)
    stream = Queue(queue_name(job))
    solving = _Solving(here, fmt)
    if watch.told_to_stop(0):
        solving.token.stop()  # stopped before it started: the backend returns at once
    solving.start()
    try:
        streamed = _stream_until_solved(solving, watch, stream, run)
    finally:
        solving.finish()  # never leave a solver behind, whatever happened here
        _close(stream)
    tail = tuple(row(s) for s in solving.unsent())
    return TaskOutcome(run, tuple(streamed), tail, solving.result, worker.address)


class _Watch:
    """What tells a running task to stop: its deadline, the stop flags of its attempt and of its
    job, and Dask no longer wanting the task."""

    def __init__(self, worker, task: PartTask, job: str, deadline: float | None):
        self._worker = worker
        self._key = worker.get_current_task()
        self._deadline = deadline
        self._flag = Flag(stop_name(job, task.key, task.attempt))
        self._job_flag = Flag(job_stop_name(job))
        self._bound = Bound(job) if task.goal.optimises else None
        self._told: int | float | None = None  # the last bound handed to the part

    def new_bound(self) -> int | float | None:
        """The job's bound if it changed since the last call (see flags.Bound), else None."""
        bound = self._bound.read() if self._bound is not None else None
        if bound is None or bound == self._told:
            return None
        self._told = bound
        return bound

    def told_to_stop(self, polls: int) -> bool:
        """Whether to stop now (``polls``: the number of this check; the job's flag is checked on
        every ``JOB_POLL_EVERY``-th)."""
        if self._deadline is not None and time.time() >= self._deadline + DEADLINE_GRACE:
            return True
        try:
            if not self._wanted():
                return True
            return self._flag.is_set() or (polls % JOB_POLL_EVERY == 0 and self._job_flag.is_set())
        except Exception:  # the scheduler is out of reach for now: keep solving, ask again later
            return False

    def _wanted(self) -> bool:
        ts = self._worker.state.tasks.get(self._key)
        return ts is not None and ts.state not in ("cancelled", "released", "forgotten")


class _Solving:
    """The backend solving a part in a thread of its own, and the solutions it found not yet sent."""

    def __init__(self, task: PartTask, fmt: ModelFormat):
        self.task = task
        self.fmt = fmt
        self.token = StopToken()
        self.result: PartResult | None = None
        self._lock = threading.Lock()
        self._unsent: list[Solution] = []
        self._thread = threading.Thread(target=self._solve, name=f"part-{task.part_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def running_after(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the backend to end; whether it still runs."""
        self._thread.join(seconds)
        return self._thread.is_alive()

    def take(self, most: int) -> list[Solution]:
        """The first ``most`` solutions not yet sent (they count as sent: see :meth:`put_back`)."""
        with self._lock:
            batch, self._unsent[:] = self._unsent[:most], self._unsent[most:]
        return batch

    def put_back(self, batch: list[Solution]) -> None:
        """Solutions taken but not delivered: first in line again."""
        with self._lock:
            self._unsent[:0] = batch

    def finish(self) -> None:
        """Stop the backend (if it still runs) and wait for its thread."""
        self.token.stop()
        self._thread.join()

    def unsent(self) -> list[Solution]:
        with self._lock:
            return list(self._unsent)

    def _report(self, sols: list[Solution]) -> None:
        with self._lock:
            self._unsent.extend(sols)

    def _solve(self) -> None:
        task = self.task
        try:
            self.result = worker_backend(self.fmt).solve(task, self._report, self.token)
        except Exception as exc:  # a crash of the backend is a failed attempt, not a lost worker
            self.result = PartResult(task.part_id, task.attempt, Status.ERROR, error=repr(exc))


def _stream_until_solved(solving: _Solving, watch: _Watch, stream: Queue, run: str) -> list[int]:
    """Send the solutions as they come (one message per ``POLL`` at most) and stop the backend when
    told, until it ends; the seqs of the messages sent."""
    task = solving.task
    streamed: list[int] = []
    seq = polls = 0
    while solving.running_after(POLL):
        polls += 1
        batch = solving.take(STREAM_MAX)
        if batch:
            message = StreamMessage(task.part_id, task.attempt, run, seq, tuple(row(s) for s in batch))
            if _put(stream, message):
                streamed.append(seq)
            else:
                solving.put_back(batch)
            seq += 1
        if not solving.token.stopped and watch.told_to_stop(polls):
            solving.token.stop()
        # a better incumbent's bound, to a part whose solver takes one while it runs (fzn-gecode-bound,
        # a CP-SAT part server)
        bound = watch.new_bound() if solving.token.takes_bounds and polls % JOB_POLL_EVERY == 0 else None
        if bound is not None:
            solving.token.tighten(bound)
    return streamed


def _put(stream: Queue, message: StreamMessage) -> bool:
    """Whether the message was delivered to the stream queue (as far as this worker knows)."""
    try:
        stream.put(message.to_wire())
    except Exception:  # the scheduler is out of reach: a later message takes them, or the result
        return False
    return True


def _close(stream: Queue) -> None:
    try:
        stream.close()
    except (RuntimeError, ClosedClientError):  # this worker's client is gone: nothing left to release
        pass
