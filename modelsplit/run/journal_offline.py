"""The offline records in the Journal: parts exported in bundles, result files collected from them.

``export`` records which parts went into which bundle; ``collect`` records each result file it
took in (by the sha256 of its content, so a file is not counted twice) and counts the attempt.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

from modelsplit.run.records import PartRecord
from modelsplit.status import PartState


class OfflineLog:
    """Exports and collected result files.

    A mixin of ``Journal``, which gives it ``conn``, and ``parts`` (from ``PartLog``).
    """

    conn: sqlite3.Connection
    parts: Callable[[], list[PartRecord]]

    def record_export(self, parts: list[tuple[int, str]], bundle: str) -> None:
        """Record that parts (id, key) went into ``bundle`` (a path, as given)."""
        now = time.time()
        self.conn.executemany(
            "INSERT INTO exports (part_id, key, bundle, exported) VALUES (?, ?, ?, ?)",
            [(pid, key, bundle, now) for pid, key in parts],
        )

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
