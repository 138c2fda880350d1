"""Solutions as a run finds them: a sync and an async iterator over :func:`modelsplit.api.run`.

::

    for found in modelsplit.solutions("queens.mzn", {"n": 8}, all_solutions=True):
        print(found.text)

    async with modelsplit.solutions_async("queens.mzn", {"n": 8}, all_solutions=True) as found:
        async for solution in found:
            ...

The run goes on in a thread of its own; each solution its ``on_solution`` sees (every solution
of an enumeration, each improving one of an optimisation, the one of a satisfaction search) is
handed to the reader. A reader that stops (a ``break``, ``close()``, the end of a ``with``, a
cancelled task) sets the run's ``stop`` event: the run stops its solver processes, its temporary
plan is removed, and the iterator's ``answer`` is the answer so far. The run waits for a reader
that falls BUFFER solutions behind. An error of the run (a bad model: ModelError, ...) is raised
in the reader.
"""

from __future__ import annotations

import asyncio
import atexit
import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any

from modelsplit.api import Data, PathLike, run
from modelsplit.driver import scratch_root
from modelsplit.run.collector import Answer
from modelsplit.run.stream import FoundSolution

BUFFER = 1000  # solutions found and not yet read, at most: beyond, the run waits for its reader
_END = object()  # handed over once the run has ended
_OURS = ("on_solution", "stop")  # run's options the iterators set themselves


def _check(options: dict) -> None:
    taken = [name for name in _OURS if name in options]
    if taken:
        raise TypeError(f"solutions() sets {taken[0]} itself: read the solutions from the iterator")


class _Feed:
    """A run in a thread of its own, its solutions handed to a reader through ``deliver``.

    A run still going when the process exits is stopped first (registered with atexit after the
    scratch directory is, so it runs before the scratch directory is removed)."""

    def __init__(self, model: PathLike, data: Data, options: dict, deliver: Callable[[object], None]):
        scratch_root()
        atexit.register(self.close)
        self.stop = threading.Event()
        self.room = threading.Semaphore(BUFFER)
        self.answer: Answer | None = None
        self.error: BaseException | None = None
        self._deliver = deliver
        self.thread = threading.Thread(
            target=self._work, args=(model, data, options), name="modelsplit-solutions", daemon=True
        )
        self.thread.start()

    def _work(self, model: PathLike, data: Data, options: dict) -> None:
        try:
            self.answer = run(model, data, on_solution=self._found, stop=self.stop, **options)
        except BaseException as exc:  # raised again in the reader
            self.error = exc
        finally:
            atexit.unregister(self.close)  # nothing left to stop at exit
            self._hand(_END)

    def _found(self, solution: FoundSolution) -> None:
        """The run's ``on_solution``: wait for room, unless the reader has stopped."""
        while not self.stop.is_set():
            if self.room.acquire(timeout=0.1):
                self._hand(solution)
                return

    def _hand(self, item: object) -> None:
        try:
            self._deliver(item)
        except RuntimeError:  # the reader's event loop is closed: no one reads any more
            self.stop.set()

    def taken(self) -> None:
        """The reader took a solution: room for one more."""
        self.room.release()

    def close(self, wait: bool = True) -> None:
        """Stop the run; with ``wait``, until its thread has ended (solver processes stopped,
        temporary plan removed)."""
        self.stop.set()
        if wait and threading.current_thread() is not self.thread:
            self.thread.join()

    def ended(self) -> None:
        """The run has ended (its last item was read): raise its error, if it had one."""
        self.close()
        if self.error is not None:
            raise self.error


def _close_unless_in_loop(feed: _Feed) -> None:
    """Close ``feed`` when its iterator is garbage-collected: at once in a thread that runs an
    event loop (which must not block), waiting for the run's end in any other."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        feed.close()
    else:
        feed.close(wait=False)


class SolutionIterator:
    """The solutions of a run (:class:`FoundSolution`), as it finds them; see the module's words.

    ``answer`` is the run's :class:`Answer` once it has ended (None before). ``close()`` (or the
    end of a ``with`` block, or the iterator's garbage collection) stops the run and waits for
    it to end.
    """

    def __init__(self, model: PathLike, data: Data = (), **options: Any):
        _check(options)
        self._queue: queue.Queue[object] = queue.Queue()
        self._feed = _Feed(model, data, options, self._queue.put_nowait)
        self._closed = False
        self._finalizer = weakref.finalize(self, self._feed.close)

    @property
    def answer(self) -> Answer | None:
        return self._feed.answer

    def __iter__(self) -> SolutionIterator:
        return self

    def __next__(self) -> FoundSolution:
        if self._closed:
            raise StopIteration
        item = self._queue.get()
        if item is _END:
            self._closed = True
            self._feed.ended()
            raise StopIteration
        self._feed.taken()
        assert isinstance(item, FoundSolution)
        return item

    def close(self) -> None:
        """Stop the run (if it still runs) and wait for it to end."""
        self._closed = True
        self._finalizer()

    def __enter__(self) -> SolutionIterator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncSolutionIterator:
    """The solutions of a run, as it finds them, for ``async for``; see the module's words.

    The run starts at the first ``__anext__`` (or ``async with``), in the event loop that awaits
    it. ``aclose()``, the end of an ``async with`` block or a cancelled ``__anext__`` stop the
    run and wait (without blocking the loop) for it to end; an iterator merely dropped (a
    ``break`` outside ``async with``) stops the run without waiting.
    """

    def __init__(self, model: PathLike, data: Data = (), **options: Any):
        _check(options)
        self._args = (model, data, options)
        self._queue: asyncio.Queue[object] | None = None
        self._feed: _Feed | None = None
        self._closed = False

    @property
    def answer(self) -> Answer | None:
        return self._feed.answer if self._feed is not None else None

    def _start(self) -> tuple[asyncio.Queue[object], _Feed]:
        if self._feed is None or self._queue is None:
            loop = asyncio.get_running_loop()
            self._queue = asyncio.Queue()
            put = self._queue.put_nowait
            model, data, options = self._args
            self._feed = _Feed(model, data, options, lambda item: loop.call_soon_threadsafe(put, item))
            weakref.finalize(self, _close_unless_in_loop, self._feed)
        return self._queue, self._feed

    def __aiter__(self) -> AsyncSolutionIterator:
        return self

    async def __anext__(self) -> FoundSolution:
        if self._closed:
            raise StopAsyncIteration
        waiting, feed = self._start()
        try:
            item = await waiting.get()
        except BaseException:  # cancelled: the run stops with the task that reads it
            await self.aclose()
            raise
        if item is _END:
            await self.aclose()
            feed.ended()
            raise StopAsyncIteration
        feed.taken()
        assert isinstance(item, FoundSolution)
        return item

    async def aclose(self) -> None:
        """Stop the run (if it still runs) and wait for it to end."""
        self._closed = True
        if self._feed is not None:
            self._feed.stop.set()  # cancelled while waiting below, the run still ends by itself
            await asyncio.to_thread(self._feed.thread.join)

    async def __aenter__(self) -> AsyncSolutionIterator:
        self._start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def solutions(model: PathLike, data: Data = (), **options: Any) -> SolutionIterator:
    """Run ``model`` with ``data`` (the arguments of :func:`modelsplit.api.run`, but
    ``on_solution`` and ``stop``) and iterate over its solutions as they are found."""
    return SolutionIterator(model, data, **options)


def solutions_async(model: PathLike, data: Data = (), **options: Any) -> AsyncSolutionIterator:
    """:func:`solutions` for ``async for``: the run starts when the iteration does."""
    return AsyncSolutionIterator(model, data, **options)
