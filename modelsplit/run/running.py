"""What the dispatcher knows of a part while it runs, and of every part across its attempts.

A :class:`RunningPart` is one attempt of a part, from its start until its ``DoneEvent``: the
bound it was started with, when, and why the dispatcher is stopping it, if it is. The
:class:`Ledger` keeps what outlives an attempt: how many attempts a part had, how deep it lies in
re-splits, and how often it was restarted in this run.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from modelsplit.plan.plan import Part


class StopReason(enum.Enum):
    """Why the dispatcher stops a running part; decides what its end means."""

    RESTART = "restart"  # to run it again with a better bound (it goes back to the queue)
    RESPLIT = "resplit"  # it runs too long: it is replaced by finer parts of its cube
    RACE_OVER = "race over"  # the race's budget is spent
    END = "end"  # the run ends (answer known, time limit, Ctrl-C): recorded as stopped


@dataclass
class RunningPart:
    """One attempt of a part while it runs."""

    part: Part
    attempt: int
    bound: int | float | None  # the objective bound it searches under (None: none): started with, or told (CP-SAT)
    started_at: float  # on the dispatcher's clock
    restarts: int = 0  # restarts for a better bound before this attempt, in this run
    depth: int = 0  # re-splits above this part (0: a part of the plan)
    stopping: StopReason | None = None  # why it is being stopped, if it is

    @property
    def id(self) -> int:
        return self.part.id

    def age(self, now: float) -> float:
        """Seconds it has run at ``now``."""
        return now - self.started_at


class Ledger:
    """Per-part bookkeeping that outlives an attempt; hands out each attempt's :class:`RunningPart`."""

    def __init__(self, attempts: dict[int, int], depth: dict[int, int]):
        self.attempts = attempts  # part id -> attempts so far (over every run, from the journal)
        self.depth = depth  # part id -> re-splits above it (absent: 0)
        self.restarts: dict[int, int] = {}  # part id -> restarts for a better bound in this run
        self.told = 0  # bounds told to running attempts in this run (see dispatcher.tell_incumbent)

    @property
    def fresh(self) -> bool:
        """No part has been tried yet."""
        return all(a == 0 for a in self.attempts.values())

    def add(self, part_id: int, depth: int = 0) -> None:
        """A part not tried yet (a sub-part, the race)."""
        self.attempts[part_id] = 0
        self.depth[part_id] = depth

    def begin(self, part: Part, bound: int | float | None, now: float) -> RunningPart:
        """Count a new attempt of ``part``, started at ``now`` with ``bound``."""
        self.attempts[part.id] += 1
        return RunningPart(
            part,
            self.attempts[part.id],
            bound,
            now,
            restarts=self.restarts.get(part.id, 0),
            depth=self.depth.get(part.id, 0),
        )

    def restarted(self, running: RunningPart) -> None:
        """``running`` is being restarted: its next attempt waits longer before another restart."""
        self.restarts[running.id] = running.restarts + 1
