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
from modelsplit.report.phase import RunTime, SplitPhase, run_time, split_phase
from modelsplit.run.collector import Answer, Collector
from modelsplit.run.journal import RACE_ID, Journal, PartRecord, Run, Session


@dataclass
class Report:
    """What :func:`write_report` wrote, and the figures behind it.

    ``speedup`` is stated only against a measured sequential run (``baseline`` seconds, given by
    the caller): ``baseline / run_seconds``. Without one the report claims no speedup at all.
    """

    html: Path
    figures: dict[str, Path] = field(default_factory=dict)  # name -> PNG path
    answer: Answer | None = None
    part_times: dict[int, float] = field(default_factory=dict)  # part id -> seconds, all attempts
    run_seconds: float | None = None  # the split and the solve sessions (virtual: the makespan)
    baseline: float | None = None  # seconds of a measured sequential run, as given
    speedup: float | None = None  # baseline / run_seconds (None: no baseline, or nothing ran)


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
    sessions: list[Session] = field(default_factory=list)  # each run of `solve`, oldest first
    phase: SplitPhase | None = None  # the race and split before the parts (None: not recorded)

    @property
    def time_word(self) -> str:
        """How the report names its time axis: wall time, or virtual time."""
        return "wall" if self.virtual_workers is None else "virtual"

    @property
    def t0(self) -> float:
        """When the split (or, where it is not recorded, the first attempt or solution) began:
        the start of the run."""
        starts = [r.started for r in self.runs] + [t for t, _ in self.solutions]
        if self.phase is not None:
            starts.append(self.phase.start)
        return min(starts) if starts else time.time()

    @property
    def spans(self) -> list[tuple[float, float]]:
        """Everything on the run's time line: the split, its race, every attempt, every solution."""
        spans = [(r.started, r.finished) for r in self.runs] + [(t, t) for t, _ in self.solutions]
        if self.phase is not None:
            spans.append((self.phase.start, self.phase.end))
            spans += [self.phase.race] if self.phase.race else []
            spans += [(t, t) for t, _ in self.phase.race_solutions]
        return spans

    def improvements(self) -> list[tuple[float, int | float, bool]]:
        """The incumbent's improvements over the whole run (optimisation; none otherwise): (time,
        objective, found by the split's race), the race's solutions first as they came first."""
        raced = self.phase.race_solutions if self.phase is not None else []
        found = [(t, obj, False) for t, obj in self.solutions if obj is not None]
        out: list[tuple[float, int | float, bool]] = []
        best = None
        # by time only: solutions found at one instant keep the order they came in
        in_order = sorted([(t, obj, True) for t, obj in raced] + found, key=lambda f: f[0])
        for t, obj, by_race in in_order:
            if self.plan.goal.improves(obj, best):
                best = obj
                out.append((t, obj, by_race))
        return out

    def run_time(self) -> RunTime | None:
        """How long the run took: its split and solve sessions (None: nothing ran yet)."""
        found = [t for t, _ in self.solutions]
        return run_time(self.plan.timing, self.phase, self.sessions, self.runs, found)


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
        sessions = journal.sessions()
    finally:
        journal.close()
    workers = int(virtual) if virtual and virtual.isdigit() else None
    phase = split_phase(plan.timing, sessions, virtual=workers is not None)
    return ReportData(plan, answer, records, runs, solutions, cubes, workers, sessions, phase)


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
