"""Schema, migrations and WAL on a real file."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from storage import open_db
from storage.db import MIGRATIONS, StorageError, schema_version

TABLES = {
    "bulletins", "sections", "items", "search_fts", "search_meta", "subscribers", "follows", "digests",
    "outbox", "feeds", "audit_log",
}  # fmt: skip


def test_fresh_database_is_migrated_in_wal(db_path: Path) -> None:
    db = open_db(db_path)
    assert set(db.table_names()) >= TABLES
    assert schema_version(db) == len(MIGRATIONS)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    db.close()


def test_reopening_is_a_no_op(db_path: Path) -> None:
    db = open_db(db_path)
    db.execute("INSERT INTO audit_log (at, action) VALUES ('now', 'test')")
    schema = db.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    db.close()
    db = open_db(db_path)
    assert db.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == schema
    assert db.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 1
    db.close()


def test_connections_opening_a_fresh_database_at_once_migrate_it_once(db_path: Path) -> None:
    """The bot's threads, or `send` started beside the bot, open a new file together: each
    migration is applied once, by whichever holds the write lock first; the others see the
    version it wrote instead of failing on "table already exists"."""
    with ThreadPoolExecutor(6) as pool:
        opened = list(pool.map(lambda _: open_db(db_path, check_same_thread=False), range(6)))
    assert {schema_version(db) for db in opened} == {len(MIGRATIONS)}
    for db in opened:
        db.close()


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match="cannot open database"):
        open_db(path)
    assert path.read_bytes() == b"this is not sqlite" * 100


@pytest.mark.wall_clock
def test_concurrent_writer_does_not_lose_a_bulletin(db_path: Path) -> None:
    """Another connection writes while we are between our duplicate check and our insert:
    it waits for our write lock (BEGIN IMMEDIATE) instead of invalidating our read, and
    both bulletins are stored."""
    import threading

    from bot.ingest import Limits, Submission, prepare
    from storage.bulletins import insert_bulletin

    first = open_db(db_path)
    second = open_db(db_path, check_same_thread=False)
    a = prepare(
        Submission("file", "a.txt", text="Bilan A\n\nLes frappes continuent à Kyiv."), Limits()
    )
    b = prepare(
        Submission("file", "b.txt", text="Bilan B\n\nUn accord est signé à Londres."), Limits()
    )
    original = first.execute
    other = threading.Thread(target=insert_bulletin, args=(second, b))

    def interleaved(sql: str, params: object = None) -> object:
        result = original(sql, params) if params is not None else original(sql)  # type: ignore[arg-type]
        if (
            sql.startswith("SELECT id, source FROM bulletins WHERE content_hash")
            and other.ident is None
        ):
            other.start()  # writes while `first` holds its transaction
        return result

    first.execute = interleaved  # type: ignore[method-assign]
    insert_bulletin(first, a)
    other.join(timeout=30)
    titles = sorted(r[0] for r in first.conn.execute("SELECT title FROM bulletins"))
    assert titles == ["Bilan A", "Bilan B"]
    first.close()
    second.close()


def test_editions_migration_keeps_what_version_1_digests_covered(db_path: Path) -> None:
    import json
    import sqlite3

    from sqlite_utils import Database

    from storage.db import migrate

    old = Database(sqlite3.connect(str(db_path)))
    for number, migration in enumerate(MIGRATIONS[:7], start=1):  # a database before editions
        migration(old)
        old.execute(f"PRAGMA user_version = {number}")
    for n, day in ((1, "2025-07-11"), (2, "2025-07-18")):
        old.execute(
            "INSERT INTO bulletins (id, source, title, published_at, language, raw_text, "
            "clean_text, content_hash, created_at) VALUES (?, 'file', 't', ?, 'fr', 'x', 'x', ?, ?)",
            [n, f"{day}T12:00:00+00:00", f"h{n}", day],
        )
    payload = {"start": "2025-07-07", "end": "2025-07-13", "items": []}
    old.execute(
        "INSERT INTO digests (id, week, language, title, payload, created_at) "
        "VALUES (1, '2025-W28', 'fr', 'S', ?, 'x'), (2, '2025-W27', 'fr', 'S', ?, 'x')",
        [json.dumps(payload), json.dumps({**payload, "start": "2025-06-30", "end": "2025-07-06"})],
    )
    # two digest rows of one chat in one week (a manual send, then the slot), and another chat
    for row, (digest, chat, at) in enumerate(
        ((2, 7, "2025-07-07T08:00:00+00:00"), (1, 7, "2025-07-12T07:00:00+00:00"),
         (1, 8, "2025-07-12T07:00:00+00:00")), start=1,
    ):  # fmt: skip
        old.execute(
            "INSERT INTO outbox (id, kind, content_id, chat_id, status, attempts, created_at, "
            "sent_at) VALUES (?, 'digest', ?, ?, 'sent', 1, ?, ?)",
            [row, digest, chat, at, at],
        )
    old.conn.commit()
    migrate(old)
    assert schema_version(old) == len(MIGRATIONS)
    periods = old.execute("SELECT chat_id, period, cut_at FROM outbox ORDER BY id").fetchall()
    assert periods == [(7, "2025-W28", "2025-07-07T08:00:00+00:00"),
                       (7, "2025-W28/2", "2025-07-12T07:00:00+00:00"),
                       (8, "2025-W28", "2025-07-12T07:00:00+00:00")]  # fmt: skip
    assert old.execute("SELECT * FROM digest_bulletins").fetchall() == [(1, 1)]
    old.close()


def test_backup_while_writes_go_on(db_path: Path, tmp_path: Path) -> None:
    """An online copy taken while another connection keeps writing passes the checks."""
    import sqlite3
    import threading

    from storage.db import backup, problems

    db = open_db(db_path)
    stop = threading.Event()
    writes = [0]

    def keep_writing() -> None:
        writer = open_db(db_path, check_same_thread=False)
        while not stop.is_set():
            writer.execute("INSERT INTO audit_log (at, action) VALUES ('now', 'write')")
            writes[0] += 1
        writer.close()

    worker = threading.Thread(target=keep_writing)
    worker.start()
    try:
        while writes[0] < 50:  # the writer is busy before the copy starts…
            stop.wait(0.001)
        copy = backup(db, tmp_path / "copy.db")
        during = writes[0]
    finally:
        stop.set()
        worker.join()
    assert during >= 50  # it was writing while the copy was taken
    assert sqlite3.connect(copy).execute("PRAGMA journal_mode").fetchone() == ("delete",)
    restored = open_db(copy)
    assert problems(restored) == []
    assert restored.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert 0 < restored.execute("SELECT count(*) FROM audit_log").fetchone()[0] <= writes[0]
    restored.close()
    db.close()


def test_a_copy_is_taken_before_migrating(db_path: Path) -> None:
    import sqlite3

    from sqlite_utils import Database

    from storage.db import BACKUPS_KEPT

    old = Database(sqlite3.connect(str(db_path)))
    for number, migration in enumerate(MIGRATIONS[:8], start=1):
        migration(old)
        old.execute(f"PRAGMA user_version = {number}")
    old.conn.commit()
    old.close()
    db = open_db(db_path)
    assert schema_version(db) == len(MIGRATIONS)
    db.close()
    copy = db_path.with_name(f"{db_path.name}.v8.bak")
    assert sqlite3.connect(copy).execute("PRAGMA user_version").fetchone() == (8,)
    open_db(db_path).close()  # up to date: no new copy
    assert len(list(db_path.parent.glob("*.bak"))) == 1 <= BACKUPS_KEPT


@pytest.mark.wall_clock
def test_check_finds_an_index_out_of_step(db_path: Path) -> None:
    from bot.ingest import Limits, Submission, ingest
    from storage.db import problems

    db = open_db(db_path)
    ingest(db, Submission("file", "a.txt", text="Bilan A\n\nKyiv a tenu. Odessa aussi."), Limits())
    assert problems(db) == []
    db.execute("DELETE FROM search_fts WHERE rowid = (SELECT min(id) FROM items)")
    assert problems(db) == ["1 item(s) missing from the search index"]
    db.close()


def test_a_commit_that_fails_leaves_no_transaction_open(db_path: Path) -> None:
    from storage.tx import transaction

    db = open_db(db_path)
    db.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    db.execute(
        "CREATE TABLE child (id INTEGER PRIMARY KEY, "
        "parent_id INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)"
    )
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"), transaction(db):
        db.execute("INSERT INTO child (id, parent_id) VALUES (1, 99)")  # checked only at COMMIT
    assert not db.conn.in_transaction
    with transaction(db):
        db.execute("INSERT INTO parent (id) VALUES (1)")
    assert db.execute("SELECT count(*) FROM child").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM parent").fetchone()[0] == 1
    db.close()


def test_a_failed_savepoint_undoes_its_own_writes_only(tmp_path: Path) -> None:
    """Nested transactions are savepoints of one name: a failure at any depth undoes that
    depth's writes, the enclosing ones go on and commit."""
    from storage.tx import transaction

    db = open_db(tmp_path / "t.db")
    db.execute("CREATE TABLE t (v TEXT)")
    with transaction(db):
        db.execute("INSERT INTO t VALUES ('outer')")
        with transaction(db):
            db.execute("INSERT INTO t VALUES ('middle')")
            with pytest.raises(ZeroDivisionError), transaction(db):
                db.execute("INSERT INTO t VALUES ('inner')")
                raise ZeroDivisionError
            db.execute("INSERT INTO t VALUES ('middle, after')")
        with pytest.raises(KeyError), transaction(db):
            db.execute("INSERT INTO t VALUES ('second')")
            with transaction(db):
                db.execute("INSERT INTO t VALUES ('second, inner')")
            raise KeyError("second")
        db.execute("INSERT INTO t VALUES ('outer, after')")
    assert not db.conn.in_transaction
    assert [r[0] for r in db.execute("SELECT v FROM t ORDER BY rowid")] == [
        "outer", "middle", "middle, after", "outer, after"]  # fmt: skip
    db.close()
