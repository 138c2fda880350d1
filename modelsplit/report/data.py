"""What a report is made of: a plan's journal read once, and what :func:`write_report` wrote.

The journal is opened read-only, so a plan being solved, or one on a read-only medium, can be
reported on.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from modelsplit.errors import PlanError
from modelsplit.plan.plan import Plan
from modelsplit.run.collector import Answer, Collector
from modelsplit.run.journal import RACE_ID, Journal, PartRecord, Run


@dataclass
class Report:
    """What :func:`write_report` wrote, and the figures behind it."""

    html: Path
    figures: dict[str, Path] = field(default_factory=dict)  # name -> PNG path
    answer: Answer | None = None
    part_times: dict[int, float] = field(default_factory=dict)  # part id -> seconds, all attempts
    speedup: list[tuple[int, float]] = field(default_factory=list)  # (workers, simulated speedup)


@dataclass
class ReportData:
    """What the journal of a plan says, as the figures and the page show it."""

    plan: Plan
    answer: Answer
    records: list[PartRecord]
    runs: list[Run]
    solutions: list[tuple[float, float | int | None]]
    cubes: dict[int, str]
    virtual_workers: int | None = None  # the last run was on that many virtual workers: times are virtual

    @property
    def time_word(self) -> str:
        """How the report names its time axis: wall time, or virtual time."""
        return "wall" if self.virtual_workers is None else "virtual"

    @property
    def t0(self) -> float:
        """When the first attempt started (or the first solution came): the start of the run."""
        starts = [r.started for r in self.runs] + [t for t, _ in self.solutions]
        return min(starts) if starts else time.time()


def read_report_data(plan: Plan) -> ReportData:
    """Read the plan's journal (read-only); PlanError when the plan has not been solved yet."""
    if not plan.journal_path.exists():
        raise PlanError(
            f"plan {plan.path} has not been solved yet, so there is nothing to report; "
            f"solve it first: modelsplit solve {plan.path}"
        )
    journal = Journal.open(plan.journal_path, plan.id, [], readonly=True)
    try:
        answer = Collector(plan, journal).answer()
        records = journal.parts()
        runs = journal.runs()
        solutions = journal.solution_times()
        cubes = {p.id: p.mzn for p in plan.parts}
        cubes.update({sub.id: sub.mzn for sub in journal.subparts()})
        virtual = journal.get_meta("virtual_workers") if journal.get_meta("clock") == "virtual" else None
    finally:
        journal.close()
    workers = int(virtual) if virtual and virtual.isdigit() else None
    return ReportData(plan, answer, records, runs, solutions, cubes, workers)


def part_times(runs: list[Run]) -> dict[int, float]:
    """Seconds each part ran, over all its attempts (the race left out), by part id."""
    times: dict[int, float] = defaultdict(float)
    for r in runs:
        if r.part_id != RACE_ID:
            times[r.part_id] += max(0.0, r.finished - r.started)
    return dict(sorted(times.items()))


def worker_order(name: str):
    """Sort key for worker names: ``host/2`` before ``host/10``."""
    host, _, slot = name.rpartition("/")
    return (host, int(slot)) if slot.isdigit() else (name, 0)
