"""The Executor protocol: where parts run (local processes, Dask), and the events they report."""

from __future__ import annotations

from dataclasses import dataclass

from modelsplit.workers.backend import PartResult, Solution


@dataclass(frozen=True)
class SolutionEvent:
    part_id: int
    attempt: int
    solutions: list[Solution]


@dataclass(frozen=True)
class DoneEvent:
    part_id: int
    attempt: int
    result: PartResult


Event = SolutionEvent | DoneEvent
