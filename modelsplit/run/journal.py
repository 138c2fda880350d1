"""The Journal: mutable run state of a plan, in SQLite (``PLAN/journal.sqlite``, WAL mode).

Only the coordinator writes it. Every solution and every change of a part's state is committed
when it happens, so a run that stops (or is killed) can be resumed from what is recorded.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from modelsplit.model.cube import Cube
from modelsplit.model.goal import Goal
from modelsplit.plan.plan import Part, Plan
from modelsplit.run.records import RACE_ID, PartRecord, Run, StoredSolution, SubPart, stored_number
from modelsplit.run.store import Store, Transaction
from modelsplit.status import PartState, Status

__all__ = ["RACE_ID", "Journal", "PartRecord", "Run", "StoredSolution", "SubPart", "all_parts"]


class Journal:
    def __init__(self, store: Store):
        self.store = store
        self.path = store.path
        self.conn = store.conn

    @classmethod
    def open(
        cls, path: str | Path, plan_id: str, parts: list[tuple[int, str]], *, readonly: bool = False
    ) -> Journal:
        """Open (creating if needed) the journal of a plan whose parts are (id, key) pairs.

        ``readonly`` opens an existing journal without writing (for `status` on a read-only plan).
        """

        def seed(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT OR IGNORE INTO parts (id, key, state) VALUES (?, ?, ?)",
                [(pid, key, PartState.PENDING.value) for pid, key in parts],
            )

        return cls(Store.open(path, plan_id, seed, readonly=readonly))

    def close(self) -> None:
        self.store.close()

    def transaction(self) -> Transaction:
        return self.store.transaction()

    def get_meta(self, key: str) -> str | None:
        return self.store.meta(key)

    def set_meta(self, key: str, value: str) -> None:
        self.store.set_meta(key, value)

    # ---- parts --------------------------------------------------------------------------------
    def parts(self) -> list[PartRecord]:
        """The plan's parts (not the race, see ``RACE_ID``)."""
        worker = "worker" if "worker" in self.store.columns else "NULL"
        rows = self.conn.execute(
            "SELECT id, key, state, status, attempts, n_solutions, objective, elapsed, error, "
            f"{worker}, started FROM parts WHERE id != ? ORDER BY id",
            (RACE_ID,),
        ).fetchall()
        return [
            PartRecord(
                r[0],
                r[1],
                PartState(r[2]),
                Status(r[3]) if r[3] else None,
                r[4],
                r[5],
                stored_number(r[6]),
                r[7],
                r[8],
                r[9],
                r[10],
            )
            for r in rows
        ]

    def runs(self) -> list[Run]:
        """Every attempt that ended, in the order they started (the race included).

        Attempts that ended before the journal recorded every attempt (an earlier version wrote
        it) appear as far as the parts table remembers them: each part's last attempt.
        """
        worker = "worker" if "worker" in self.store.columns else "NULL"
        last = (
            f"SELECT id, attempts, {worker}, started, finished, state FROM parts AS p "
            "WHERE started IS NOT NULL AND finished >= started AND state != 'running'"
        )
        if "runs" in self.store.tables:
            query = (
                "SELECT part_id, attempt, worker, started, finished, state FROM runs "
                f"WHERE finished >= started UNION ALL {last} AND NOT EXISTS "
                "(SELECT 1 FROM runs AS r WHERE r.part_id = p.id AND r.attempt = p.attempts)"
            )
        else:
            query = last
        rows = self.conn.execute(f"SELECT * FROM ({query}) ORDER BY 4, 1").fetchall()
        return [Run(r[0], r[1], r[2], r[3], r[4], PartState(r[5])) for r in rows]

    def solution_times(self) -> list[tuple[float, float | int | None]]:
        """(Unix time found, objective) of every recorded solution, oldest first."""
        rows = self.conn.execute("SELECT found, objective FROM solutions ORDER BY found, id")
        return [(r[0], stored_number(r[1])) for r in rows]

    def set_worker(self, part_id: int, worker: str | None) -> None:
        """Record where the running attempt of a part runs (or ran)."""
        if worker:
            self.conn.execute("UPDATE parts SET worker = ? WHERE id = ?", (worker, part_id))

    def mark_running(self, part_id: int, attempt: int, bound: float | None) -> None:
        self.conn.execute(
            "UPDATE parts SET state = ?, attempts = ?, bound = ?, started = ?, status = NULL, "
            "error = NULL, worker = NULL WHERE id = ?",
            (PartState.RUNNING.value, attempt, bound, time.time(), part_id),
        )

    def mark_finished(
        self,
        part_id: int,
        state: PartState,
        status: Status,
        *,
        n_solutions: int,
        objective: float | None,
        elapsed: float,
        error: str | None = None,
        cpu: float | None = None,
    ) -> None:
        # cpu adds up over the part's attempts (a restarted or stopped attempt's search counts too)
        self.conn.execute(
            "UPDATE parts SET state = ?, status = ?, n_solutions = ?, objective = ?, elapsed = ?, "
            "finished = ?, error = ?, cpu = COALESCE(cpu, 0) + COALESCE(?, 0) WHERE id = ?",
            (state.value, status.value, n_solutions, objective, elapsed, time.time(), error, cpu, part_id),
        )
        self.conn.execute(
            "INSERT INTO runs (part_id, attempt, worker, started, finished, state) "
            "SELECT id, attempts, worker, started, finished, state FROM parts "
            "WHERE id = ? AND started IS NOT NULL",
            (part_id,),
        )

    # ---- sub-parts: finer parts that replace a part stopped for taking too long ---------------
    def add_subparts(self, parent: int, depth: int, children: list[tuple[list, str, str]]) -> list[int]:
        """Record children (cube as JSON-able list, cube text, key) of ``parent``; their new ids."""
        first = int(self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM parts").fetchone()[0]) + 1
        ids = list(range(first, first + len(children)))
        self.conn.executemany(
            "INSERT INTO parts (id, key, state) VALUES (?, ?, ?)",
            [(i, key, PartState.PENDING.value) for i, (_, _, key) in zip(ids, children)],
        )
        self.conn.executemany(
            "INSERT INTO subparts (id, parent, depth, cube, mzn) VALUES (?, ?, ?, ?, ?)",
            [(i, parent, depth, json.dumps(cube), mzn) for i, (cube, mzn, _) in zip(ids, children)],
        )
        return ids

    def subparts(self) -> list[SubPart]:
        """Every sub-part made by re-splitting, oldest first."""
        rows = self.conn.execute("SELECT id, parent, depth, cube, mzn FROM subparts ORDER BY id")
        return [SubPart(r[0], r[1], r[2], Cube.from_json(json.loads(r[3])), r[4]) for r in rows]

    def move_solutions(self, solution_ids: list[int], part_id: int) -> None:
        self.conn.executemany(
            "UPDATE solutions SET part_id = ? WHERE id = ?", [(part_id, i) for i in solution_ids]
        )

    def race_state(self) -> str | None:
        """None (no race), "running", "done" (the race answered) or "stopped"."""
        return self.store.meta("race")

    def start_race(self, key: str) -> None:
        self.conn.execute(
            "INSERT OR IGNORE INTO parts (id, key, state) VALUES (?, ?, ?)",
            (RACE_ID, key, PartState.PENDING.value),
        )
        self.store.set_meta("race", "running")

    def end_race(self, answered: bool, keep_solutions: bool) -> None:
        """Record how the race ended; drop solutions the answer does not need (enumeration)."""
        self.store.set_meta("race", "done" if answered else "stopped")
        if not keep_solutions:
            other = "!=" if answered else "="  # the race's own, or everyone else's
            self.conn.execute(f"DELETE FROM solutions WHERE part_id {other} ?", (RACE_ID,))

    def mark_pending(self, part_id: int) -> None:
        self.conn.execute("UPDATE parts SET state = ? WHERE id = ?", (PartState.PENDING.value, part_id))

    def drop_solutions(self, part_id: int, attempt: int) -> None:
        self.conn.execute("DELETE FROM solutions WHERE part_id = ? AND attempt = ?", (part_id, attempt))

    def reset_unfinished(self, keep_solutions: bool, keep_at_most: int | None = None) -> int:
        """Make parts that were running, stopped or failed pending again (for a new run).

        Their solutions stay when ``keep_solutions`` (optimisation: they remain valid incumbents;
        enumeration: the next attempt excludes them by nogoods), except for a part with more than
        ``keep_at_most`` of them, which is searched again from scratch.
        """
        unfinished = (PartState.RUNNING.value, PartState.STOPPED.value, PartState.FAILED.value)
        with self.transaction():
            ids = [
                r[0]
                for r in self.conn.execute(
                    f"SELECT id FROM parts WHERE state IN ({','.join('?' * len(unfinished))})",
                    unfinished,
                )
            ]
            for part_id in ids:
                n = self.count_solutions(part_id)
                if not keep_solutions or (keep_at_most is not None and n > keep_at_most):
                    self.conn.execute("DELETE FROM solutions WHERE part_id = ?", (part_id,))
            self.conn.executemany(
                "UPDATE parts SET state = ?, n_solutions = 0 WHERE id = ?",
                [(PartState.PENDING.value, i) for i in ids],
            )
        return len(ids)

    # ---- solutions ----------------------------------------------------------------------------
    def add_solutions(self, part_id: int, rows: list[tuple[int, object, str, str]]) -> None:
        """Record solutions of one part: (attempt, objective, values as JSON text, output text)."""
        now = time.time()
        self.conn.executemany(
            "INSERT INTO solutions (part_id, attempt, objective, vals, output, found) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(part_id, a, obj, vals, out, now) for a, obj, vals, out in rows],
        )

    def solutions(self) -> Iterator[StoredSolution]:
        for r in self.conn.execute("SELECT id, part_id, objective, vals, output FROM solutions ORDER BY id"):
            yield StoredSolution(r[0], r[1], stored_number(r[2]), json.loads(r[3]), r[4])

    def count_solutions(self, part_id: int | None = None) -> int:
        if part_id is None:
            return int(self.conn.execute("SELECT COUNT(*) FROM solutions").fetchone()[0])
        row = self.conn.execute("SELECT COUNT(*) FROM solutions WHERE part_id = ?", (part_id,))
        return int(row.fetchone()[0])

    def part_solutions(self, part_id: int) -> list[dict]:
        """Values of the solutions recorded for one part (all attempts)."""
        rows = self.conn.execute("SELECT vals FROM solutions WHERE part_id = ? ORDER BY id", (part_id,))
        return [json.loads(r[0]) for r in rows]

    def part_solution_ids(self, part_id: int) -> list[tuple[int, dict]]:
        rows = self.conn.execute("SELECT id, vals FROM solutions WHERE part_id = ? ORDER BY id", (part_id,))
        return [(r[0], json.loads(r[1])) for r in rows]

    def best_solution(self, solve: str) -> StoredSolution | None:
        order = "ASC" if solve == Goal.MINIMIZE else "DESC"
        r = self.conn.execute(
            "SELECT id, part_id, objective, vals, output FROM solutions "
            f"WHERE objective IS NOT NULL ORDER BY objective {order}, id ASC LIMIT 1"
        ).fetchone()
        return StoredSolution(r[0], r[1], stored_number(r[2]), json.loads(r[3]), r[4]) if r else None

    def first_solution(self) -> StoredSolution | None:
        r = self.conn.execute(
            "SELECT id, part_id, objective, vals, output FROM solutions ORDER BY id LIMIT 1"
        ).fetchone()
        return StoredSolution(r[0], r[1], stored_number(r[2]), json.loads(r[3]), r[4]) if r else None

    # ---- offline: parts exported in bundles, result files collected from them ------------------
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

    def delete_solutions(self, part_id: int) -> None:
        self.conn.execute("DELETE FROM solutions WHERE part_id = ?", (part_id,))

    def part_solution_rows(self, part_id: int) -> list[tuple[dict, str]]:
        """(values, output text) of every solution recorded for one part."""
        rows = self.conn.execute(
            "SELECT vals, output FROM solutions WHERE part_id = ? ORDER BY id", (part_id,)
        )
        return [(json.loads(r[0]), r[1]) for r in rows]


def all_parts(plan: Plan, journal: Journal) -> dict[int, Part]:
    """The plan's parts and the sub-parts re-splitting added, by id (keys as the journal has them)."""
    keys = {r.id: r.key for r in journal.parts()}
    parts = {p.id: p for p in plan.parts}
    for sub in journal.subparts():
        parts[sub.id] = Part(sub.id, "", sub.cube, sub.mzn, keys.get(sub.id, f"{plan.id}-sub{sub.id}"))
    return parts
