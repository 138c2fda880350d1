"""The part lifecycle in the Journal: parts and their attempts, sub-parts, the race.

A part is pending, then running (one attempt, on one worker), then finished in a state; a new run
makes unfinished parts pending again. Every attempt that ends is also kept in ``runs``. Sub-parts
are finer parts that replace a part stopped for taking too long (re-splitting); the race is the
whole model run as part ``RACE_ID`` before or beside the parts.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import NamedTuple

from modelsplit.model.cube import Cube
from modelsplit.run.records import RACE_ID, PartRecord, Run, SubPart, stored_number
from modelsplit.run.store import Store
from modelsplit.status import PartState, Status


def insert_parts(conn: sqlite3.Connection, parts: list[tuple[int, str]]) -> None:
    """Enter a new plan's parts, (id, key) pairs, as pending."""
    conn.executemany(
        "INSERT OR IGNORE INTO parts (id, key, state) VALUES (?, ?, ?)",
        [(pid, key, PartState.PENDING.value) for pid, key in parts],
    )


class Ended(NamedTuple):
    """An attempt's end as the parts table records it (see :meth:`PartLog.mark_all_finished`)."""

    state: str
    status: str
    n_solutions: int
    objective: float | None
    elapsed: float
    finished: float  # on the journal's clock
    error: str | None
    cpu: float | None
    worker: str | None
    part_id: int


class PartLog:
    """The states and attempts of parts, sub-parts and the race.

    A mixin of ``Journal``, which gives it ``store`` and ``conn``, and ``count_solutions``
    (from ``SolutionLog``: a reset keeps a part's solutions only up to a number).
    """

    store: Store
    conn: sqlite3.Connection
    count_solutions: Callable[[int], int]
    clock: Callable[[], float]  # when things happen (see Journal.clock)

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

    def state_counts(self) -> dict[PartState, int]:
        """How many of the plan's parts (not the race) are in each state: one query, which a
        progress display can make every quarter second of a run with tens of thousands of parts."""
        rows = self.conn.execute("SELECT state, COUNT(*) FROM parts WHERE id != ? GROUP BY state", (RACE_ID,))
        return {PartState(state): n for state, n in rows}

    def runs(self) -> list[Run]:
        """Every attempt that ended, in the order they started (the race included).

        Attempts that ended before the journal recorded every attempt (an earlier version wrote
        it) appear as far as the parts table remembers them: each part's last attempt.
        """
        worker = "worker" if "worker" in self.store.columns else "NULL"
        # the parts table keeps the CPU of all attempts together: an attempt it alone remembers
        # has no CPU of its own
        last = (
            f"SELECT id, attempts, {worker}, started, finished, state, NULL FROM parts AS p "
            "WHERE started IS NOT NULL AND finished >= started AND state != 'running'"
        )
        if "runs" in self.store.tables:
            cpu = "cpu" if "cpu" in self.store.run_columns else "NULL"
            query = (
                f"SELECT part_id, attempt, worker, started, finished, state, {cpu} FROM runs "
                f"WHERE finished >= started UNION ALL {last} AND NOT EXISTS "
                "(SELECT 1 FROM runs AS r WHERE r.part_id = p.id AND r.attempt = p.attempts)"
            )
        else:
            query = last
        rows = self.conn.execute(f"SELECT * FROM ({query}) ORDER BY 4, 1").fetchall()
        return [Run(r[0], r[1], r[2], r[3], r[4], PartState(r[5]), r[6]) for r in rows]

    def set_worker(self, part_id: int, worker: str | None) -> None:
        """Record where the running attempt of a part runs (or ran)."""
        if worker:
            self.conn.execute("UPDATE parts SET worker = ? WHERE id = ?", (worker, part_id))

    def mark_running(
        self,
        part_id: int,
        attempt: int,
        bound: float | None,
        worker: str | None = None,
        started: float | None = None,
    ) -> None:
        """A part's attempt started (on ``worker``, when known as it starts; at ``started`` on
        the journal's clock, now if not given)."""
        started = self.clock() if started is None else started
        self.mark_all_running([(part_id, attempt, bound, worker, started)])

    def mark_all_running(self, starts: list[tuple[int, int, float | None, str | None, float]]) -> None:
        """Attempts that started, each (part, attempt, bound, worker or None, when on the
        journal's clock): one statement for all of them."""
        running = PartState.RUNNING.value
        self.conn.executemany(
            "UPDATE parts SET state = ?, attempts = ?, bound = ?, started = ?, status = NULL, "
            "error = NULL, worker = ? WHERE id = ?",
            [(running, attempt, bound, when, worker, part) for part, attempt, bound, worker, when in starts],
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
        worker: str | None = None,
    ) -> None:
        """An attempt ended (``worker``: where it ran, when known only now, as on Dask)."""
        ended = Ended(
            state.value, status.value, n_solutions, objective, elapsed, self.clock(), error, cpu, worker or None, part_id
        )
        self.mark_all_finished([ended])

    def mark_all_finished(self, ends: list[Ended]) -> None:
        """Attempts that ended: two statements for all of them."""
        # cpu adds up over the part's attempts (a restarted or stopped attempt's search counts too)
        self.conn.executemany(
            "UPDATE parts SET state = ?, status = ?, n_solutions = ?, objective = ?, elapsed = ?, "
            "finished = ?, error = ?, cpu = COALESCE(cpu, 0) + COALESCE(?, 0), "
            "worker = COALESCE(?, worker) WHERE id = ?",
            ends,
        )
        self.conn.executemany(
            "INSERT INTO runs (part_id, attempt, worker, started, finished, state, cpu) "
            "SELECT id, attempts, worker, started, finished, state, ? FROM parts "
            "WHERE id = ? AND started IS NOT NULL",
            [(end.cpu, end.part_id) for end in ends],
        )

    def ended(self, part_id: int, state: PartState, res) -> Ended:
        """How an attempt that ended now with ``res`` (a PartResult) is recorded; its error is left
        out where the attempt ended on purpose, to run again or be re-split: it is not the part's."""
        replaced = state in (PartState.PENDING, PartState.RESPLIT)
        error = None if replaced else res.error
        return Ended(
            state.value, res.status.value, res.n_solutions, res.objective, res.elapsed, self.clock(), error,
            res.cpu, res.worker or None, part_id,
        )

    def set_searched(self, part_ids: list[int], point: tuple[int, ...]) -> None:
        """Record how far a stopped lexicographic search got in these parts (see
        model/lexorder.py): what lies before ``point`` is searched, in this run and the next."""
        self.conn.executemany(
            "UPDATE parts SET searched = ? WHERE id = ?", [(json.dumps(point), i) for i in part_ids]
        )

    def searched_points(self) -> dict[int, tuple[int, ...]]:
        """Every part's recorded point (see :meth:`set_searched`)."""
        rows = self.conn.execute("SELECT id, searched FROM parts WHERE searched IS NOT NULL")
        return {r[0]: tuple(json.loads(r[1])) for r in rows}

    def mark_pending(self, part_id: int) -> None:
        self.conn.execute("UPDATE parts SET state = ? WHERE id = ?", (PartState.PENDING.value, part_id))

    def reset_unfinished(self, keep_solutions: bool, keep_at_most: int | None = None) -> int:
        """Make parts that were running, stopped or failed pending again (for a new run).

        Their solutions stay when ``keep_solutions`` (optimisation: they remain valid incumbents;
        enumeration: the next attempt excludes them by nogoods), except for a part with more than
        ``keep_at_most`` of them, which is searched again from scratch.
        """
        unfinished = (PartState.RUNNING.value, PartState.STOPPED.value, PartState.FAILED.value)
        with self.store.transaction():
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
