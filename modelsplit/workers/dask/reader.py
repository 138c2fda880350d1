"""The coordinator's reader: a thread that does the talking to the scheduler for the Dask executor.

It moves stream messages from the job's stream queue on the scheduler into the executor's inbox,
fetches the results of finished tasks, and clears the stop flags of finished parts, so that
``DaskExecutor.next_event`` never waits for the scheduler (it runs inside the dispatcher's journal
transactions).
"""

from __future__ import annotations

import queue
import threading

import distributed
from distributed.client import ClosedClientError

from modelsplit.errors import SolverNotFoundError
from modelsplit.status import Status
from modelsplit.workers.backend import PartResult
from modelsplit.workers.dask.flags import clear_flag
from modelsplit.workers.dask.messages import (
    Finished,
    InboxItem,
    Streamed,
    StreamMessage,
    TaskOutcome,
    Unrunnable,
    queue_name,
)

READ_EVERY = 0.05  # seconds between the reader's looks at the stream queue
LOST = ("KilledWorker", "CommClosedError", "FutureCancelledError")  # a task's failures worth a retry


class Reader:
    """Fills :attr:`inbox` with what arrives for a job, in a thread of its own, until :meth:`close`."""

    def __init__(self, client: distributed.Client, job: str):
        self.inbox: queue.Queue[InboxItem] = queue.Queue()
        self._client = client
        self._finished: queue.Queue[tuple[int, int, distributed.Future]] = queue.Queue()
        self._unflag: queue.Queue[str] = queue.Queue()  # stop flags of finished parts, to clear
        self._stream = distributed.Queue(queue_name(job), client=client)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="modelsplit-dask-stream", daemon=True)
        self._thread.start()

    def finished(self, part_id: int, attempt: int, future: distributed.Future) -> None:
        """A part's task is done: its result is fetched by the reader (called in any thread)."""
        self._finished.put((part_id, attempt, future))

    def clear_later(self, flag: str) -> None:
        """Clear this stop flag on the scheduler, from the reader's thread."""
        self._unflag.put(flag)

    def close(self) -> None:
        """Stop the thread (waiting 2 s at most), clear the flags still to clear, release the queue."""
        self._stop.set()
        self._thread.join(2.0)
        self._clear_flags()
        try:
            self._stream.close()
        except (RuntimeError, ClosedClientError):  # the client is closed: no queue left to release
            pass

    def _run(self) -> None:
        """Every ``READ_EVERY`` seconds, take whatever is queued: a blocking ``get`` with a timeout
        would make the scheduler log an error at every timeout."""
        while not self._stop.wait(READ_EVERY):
            self._clear_flags()
            while not self._finished.empty():
                self.inbox.put(arrival(*self._finished.get()))
            try:
                items = self._stream.get(batch=True)
            except Exception:  # the scheduler is out of reach for now, or the run is closing
                continue
            for item in items:
                self.inbox.put(Streamed(StreamMessage.from_wire(item)))

    def _clear_flags(self) -> None:
        while not self._unflag.empty():
            clear_flag(self._client, self._unflag.get())


def arrival(part_id: int, attempt: int, future: distributed.Future) -> Finished | Unrunnable:
    """What a done future says: the task's outcome, or an outcome that says why there is none
    (:class:`Unrunnable`: the task could not run on its worker, the run fails)."""
    status = future.status
    if status == "finished":
        try:
            return Finished(part_id, attempt, future, future.result())
        except Exception as exc:  # the result could not be fetched (its worker died just now)
            error, crashed = f"the result of part {part_id} was lost: {exc}", True
    elif status == "cancelled":
        res = PartResult(part_id, attempt, Status.UNKNOWN, stopped=True)
        return Finished(part_id, attempt, future, TaskOutcome.without_run(res))
    else:
        exc = future.exception()
        if isinstance(exc, SolverNotFoundError):
            return Unrunnable(part_id, attempt, future, exc)
        error, crashed = f"{type(exc).__name__}: {' '.join(str(exc).split())}", type(exc).__name__ in LOST
    res = PartResult(part_id, attempt, Status.ERROR, error=error, crashed=crashed)
    return Finished(part_id, attempt, future, TaskOutcome.without_run(res))
