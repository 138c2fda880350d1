"""Progress snapshots, handed to progress displays while a plan is solved."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Progress:
    """A snapshot for progress displays."""

    parts: dict[str, int]
    n_solutions: int
    incumbent: int | float | None
    elapsed: float
    dashboard: str | None = None  # where to watch the workers (a Dask cluster's dashboard)
