"""The Journal: mutable run state of a plan, in SQLite (``PLAN/journal.sqlite``, WAL mode).

Who writes what: `solve`'s coordinator (the Dispatcher) records parts' states, attempts,
sub-parts, the race and solutions; offline `collect` (``offline/collect.py``) records the result
files it takes in, with their solutions and the parts' outcomes; offline `export`
(``offline/bundle.py``) records which parts went into which bundle. `status`, `report`, `verify`
and the Collector only read it. One process writes at a time: a transaction is BEGIN IMMEDIATE,
so it takes SQLite's write lock when it begins, and another writer waits (up to 30 s) for its
commit. Every solution and every change of a part's state is committed when it happens, so a run
that stops (or is killed) can be resumed from what is recorded.

The ``Journal`` is the one object callers open; its parts are the ``Store`` (database, schema,
transactions: ``run/store.py``) and four mixins, one per concern: ``PartLog`` (part lifecycle,
sub-parts, race), ``SolutionLog`` (solutions), ``OfflineLog`` (exports, collected files) and
``SessionLog`` (each run of `solve`: its command line, when it started and ended).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from modelsplit.plan.plan import Part, Plan
from modelsplit.run.journal_offline import OfflineLog
from modelsplit.run.journal_parts import PartLog, insert_parts
from modelsplit.run.journal_sessions import SessionLog
from modelsplit.run.journal_solutions import SolutionLog
from modelsplit.run.records import RACE_ID, PartRecord, Run, Session, StoredSolution, SubPart
from modelsplit.run.store import Store, Transaction

__all__ = ["RACE_ID", "Journal", "PartRecord", "Run", "Session", "StoredSolution", "SubPart", "all_parts"]


class Journal(PartLog, SolutionLog, OfflineLog, SessionLog):
    """The run state of one plan, open on its Store."""

    def __init__(self, store: Store):
        self.store = store
        self.path = store.path
        self.conn = store.conn
        # when parts start and end and solutions are found: Unix time, or on a virtual run the
        # run's start plus virtual seconds (the meta key "clock" then says "virtual")
        self.clock: Callable[[], float] = time.time

    @classmethod
    def open(
        cls, path: str | Path, plan_id: str, parts: list[tuple[int, str]], *, readonly: bool = False
    ) -> Journal:
        """Open (creating if needed) the journal of a plan whose parts are (id, key) pairs.

        ``readonly`` opens an existing journal without writing (for `status` on a read-only plan).
        """
        return cls(Store.open(path, plan_id, lambda conn: insert_parts(conn, parts), readonly=readonly))

    def close(self) -> None:
        self.store.close()

    def transaction(self) -> Transaction:
        """A transaction (``with journal.transaction(): …``); one inside another is part of it."""
        return self.store.transaction()

    def get_meta(self, key: str) -> str | None:
        return self.store.meta(key)

    def set_meta(self, key: str, value: str) -> None:
        self.store.set_meta(key, value)


def all_parts(plan: Plan, journal: Journal) -> dict[int, Part]:
    """The plan's parts and the sub-parts re-splitting added, by id (keys as the journal has them)."""
    keys = {r.id: r.key for r in journal.parts()}
    parts = {p.id: p for p in plan.parts}
    for sub in journal.subparts():
        parts[sub.id] = Part(sub.id, "", sub.cube, sub.mzn, keys.get(sub.id, f"{plan.id}-sub{sub.id}"))
    return parts
