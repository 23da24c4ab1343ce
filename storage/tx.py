"""Write transactions that take SQLite's write lock first.

A deferred `BEGIN` (what `Database.atomic()` issues) reads before it writes; in WAL mode,
when another connection commits in between, SQLite refuses the upgrade at once with
SQLITE_BUSY_SNAPSHOT ("database is locked") instead of waiting. `BEGIN IMMEDIATE` takes
the write lock up front, so a second process (a cron `send` beside the bot) simply waits
its turn (`busy_timeout`). Nested use becomes a savepoint.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlite_utils import Database


@contextlib.contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """One write transaction (a savepoint inside another)."""
    if db.conn.in_transaction:
        with _savepoint(db):
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
        db.conn.execute("COMMIT")
    except BaseException:
        # Also a COMMIT that fails (disk full, busy): never leave the connection
        # inside a half-done transaction that the next caller would join.
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise


SAVEPOINT = "hebdo_savepoint"


@contextlib.contextmanager
def _savepoint(db: Database) -> Iterator[None]:
    """A savepoint, under one name at every depth: SQLite rolls back to, and releases, the
    innermost of that name, and the three statements are prepared once and reused (the
    random name of sqlite-utils' `atomic` made SQLite compile them again each time: a tenth
    of a bulk import's time, where each bulletin and each of its story's reports has one)."""
    conn = db.conn
    conn.execute(f"SAVEPOINT {SAVEPOINT}")
    try:
        yield
    except BaseException:
        # an error such as a RAISE(ROLLBACK) trigger can end the whole transaction:
        # there is then no savepoint to go back to
        if conn.in_transaction:
            conn.execute(f"ROLLBACK TO {SAVEPOINT}")
            conn.execute(f"RELEASE {SAVEPOINT}")
        raise
    else:
        conn.execute(f"RELEASE {SAVEPOINT}")
