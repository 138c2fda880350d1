"""CPU time and memory of running solver processes, read from Linux's /proc.

A part's solver runs as one or more process sessions (``minizinc`` and the solver it starts; a
FlatZinc solver and MiniZinc's solution printer). :func:`tree` finds every process below a
session's leader through ``/proc/PID/task/TID/children``; :func:`usage` adds up their CPU
seconds (including children they already reaped) and resident memory. Reading parents before
children never counts a process twice: a child reaped between the two reads is missed once, not
added to its parent's total as well, so callers keep the largest total seen.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

TICK = os.sysconf("SC_CLK_TCK")  # clock ticks per second in /proc/PID/stat
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Usage:
    cpu: float  # CPU seconds of the processes and the children they reaped
    rss: int  # private resident bytes of the processes alive now
    pids: tuple[int, ...]  # the processes alive now, parents first


def _children(pid: int) -> list[int]:
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                found.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            continue
    return found


def _stat(pid: int) -> tuple[float, int] | None:
    """(CPU seconds with reaped children, private resident bytes) of one process; None if it is
    gone. Private: resident pages less those shared with other processes (the solver's libraries
    are mapped once for all of them), which is what one more process costs."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            text = fh.read().decode(errors="replace")
        with open(f"/proc/{pid}/statm", "rb") as fh:
            pages = fh.read().split()
    except OSError:
        return None
    # the command name (field 2) may hold spaces or parentheses: split after the last ')'
    fields = text.rsplit(")", 1)[-1].split()
    if len(fields) < 22 or len(pages) < 3:
        return None
    utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
    return (utime + stime + cutime + cstime) / TICK, max(0, int(pages[1]) - int(pages[2])) * PAGE


def command(pid: int) -> str | None:
    """The command name of a process (``/proc/PID/comm``: the program it runs now); None if it
    is gone."""
    try:
        with open(f"/proc/{pid}/comm") as fh:
            return fh.read().strip()
    except OSError:
        return None


def tree(pid: int) -> list[int]:
    """``pid`` and every process below it, parents first."""
    order, todo = [], [pid]
    while todo:
        current = todo.pop(0)
        order.append(current)
        todo.extend(_children(current))
    return order


def usage(leaders: list[int]) -> Usage:
    """CPU seconds and resident memory of the process trees below ``leaders``."""
    cpu, rss, alive = 0.0, 0, []
    for leader in leaders:
        for pid in tree(leader):
            stat = _stat(pid)
            if stat is None:
                continue
            cpu += stat[0]
            rss += stat[1]
            alive.append(pid)
    return Usage(cpu, rss, tuple(alive))


def signal_all(pids: tuple[int, ...] | list[int], signum: int) -> None:
    """Send ``signum`` to each process (those that have ended are skipped)."""
    for pid in pids:
        try:
            os.kill(pid, signum)
        except (ProcessLookupError, PermissionError):
            continue


def available_memory() -> int | None:
    """Bytes of memory available for new processes (MemAvailable), if the kernel says."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None
