"""The Journal's SQLite database: its schema, how it is opened, and its transactions.

A ``Store`` owns the connection. It opens a journal writable (WAL mode, creating and migrating
the schema), read-only, or, when its directory is not writable either, as immutable; checks its
integrity; and makes sure it belongs to the plan being opened. Its transactions are BEGIN
IMMEDIATE, so one process writes at a time, and hold Ctrl-C and SIGTERM until they have committed.
The run state kept in it is read and written by the Journal (``run/journal.py``).
"""

from __future__ import annotations

import _signal  # signal.signal without the enum conversion of the handler it returns (see _swap)
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from modelsplit.errors import PlanError

# the journal's format (SQLite's user_version): 2 since batches keep their texts compressed; 0 is
# every version before it, which this one reads and migrates. A newer format is refused.
FORMAT = 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS parts (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    state TEXT NOT NULL,
    status TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    n_solutions INTEGER NOT NULL DEFAULT 0,
    objective REAL,
    bound REAL,
    started REAL,
    finished REAL,
    elapsed REAL,
    error TEXT,
    cpu REAL,
    worker TEXT,
    searched TEXT
);
CREATE TABLE IF NOT EXISTS solutions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    part_id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    objective REAL,
    vals TEXT NOT NULL,
    output TEXT NOT NULL,
    found REAL NOT NULL,
    n INTEGER NOT NULL DEFAULT 1,
    sizes TEXT
);
CREATE INDEX IF NOT EXISTS solutions_part ON solutions(part_id);
CREATE TABLE IF NOT EXISTS subparts (
    id INTEGER PRIMARY KEY,
    parent INTEGER NOT NULL,
    depth INTEGER NOT NULL,
    cube TEXT NOT NULL,
    mzn TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    part_id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    worker TEXT,
    started REAL,
    finished REAL,
    state TEXT NOT NULL,
    cpu REAL
);
CREATE TABLE IF NOT EXISTS exports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    part_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    bundle TEXT NOT NULL,
    exported REAL NOT NULL,
    replica TEXT
);
CREATE TABLE IF NOT EXISTS collected (
    sha256 TEXT PRIMARY KEY,
    part_id INTEGER NOT NULL,
    file TEXT NOT NULL,
    state TEXT NOT NULL,
    collected REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS replica_results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    part_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    replica TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    file TEXT NOT NULL,
    status TEXT NOT NULL,
    n_solutions INTEGER NOT NULL,
    objective REAL,
    collected REAL NOT NULL
);
"""

Seed = Callable[[sqlite3.Connection], None]  # fills a new journal, inside its first transaction


def _unwritable(path: Path, exc: Exception) -> PlanError:
    where = path.parent
    if not os.access(where, os.W_OK) or "readonly" in str(exc) or "read-only" in str(exc):
        return PlanError(
            f"cannot write the journal in {where} (read-only?): copy the plan directory somewhere "
            "writable and solve it there"
        )
    if _io_error(exc):
        return not_written(path, exc)
    return PlanError(f"cannot open the journal {path} ({exc}); check the plan directory's permissions")


def not_written(path: Path, exc: Exception) -> PlanError:
    """The journal could not be written (an I/O error, most often a full disk): what was
    committed before is intact, and a new run resumes from it."""
    return PlanError(
        f"cannot write the journal {path} ({exc}): is the disk full? Make room, then run "
        "`modelsplit solve` again: it resumes from what was recorded"
    )


def _io_error(exc: Exception) -> bool:
    """The error of a write that the disk refused (full, or failing)."""
    text = str(exc).lower()
    return "disk" in text or "full" in text or "i/o" in text


def _damaged(path: Path, exc: Exception, hint: str = "") -> PlanError:
    what = " ".join(str(exc).split())
    return PlanError(f"the journal {path} is damaged ({what}); move it away to run the plan afresh{hint}")


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a journal written by an earlier version up to this schema (additive only)."""
    columns = {r[1] for r in conn.execute("PRAGMA table_info(parts)")}
    if "worker" not in columns:
        conn.execute("ALTER TABLE parts ADD COLUMN worker TEXT")
    if "searched" not in columns:  # where a stopped lexicographic search got to
        conn.execute("ALTER TABLE parts ADD COLUMN searched TEXT")
    if "cpu" not in {r[1] for r in conn.execute("PRAGMA table_info(runs)")}:
        conn.execute("ALTER TABLE runs ADD COLUMN cpu REAL")
    if "replica" not in {r[1] for r in conn.execute("PRAGMA table_info(exports)")}:
        conn.execute("ALTER TABLE exports ADD COLUMN replica TEXT")  # exports made in replicas
    if "n" not in {r[1] for r in conn.execute("PRAGMA table_info(solutions)")}:  # batches
        conn.execute("ALTER TABLE solutions ADD COLUMN n INTEGER NOT NULL DEFAULT 1")
        conn.execute("ALTER TABLE solutions ADD COLUMN sizes TEXT")
    if conn.execute("PRAGMA user_version").fetchone()[0] != FORMAT:  # a journal at hand is left as it is
        conn.execute(f"PRAGMA user_version = {FORMAT}")


def _connect(path: Path, readonly: bool) -> sqlite3.Connection:
    """A connection to the journal: writable in WAL mode, read-only, or immutable.

    A read-only journal in a directory that is not writable is read as immutable, since SQLite
    could not make the WAL files it needs even to read.
    """
    if not readonly:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            _refuse_foreign(conn)  # before WAL mode, which would change its header
        except sqlite3.DatabaseError:
            conn.close()
            raise
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn
    uri = path.resolve().as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    if not os.access(path.parent, os.W_OK):
        conn.close()
        conn = sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None, check_same_thread=False)
    return conn


def read_only(path: Path) -> sqlite3.Connection:
    """A connection that only reads the journal ``path`` (an answer reads its solutions with one
    while a later run of the plan may write); PlanError when the journal is gone."""
    if not path.is_file():
        raise PlanError(f"the journal {path} is gone: its plan was moved or removed")
    try:
        conn = _connect(path, readonly=True)
        _check_format(conn, path)
        return conn
    except sqlite3.Error as exc:
        raise _damaged(path, exc) from exc


def _check_format(conn: sqlite3.Connection, path: Path) -> None:
    """PlanError (the connection closed) if the journal's format is newer than this version's."""
    found = conn.execute("PRAGMA user_version").fetchone()[0]
    if found > FORMAT:
        conn.close()
        raise PlanError(
            f"the journal {path} was written by a newer modelsplit (journal format {found}, this "
            f"version reads up to {FORMAT}); upgrade modelsplit to run or read this plan"
        )


def _refuse_foreign(conn: sqlite3.Connection) -> None:
    """Another program's database (tables, none of them meta) is never taken for a journal, nor
    changed: DatabaseError, so that it is refused as damaged with one line."""
    tables = sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
    if tables and "meta" not in tables:
        raise sqlite3.DatabaseError(f"not a modelsplit journal: it holds the tables {', '.join(tables)}")


def _prepare(conn: sqlite3.Connection, readonly: bool) -> None:
    """Check the journal's integrity; bring a writable one to this schema."""
    check = conn.execute("PRAGMA quick_check").fetchone()
    if check is None or check[0] != "ok":
        found = " ".join(str(check[0]).replace("*** in database main ***", "").split()) if check else "?"
        raise sqlite3.DatabaseError(f"integrity check failed: {found}")  # one line, however many SQLite gave
    _refuse_foreign(conn)
    if readonly:  # nothing may be added: the tables every reader needs must be there
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = [t for t in ("parts", "solutions", "subparts") if t not in tables]
        if missing:
            raise sqlite3.DatabaseError(f"it has no table {missing[0]}")
    if not readonly:
        conn.executescript(SCHEMA)
        _migrate(conn)


class Store:
    """The open journal database of one plan: its connection, meta values and transactions."""

    def __init__(self, path: Path, conn: sqlite3.Connection):
        self.path = path
        self.conn = conn
        # journals written before parts had a worker column, or runs a table, open all the same
        self.columns = {r[1] for r in conn.execute("PRAGMA table_info(parts)")}
        self.run_columns = {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
        self.tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        self._tx_depth = 0  # transactions open in one another (only the outermost commits)
        # the error of a write that failed: from then on the journal is behind what its writer
        # holds in memory, and any later write (a smaller one may fit on a full disk) could
        # record a state that never was, e.g. a part done without the solutions that were lost
        self.broken: sqlite3.Error | None = None

    @classmethod
    def open(cls, path: str | Path, plan_id: str, seed: Seed, *, readonly: bool = False) -> Store:
        """Open (creating if needed) the journal of plan ``plan_id``; ``seed`` fills a new one.

        ``readonly`` opens an existing journal without writing (for `status` on a read-only plan).
        """
        path = Path(path)
        try:
            conn = _connect(path, readonly)
            _check_format(conn, path)
            _prepare(conn, readonly)
        except sqlite3.OperationalError as exc:
            raise _unwritable(path, exc) from exc
        except sqlite3.DatabaseError as exc:
            raise _damaged(path, exc, " (the plan itself is intact)") from exc
        store = cls(path, conn)
        store._claim(plan_id, seed, readonly)
        return store

    def _claim(self, plan_id: str, seed: Seed, readonly: bool) -> None:
        """Make sure the journal is this plan's: a new one is marked as such and seeded."""
        try:
            known = self.meta("plan_id")
        except sqlite3.DatabaseError as exc:
            raise _damaged(self.path, exc) from exc
        if known is None and not readonly:
            with self.transaction():
                self.set_meta("plan_id", plan_id)
                self.set_meta("created", str(time.time()))
                seed(self.conn)
        elif known is not None and known != plan_id:
            raise PlanError(
                f"the journal {self.path} belongs to another plan ({known}, not {plan_id}); "
                "move it away to start this plan's run afresh"
            )

    def close(self) -> None:
        self.conn.close()

    def transaction(self) -> Transaction:
        return Transaction(self)

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


def _swap(signum: int, handler) -> object:
    """Install ``handler`` for ``signum``; the handler it replaces. As ``signal.signal``, whose
    conversion of the returned handler to an enum costs 20 times the swap itself: a transaction
    swaps two handlers in and out, and a run with thousands of parts makes thousands of them."""
    return _signal.signal(int(signum), handler)


class Transaction:
    """BEGIN IMMEDIATE … COMMIT (ROLLBACK on an exception), safe against Ctrl-C and SIGTERM.

    In the main thread, SIGINT and SIGTERM that arrive inside the transaction are held until
    it has committed and then raised as usual (KeyboardInterrupt), so a stop never leaves a
    transaction open. A transaction left open all the same (an interrupt between BEGIN and
    the block, in code that did not hold signals) is rolled back before a new one begins,
    instead of failing with "cannot start a transaction within a transaction". A transaction
    opened inside another is part of it: only the outermost one commits.

    A transaction that could not commit, or whose block failed on a write, leaves the Store
    ``broken``: every later one raises the same "cannot write the journal" PlanError at once,
    so that a writer whose state in memory went past the journal records nothing more, and
    the next run resumes from what was committed.
    """

    HELD = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, store: Store):
        self.store = store
        self.conn = store.conn
        self.outer = False  # this one began the transaction (not nested in another)
        self.pending: list[int] = []
        self.saved: dict[int, object] = {}

    def _hold(self, signum, frame) -> None:
        self.pending.append(signum)

    def __enter__(self):
        if self.store.broken is not None:  # nothing more is written once a write failed
            raise not_written(self.store.path, self.store.broken)
        if self.store._tx_depth:  # nested: part of the transaction already open
            self.store._tx_depth += 1
            return
        try:
            if threading.current_thread() is threading.main_thread():
                for signum in self.HELD:
                    self.saved[signum] = _swap(signum, self._hold)
            if self.conn.in_transaction:  # left open by an interrupted run: it never committed
                self.conn.execute("ROLLBACK")
            self.conn.execute("BEGIN IMMEDIATE")
            self.outer = True
            self.store._tx_depth = 1
        except BaseException:
            self._release()
            raise

    def __exit__(self, exc_type, exc, tb):
        self.store._tx_depth -= 1
        if not self.outer:
            return
        try:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK" if exc_type else "COMMIT")
        except sqlite3.OperationalError as err:  # not committed (or committed, but its checkpoint failed)
            if exc_type is None:
                self.store.broken = err
                raise not_written(self.store.path, err) from err
        finally:
            self._release()
        if isinstance(exc, sqlite3.OperationalError):  # a write inside it failed: rolled back
            self.store.broken = exc
            if _io_error(exc):
                raise not_written(self.store.path, exc) from exc

    def _release(self) -> None:
        saved, self.saved = self.saved, {}
        for signum, handler in saved.items():
            _swap(signum, handler)
        pending, self.pending = self.pending, []
        for signum in pending:
            handler = saved.get(signum)
            if callable(handler):
                handler(signum, None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(signum)
