"""The Dask Executor: each part is a task on a Dask cluster that runs one solver process on a worker.

Workers need modelsplit and a solver, not a shared filesystem: a part travels as text. The files
of the plan's model directory go to the cluster once per run, as one task result (``ModelFiles``)
that every part depends on (Dask moves it to each worker once, and computes it again if the worker
holding it dies); a worker writes them to its scratch directory once. The part's constraints
travel with its task, and the solver is resolved again on the worker from the plan's solver tag.
A :class:`SolverCheck` worker plugin resolves it on every worker when the run starts (and on
workers that join later), so a worker without the solver fails the run with one line naming it.

Stopping. Dask cannot interrupt a running task, so the task runs the backend (whose solver runs in
a process session of its own) in a thread and, every ``POLL`` seconds, checks a stop flag of its
own attempt (a ``distributed.Event`` named after the job, the part key and the attempt), the
job's stop flag (every ``JOB_POLL_EVERY`` polls), its deadline, and whether Dask still wants the
task (a cancelled future, a coordinator that went away). Any of them stops the backend's
``StopToken``, which kills the whole solver session; the task then returns normally, with
``stopped=True``. A worker process that dies takes its solver with it (the solver receives
SIGTERM when the thread that started it dies).

Delivery. Tasks are at-least-once: Dask runs a task again when its worker dies. Solutions stream
to the coordinator while the part runs through one ``distributed.Queue`` per job, at most one
message per part every ``POLL`` seconds with at most ``STREAM_MAX`` solutions; what has not been
streamed when the solver ends travels with the task's result. Every message names the task run
(a random id per execution) and its sequence number, and the result lists the messages it
streamed. The executor forwards each solution of a (part, attempt) once: it drops solutions whose
values and text it has already forwarded for that attempt, so a run repeated after a worker died
adds only what the dead run had not reported (for an enumeration the union is exactly the part's
solutions, since the dead run's solutions are solutions of the part). A finished task's
``DoneEvent`` waits until the messages its run streamed have arrived (they are in the scheduler's
queue before the task's result is), so the solutions of an attempt always come before its
``DoneEvent``; messages that arrive for an attempt already done are dropped.

Task keys are ``modelsplit-part-<part content hash>-<attempt>-<job>``: unique within the
scheduler even when several runs share it, and stable for one attempt (a re-run after a worker
died is the same task).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import logging
import queue
import threading
import time
import uuid
from collections import deque

from distributed.diagnostics.plugin import WorkerPlugin

from modelsplit.errors import InputError, SolveError, SolverNotFoundError
from modelsplit.plan.task import PartTask
from modelsplit.status import Status
from modelsplit.workers.backend import MiniZincBackend, PartResult, Solution, StopToken
from modelsplit.workers.dask.files import ModelFiles, hold, make_model_files, materialize
from modelsplit.workers.executor import DoneEvent, Event, SolutionEvent

POLL = 0.2  # seconds between a running task's checks of its stop flags (and stream messages)
JOB_POLL_EVERY = 5  # the job-wide stop flag is checked every this many polls
STREAM_MAX = 1000  # solutions per stream message at most; the rest wait (or go with the result)
DEADLINE_GRACE = 2.0  # seconds past the deadline a worker waits for the coordinator to stop it
STREAM_WAIT = 10.0  # seconds a finished part waits for its streamed messages before reporting
CONNECT_TIMEOUT = 10.0  # seconds to reach the scheduler
WORKER_TIMEOUT = 30.0  # seconds to wait for the first worker
READ_EVERY = 0.05  # seconds between the coordinator's reads of the stream queue
CAPACITY_EVERY = 2.0  # seconds between checks of the cluster's thread count


NATIVE_CPSAT = "cp-sat model"  # what workers of a native CP-SAT plan need: OR-Tools, no MiniZinc


def _solver_on_worker(tag: str, address: str):
    if tag == NATIVE_CPSAT:
        try:
            from modelsplit.workers.cpsat._ortools import import_cp_model

            import_cp_model()
        except ImportError as exc:
            raise SolverNotFoundError(
                f"Dask worker {address} cannot run CP-SAT model parts ({exc}); install OR-Tools "
                "there with `pip install ortools`"
            ) from None
        return None
    from modelsplit.workers.solvers import resolve_solver

    try:
        return resolve_solver(tag)
    except SolverNotFoundError as exc:
        raise SolverNotFoundError(f"Dask worker {address} cannot run solver {tag!r}: {exc}") from None


class SolverCheck(WorkerPlugin):
    """Resolves the plan's solver on each worker as it starts (or when the run registers it)."""

    def __init__(self, tag: str):
        self.tag = tag

    def setup(self, worker) -> None:
        _solver_on_worker(self.tag, worker.address)


def _stop_name(job: str, key: str, attempt: int) -> str:
    return f"modelsplit-{job}-stop-{key}-{attempt}"


def _job_stop_name(job: str) -> str:
    return f"modelsplit-{job}-stop"


def _queue_name(job: str) -> str:
    return f"modelsplit-{job}-solutions"


def _row(sol: Solution) -> list:
    return [sol.values_json, sol.text, sol.objective, sol.time]


# ---- the task, on a worker ------------------------------------------------------------------------
def run_part(model: ModelFiles, task: PartTask, job: str, deadline: float | None) -> dict:
    """Solve one part on this worker; stream solutions; stop when told. Runs as a Dask task."""
    from distributed import Event as Flag
    from distributed import Queue, get_worker

    worker = get_worker()
    own_key = worker.get_current_task()
    native = task.cube is not None  # a part of a CP-SAT model file: the worker makes its proto
    solver = _solver_on_worker(NATIVE_CPSAT if native else task.solver_tag, worker.address)
    here = dataclasses.replace(task, model_files=materialize(model), solver=solver.arg if solver else task.solver)
    run = uuid.uuid4().hex[:12]
    stop_flag, job_flag = Flag(_stop_name(job, task.key, task.attempt)), Flag(_job_stop_name(job))
    stream = Queue(_queue_name(job))

    def wanted() -> bool:
        ts = worker.state.tasks.get(own_key)
        return ts is not None and ts.state not in ("cancelled", "released", "forgotten")

    def told_to_stop(polls: int) -> bool:
        if deadline is not None and time.time() >= deadline + DEADLINE_GRACE:
            return True
        try:
            if not wanted():
                return True
            return stop_flag.is_set() or (polls % JOB_POLL_EVERY == 0 and job_flag.is_set())
        except Exception:  # the scheduler is out of reach for now: keep solving, ask again later
            return False

    token = StopToken()
    lock = threading.Lock()
    pending: list[Solution] = []
    box: dict[str, PartResult] = {}

    def report(sols: list[Solution]) -> None:
        with lock:
            pending.extend(sols)

    def solve() -> None:
        try:
            if native:
                from modelsplit.workers.cpsat.proto import ProtoBackend

                backend = ProtoBackend()
            else:
                backend = MiniZincBackend()
            box["result"] = backend.solve(here, report, token)
        except Exception as exc:  # a crash of the backend is a failed attempt, not a lost worker
            box["result"] = PartResult(task.part_id, task.attempt, Status.ERROR, error=repr(exc))

    if told_to_stop(0):
        token.stop()  # stopped before it started: the backend returns at once
    thread = threading.Thread(target=solve, name=f"part-{task.part_id}", daemon=True)
    thread.start()
    streamed: list[int] = []
    seq = polls = 0
    try:
        while True:
            thread.join(POLL)
            if not thread.is_alive():
                break
            polls += 1
            with lock:
                batch, pending[:] = pending[:STREAM_MAX], pending[STREAM_MAX:]
            if batch:
                message = {"part": task.part_id, "attempt": task.attempt, "run": run, "seq": seq}
                message["solutions"] = [_row(s) for s in batch]
                try:
                    stream.put(message)
                    streamed.append(seq)
                except Exception:  # not delivered (as far as we know): it goes with the result
                    with lock:
                        pending[:0] = batch
                seq += 1
            if not token.stopped and told_to_stop(polls):
                token.stop()
    finally:
        token.stop()  # never leave a solver behind, whatever happened here
        thread.join()
        try:
            stream.close()
        except Exception:
            pass
    return {
        "run": run,
        "streamed": streamed,
        "tail": [_row(s) for s in pending],
        "result": box["result"],
        "worker": worker.address,
    }


# ---- the executor, on the coordinator -------------------------------------------------------------
def _has_bokeh() -> bool:
    return importlib.util.find_spec("bokeh") is not None


class DaskExecutor:
    """Runs parts as tasks on a Dask cluster: ``address`` of a scheduler, or ``"local"``.

    ``"local"`` starts a LocalCluster of ``workers`` single-threaded worker processes (default:
    one per core) on this machine, shut down by :meth:`close`. ``solver``: the plan's solver tag,
    checked on every worker at once (else at the first part). ``time_limit``: seconds from now
    after which workers stop their parts on their own, should the coordinator not do it.
    ``security``: a ``distributed.security.Security`` for TLS (default: Dask's configuration).
    """

    name = "dask"

    def __init__(
        self,
        address: str = "local",
        workers: int | None = None,
        *,
        solver: str | None = None,
        time_limit: float | None = None,
        security=None,
    ):
        import distributed

        self.address = address
        self.job = uuid.uuid4().hex[:10]
        self._cluster = None
        self._closed = False
        self._futures: dict[int, distributed.Future] = {}
        self._tasks: dict[int, PartTask] = {}
        self._shipped: dict[tuple[str, ...], distributed.Future] = {}
        self._inbox: queue.Queue = queue.Queue()
        self._finished: queue.Queue = queue.Queue()  # futures done, whose results the reader fetches
        self._unflag: queue.Queue[str] = queue.Queue()  # stop flags of finished parts, to clear
        self._ready: deque[Event] = deque()
        self._waiting: dict[tuple[int, int], tuple[dict, float]] = {}
        self._forwarded: dict[tuple[int, int], set[bytes]] = {}
        self._received: dict[str, set[int]] = {}
        self._done: set[tuple[int, int]] = set()
        self._flags: dict[tuple[int, int], str] = {}  # stop flags set, cleared once the part is done
        self._fatal: Exception | None = None
        self._after_fatal: list[Event] = []
        self._solvers: set[str] = set()
        self._capacity = (0, 0.0)
        self._dashboard: str | None = None  # None: not asked yet; "": none
        try:
            if address == "local":
                self._cluster = distributed.LocalCluster(
                    n_workers=workers or _default_workers(),
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=":0",  # a free port; a dashboard only where bokeh is installed
                    silence_logs=logging.ERROR,
                )
                self.client = distributed.Client(self._cluster, set_as_default=False)
            else:
                self.client = distributed.Client(
                    address, timeout=CONNECT_TIMEOUT, security=security, set_as_default=False
                )
        except (OSError, TimeoutError) as exc:
            self.close()
            raise InputError(
                f"cannot connect to the Dask scheduler at {address} ({' '.join(str(exc).split())}); "
                "start one with `dask scheduler` and pass the address it prints, or use --dask local"
            ) from None
        try:
            self.client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
        except TimeoutError:
            self.close()
            raise SolveError(
                f"no Dask worker joined the scheduler at {address} within {WORKER_TIMEOUT:.0f} s; "
                f"start workers with `dask worker {address}`"
            ) from None
        # the time limit counts from here, as the coordinator's does: not from before the cluster
        # started (a LocalCluster takes seconds), else workers stop their parts too early
        self.deadline = time.time() + time_limit if time_limit else None
        self._stream = distributed.Queue(_queue_name(self.job), client=self.client)
        self._reading = threading.Event()
        self._reader = threading.Thread(target=self._read, name="modelsplit-dask-stream", daemon=True)
        self._reader.start()
        if solver:
            try:
                self._check_solver(solver)
            except BaseException:
                self.close()
                raise

    # ---- the executor interface -----------------------------------------------------------------
    @property
    def free(self) -> int:
        return self.capacity - len(self._futures)

    @property
    def running(self) -> list[int]:
        return list(self._futures)

    @property
    def capacity(self) -> int:
        """Parts at once: the cluster's worker threads (at least 1, so parts wait for workers)."""
        threads, when = self._capacity
        if time.monotonic() - when >= CAPACITY_EVERY:
            try:
                threads = sum(self.client.nthreads().values())
            except Exception:
                pass
            self._capacity = (threads, time.monotonic())
        return max(1, threads)

    @property
    def dashboard(self) -> str | None:
        """The address of the cluster's dashboard, when it has one (asked once)."""
        if self._dashboard is None:
            self._dashboard = ""
            if self._cluster is None or _has_bokeh():  # without bokeh it serves only health checks
                try:
                    self._dashboard = self.client.dashboard_link or ""
                except Exception:  # no address known: no dashboard to show
                    pass
        return self._dashboard or None

    def start(self, task: PartTask) -> None:
        if self._closed:
            raise SolveError("this Dask executor is closed")
        self._check_solver(NATIVE_CPSAT if task.cube is not None else task.solver_tag)
        shipped = self._ship(task.model_files)
        key = f"modelsplit-part-{task.key[:20]}-{task.attempt}-{self.job}"
        future = self.client.submit(run_part, shipped, task, self.job, self.deadline, key=key, retries=0)
        self._futures[task.part_id] = future
        self._tasks[task.part_id] = task
        future.add_done_callback(lambda f: self._finished.put((task.part_id, task.attempt, f)))

    def next_event(self, timeout: float | None) -> Event | None:
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._ready:
                event = self._ready.popleft()
                if isinstance(event, DoneEvent):
                    self._futures.pop(event.part_id, None)
                return event
            if self._fatal is not None:
                if timeout == 0:
                    return None  # raised on the next waiting call, so no batch of events is lost
                exc, self._fatal = self._fatal, None
                self._ready.extend(self._after_fatal)
                self._after_fatal = []
                raise exc
            self._release()
            if self._ready:
                continue
            wait = None if end is None else end - time.monotonic()
            if wait is not None and wait <= 0:
                return None
            if self._waiting:  # a finished part waits for its messages: look again soon
                wait = 0.1 if wait is None else min(wait, 0.1)
            try:
                item = self._inbox.get(timeout=wait)
            except queue.Empty:
                continue
            self._take(item)

    def stop(self, part_id: int) -> None:
        task = self._tasks.get(part_id)
        if task is None or part_id not in self._futures:
            return
        attempt = task.attempt
        name = _stop_name(self.job, task.key, attempt)
        self._flags[(part_id, attempt)] = name
        self._set_flag(name)

    def stop_all(self) -> None:
        if self._closed:
            return
        self._set_flag(_job_stop_name(self.job))
        for part_id in list(self._futures):  # its own flag too: checked more often than the job's
            self.stop(part_id)

    def close(self) -> None:
        """Stop every part, wait a little for their solvers to end, release the cluster."""
        if self._closed:
            return
        client = getattr(self, "client", None)
        if client is not None and client.status == "running":
            import distributed

            self.stop_all()
            self._closed = True
            futures = list(self._futures.values())
            if futures:
                try:
                    distributed.wait(futures, timeout=5)
                except Exception:
                    pass
            try:
                client.cancel(futures + list(self._shipped.values()))
            except Exception:
                pass
            if not futures or all(f.done() for f in futures):
                self._clear_flag(_job_stop_name(self.job))
            for name in self._flags.values():
                self._clear_flag(name)
            for tag in self._solvers:
                try:
                    client.unregister_worker_plugin(self._plugin_name(tag))
                except Exception:
                    pass
        self._closed = True
        if getattr(self, "_reader", None) is not None:
            self._reading.set()
            self._reader.join(2.0)
            while not self._unflag.empty():
                self._clear_flag(self._unflag.get())
            try:
                self._stream.close()
            except Exception:
                pass
        self._futures.clear()
        self._shipped.clear()
        if client is not None:
            client.close()
        if self._cluster is not None:
            self._cluster.close()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- inside -----------------------------------------------------------------------------------
    def _plugin_name(self, tag: str) -> str:
        return f"modelsplit-solver-{tag}-{self.job}"

    def _check_solver(self, tag: str) -> None:
        if tag in self._solvers:
            return
        self._solvers.add(tag)
        self.client.register_plugin(SolverCheck(tag), name=self._plugin_name(tag))

    def _ship(self, model_files: tuple[str, ...]):
        """The task that holds the model files on the cluster (one per run and model)."""
        future = self._shipped.get(model_files)
        if future is None:
            model = make_model_files(model_files)
            future = self.client.submit(hold, model, key=f"modelsplit-model-{model.digest[:20]}-{self.job}")
            self._shipped[model_files] = future
        return future

    def _set_flag(self, name: str) -> None:
        from distributed import Event as Flag

        try:
            Flag(name, client=self.client).set()
        except Exception:
            pass  # the scheduler is gone: so are the tasks

    def _clear_flag(self, name: str) -> None:
        from distributed import Event as Flag

        try:
            Flag(name, client=self.client).clear()
        except Exception:
            pass

    def _read(self) -> None:
        """Move stream messages from the scheduler's queue to the inbox (a thread of its own).

        It asks for whatever is queued every ``READ_EVERY`` seconds: a blocking ``get`` with a
        timeout would make the scheduler log an error at every timeout. It also fetches the results
        of finished tasks and clears the stop flags of finished parts, so that ``next_event`` never
        waits for the scheduler (it runs inside the dispatcher's journal transactions).
        """
        while not self._reading.wait(READ_EVERY):
            while not self._unflag.empty():
                self._clear_flag(self._unflag.get())
            while not self._finished.empty():
                part_id, attempt, future = self._finished.get()
                self._inbox.put(("done", part_id, attempt, future, self._outcome(part_id, attempt, future)))
            try:
                items = self._stream.get(batch=True)
            except Exception:
                continue  # the scheduler is out of reach for now, or the run is closing
            for item in items:
                self._inbox.put(("message", item))

    def _take(self, item: tuple) -> None:
        if item[0] == "message":
            msg = item[1]
            self._received.setdefault(msg["run"], set()).add(msg["seq"])
            self._forward(msg["part"], msg["attempt"], msg["solutions"])
            return
        _, part_id, attempt, future, outcome = item
        if self._futures.get(part_id) is not future:
            return  # a future given up (closed) or already reported
        if "fatal" in outcome:  # the task could not run on its worker (no solver): fail the run
            self._fatal = outcome["fatal"]
            res = PartResult(part_id, attempt, Status.ERROR, error=str(self._fatal))
            self._after_fatal.append(DoneEvent(part_id, attempt, res))
            self._done.add((part_id, attempt))
        else:
            self._waiting[(part_id, attempt)] = (outcome, time.monotonic())

    def _outcome(self, part_id: int, attempt: int, future) -> dict:
        """The task's result, or a result that says why there is none (``fatal``: stop the run)."""
        status = future.status
        if status == "finished":
            try:
                return future.result()
            except Exception as exc:  # the result could not be fetched (its worker died just now)
                error, crashed = f"the result of part {part_id} was lost: {exc}", True
        elif status == "cancelled":
            res = PartResult(part_id, attempt, Status.UNKNOWN, stopped=True)
            return {"run": "", "streamed": [], "tail": [], "result": res}
        else:
            exc = future.exception()
            if isinstance(exc, SolverNotFoundError):
                return {"fatal": exc}
            lost = type(exc).__name__ in ("KilledWorker", "CommClosedError", "FutureCancelledError")
            error, crashed = f"{type(exc).__name__}: {' '.join(str(exc).split())}", lost
        res = PartResult(part_id, attempt, Status.ERROR, error=error, crashed=crashed)
        return {"run": "", "streamed": [], "tail": [], "result": res}

    def _release(self) -> None:
        """Report finished parts whose streamed messages have all arrived (or waited long enough)."""
        now = time.monotonic()
        for (part_id, attempt), (outcome, since) in list(self._waiting.items()):
            got = self._received.get(outcome["run"], set())
            if not set(outcome["streamed"]) <= got and now - since < STREAM_WAIT:
                continue
            del self._waiting[(part_id, attempt)]
            self._forward(part_id, attempt, outcome["tail"])
            self._done.add((part_id, attempt))
            self._forwarded.pop((part_id, attempt), None)
            self._received.pop(outcome["run"], None)
            flag = self._flags.pop((part_id, attempt), None)
            if flag:
                self._unflag.put(flag)  # cleared by the reader thread: no waiting for the scheduler here
            if outcome.get("worker"):
                outcome["result"].worker = outcome["worker"]
            self._ready.append(DoneEvent(part_id, attempt, outcome["result"]))

    def _forward(self, part_id: int, attempt: int, rows: list) -> None:
        """Queue a SolutionEvent of the rows not forwarded before for this attempt."""
        if (part_id, attempt) in self._done or not rows:
            return
        seen = self._forwarded.setdefault((part_id, attempt), set())
        fresh = []
        for values_json, text, objective, elapsed in rows:
            digest = hashlib.blake2b(f"{values_json}\0{text}".encode(), digest_size=16).digest()
            if digest in seen:
                continue
            seen.add(digest)
            fresh.append(Solution(part_id, values_json, text, objective, elapsed))
        if fresh:
            self._ready.append(SolutionEvent(part_id, attempt, fresh))


def _default_workers() -> int:
    from modelsplit.workers.local import default_workers

    return default_workers()
