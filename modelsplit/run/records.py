"""What the Journal hands back: a part's recorded state, its attempts, sub-parts and solutions.

Plain values read from the journal's tables; changing one changes nothing in the journal.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelsplit.model.cube import Cube
from modelsplit.status import PartState, Status

RACE_ID = 0  # part id of the racing start: the whole model, run briefly before or beside the parts


@dataclass
class PartRecord:
    """A part's state as recorded: its last attempt, and what it found."""

    id: int
    key: str
    state: PartState
    status: Status | None
    attempts: int
    n_solutions: int
    objective: float | None
    elapsed: float | None
    error: str | None
    worker: str | None = None  # where the last attempt ran: host/slot (local) or a Dask worker
    started: float | None = None  # when the last attempt started (Unix time)


@dataclass(frozen=True)
class Run:
    """One attempt of a part, from start to end (the race is part ``RACE_ID``)."""

    part_id: int
    attempt: int
    worker: str | None
    started: float
    finished: float
    state: PartState
    cpu: float | None = None  # CPU seconds of its solver processes (None: not recorded)


@dataclass(frozen=True)
class SubPart:
    """A finer part that replaced part ``parent`` when it was re-split (``depth`` levels down)."""

    id: int
    parent: int
    depth: int
    cube: Cube
    mzn: str  # the cube as MiniZinc text


@dataclass(frozen=True)
class StoredSolution:
    """A recorded solution of part ``part_id``: its values and the solver's output text."""

    id: int
    part_id: int
    objective: float | int | None
    values: dict
    output: str


@dataclass(frozen=True)
class Session:
    """One run of `solve` on a plan: its command line, and when it started and ended on the
    journal's clock (Unix time, or on a virtual run the run's start plus virtual seconds)."""

    command: str
    started: float
    ended: float | None = None  # None: still running, or killed before it could say
    zero: float | None = None  # a virtual run: the virtual clock's zero (its split is charged from there)

    def to_json(self) -> dict:
        return {"command": self.command, "started": self.started, "ended": self.ended, "zero": self.zero}

    @classmethod
    def from_json(cls, row: dict) -> Session:
        return cls(str(row.get("command") or ""), float(row["started"]), row.get("ended"), row.get("zero"))


def stored_number(value: float | None) -> int | float | None:
    """A number as SQLite's REAL column gave it back, an int again when it was one."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value
