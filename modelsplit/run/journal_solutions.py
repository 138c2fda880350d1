"""The solutions in the Journal: every solution of every part, as found, with its objective.

Solutions are kept as JSON values and output text. The solutions without an objective that one
event brought (an enumeration's: a part may find thousands a second) share one row, a *batch*:
its ``n`` solutions' values as one JSON array, their texts one after another and compressed (a
BLOB; uncompressed text in a journal of an earlier version) with their lengths in ``sizes``; a row
of one solution holds its values and its text as they are. The worker packs a batch (see
:class:`~modelsplit.workers.executor.Batch`) and the journal records it as it came: the
coordinator's cost is per event, not per solution, and it writes a few bytes per solution. In an enumeration, a part's solutions
move to the sub-parts that hold them when it is re-split, and are dropped when the part is
searched again from scratch.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from functools import cached_property

from modelsplit.model.goal import Goal
from modelsplit.run.records import StoredSolution, stored_number
from modelsplit.workers.executor import Batch, unpack_texts

COLUMNS = "id, part_id, objective, vals, output, n, sizes"
INSERT = "INSERT INTO solutions (part_id, attempt, objective, vals, output, found, n, sizes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
Row = tuple[int, object, str, str]  # a solution to record: attempt, objective, values as JSON text, text


def _columns(conn: sqlite3.Connection) -> str:
    """COLUMNS, as a journal of an earlier version (one solution a row) gives them."""
    if any(r[1] == "n" for r in conn.execute("PRAGMA table_info(solutions)")):
        return COLUMNS
    return "id, part_id, objective, vals, output, 1, NULL"


def _stored(row: tuple) -> list[StoredSolution]:
    """The solutions of one row (COLUMNS): one, or a batch's."""
    if row[5] == 1:
        return [StoredSolution(row[0], row[1], stored_number(row[2]), json.loads(row[3]), row[4])]
    texts = unpack_texts(row[4], row[6])
    return [StoredSolution(row[0], row[1], None, v, t) for v, t in zip(json.loads(row[3]), texts)]


def _expanded(rows) -> list[StoredSolution]:
    return [sol for row in rows for sol in _stored(row)]


def _rows(part_id: int, found: float, rows: list[Row]) -> list[tuple]:
    """What INSERT records for ``rows`` of a part: one batch if they are several solutions of one
    attempt without an objective, else a row each."""
    if len(rows) > 1 and all(r[1] is None and r[0] == rows[0][0] for r in rows):
        batch = Batch.pack([r[2] for r in rows], [r[3] for r in rows])
        return [(part_id, rows[0][0], None, batch.values_json, batch.texts, found, batch.n, batch.sizes_json)]
    return [(part_id, a, obj, vals, out, found, 1, None) for a, obj, vals, out in rows]


def solutions_after(conn: sqlite3.Connection, after: int, limit: int) -> list[StoredSolution]:
    """A page: the solutions of up to ``limit`` rows recorded after row ``after`` (a solution's
    id, which a batch's solutions share; 0: from the first), oldest first."""
    rows = conn.execute(
        f"SELECT {_columns(conn)} FROM solutions WHERE id > ? ORDER BY id LIMIT ?", (after, limit)
    )
    return _expanded(rows)


def next_improving(
    conn: sqlite3.Connection, after: int, objective: int | float | None, goal: Goal
) -> StoredSolution | None:
    """The first solution recorded after solution ``after`` whose objective is better than
    ``objective`` (None: any objective): the next of an optimisation's improving solutions.
    (A batch has no objective.)"""
    better = "<" if goal == Goal.MINIMIZE else ">"
    bound = "" if objective is None else f"AND objective {better} ?"
    row = conn.execute(
        f"SELECT {_columns(conn)} FROM solutions WHERE id > ? AND objective IS NOT NULL {bound} "
        "ORDER BY id LIMIT 1",
        (after,) if objective is None else (after, objective),
    ).fetchone()
    return _stored(row)[0] if row else None


class SolutionLog:
    """Solutions recorded by part and attempt. A mixin of ``Journal``, which gives it ``conn``."""

    conn: sqlite3.Connection
    clock: Callable[[], float]  # when things happen (see Journal.clock)

    @cached_property
    def _select(self) -> str:
        """COLUMNS as this journal gives them (asked once: a part's start reads its solutions)."""
        return _columns(self.conn)

    def add_solutions(self, part_id: int, rows: list[Row]) -> None:
        """Record solutions of one part, found together: (attempt, objective, values as JSON
        text, output text)."""
        self.conn.executemany(INSERT, _rows(part_id, self.clock(), rows))

    def add_batch(self, part_id: int, attempt: int, batch: Batch) -> None:
        """Record a batch of solutions of one part, as it came."""
        self.conn.execute(
            INSERT, (part_id, attempt, None, batch.values_json, batch.texts, self.clock(), batch.n, batch.sizes_json)
        )

    def solutions(self) -> Iterator[StoredSolution]:
        for r in self.conn.execute(f"SELECT {self._select} FROM solutions ORDER BY id"):
            yield from _stored(r)

    def count_improving(self, goal: Goal) -> int:
        """How many recorded solutions were better than every one recorded before them: an
        optimisation's improving solutions (see :func:`next_improving`), counted in one pass."""
        best = "MIN" if goal == Goal.MINIMIZE else "MAX"
        better = "<" if goal == Goal.MINIMIZE else ">"
        row = self.conn.execute(
            f"SELECT COUNT(*) FROM (SELECT objective, {best}(objective) OVER "
            "(ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before "
            f"FROM solutions WHERE objective IS NOT NULL) WHERE before IS NULL OR objective {better} before"
        ).fetchone()
        return int(row[0])

    def count_solutions(self, part_id: int | None = None) -> int:
        n = "n" if self._select == COLUMNS else "1"
        if part_id is None:
            return int(self.conn.execute(f"SELECT COALESCE(SUM({n}), 0) FROM solutions").fetchone()[0])
        row = self.conn.execute(f"SELECT COALESCE(SUM({n}), 0) FROM solutions WHERE part_id = ?", (part_id,))
        return int(row.fetchone()[0])

    def _part_rows(self, part_id: int, attempt: int | None = None) -> list[StoredSolution]:
        where = "part_id = ?" + ("" if attempt is None else " AND attempt = ?")
        args = (part_id,) if attempt is None else (part_id, attempt)
        return _expanded(
            self.conn.execute(f"SELECT {self._select} FROM solutions WHERE {where} ORDER BY id", args)
        )

    def part_solutions(self, part_id: int) -> list[dict]:
        """Values of the solutions recorded for one part (all attempts)."""
        return [s.values for s in self._part_rows(part_id)]

    def part_solution_rows(self, part_id: int) -> list[tuple[dict, str]]:
        """(values, output text) of every solution recorded for one part."""
        return [(s.values, s.output) for s in self._part_rows(part_id)]

    def best_solution(self, solve: str) -> StoredSolution | None:
        order = "ASC" if solve == Goal.MINIMIZE else "DESC"
        r = self.conn.execute(
            f"SELECT {self._select} FROM solutions WHERE objective IS NOT NULL "
            f"ORDER BY objective {order}, id ASC LIMIT 1"
        ).fetchone()
        return _stored(r)[0] if r else None

    def first_solution(self) -> StoredSolution | None:
        r = self.conn.execute(f"SELECT {self._select} FROM solutions ORDER BY id LIMIT 1").fetchone()
        return _stored(r)[0] if r else None

    def solution_times(self) -> list[tuple[float, float | int | None]]:
        """(Unix time found, objective) of every recorded solution, oldest first."""
        n = "n" if self._select == COLUMNS else "1"
        rows = self.conn.execute(f"SELECT found, objective, {n} FROM solutions ORDER BY found, id")
        return [(r[0], stored_number(r[1])) for r in rows for _ in range(r[2])]

    def hand_down(self, part_id: int, owner: Callable[[dict], int | None]) -> None:
        """Move each solution of part ``part_id`` to the part ``owner`` gives its values (None:
        it stays); a batch whose solutions go to different parts becomes one batch per part."""
        rows = self.conn.execute(
            f"SELECT {COLUMNS}, attempt, found FROM solutions WHERE part_id = ? ORDER BY id", (part_id,)
        ).fetchall()
        for row in rows:
            sols = _stored(row)
            owners = [owner(s.values) for s in sols]
            if len(set(owners)) == 1:
                if owners[0] is not None:
                    self.conn.execute("UPDATE solutions SET part_id = ? WHERE id = ?", (owners[0], row[0]))
                continue
            self.conn.execute("DELETE FROM solutions WHERE id = ?", (row[0],))
            for to in dict.fromkeys(owners):
                mine = [s for s, o in zip(sols, owners) if o == to]
                found = [(row[7], None, json.dumps(s.values), s.output) for s in mine]
                self.conn.executemany(INSERT, _rows(part_id if to is None else to, row[8], found))

    def drop_solutions(self, part_id: int, attempt: int) -> list[str]:
        """Delete the solutions an attempt of a part recorded; their output texts."""
        texts = [s.output for s in self._part_rows(part_id, attempt)]
        self.conn.execute("DELETE FROM solutions WHERE part_id = ? AND attempt = ?", (part_id, attempt))
        return texts

    def delete_solutions(self, part_id: int) -> None:
        self.conn.execute("DELETE FROM solutions WHERE part_id = ?", (part_id,))
