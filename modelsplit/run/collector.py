"""The Collector: merges part results into one answer and says when the run is finished.

Rules, by kind of problem:

- satisfy: the first solution of any part is the answer; UNSATISFIABLE when every part is.
- all solutions: the union of the parts' solutions (they are disjoint by construction);
  ALL_SOLUTIONS once every part is exhausted.
- minimize / maximize: the best solution of any part; OPTIMAL_SOLUTION once every part is
  exhausted (each part searched for something better than the bound it was given).

A part that did not finish (time limit, stop, failure) leaves the answer unproven: SATISFIED when
a solution is known, UNKNOWN (or ERROR, when parts failed) otherwise.

The answer's solutions follow the same rules (:class:`RecordedSolutions`): every solution of an
enumeration, the improving solutions of an optimisation (the best last), the one solution of a
satisfaction search; they are read from the journal when they are iterated.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from modelsplit.errors import PlanError
from modelsplit.model.goal import Goal
from modelsplit.plan.plan import Plan
from modelsplit.run.journal import Journal, StoredSolution
from modelsplit.run.journal_solutions import next_improving, solutions_after
from modelsplit.run.store import read_only
from modelsplit.run.stream import FoundSolution
from modelsplit.status import PartState, Status

PAGE = 1000  # rows (solutions, or batches of them) read from the journal at a time


class RecordedSolutions:
    """The solutions of an answer, read from the journal that recorded them, a page at a time, as
    they are iterated: millions of them never sit in memory.

    An enumeration's are every solution recorded, oldest first; an optimisation's, the solutions
    that improved on all those before them, in the order found (the best last); a satisfaction
    search's, its one solution. ``len()`` is the answer's ``n_solutions``, and an iteration
    yields that many :class:`FoundSolution` at most. Each iteration reads the journal afresh, in
    a connection of its own (so it may run in any thread). The journal of a kept plan stays in
    the plan (a later run of the plan may add to it); that of a temporary plan is a file these
    solutions own (:meth:`own`), removed by :meth:`close`, when they are garbage-collected, or
    when the process exits.
    """

    def __init__(self, journal: Path | None, goal: Goal, enumeration: bool, count: int):
        self.journal = journal  # None: nothing recorded
        self.goal = goal
        self.enumeration = enumeration
        self.count = count
        self._owned: weakref.finalize | None = None

    @classmethod
    def none(cls) -> RecordedSolutions:
        """No solutions (an answer made without a journal)."""
        return cls(None, Goal.SATISFY, False, 0)

    def __len__(self) -> int:
        return self.count

    def __bool__(self) -> bool:
        return self.count > 0

    def __repr__(self) -> str:
        return f"<RecordedSolutions: {self.count} in {self.journal}>"

    def __iter__(self) -> Iterator[FoundSolution]:
        if self.count == 0 or self.journal is None:
            return iter(())
        if self._owned is not None and not self._owned.alive:
            raise PlanError(
                "these solutions were removed when their answer was closed: read them before "
                "closing it, or give run an output directory to keep the plan"
            )
        return self._read(self.journal)

    def _read(self, journal: Path) -> Iterator[FoundSolution]:
        with contextlib.closing(read_only(journal)) as conn:
            if self.goal.optimises:
                found = _improving(conn, self.goal, self.count)
            elif self.enumeration:
                found = _pages(conn, self.count)
            else:
                found = iter(solutions_after(conn, 0, 1))
            for sol in found:
                yield FoundSolution(sol.part_id, sol.output, sol.values, sol.objective)

    def own(self, journal: Path) -> None:
        """Read from ``journal``, a file these solutions own from now on: it is removed by
        :meth:`close`, when they are garbage-collected, or when the process exits."""
        self.journal = journal
        self._owned = weakref.finalize(self, _remove, journal)

    def close(self) -> None:
        """Remove the journal these solutions own, if any (a plan's journal stays)."""
        if self._owned is not None:
            self._owned()


def _pages(conn, count: int) -> Iterator[StoredSolution]:
    """The first ``count`` solutions recorded, a page at a time."""
    after, left = 0, count
    while left > 0:
        page = solutions_after(conn, after, min(PAGE, left))  # rows: a batch's may be many
        if not page:
            return
        yield from page[:left]
        after, left = page[-1].id, left - len(page)


def _improving(conn, goal: Goal, count: int) -> Iterator[StoredSolution]:
    """The first ``count`` improving solutions, each found by one query from the last."""
    after, best = 0, None
    for _ in range(count):
        sol = next_improving(conn, after, best, goal)
        if sol is None:
            return
        yield sol
        after, best = sol.id, sol.objective


def _remove(path: Path) -> None:
    """Remove a journal file and the log files SQLite may keep beside it."""
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(f"{path}{suffix}")


@dataclass(frozen=True)
class VirtualRun:
    """What a run on virtual workers measured (see modelsplit/workers/virtual.py)."""

    workers: int
    makespan: float  # virtual seconds: the split as it would run on that many workers, then the solve
    split_seconds: float  # of which the split
    coordinator_cpu: float  # CPU seconds of the coordinator's dispatcher, journal and collector

    def to_json(self) -> dict:
        return {
            "workers": self.workers,
            "makespan": round(self.makespan, 3),
            "split_seconds": round(self.split_seconds, 3),
            "coordinator_cpu": round(self.coordinator_cpu, 3),
        }


@dataclass
class Answer:
    """The answer of a run: its status, best or first solution, counts, and every solution
    (``solutions``, see :class:`RecordedSolutions`)."""

    status: Status
    goal: Goal
    all_solutions: bool
    objective: int | float | None = None
    solution: dict | None = None
    output: str | None = None
    n_solutions: int = 0
    parts: dict[str, int] = field(default_factory=dict)
    wall_time: float = 0.0
    plan: str | None = ""  # the plan's directory; None once a temporary plan is removed
    error: str | None = None
    interrupted: bool = False
    virtual: VirtualRun | None = None  # a run on virtual workers: what it measured
    # with solver statistics asked for: {"parts": [{"part": id, name: value, ...}], "total": {...}}
    statistics: dict | None = None
    # every solution of the answer, read lazily (n_solutions of them)
    solutions: RecordedSolutions = field(default_factory=RecordedSolutions.none, repr=False, compare=False)

    def close(self) -> None:
        """Remove what the answer owns: the solutions of a temporary plan (see ``api.run``)."""
        self.solutions.close()

    def __enter__(self) -> Answer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def to_json(self) -> dict:
        data = {
            "status": self.status.value,
            "objective": self.objective,
            "solution": self.solution,
            "n_solutions": self.n_solutions,
            "parts": self.parts,
            "wall_time": round(self.wall_time, 3),
            "plan": self.plan,
        }
        if self.error:
            data["error"] = self.error
        if self.statistics is not None:
            data["statistics"] = self.statistics
        if self.virtual is not None:
            data["virtual_makespan"] = round(self.virtual.makespan, 3)
            data["virtual"] = self.virtual.to_json()
        return data


class Collector:
    def __init__(self, plan: Plan, journal: Journal):
        self.plan = plan
        self.journal = journal
        self.goal = plan.goal
        self.all_solutions = plan.all_solutions and not self.goal.optimises
        self.n_solutions = journal.count_solutions()
        best = journal.best_solution(self.goal) if self.goal.optimises else None
        self.incumbent: int | float | None = best.objective if best else None
        self.found_any = self.n_solutions > 0
        self.error: str | None = None
        self.race_done = journal.race_state() == "done"  # the whole model's race answered

    # ---- updates (the coordinator calls these) -------------------------------------------------
    def on_solution(self, objective: int | float | None) -> bool:
        """Count a solution; True when it improves the incumbent."""
        self.n_solutions += 1
        self.found_any = True
        if not self.goal.improves(objective, self.incumbent):
            return False
        self.incumbent = objective
        return True

    def on_solutions(self, count: int) -> None:
        """Count ``count`` solutions of an enumeration (no incumbent to follow)."""
        self.n_solutions += count
        self.found_any = self.found_any or count > 0

    @property
    def satisfied(self) -> bool:
        """True when a satisfy run (not all solutions) has its answer."""
        return not self.goal.optimises and not self.all_solutions and self.found_any

    @property
    def finished(self) -> bool:
        """True when the answer is known before every part has run."""
        return self.satisfied or self.race_done

    # ---- the answer --------------------------------------------------------------------------
    def part_counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in PartState}
        for state, n in self.journal.state_counts().items():
            counts[state.value] = n
        total = sum(counts.values()) - counts["resplit"]  # a resplit part lives on in its children
        return {
            "total": total,
            "done": counts["done"],
            "pending": counts["pending"],
            "running": counts["running"],
            "stopped": counts["stopped"],
            "failed": counts["failed"],
            "resplit": counts["resplit"],
        }

    def answer(self, wall_time: float = 0.0) -> Answer:
        records = self.journal.parts()
        all_done = self.race_done or all(r.state in (PartState.DONE, PartState.RESPLIT) for r in records)
        failed = any(r.state == PartState.FAILED for r in records)
        chosen: StoredSolution | None
        if self.goal.optimises:
            chosen = self.journal.best_solution(self.goal)
        else:
            chosen = self.journal.first_solution()
        n = self.journal.count_solutions()
        if not self.goal.optimises and not self.all_solutions:
            if chosen:
                status = Status.SATISFIED
            elif all_done:
                status = Status.UNSATISFIABLE
            else:
                status = Status.ERROR if failed or self.error else Status.UNKNOWN
        elif self.all_solutions:
            if all_done:
                status = Status.ALL_SOLUTIONS if n else Status.UNSATISFIABLE
            elif n:
                status = Status.SATISFIED
            else:
                status = Status.ERROR if failed or self.error else Status.UNKNOWN
        else:
            if all_done:
                status = Status.OPTIMAL_SOLUTION if chosen else Status.UNSATISFIABLE
            elif chosen:
                status = Status.SATISFIED
            else:
                status = Status.ERROR if failed or self.error else Status.UNKNOWN
        error = self.error
        if error is None and failed and not self.race_done:
            first = next(r for r in records if r.state == PartState.FAILED)
            error = f"part {first.id} failed: {first.error}"
        if self.goal.optimises:
            n = self.journal.count_improving(self.goal)
        elif not self.all_solutions:
            n = 1 if chosen else 0
        return Answer(
            status=status,
            goal=self.goal,
            all_solutions=self.all_solutions,
            objective=chosen.objective if chosen and self.goal.optimises else None,
            solution=chosen.values if chosen else None,
            output=chosen.output if chosen else None,
            n_solutions=n,
            parts=self.part_counts(),
            wall_time=wall_time,
            plan=str(self.plan.path),
            error=error,
            solutions=RecordedSolutions(Path(self.journal.path).resolve(), self.goal, self.all_solutions, n),
        )
