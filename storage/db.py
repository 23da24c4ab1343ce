"""Open the SQLite file (WAL mode) and bring its schema up to date."""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import IO

from sqlite_utils import Database

from storage.migrations import MIGRATIONS
from storage.tx import transaction

log = logging.getLogger(__name__)


class StorageError(RuntimeError):
    """The database cannot be opened or migrated."""


def schema_version(db: Database) -> int:
    """The number of migrations applied to `db`."""
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: Database) -> int:
    """Apply pending migrations, each in its own transaction; return the new version."""
    version = schema_version(db)
    if version > len(MIGRATIONS):
        raise StorageError(
            f"the database was written by a newer Hebdo (schema {version}; this version "
            f"knows {len(MIGRATIONS)}): upgrade Hebdo, or restore a backup"
        )
    for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
        with transaction(db):
            # read again under the write lock: another connection opening the same new file
            # (a thread of the bot, `send` beside it) may have applied it meanwhile
            if schema_version(db) >= number:
                continue
            migration(db)
            db.execute(f"PRAGMA user_version = {number}")
        log.info("database migrated to version %d (%s)", number, migration.__doc__)
    return schema_version(db)


def check_writable(db: Database, path: str | Path) -> None:
    """Raise `StorageError` (one line naming the file) if the database cannot be written:
    a read-only file or folder, or a disk that refuses."""
    try:
        db.conn.execute("BEGIN IMMEDIATE")
        db.conn.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        raise StorageError(f"database {path} cannot be written: {exc}") from None


class InstanceLock:
    """An exclusive lock on `DATABASE.lock`, held while the bot runs: a second bot on the
    same database (which would also fight the first for Telegram's updates) stops at once."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle

    def __enter__(self) -> InstanceLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()  # closing releases the lock


def single_instance(database_path: str | Path) -> InstanceLock:
    """Take the bot's lock for this database, or raise `StorageError` naming the holder."""
    path = Path(f"{database_path}.lock")
    handle = open(path, "a+b")  # noqa: SIM115 — held for the life of the process
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read(64).decode(errors="replace").strip() or "another process"
        handle.close()
        raise StorageError(
            f"another Hebdo bot is already running on {database_path} (pid {holder}); stop it first"
        ) from None
    handle.truncate(0)
    handle.write(str(os.getpid()).encode())
    handle.flush()
    return InstanceLock(handle)


def reachable(db: Database) -> str | None:
    """None if the database answers a read, else the error (for a health check)."""
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        return str(exc)
    return None


def problems(db: Database) -> list[str]:
    """What is wrong with the file: SQLite's integrity check, the full-text index's own
    check, and items missing from the search index or index rows without an item."""
    found = [r[0] for r in db.execute("PRAGMA integrity_check").fetchall() if r[0] != "ok"]
    try:
        db.execute("INSERT INTO search_fts (search_fts) VALUES ('integrity-check')")
    except sqlite3.DatabaseError as exc:
        found.append(f"search index: {exc}")
    unindexed = db.execute(
        "SELECT count(*) FROM items WHERE id NOT IN (SELECT rowid FROM search_fts)"
    ).fetchone()[0]
    orphans = db.execute(
        "SELECT count(*) FROM search_fts WHERE rowid NOT IN (SELECT id FROM items)"
    ).fetchone()[0]
    if unindexed:
        found.append(f"{unindexed} item(s) missing from the search index")
    if orphans:
        found.append(f"{orphans} search index row(s) without an item")
    return found


BACKUPS_KEPT = 3  # automatic pre-migration copies kept beside the database


def backup(db: Database, target: str | Path) -> Path:
    """A consistent copy of `db` at `target` (SQLite's online backup: writers may go on),
    written beside it under a temporary name and renamed into place; return its path."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    # a name of its own: connections opening the file at once may each copy it
    partial = target.with_name(f".{target.name}.{os.getpid()}-{threading.get_ident()}.partial")
    copy = sqlite3.connect(str(partial))
    try:
        db.conn.backup(copy, pages=1024)
        copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
    finally:
        copy.close()
    os.replace(partial, target)
    return target


def _keep_newest(path: Path, kept: int) -> None:
    """Remove all but the `kept` newest automatic copies of the database at `path`."""
    copies = sorted(path.parent.glob(f"{path.name}.v*.bak"), key=lambda p: p.stat().st_mtime)
    for old in copies[:-kept]:
        old.unlink(missing_ok=True)


def open_db(path: str | Path, *, check_same_thread: bool = True) -> Database:
    """Open (creating if needed) the database at `path`, in WAL mode, fully migrated."""
    path = Path(path)
    try:
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=check_same_thread, timeout=30)
        db = Database(conn)
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA busy_timeout = 30000")
        if str(path) != ":memory:":
            db.enable_wal()
        db.execute("PRAGMA synchronous = NORMAL")
        # search reads a few hundred scattered pages a query: keep them (32 MB a connection)
        # and read the file through a memory map rather than one system call a page
        db.execute("PRAGMA cache_size = -32768")
        db.execute("PRAGMA mmap_size = 268435456")
        version = schema_version(db)
        if str(path) != ":memory:" and 0 < version < len(MIGRATIONS):
            saved = backup(db, path.with_name(f"{path.name}.v{version}.bak"))
            log.info("database backed up to %s before migrating from version %d", saved, version)
            _keep_newest(path, BACKUPS_KEPT)
        migrate(db)
    except StorageError as exc:
        raise StorageError(f"cannot open database {path}: {exc}") from None
    except (sqlite3.DatabaseError, OSError) as exc:
        raise StorageError(f"cannot open database {path}: {exc}") from exc
    return db
