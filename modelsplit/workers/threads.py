"""Threads that wait on running parts, kept for the next part once one ends.

Each running part of a local or virtual executor has a thread that starts its solver and reads
what it prints. Starting a thread cost the dispatcher 60-90 us of CPU per part in a 1,024-worker
virtual run (more than the part's task); handing the part to a thread that waits for work, 15-30
us (bench/coordinator.py --virtual). Threads are daemons, as the part threads were: a solver that
never ends cannot hold up the interpreter's exit.
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Callable


class PartThreads:
    """Runs callables on daemon threads, each started only when no thread is idle."""

    def __init__(self, name: str = "part"):
        self.name = name
        self._work: queue.SimpleQueue[tuple[Callable[[], None], threading.Event] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._threads = 0

    def run(self, job: Callable[[], None]) -> threading.Event:
        """Run ``job`` (which must not raise) on a thread; the event is set once it has returned
        and its thread is idle again."""
        done = threading.Event()
        with self._lock:
            spawn = self._idle == 0
            if spawn:
                self._threads += 1
            else:
                self._idle -= 1
        if spawn:
            threading.Thread(target=self._serve, name=f"{self.name}-{self._threads}", daemon=True).start()
        self._work.put((job, done))
        return done

    def _serve(self) -> None:
        while True:
            item = self._work.get()
            if item is None:
                return
            job, done = item
            try:
                job()
            except Exception:  # a job should not raise; if one does, say so and serve on
                threading.excepthook(threading.ExceptHookArgs((*sys.exc_info(), threading.current_thread())))
            with self._lock:
                self._idle += 1
            done.set()

    def close(self) -> None:
        """Let every thread end once it has no more work (a running job runs to its end)."""
        with self._lock:
            threads = self._threads
        for _ in range(threads):
            self._work.put(None)
