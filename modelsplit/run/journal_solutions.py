"""The solutions in the Journal: every solution of every part, as found, with its objective.

Solutions are kept as JSON values and output text. In an enumeration, a part's solutions move to
the sub-parts that hold them when it is re-split, and are dropped when the part is searched again
from scratch.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator

from modelsplit.model.goal import Goal
from modelsplit.run.records import StoredSolution, stored_number

COLUMNS = "id, part_id, objective, vals, output"


def _stored(row: tuple) -> StoredSolution:
    return StoredSolution(row[0], row[1], stored_number(row[2]), json.loads(row[3]), row[4])


def solutions_after(conn: sqlite3.Connection, after: int, limit: int) -> list[StoredSolution]:
    """A page: up to ``limit`` solutions recorded after solution ``after`` (an id; 0: from the
    first), oldest first."""
    rows = conn.execute(f"SELECT {COLUMNS} FROM solutions WHERE id > ? ORDER BY id LIMIT ?", (after, limit))
    return [_stored(r) for r in rows]


def next_improving(
    conn: sqlite3.Connection, after: int, objective: int | float | None, goal: Goal
) -> StoredSolution | None:
    """The first solution recorded after solution ``after`` whose objective is better than
    ``objective`` (None: any objective): the next of an optimisation's improving solutions."""
    better = "<" if goal == Goal.MINIMIZE else ">"
    bound = "" if objective is None else f"AND objective {better} ?"
    row = conn.execute(
        f"SELECT {COLUMNS} FROM solutions WHERE id > ? AND objective IS NOT NULL {bound} ORDER BY id LIMIT 1",
        (after,) if objective is None else (after, objective),
    ).fetchone()
    return _stored(row) if row else None


class SolutionLog:
    """Solutions recorded by part and attempt. A mixin of ``Journal``, which gives it ``conn``."""

    conn: sqlite3.Connection
    clock: Callable[[], float]  # when things happen (see Journal.clock)

    def add_solutions(self, part_id: int, rows: list[tuple[int, object, str, str]]) -> None:
        """Record solutions of one part: (attempt, objective, values as JSON text, output text)."""
        now = self.clock()
        self.conn.executemany(
            "INSERT INTO solutions (part_id, attempt, objective, vals, output, found) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(part_id, a, obj, vals, out, now) for a, obj, vals, out in rows],
        )

    def solutions(self) -> Iterator[StoredSolution]:
        for r in self.conn.execute(f"SELECT {COLUMNS} FROM solutions ORDER BY id"):
            yield _stored(r)

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

    def part_solution_rows(self, part_id: int) -> list[tuple[dict, str]]:
        """(values, output text) of every solution recorded for one part."""
        rows = self.conn.execute(
            "SELECT vals, output FROM solutions WHERE part_id = ? ORDER BY id", (part_id,)
        )
        return [(json.loads(r[0]), r[1]) for r in rows]

    def best_solution(self, solve: str) -> StoredSolution | None:
        order = "ASC" if solve == Goal.MINIMIZE else "DESC"
        r = self.conn.execute(
            f"SELECT {COLUMNS} FROM solutions WHERE objective IS NOT NULL ORDER BY objective {order}, id ASC LIMIT 1"
        ).fetchone()
        return _stored(r) if r else None

    def first_solution(self) -> StoredSolution | None:
        r = self.conn.execute(f"SELECT {COLUMNS} FROM solutions ORDER BY id LIMIT 1").fetchone()
        return _stored(r) if r else None

    def solution_times(self) -> list[tuple[float, float | int | None]]:
        """(Unix time found, objective) of every recorded solution, oldest first."""
        rows = self.conn.execute("SELECT found, objective FROM solutions ORDER BY found, id")
        return [(r[0], stored_number(r[1])) for r in rows]

    def move_solutions(self, solution_ids: list[int], part_id: int) -> None:
        self.conn.executemany(
            "UPDATE solutions SET part_id = ? WHERE id = ?", [(part_id, i) for i in solution_ids]
        )

    def drop_solutions(self, part_id: int, attempt: int) -> list[str]:
        """Delete the solutions an attempt of a part recorded; their output texts."""
        where = "WHERE part_id = ? AND attempt = ?"
        texts = [r[0] for r in self.conn.execute(f"SELECT output FROM solutions {where}", (part_id, attempt))]
        self.conn.execute(f"DELETE FROM solutions {where}", (part_id, attempt))
        return texts

    def delete_solutions(self, part_id: int) -> None:
        self.conn.execute("DELETE FROM solutions WHERE part_id = ?", (part_id,))
