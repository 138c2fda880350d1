"""What travels between a part's task and the coordinator, and what the coordinator's inbox holds.

A running task sends its solutions as :class:`StreamMessage` through the job's stream queue (a
``distributed.Queue`` the scheduler holds), and returns a :class:`TaskOutcome` as its result.
Solutions travel as rows (:data:`Row`), not as ``Solution`` objects: the coordinator makes those.
On the coordinator, a reader thread turns both into inbox items (:data:`InboxItem`).
"""

from __future__ import annotations

from dataclasses import dataclass

from distributed import Future

from modelsplit.errors import SolverNotFoundError
from modelsplit.workers.backend import PartResult, Solution

Row = tuple[str, str, int | float | None, float]  # a solution: values (JSON), text, objective, time found


def row(sol: Solution) -> Row:
    return (sol.values_json, sol.text, sol.objective, sol.time)


def queue_name(job: str) -> str:
    """The name of the job's stream queue on the scheduler."""
    return f"modelsplit-{job}-solutions"


@dataclass(frozen=True)
class StreamMessage:
    """Solutions a running task sends while its part runs: the ``seq``-th message of task run ``run``
    (a random id per execution of the task), for one attempt of a part."""

    part_id: int
    attempt: int
    run: str
    seq: int
    rows: tuple[Row, ...]

    def to_wire(self) -> dict:
        """Plain data, as the scheduler holds it (it need not have modelsplit to hold it)."""
        return {
            "part": self.part_id,
            "attempt": self.attempt,
            "run": self.run,
            "seq": self.seq,
            "solutions": [list(r) for r in self.rows],
        }

    @classmethod
    def from_wire(cls, data: dict) -> StreamMessage:
        rows = tuple(tuple(r) for r in data["solutions"])
        return cls(data["part"], data["attempt"], data["run"], data["seq"], rows)


@dataclass(frozen=True)
class TaskOutcome:
    """What a task returns: its run id, the seqs of the messages that run streamed, the solutions it
    did not stream (``tail``), the part's result, and the worker it ran on."""

    run: str
    streamed: tuple[int, ...]
    tail: tuple[Row, ...]
    result: PartResult
    worker: str | None = None

    @classmethod
    def without_run(cls, result: PartResult) -> TaskOutcome:
        """The outcome of a task that returned none (cancelled, failed, result lost)."""
        return cls("", (), (), result)


# ---- the coordinator's inbox ----------------------------------------------------------------------
@dataclass(frozen=True)
class Streamed:
    """A stream message arrived."""

    message: StreamMessage


@dataclass(frozen=True)
class Finished:
    """A part's task ended (``future``: the Dask future it ended as) with this outcome."""

    part_id: int
    attempt: int
    future: Future
    outcome: TaskOutcome


@dataclass(frozen=True)
class Unrunnable:
    """A part's task could not run on its worker (the solver is missing there): the run fails."""

    part_id: int
    attempt: int
    future: Future
    error: SolverNotFoundError


InboxItem = Streamed | Finished | Unrunnable
