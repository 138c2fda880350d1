"""The coordinator side of a Dask run: :class:`DaskExecutor` (how a run goes: the package's docstring).

It submits one task per attempt of a part, under the task key the package's docstring describes,
and stops a part by setting its stop flag (:mod:`~modelsplit.workers.dask.flags`). Its
:class:`Reader` does the talking to the scheduler, and its :class:`Delivery` turns what arrives
into events, in order and once each.
"""

from __future__ import annotations

import queue
import time
import uuid

import distributed

from modelsplit.errors import SolveError
from modelsplit.formats import format_named
from modelsplit.plan.task import PartTask
from modelsplit.status import Status
from modelsplit.workers.backend import PartResult
from modelsplit.workers.dask.cluster import connect, wait_for_a_worker
from modelsplit.workers.dask.dashboard import Dashboard
from modelsplit.workers.dask.delivery import Delivery
from modelsplit.workers.dask.files import hold, make_model_files
from modelsplit.workers.dask.flags import Bound, clear_flag, job_stop_name, set_flag, stop_name
from modelsplit.workers.dask.messages import InboxItem, Streamed, Unrunnable
from modelsplit.workers.dask.reader import Reader
from modelsplit.workers.dask.task import SolverCheck, release_part_servers, run_part
from modelsplit.workers.executor import DoneEvent, Event

CAPACITY_EVERY = 2.0  # seconds between checks of the cluster's thread count
CLOSE_WAIT = 5.0  # seconds closing waits for the stopped parts' tasks to end
RELEASE_EVERY = 0.1  # seconds between looks at a finished part that waits for its messages


class DaskExecutor:
    """Runs parts as tasks on a Dask cluster: ``address`` names it (a scheduler's address,
    ``"local"``, ``"config"``, a ``distributed.Client`` or a cluster object, see
    :mod:`~modelsplit.workers.dask.cluster`), or ``scheduler_file`` (then ``address=None``).

    ``"local"`` starts a LocalCluster of ``workers`` single-threaded worker processes (default:
    one per core) on this machine, shut down by :meth:`close`; a caller's Client is left open.
    ``solver``: the plan's solver tag, checked on every worker at once (else at the first part).
    ``time_limit``: seconds from now after which workers stop their parts on their own, should
    the coordinator not do it. ``security``: a ``distributed.security.Security`` for TLS
    (default: Dask's configuration).
    """

    name = "dask"

    def __init__(
        self,
        address="local",
        workers: int | None = None,
        *,
        solver: str | None = None,
        time_limit: float | None = None,
        security=None,
        scheduler_file=None,
    ):
        self.job = uuid.uuid4().hex[:10]
        self.client: distributed.Client | None = None
        self._reader: Reader | None = None
        self._closed = False
        self._futures: dict[int, distributed.Future] = {}  # running parts' tasks
        self._tasks: dict[int, PartTask] = {}  # the last attempt started of each part
        self._shipped: dict[tuple[str, ...], distributed.Future] = {}  # model files held on the cluster
        self._delivery = Delivery()
        self._flags: dict[tuple[int, int], str] = {}  # stop flags set, cleared once the part is done
        self._fatal: Exception | None = None
        self._after_fatal: list[Event] = []
        self._solvers: set[str] = set()
        self._capacity = (0, 0.0)
        self._dashboard: Dashboard | None = None
        self._connection = connect(address, workers, security, scheduler_file=scheduler_file)
        self.client = self._connection.client
        self._bound = Bound(self.job, self.client)  # the incumbent's bound for running parts (tighten)
        self.address = self._connection.address
        try:
            wait_for_a_worker(self._connection)
            self._dashboard = Dashboard(self._connection)
            # the time limit counts from here, as the coordinator's does: not from before the
            # cluster started (a LocalCluster takes seconds), else workers stop parts too early
            self.deadline = time.time() + time_limit if time_limit else None
            self._reader = Reader(self.client, self.job)
            if solver:
                self._check_solver(solver)
        except BaseException:
            self.close()
            raise

    # ---- the executor interface -----------------------------------------------------------------
    @property
    def free(self) -> int:
        return self.capacity - len(self._futures)

    @property
    def capacity(self) -> int:
        """Parts at once: the cluster's worker threads (at least 1, so parts wait for workers)."""
        threads, when = self._capacity
        if time.monotonic() - when >= CAPACITY_EVERY:
            try:
                threads = sum(self.client.nthreads().values())
            except Exception:  # the scheduler is out of reach for now: keep the last count
                pass
            self._capacity = (threads, time.monotonic())
        return max(1, threads)

    @property
    def dashboard(self) -> str | None:
        """The link of the cluster's dashboard, once known to work (see
        :mod:`~modelsplit.workers.dask.dashboard`); None before, or without one."""
        return None if self._dashboard is None else self._dashboard.link

    def placement(self, part_id: int) -> str | None:
        """None: the worker a task runs on is known only when it ran (its DoneEvent says)."""
        return None

    def start(self, task: PartTask) -> None:
        if self._closed:
            raise SolveError("this Dask executor is closed")
        self._check_solver(format_named(task.format).requirement(task.solver_tag))
        shipped = self._ship(task.model_files)
        # a part from the plan's flattening: the .fzn and .ozn go too (the worker checks they fit it)
        flat = self._ship((task.flat.fzn, task.flat.ozn)) if task.flat is not None else None
        key = f"modelsplit-part-{task.key[:20]}-{task.attempt}-{self.job}"
        future = self.client.submit(run_part, shipped, task, self.job, self.deadline, flat, key=key, retries=0)
        self._futures[task.part_id] = future
        self._tasks[task.part_id] = task
        reader = self._reader
        future.add_done_callback(lambda f: reader.finished(task.part_id, task.attempt, f))

    def next_event(self, timeout: float | None) -> Event | None:
        end = None if timeout is None else time.monotonic() + timeout
        ready = self._delivery.ready
        while True:
            if ready:
                event = ready.popleft()
                if isinstance(event, DoneEvent):
                    self._futures.pop(event.part_id, None)
                return event
            if self._fatal is not None:
                if timeout == 0:
                    return None  # raised on the next waiting call, so no batch of events is lost
                exc, self._fatal = self._fatal, None
                ready.extend(self._after_fatal)
                self._after_fatal = []
                raise exc
            self._release()
            if ready:
                continue
            wait = None if end is None else end - time.monotonic()
            if wait is not None and wait <= 0:
                return None
            if self._delivery.waiting:  # a finished part waits for its messages: look again soon
                wait = RELEASE_EVERY if wait is None else min(wait, RELEASE_EVERY)
            try:
                item = self._reader.inbox.get(timeout=wait)
            except queue.Empty:
                continue
            self._take(item)

    def stop(self, part_id: int) -> None:
        task = self._tasks.get(part_id)
        if task is None or part_id not in self._futures:
            return
        attempt = task.attempt
        name = stop_name(self.job, task.key, attempt)
        self._flags[(part_id, attempt)] = name
        set_flag(self.client, name)

    def stop_all(self) -> None:
        if self._closed:
            return
        set_flag(self.client, job_stop_name(self.job))
        for part_id in list(self._futures):  # its own flag too: checked more often than the job's
            self.stop(part_id)

    def tighten(self, part_id: int, bound: int | float) -> bool:
        """Published for the job (see flags.Bound): a task reads it within a second."""
        return part_id in self._futures and self._bound.publish(bound)

    def close(self) -> None:
        """Stop every part, wait a little for their solvers to end, release the cluster."""
        if self._closed:
            return
        if self.client is not None and self.client.status == "running":
            self._stop_tasks()
            self._unregister_solver_checks()
            self._release_part_servers()
        self._closed = True
        if self._reader is not None:
            self._reader.close()
        self._futures.clear()
        self._shipped.clear()
        self._release_cluster()

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

    def _ship(self, model_files: tuple[str, ...]) -> distributed.Future:
        """The task that holds the model files on the cluster (one per run and model)."""
        future = self._shipped.get(model_files)
        if future is None:
            model = make_model_files(model_files)
            future = self.client.submit(hold, model, key=f"modelsplit-model-{model.digest[:20]}-{self.job}")
            self._shipped[model_files] = future
        return future

    # ---- what arrives -------------------------------------------------------------------------------
    def _take(self, item: InboxItem) -> None:
        if isinstance(item, Streamed):
            self._delivery.streamed(item.message)
        elif self._futures.get(item.part_id) is not item.future:
            return  # a future given up (closed) or already reported
        elif isinstance(item, Unrunnable):  # no solver on its worker: fail the run
            self._fatal = item.error
            res = PartResult(item.part_id, item.attempt, Status.ERROR, error=str(item.error))
            self._after_fatal.append(DoneEvent(item.part_id, item.attempt, res))
            self._delivery.abandon(item.part_id, item.attempt)
        else:
            self._delivery.finished(item.part_id, item.attempt, item.outcome)

    def _release(self) -> None:
        """Queue the DoneEvents ready; the stop flags of those parts are cleared by the reader's
        thread (no waiting for the scheduler here)."""
        for attempt in self._delivery.release():
            flag = self._flags.pop(attempt, None)
            if flag:
                self._reader.clear_later(flag)

    # ---- closing ------------------------------------------------------------------------------------
    def _stop_tasks(self) -> None:
        """Stop every part, wait ``CLOSE_WAIT`` seconds at most for their tasks to end, cancel what
        is left, and clear the stop flags."""
        self.stop_all()
        self._closed = True
        futures = list(self._futures.values())
        if futures:
            try:
                distributed.wait(futures, timeout=CLOSE_WAIT)
            except Exception:  # timed out, cancelled, or the scheduler went away: cancelled next
                pass
        try:
            self.client.cancel(futures + list(self._shipped.values()))
        except Exception:  # the scheduler is out of reach: its tasks end with this run's client
            pass
        if not futures or all(f.done() for f in futures):  # else a task still running must see it
            clear_flag(self.client, job_stop_name(self.job))
        for name in self._flags.values():
            clear_flag(self.client, name)
        self._bound.remove()

    def _release_part_servers(self) -> None:
        """End the CP-SAT part servers the workers keep idle: the run is over."""
        try:
            self.client.run(release_part_servers)
        except Exception:  # a worker or the scheduler is out of reach: its servers end with it
            pass

    def _unregister_solver_checks(self) -> None:
        for tag in self._solvers:
            try:
                self.client.unregister_worker_plugin(self._plugin_name(tag))
            except Exception:  # never registered (its check failed), or the scheduler is out of reach
                pass

    def _release_cluster(self) -> None:
        """Close the client made for the run and the LocalCluster started for it (a caller's
        Client and cluster are left as they were)."""
        self._connection.close()
