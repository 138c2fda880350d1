"""The local Executor: up to N parts at a time, each a solver process on this machine.

Each running part has a thread that starts its solver process and waits on it; the solver
processes do the work. CP-SAT parts run on part servers that the backend keeps across parts (one
per part running at once; see workers/cpsat/pool.py), ended when the executor closes. Events (solutions, finished parts) reach the coordinator through one queue,
in the order they happen.
"""

from __future__ import annotations

import os
import queue
import socket
import threading

from modelsplit.plan.task import PartTask
from modelsplit.status import Status
from modelsplit.workers.backend import Backend, PartResult, StopToken
from modelsplit.workers.executor import DoneEvent, Event, SolutionEvent
from modelsplit.workers.threads import PartThreads


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


class LocalExecutor:
    """Runs parts in local solver processes, ``workers`` at a time."""

    name = "local"

    def __init__(self, backend: Backend, workers: int | None = None):
        self.backend = backend
        self.workers = workers or default_workers()
        self._events: queue.Queue[Event] = queue.Queue()
        self._running: dict[int, tuple[StopToken, threading.Event]] = {}  # the event: its thread returned
        self._slots: dict[int, int] = {}  # part id -> worker slot (1..workers) it runs in
        self._host = socket.gethostname()
        self._threads = PartThreads()

    @property
    def free(self) -> int:
        return self.workers - len(self._running)

    @property
    def running(self) -> list[int]:
        return list(self._running)

    @property
    def dashboard(self) -> str | None:
        return None  # local processes have no dashboard

    def placement(self, part_id: int) -> str | None:
        """Where a running part runs: ``host/slot``."""
        slot = self._slots.get(part_id)
        return None if slot is None else f"{self._host}/{slot}"

    def start(self, task: PartTask) -> None:
        token = StopToken()
        used = set(self._slots.values())
        self._slots[task.part_id] = min(set(range(1, len(used) + 2)) - used)
        where = self.placement(task.part_id)

        def run() -> None:
            try:
                result = self.backend.solve(
                    task,
                    lambda sols: self._events.put(SolutionEvent.of(task.part_id, task.attempt, sols)),
                    token,
                )
            except Exception as exc:  # a crash of the backend is a failed attempt, not a crash of the run
                result = PartResult(task.part_id, task.attempt, Status.ERROR, error=repr(exc))
            result.worker = where
            self._events.put(DoneEvent(task.part_id, task.attempt, result))

        self._running[task.part_id] = (token, self._threads.run(run))

    def next_event(self, timeout: float | None) -> Event | None:
        try:
            event = self._events.get(timeout=timeout)
        except queue.Empty:
            return None
        if isinstance(event, DoneEvent):
            self._running.pop(event.part_id, None)
            self._slots.pop(event.part_id, None)
        return event

    def stop(self, part_id: int) -> None:
        entry = self._running.get(part_id)
        if entry:
            entry[0].stop()

    def stop_all(self) -> None:
        for token, _ in list(self._running.values()):
            token.stop()

    def tighten(self, part_id: int, bound: int | float) -> bool:
        entry = self._running.get(part_id)
        return entry is not None and entry[0].tighten(bound)

    def close(self, timeout: float = 5.0) -> None:
        """Stop everything, wait for the part threads to finish, and end the processes the
        backend keeps across parts (CP-SAT's part servers)."""
        self.stop_all()
        for _, done in list(self._running.values()):
            done.wait(timeout)
        self._threads.close()
        close = getattr(self.backend, "close", None)
        if close is not None:
            close()
