"""Bulk ingestion (`ingest --bulk`): the same outcomes as file by file, on a real database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.cli import main
from bot.ingest import Limits, expand_paths, ingest_paths
from bot.ingest.bulk import ingest_bulk
from storage import open_db
from tests.conftest import SAMPLES, table_counts

ITEMS = "SELECT b.title, b.language, b.published_at, i.seq, i.text, i.headline_rank " \
        "FROM bulletins b JOIN items i ON i.bulletin_id = b.id ORDER BY b.id, i.seq"  # fmt: skip
STORIES = "SELECT bulletin_id, story_id FROM story_members ORDER BY bulletin_id"


def archive_folder(root: Path) -> list[Path]:
    """The samples, a copy of one, and files each refused for its own reason, mixed."""
    root.mkdir()
    samples = sorted(expand_paths([SAMPLES]))
    for n in range(12):
        (root / f"2025-08-{n + 1:02d}-bilan-{n}.txt").write_text(
            f"Bilan {n}\n\nDes drones ont frappé Odesa pendant {n + 2} heures. "
            f"La défense antiaérienne a abattu {n + 5} drones au-dessus de Kyiv."
        )
    (root / "2025-07-12-copie.txt").write_bytes(samples[0].read_bytes())
    (root / "empty.txt").write_bytes(b"")
    (root / "notes.pdf").write_bytes(b"%PDF-1.4 not a bulletin")
    (root / "binary.txt").write_bytes(bytes(range(256)) * 40)
    return [*samples, *sorted(root.iterdir())]


def test_bulk_gives_what_file_by_file_gives(tmp_path: Path, limits: Limits) -> None:
    paths = archive_folder(tmp_path / "in")
    one = open_db(tmp_path / "one.db")
    many = open_db(tmp_path / "many.db")
    by_file = ingest_paths(one, paths, limits, known_suffix=True)
    seen: list[tuple[Path, str]] = []
    bulk = ingest_bulk(many, paths, limits, known_suffix=True, batch=4, workers=2,
                       on_done=lambda p, o: seen.append((p, o.status)))  # fmt: skip
    assert [(o.name, o.status, o.bulletin_id, o.reason) for o in bulk.outcomes] == [
        (o.name, o.status, o.bulletin_id, o.reason) for o in by_file.outcomes
    ]
    assert bulk.summary() == by_file.summary() == "added 15, duplicates 1, rejected 3"
    assert seen == [(p, o.status) for p, o in zip(paths, by_file.outcomes, strict=True)]
    assert table_counts(many) == table_counts(one)
    assert many.execute(ITEMS).fetchall() == one.execute(ITEMS).fetchall()
    assert many.execute(STORIES).fetchall() == one.execute(STORIES).fetchall()


def test_a_bulletin_the_database_refuses_leaves_the_rest_of_its_batch(
    db: Database, tmp_path: Path, limits: Limits
) -> None:
    paths = archive_folder(tmp_path / "in")
    db.execute("CREATE TEMP TRIGGER refuse BEFORE INSERT ON bulletins WHEN NEW.title = 'Bilan 3' "
               "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")  # fmt: skip
    report = ingest_bulk(db, paths, limits, known_suffix=True, batch=64)
    refused = [o for o in report.outcomes if o.reason and "refused by the test" in o.reason]
    assert [o.status for o in refused] == ["rejected"]
    assert report.count("added") == 14  # the 15 less the one refused, in the same batch
    titles = {t for (t,) in db.execute("SELECT title FROM bulletins")}
    assert "Bilan 3" not in titles and {"Bilan 2", "Bilan 4"} <= titles
    assert db.execute("SELECT count(*) FROM items i LEFT JOIN bulletins b ON b.id = "
                      "i.bulletin_id WHERE b.id IS NULL").fetchone()[0] == 0  # fmt: skip


def test_the_database_failing_stops_the_import_and_keeps_the_batches_before(
    tmp_path: Path, limits: Limits
) -> None:
    paths = archive_folder(tmp_path / "in")
    db = open_db(tmp_path / "bulk.db")
    inserted = 0

    def disk() -> None:  # the 10th bulletin's write fails as the database's own error would
        nonlocal inserted
        inserted += 1
        if inserted >= 10:
            raise OSError("disk full")  # sqlite3 reports it as an OperationalError

    db.conn.create_function("disk", 0, disk)
    db.execute("CREATE TEMP TRIGGER full BEFORE INSERT ON bulletins BEGIN SELECT disk(); END")
    with pytest.raises(sqlite3.OperationalError):
        ingest_bulk(db, paths, limits, known_suffix=True, batch=4)
    assert not db.conn.in_transaction
    # batches of 4: the 3 samples and the copy of one, then Bilan 0-3, are kept; the third
    # batch, whose third insert failed, is rolled back whole (Bilan 4 and 5 with it)
    assert db.execute("SELECT count(*) FROM bulletins").fetchone()[0] == 7
    assert db.execute("SELECT count(*) FROM story_members").fetchone()[0] == 7
    assert db.execute("SELECT max(title) FROM bulletins WHERE title LIKE 'Bilan _'").fetchone() == (
        "Bilan 3",
    )


def test_cli_ingest_bulk_prints_what_ingest_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = archive_folder(tmp_path / "in")
    monkeypatch.chdir(tmp_path)
    printed = []
    for n, extra in enumerate(([], ["--bulk"])):
        monkeypatch.setenv("DATABASE_PATH", str(tmp_path / f"cli{n}.db"))
        assert main(["ingest", *map(str, paths), *extra]) == 1  # some were rejected
        printed.append(capsys.readouterr().out)
    assert printed[0] == printed[1]
    assert printed[1].splitlines()[-1] == "added 15, duplicates 1, rejected 3"


def _children() -> list[int]:
    """This process's child processes (Linux: /proc)."""
    pids: list[int] = []
    for task in Path("/proc/self/task").iterdir():
        pids += [int(p) for p in (task / "children").read_text().split()]
    return pids


def test_a_worker_killed_mid_import_stops_it_instead_of_hanging(
    tmp_path: Path, limits: Limits
) -> None:
    """A worker dying (the kernel's out-of-memory killer, an operator's kill) while it holds
    files of the next batch: the import raises at once; the batches stored before stay."""
    import os
    import signal
    import threading
    from concurrent.futures.process import BrokenProcessPool

    paths = archive_folder(tmp_path / "in")
    db = open_db(tmp_path / "bulk.db", check_same_thread=False)
    before = set(_children())
    outcome: list[BaseException | None] = []

    def killed_after_the_first_batch(_source: object, _outcome: object) -> None:
        if not outcome:
            outcome.append(None)
            for pid in set(_children()) - before:  # the pool's workers
                os.kill(pid, signal.SIGKILL)

    def run() -> None:
        try:
            ingest_bulk(db, paths, limits, known_suffix=True, batch=4, workers=2,
                        on_done=killed_after_the_first_batch)  # fmt: skip
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the import waited for ever for a dead worker"
    assert isinstance(outcome[-1], BrokenProcessPool)
    # whole batches only: the first (3 new and a copy), and the second if its files were
    # prepared before the kill
    assert db.execute("SELECT count(*) FROM bulletins").fetchone()[0] in (3, 7)
