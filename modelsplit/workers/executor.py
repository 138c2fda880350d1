"""The Executor protocol: where parts run (local processes, a Dask cluster), and what they report.

The dispatcher starts parts with :meth:`Executor.start` while :attr:`Executor.free` is positive,
and reads what happens through :meth:`Executor.next_event`: a part's solutions arrive as
:class:`SolutionEvent` (any number, in the order found), and its end as one :class:`DoneEvent`,
after its last solutions. Events name the part and the attempt, so the dispatcher can drop late
events of an attempt it gave up. :meth:`Executor.stop` asks a running part to stop; it then ends
with a ``DoneEvent`` whose result says ``stopped``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from modelsplit.plan.task import PartTask
from modelsplit.workers.backend import PartResult, Solution


@dataclass(frozen=True)
class SolutionEvent:
    """Solutions a running part found (one or more, in the order found)."""

    part_id: int
    attempt: int
    solutions: list[Solution]


@dataclass(frozen=True)
class DoneEvent:
    """A part's attempt ended: finished, stopped, or failed (see ``result``)."""

    part_id: int
    attempt: int
    result: PartResult


Event = SolutionEvent | DoneEvent


class Executor(Protocol):
    """Runs parts somewhere and reports their events (see the module's docstring)."""

    name: str  # "local", "dask", "virtual"
    same_machine: bool  # its solver processes run here, so they can read this machine's files

    @property
    def free(self) -> int:
        """How many more parts may start now."""
        ...

    @property
    def dashboard(self) -> str | None:
        """Where to watch the executor's workers (a URL), if anywhere."""
        ...

    def start(self, task: PartTask) -> None:
        """Start one attempt of a part."""
        ...

    def placement(self, part_id: int) -> str | None:
        """Where a running part runs, when known as it starts (else its DoneEvent says)."""
        ...

    def next_event(self, timeout: float | None) -> Event | None:
        """The next event, waiting at most ``timeout`` seconds (None: for ever); None if none came."""
        ...

    def stop(self, part_id: int) -> None:
        """Ask a running part to stop (it ends with a stopped DoneEvent)."""
        ...

    def stop_all(self) -> None:
        """Ask every running part to stop."""
        ...

    def close(self) -> None:
        """Stop everything and release the executor's resources."""
        ...
