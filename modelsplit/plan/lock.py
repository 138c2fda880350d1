"""The plan lock: one run at a time may change a plan's journal.

Two runs of one plan would each take the other's running parts for parts left over by a dead run
and start them again, counting their solutions twice. So a solve, a collect, and a split that
replaces a plan (``--force``) hold an advisory lock (``fcntl.flock``) on ``PLAN/run.lock`` for
as long as they work on it. The kernel releases such a lock when its process dies, however it
dies (``kill -9`` included), so a lock never outlives its run. The file records the process id and
host of the holder, so that a refused run can say who holds the plan.

A process takes a plan's lock once however often it asks (``api.solve`` and the dispatcher under
it both ask); the lock is released when the outermost holder lets go.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from modelsplit.errors import PlanError

LOCK_FILE = "run.lock"
_HELD: dict[str, list[int]] = {}  # real path of a lock file -> [fd, how many holders in this process]
_GUARD = threading.Lock()


def holder(plan_dir: str | os.PathLike[str]) -> str:
    """Who holds the plan's lock and why, as the lock file records it ("being solved by process
    123 on host h since 12:00:01")."""
    try:
        data = json.loads((Path(plan_dir) / LOCK_FILE).read_text() or "{}")
    except (OSError, ValueError):
        data = {}
    if not isinstance(data, dict) or "pid" not in data:
        return "in use by another process"
    since = data.get("since")
    when = f" since {time.strftime('%H:%M:%S', time.localtime(since))}" if isinstance(since, int | float) else ""
    return f"being {data.get('doing', 'used')} by process {data['pid']} on host {data.get('host', '?')}{when}"


@contextlib.contextmanager
def plan_lock(plan_dir: str | os.PathLike[str], doing: str = "solved") -> Iterator[None]:
    """Hold ``plan_dir``'s lock while the block runs; PlanError at once when another process holds
    it. ``doing`` says what this process does to the plan ("solved", "collected into"), for the
    message another process gets.

    A plan directory this process cannot write gets no lock (nothing can change its journal, and
    the journal says so in its own words).
    """
    path = os.path.realpath(Path(plan_dir) / LOCK_FILE)
    with _GUARD:
        held = _HELD.get(path)
        if held is not None:
            held[1] += 1
        else:
            fd = _acquire(path, plan_dir, doing)
            if fd is not None:
                _HELD[path] = [fd, 1]
    try:
        yield
    finally:
        with _GUARD:
            held = _HELD.get(path)
            if held is not None:
                held[1] -= 1
                if held[1] == 0:
                    del _HELD[path]
                    os.close(held[0])  # closing the descriptor releases the lock


def _acquire(path: str, plan_dir, doing: str) -> int | None:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return None
        raise
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise PlanError(
            f"plan {plan_dir} is {holder(plan_dir)}: one run at a time per plan; "
            "wait for that run to end (or stop it), then try again"
        ) from None
    except OSError:
        os.close(fd)  # a filesystem without locks: run unlocked, as before
        return None
    record = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time(), "doing": doing})
    os.ftruncate(fd, 0)
    os.pwrite(fd, record.encode() + b"\n", 0)
    return fd
