"""What measured part times would give on more workers: list scheduling in plan order.

Each part goes, in order, to the worker that becomes free first; the makespan is when the last
one ends. Bound sharing between parts is not simulated (a part of an optimisation run keeps the
time it took with the bounds it had), nor is re-splitting, so figures for optimisation are
estimates. bench/speedup.py uses it; `modelsplit report` does not (it states a speedup only
against a measured sequential run).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence


def simulate(times: Iterable[float], workers: int) -> float:
    """Makespan of running parts of these durations, in this order, on ``workers`` workers."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1 (got {workers})")
    free = [0.0] * workers
    for t in times:
        heapq.heapreplace(free, free[0] + t)
    return max(free)


def speedup_curve(times: Sequence[float], workers: Iterable[int]) -> list[tuple[int, float]]:
    """(workers, speedup over one worker running every part) for each worker count."""
    total = sum(times)
    if total <= 0:
        return [(w, 1.0) for w in workers]
    return [(w, total / simulate(times, w)) for w in workers]


def worker_counts(n_parts: int, most: int = 128) -> list[int]:
    """1, 2, 4, ... up to the first power of two that reaches the part count, at most ``most``.

    More workers than parts gain nothing, so the curve ends where it flattens.
    """
    counts = [1]
    while counts[-1] < min(max(n_parts, 1), most):
        counts.append(counts[-1] * 2)
    return counts
