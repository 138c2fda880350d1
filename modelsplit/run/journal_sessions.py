"""The solve sessions in the Journal: each run of `solve` (or `run`) on a plan, with its command line.

A plan may be solved in several sessions (stopped, then resumed). Each one is recorded when it
starts and when it ends, in the meta value ``sessions`` (a JSON list, so that journals written
before it open as they are and simply have none): what ran it, and when, on the journal's clock.
A report places the run on its time line from them, and tells its length.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from modelsplit.run.records import Session
from modelsplit.run.store import Store

KEY = "sessions"


def command_line(argv: Sequence[str] | None = None) -> str:
    """The command line of this process (``sys.argv``), as a shell would take it again: the
    program by its name (``modelsplit``; ``python -m modelsplit`` when run as a module)."""
    args = list(sys.argv if argv is None else argv)
    if not args:
        return ""
    program = Path(args[0]).name
    if program == "__main__.py":
        program = f"python -m {Path(args[0]).parent.name}"
    return " ".join([program, *(shlex.quote(a) for a in args[1:])])


class SessionLog:
    """Sessions by start. A mixin of ``Journal``, which gives it ``store`` and ``clock``."""

    store: Store
    clock: Callable[[], float]  # when things happen (see Journal.clock)

    def sessions(self) -> list[Session]:
        """Every session recorded, oldest first (none in a journal of an earlier version)."""
        text = self.store.meta(KEY)
        try:
            rows = json.loads(text) if text else []
        except ValueError:
            return []
        return [Session.from_json(row) for row in rows if isinstance(row, dict) and "started" in row]

    def start_session(self, command: str, zero: float | None = None) -> None:
        """Record a session starting now; ``zero``: on a virtual run, the journal time of the
        virtual clock's zero (where the split it charges begins)."""
        rows = [s.to_json() for s in self.sessions()]
        rows.append(Session(command, self.clock(), None, zero).to_json())
        self.store.set_meta(KEY, json.dumps(rows))

    def end_session(self) -> None:
        """Record that the last session ended now."""
        rows = [s.to_json() for s in self.sessions()]
        if rows:
            rows[-1]["ended"] = self.clock()
            self.store.set_meta(KEY, json.dumps(rows))
