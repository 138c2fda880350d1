"""The time of a run as a report tells it: the race and split before the parts, the solve
sessions, and how long the whole run took.

The split is placed from the plan's record of it (``timing``: when it began, its wall seconds,
when its race began and each improving solution the race found). A virtual run charges its split
from the virtual clock's zero to the solve's start, as its session says; its race is placed as
:func:`~modelsplit.workers.virtual.charge_split` charges it, after the coordinator's own work,
its solutions at the race's CPU seconds. A plan or journal of an earlier version lacks some of
this: the report then leaves the phase out, and counts the run from what it has.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from modelsplit.run.journal import Run, Session


@dataclass(frozen=True)
class SplitPhase:
    """The race and split before the parts, on the journal's clock (Unix time, or virtual)."""

    start: float
    end: float
    race: tuple[float, float] | None = None  # the whole model's race within it: start, end
    race_solutions: list[tuple[float, int]] = field(default_factory=list)  # (time, objective)

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)


@dataclass(frozen=True)
class RunTime:
    """How long a run took: its split and its solve sessions (idle time between them left out)."""

    split: float  # seconds of the split (0: not known)
    solve: float  # seconds of the solve sessions
    how: str  # what was counted, in words

    @property
    def total(self) -> float:
        return self.split + self.solve


def split_phase(timing: dict, sessions: list[Session], virtual: bool) -> SplitPhase | None:
    """Where the split lies on the run's time line (None: not recorded)."""
    if virtual:
        first = sessions[0] if sessions else None
        if first is None or first.zero is None:
            return None
        return _virtual_phase(timing, first.zero, first.started)
    if "started" not in timing or "wall" not in timing:
        return None  # a plan of an earlier version
    start = float(timing["started"])
    race, points = None, []
    if "race_started" in timing:
        began = float(timing["race_started"])
        race = (began, began + float(timing.get("race", 0.0)))
        points = [(began + wall, objective) for wall, _, objective in timing.get("race_solutions", [])]
    return SplitPhase(start, start + float(timing["wall"]), race, points)


def _virtual_phase(timing: dict, zero: float, solve_started: float) -> SplitPhase:
    """The split a virtual run charged: from the clock's zero to the solve; its race after the
    coordinator's own work, on the race's CPU seconds (see charge_split)."""
    race, points = None, []
    if "race_cpu" in timing and "coordinator_cpu" in timing:
        began = zero + float(timing["coordinator_cpu"])
        race = (began, began + float(timing["race_cpu"]))
        points = [(began + cpu, objective) for _, cpu, objective in timing.get("race_solutions", [])]
    return SplitPhase(zero, solve_started, race, points)


def run_time(
    timing: dict, phase: SplitPhase | None, sessions: list[Session], runs: list[Run], found: list[float]
) -> RunTime | None:
    """How long the run took (None: nothing ran yet). ``found``: when solutions were recorded."""
    if phase is not None:
        split, said = phase.seconds, "the split"
    elif "seconds" in timing:  # a plan of an earlier version: its search alone was timed
        split, said = float(timing["seconds"]), "the split's search (its inspection was not timed)"
    else:
        split, said = 0.0, "no split time (not recorded)"
    if sessions:
        solve = _session_seconds(sessions, [r.finished for r in runs] + found)
        n = len(sessions)
        return RunTime(split, solve, f"{said} and {n} solve session{'s' if n > 1 else ''}")
    if not runs:
        return None
    # a journal of an earlier version: from the first attempt's start to the last one's end
    solve = max(r.finished for r in runs) - min(r.started for r in runs)
    return RunTime(split, solve, f"{said} and the parts, first start to last end (no session recorded)")


def _session_seconds(sessions: list[Session], events: list[float]) -> float:
    """The sessions' seconds added up; one that did not record its end (killed) ends at the last
    thing recorded in it."""
    total = 0.0
    for i, s in enumerate(sessions):
        end = s.ended
        if end is None:
            until = sessions[i + 1].started if i + 1 < len(sessions) else float("inf")
            end = max([t for t in events if s.started <= t < until], default=s.started)
        total += max(0.0, end - s.started)
    return total
