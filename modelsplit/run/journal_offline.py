"""The offline records in the Journal: parts exported in bundles, result files collected from them.

``export`` records which parts went into which bundle (and, for parts exported in replicas, which
replica: a, b, …); ``collect`` records each result file it took in (by the sha256 of its content,
so a file is not counted twice) and counts the attempt. A finished result of a replicated part
waits in ``replica_results`` until the result of its other replica agrees with it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

from modelsplit.run.records import PartRecord, stored_number
from modelsplit.status import PartState, Status


@dataclass(frozen=True)
class ReplicaResult:
    """A finished result of one replica of a part, as collected (its solutions are not kept here)."""

    part_id: int
    replica: str  # a, b, …
    sha256: str
    file: str
    status: Status
    n_solutions: int
    objective: float | int | None


class OfflineLog:
    """Exports and collected result files.

    A mixin of ``Journal``, which gives it ``conn``, and ``parts`` (from ``PartLog``).
    """

    conn: sqlite3.Connection
    parts: Callable[[], list[PartRecord]]

    def record_export(
        self, parts: list[tuple[int, str]], bundle: str, replica: str | None = None, now: float | None = None
    ) -> None:
        """Record that parts (id, key) went into ``bundle`` (a path, as given), as ``replica``
        (a, b, …) of an export in replicas; ``now``: the export's time, one for all its bundles."""
        now = time.time() if now is None else now
        self.conn.executemany(
            "INSERT INTO exports (part_id, key, bundle, exported, replica) VALUES (?, ?, ?, ?, ?)",
            [(pid, key, bundle, now, replica) for pid, key in parts],
        )

    def replica_bundles(self, part_id: int) -> dict[str, str]:
        """Replica -> bundle of a part's latest export, when it was exported in replicas (else empty)."""
        try:
            rows = self.conn.execute(
                "SELECT bundle, exported, replica FROM exports WHERE part_id = ? ORDER BY id", (part_id,)
            ).fetchall()
        except sqlite3.OperationalError:  # a read-only journal from before replicas
            return {}
        if not rows or rows[-1][2] is None:
            return {}
        latest = rows[-1][1]
        return {r[2]: r[0] for r in rows if r[1] == latest and r[2] is not None}

    def add_replica_result(self, key: str, result: ReplicaResult) -> None:
        self.conn.execute(
            "INSERT INTO replica_results (part_id, key, replica, sha256, file, status, n_solutions, "
            "objective, collected) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (result.part_id, key, result.replica, result.sha256, result.file, result.status.value,
             result.n_solutions, result.objective, time.time()),
        )  # fmt: skip

    def replica_results(self, part_id: int, key: str) -> dict[str, ReplicaResult]:
        """Replica -> its latest finished result collected for the part (with this key)."""
        try:
            rows = self.conn.execute(
                "SELECT replica, sha256, file, status, n_solutions, objective FROM replica_results "
                "WHERE part_id = ? AND key = ? ORDER BY id",
                (part_id, key),
            ).fetchall()
        except sqlite3.OperationalError:
            return {}
        return {
            r[0]: ReplicaResult(part_id, r[0], r[1], r[2], Status(r[3]), r[4], stored_number(r[5]))
            for r in rows
        }

    def exports(self) -> dict[int, tuple[str, float]]:
        """Part id -> (bundle, time) of its latest export; empty for journals from before exports."""
        try:
            rows = self.conn.execute("SELECT part_id, bundle, exported FROM exports ORDER BY id").fetchall()
        except sqlite3.OperationalError:  # a read-only journal written before the table existed
            return {}
        return {r[0]: (r[1], r[2]) for r in rows}

    def collected(self, sha256: str) -> tuple[int, str, str] | None:
        """(part id, file, state) of a result file collected before, by the sha256 of its content."""
        try:
            row = self.conn.execute(
                "SELECT part_id, file, state FROM collected WHERE sha256 = ?", (sha256,)
            ).fetchone()
        except sqlite3.OperationalError:
            return None
        return (row[0], row[1], row[2]) if row else None

    def record_collected(self, sha256: str, part_id: int, file: str, state: PartState) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO collected (sha256, part_id, file, state, collected) VALUES (?, ?, ?, ?, ?)",
            (sha256, part_id, file, state.value, time.time()),
        )

    def record(self, part_id: int) -> PartRecord | None:
        return next((r for r in self.parts() if r.id == part_id), None)

    def next_attempt(self, part_id: int) -> int:
        """Count one more attempt of a part (solved elsewhere) and return its number."""
        self.conn.execute("UPDATE parts SET attempts = attempts + 1 WHERE id = ?", (part_id,))
        row = self.conn.execute("SELECT attempts FROM parts WHERE id = ?", (part_id,)).fetchone()
        return int(row[0]) if row else 1
