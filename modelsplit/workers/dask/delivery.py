"""Delivery: the Dask executor's events from what the tasks send, in order and once each.

A task's solutions arrive by two ways, stream messages while it runs and the tail of its result,
and a task may run again after its worker died (Dask's tasks are at-least-once). :class:`Delivery`
forwards each solution of a (part, attempt) once, by its values and text, and holds an attempt's
``DoneEvent`` until the messages its run streamed have arrived (``STREAM_WAIT`` seconds at most);
messages for an attempt already done are dropped. Why this gives exact counts: the package's
docstring, under Delivery.
"""

from __future__ import annotations

import hashlib
import time
from collections import deque

from modelsplit.workers.backend import Solution
from modelsplit.workers.dask.messages import Row, StreamMessage, TaskOutcome
from modelsplit.workers.executor import DoneEvent, Event, SolutionEvent

STREAM_WAIT = 10.0  # seconds a finished part waits for its streamed messages before reporting

Attempt = tuple[int, int]  # (part id, attempt)


class Delivery:
    """The events of a run's parts, ready in :attr:`ready` (see the module's docstring)."""

    def __init__(self) -> None:
        self.ready: deque[Event] = deque()
        self._waiting: dict[Attempt, tuple[TaskOutcome, float]] = {}  # finished; since (monotonic)
        self._forwarded: dict[Attempt, set[bytes]] = {}  # digests of the solutions forwarded
        self._received: dict[str, set[int]] = {}  # task run -> the seqs of its messages arrived
        self._done: set[Attempt] = set()

    @property
    def waiting(self) -> bool:
        """Whether a finished attempt waits for its streamed messages."""
        return bool(self._waiting)

    def streamed(self, message: StreamMessage) -> None:
        self._received.setdefault(message.run, set()).add(message.seq)
        self._forward(message.part_id, message.attempt, message.rows)

    def finished(self, part_id: int, attempt: int, outcome: TaskOutcome) -> None:
        """An attempt's task returned: its DoneEvent follows once its streamed messages are in."""
        self._waiting[(part_id, attempt)] = (outcome, time.monotonic())

    def abandon(self, part_id: int, attempt: int) -> None:
        """An attempt that ends without an outcome (its DoneEvent comes from elsewhere): messages
        that still arrive for it are dropped."""
        self._done.add((part_id, attempt))

    def release(self) -> list[Attempt]:
        """Queue the DoneEvents of finished attempts whose streamed messages have all arrived (or
        waited ``STREAM_WAIT`` seconds); the attempts released."""
        now = time.monotonic()
        released = []
        for (part_id, attempt), (outcome, since) in list(self._waiting.items()):
            got = self._received.get(outcome.run, set())
            if not set(outcome.streamed) <= got and now - since < STREAM_WAIT:
                continue
            del self._waiting[(part_id, attempt)]
            self._forward(part_id, attempt, outcome.tail)
            self._done.add((part_id, attempt))
            self._forwarded.pop((part_id, attempt), None)
            self._received.pop(outcome.run, None)
            if outcome.worker:
                outcome.result.worker = outcome.worker
            self.ready.append(DoneEvent(part_id, attempt, outcome.result))
            released.append((part_id, attempt))
        return released

    def _forward(self, part_id: int, attempt: int, rows: tuple[Row, ...]) -> None:
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
            self.ready.append(SolutionEvent.of(part_id, attempt, fresh))
