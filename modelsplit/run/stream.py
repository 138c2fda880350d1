"""The solutions of a run as they join the answer, and the solver statistics of its parts.

A :class:`SolutionStream` is what lets a caller print solutions while the parts still run, as
`minizinc` prints them: every solution of an enumeration, the first solution of a satisfaction
search, each solution of an optimisation that improves on all those before it. It also stops the
run after a number of them (`minizinc -n N`). It sees solutions in the order the dispatcher records
them; a solution recorded again after its part was searched afresh (its first record dropped) is
not passed on twice.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from modelsplit.plan.plan import Plan
from modelsplit.run.journal import Journal
from modelsplit.workers.executor import Batch


@dataclass(frozen=True)
class FoundSolution:
    """A solution that joined the answer: its part, the text `minizinc` prints for it, its values
    (those the model's output shows) and its objective (None for a satisfaction model)."""

    part_id: int
    text: str
    values: dict
    objective: int | float | None


OnSolution = Callable[[FoundSolution], None]


class SolutionStream:
    """Passes each solution that joins the answer to ``on_solution`` (if any), and says when no
    more are wanted: ``limit`` of them (None: no limit) have joined, or ``stop`` (an event
    another thread sets: a caller that stopped reading) is set."""

    def __init__(
        self,
        plan: Plan,
        on_solution: OnSolution | None = None,
        limit: int | None = None,
        stop: threading.Event | None = None,
    ):
        self.stop = stop
        self.goal = plan.goal
        self.enumerate = plan.all_solutions and not plan.goal.optimises
        self.on_solution = on_solution
        self.limit = limit
        self.count = 0  # solutions passed on so far
        self.best: int | float | None = None
        self._again: Counter[str] = Counter()  # texts of dropped solutions, to be found once more

    @property
    def full(self) -> bool:
        """True once ``limit`` solutions have joined the answer."""
        return self.limit is not None and self.count >= self.limit

    @property
    def enough(self) -> bool:
        """True once no more solutions are wanted: the stream is full, or asked to stop."""
        return self.full or (self.stop is not None and self.stop.is_set())

    def offer(self, part_id: int, objective, values: dict | Callable[[], dict], text: str) -> None:
        """A solution was recorded; pass it on when it joins the answer. ``values`` may be a
        function that gives them (they are read only for a solution passed on)."""
        if self.full:
            return
        if self.enumerate:
            if self._again[text] > 0:  # found again after its first record was dropped
                self._again[text] -= 1
                if not self._again[text]:
                    del self._again[text]  # (offer_rows only counts while none is left)
                return
        elif self.goal.optimises:
            if not self.goal.improves(objective, self.best):
                return
            self.best = objective
        elif self.count:
            return  # a satisfaction search answers with its first solution
        self.count += 1
        if self.on_solution is not None:
            found = values() if callable(values) else values
            self.on_solution(FoundSolution(part_id, text, found, objective))

    def offer_rows(self, part_id: int, rows: list[tuple[int, int | float | None, str, str]]) -> None:
        """:meth:`offer` each of a part's solutions just recorded, as (attempt, objective, values
        as JSON text, text); an enumeration that passes nothing on (no ``on_solution``, no limit,
        nothing dropped to skip) only counts them."""
        if self.enumerate and self.on_solution is None and self.limit is None and not self._again:
            self.count += len(rows)
            return
        for _, objective, vals, text in rows:
            self.offer(part_id, objective, lambda v=vals: json.loads(v), text)

    def offer_batch(self, part_id: int, batch: Batch) -> None:
        """:meth:`offer` each solution of an enumeration's batch just recorded; unpacked only if
        they are passed on or some must be skipped (else only counted)."""
        if self.on_solution is None and self.limit is None and not self._again:
            self.count += batch.n
            return
        for values, text in batch.values_and_texts():
            self.offer(part_id, None, values, text)

    def dropped(self, texts: Iterable[str]) -> None:
        """Solutions were dropped from the journal (their part searches its region afresh and will
        find them again): they were passed on already, and are not passed on a second time."""
        if self.enumerate:
            self._again.update(texts)

    def replay(self, journal: Journal) -> None:
        """Pass on what an earlier run recorded, before anything new: an enumeration's solutions,
        a satisfaction search's first one, an optimisation's best."""
        if self.enumerate:
            for sol in journal.solutions():
                self.offer(sol.part_id, sol.objective, sol.values, sol.output)
            return
        sol = journal.best_solution(self.goal) if self.goal.optimises else journal.first_solution()
        if sol is not None:
            self.offer(sol.part_id, sol.objective, sol.values, sol.output)


# statistics whose total over the parts is a sum (counts and times); the others are sizes of a
# part's model or search, whose total is the largest, and texts, whose total is the first
SUMMED = frozenset(
    {
        "nodes",
        "failures",
        "propagations",
        "solutions",
        "nSolutions",
        "restarts",
        "nogoods",
        "backjumps",
        "conflicts",
        "decisions",
        "initTime",
        "solveTime",
        "flatTime",
        "paths",
    }
)


def total_statistics(parts: Iterable[dict]) -> dict:
    """The statistics of a run from those of its parts: counts and times summed, sizes (peak
    depth, variables, propagators) the largest, texts (the method) as the first part says."""
    total: dict = {}
    for stats in parts:
        for name, value in stats.items():
            if name not in total:
                total[name] = value
            elif isinstance(value, (int, float)) and isinstance(total[name], (int, float)):
                total[name] = total[name] + value if name in SUMMED else max(total[name], value)
    for name, value in total.items():
        if isinstance(value, float):
            total[name] = round(value, 6)
    return total
