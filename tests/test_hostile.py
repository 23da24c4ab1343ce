"""A hostile inbox mixed with good files: every good file is ingested, every bad one lands in
rejected/ with its reason, nothing is read that the operator did not put there, and the
database stays whole. The corpus is generated here."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.ingest import Limits, ingest_inbox
from storage.db import problems
from tests.conftest import SAMPLES

GOOD = sorted(SAMPLES.iterdir())
SECRET = "TELEGRAM_BOT_TOKEN=123456:very-secret-token-do-not-publish"


def write(name: str | bytes, data: bytes) -> Callable[[Path], str]:
    def make(inbox: Path) -> str:
        path = os.path.join(os.fsencode(inbox), name if isinstance(name, bytes) else name.encode())
        with open(path, "wb") as handle:
            handle.write(data)
        return os.fsdecode(os.path.basename(path))

    return make


def symlink_to_secret(inbox: Path) -> str:
    secret = inbox.parent / "env"
    secret.write_text(SECRET, encoding="utf-8")
    (inbox / "secrets.txt").symlink_to(secret)
    return "secrets.txt"


def fifo(inbox: Path) -> str:
    os.mkfifo(inbox / "pipe.txt")
    return "pipe.txt"


def dangling(inbox: Path) -> str:
    (inbox / "gone.txt").symlink_to(inbox / "nowhere.txt")
    return "gone.txt"


HOSTILE: dict[str, tuple[Callable[[Path], str], str]] = {
    "html that trips the parser": (write("2025-07-02-bad.html", b"<h1>T</h1><p>x.</p><![<!["), "could not be processed"),
    "a file named done": (write("done", b"x"), "unsupported file type"),
    "a file named rejected": (write("rejected", b"x"), "unsupported file type"),
    "a name that is not UTF-8": (write(b"caf\xe9.bin", b"x"), "unsupported file type"),
    "a link to a secret": (symlink_to_secret, "not a regular file: a symbolic link"),
    "a named pipe": (fifo, "not a regular file: a named pipe"),
    "a dangling link": (dangling, "not a regular file: a symbolic link"),
    "empty": (write("2025-07-03-empty.txt", b""), "empty"),
    "binary": (write("2025-07-03-bin.txt", bytes(range(256)) * 40), ""),
    "too big": (write("2025-07-03-big.txt", b"a. " * 400_000), "too large"),
    "scripts only": (write("2025-07-03-js.html", b"<script>alert(1)</script>" * 50), "empty"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(HOSTILE), ids=list(HOSTILE))
def test_one_bad_file_among_good_ones(tmp_path: Path, db: Database, case: str) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    make, reason = HOSTILE[case]
    bad_name = make(inbox)
    for good in GOOD:
        (inbox / good.name).write_bytes(good.read_bytes())
    report = ingest_inbox(db, inbox, Limits(max_bytes=1_000_000))
    assert report.count("added") == len(GOOD)
    assert sorted(os.listdir(inbox / "done")) == [g.name for g in GOOD]
    rejected = os.listdir(inbox / "rejected")
    reasons = [n for n in rejected if n.endswith(".reason.txt")]
    assert len(reasons) == 1, rejected
    assert reason in (inbox / "rejected" / reasons[0]).read_text(encoding="utf-8")
    assert bad_name in {os.fsdecode(n) for n in rejected} or any(
        n.startswith(("done.stray", "rejected.stray")) for n in rejected
    )
    assert {n for n in os.listdir(inbox)} <= {"done", "rejected"}  # nothing left behind
    assert problems(db) == []
    secret = db.execute("SELECT count(*) FROM bulletins WHERE raw_text LIKE '%very-secret%'")
    assert secret.fetchone() == (0,)


def test_every_hostile_file_at_once(tmp_path: Path, db: Database) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for make, _reason in HOSTILE.values():
        make(inbox)
    (inbox / "notes").mkdir()  # an operator's folder is left alone
    for good in GOOD:
        (inbox / good.name).write_bytes(good.read_bytes())
    report = ingest_inbox(db, inbox, Limits(max_bytes=1_000_000))
    assert report.count("added") == len(GOOD)
    assert report.count("rejected") == len(HOSTILE)
    assert sorted(os.listdir(inbox)) == ["done", "notes", "rejected"]
    assert problems(db) == []
    again = ingest_inbox(db, inbox, Limits(max_bytes=1_000_000))  # nothing left to do
    assert again.outcomes == []
