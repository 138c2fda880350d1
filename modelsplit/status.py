"""The one status enum (answers, with MiniZinc's names) and the lifecycle of a part."""

from __future__ import annotations

import enum


class Status(str, enum.Enum):
    """What is known about a model or a part, named as MiniZinc names it."""

    SATISFIED = "SATISFIED"
    ALL_SOLUTIONS = "ALL_SOLUTIONS"
    OPTIMAL_SOLUTION = "OPTIMAL_SOLUTION"
    UNSATISFIABLE = "UNSATISFIABLE"
    UNBOUNDED = "UNBOUNDED"
    UNSAT_OR_UNBOUNDED = "UNSAT_OR_UNBOUNDED"
    UNKNOWN = "UNKNOWN"
    ERROR = "ERROR"

    @classmethod
    def from_minizinc(cls, name: str | None) -> Status:
        """Translate a status name printed by `minizinc --json-stream` (the only place that does)."""
        if not name:
            return cls.UNKNOWN
        try:
            return cls(name)
        except ValueError:
            return cls.UNKNOWN

    def has_solution(self) -> bool:
        return self in (Status.SATISFIED, Status.ALL_SOLUTIONS, Status.OPTIMAL_SOLUTION)

    def is_complete(self) -> bool:
        """True when the search of the model (or part) was exhausted."""
        return self in (
            Status.ALL_SOLUTIONS,
            Status.OPTIMAL_SOLUTION,
            Status.UNSATISFIABLE,
            Status.UNBOUNDED,
            Status.UNSAT_OR_UNBOUNDED,
        )


class PartState(str, enum.Enum):
    """Where a part is in its life: pending → running → done | failed | stopped | resplit.

    A resplit part was stopped and replaced by finer parts of its own cube (see the journal's
    sub-parts); it counts as finished when they are.
    """

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    STOPPED = "stopped"
    RESPLIT = "resplit"
