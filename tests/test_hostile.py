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
    "unclosed tags": (write("2025-07-03-attrs.html", b"<p>" + b"<a b=" * 20_000), "empty"),
    "250,000 tiny paragraphs": (write("2025-07-03-tiny.txt", b"Ab cd.\n\n" * 120_000), "too many sentences"),
    "200,000 headings": (write("2025-07-03-heads.md", b"# h\n" * 200_000), "too many headings"),
    "80,000 html headings": (write("2025-07-03-h2.html", b"<h2>a b</h2>" * 80_000), "too many headings"),
    "100,000 heading lines": (write("2025-07-03-heads.txt", b"Ab cd\n\n" * 100_000), "too many headings"),
}  # fmt: skip

# Inputs that took quadratic time: they are bulletins like any other now (about 100 KB each)
SLOW_ONCE = {
    "runs of '.'": b"Titre\n\n" + b"." * 100_000,
    "'a' lines": b"a\n" * 50_000,
    "markdown '['": b"# T\n\nKyiv. " + b"[" * 100_000,
    "markdown '*'": b"# T\n\nKyiv. " + b"*a " * 30_000,
    "html comments": b"<p>Kyiv.</p>" + b"<!--" * 25_000,
    "abbreviations": b"Titre\n\n" + b"M. " * 30_000,
    "markdown heading of '#'": b"# a" + b"#" * 100_000 + b"x\n\nKyiv. Texte.",
    "markdown rule of '*'": b"# T\n\nKyiv.\n\n" + b"*" * 100_000 + b"\n\nOdesa.",
    "markdown rule of '- '": b"# T\n\nKyiv.\n\n" + b"- " * 50_000 + b"\n\nOdesa.",
}


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


def test_html_that_tripped_the_parser_is_read(tmp_path: Path, db: Database) -> None:
    """`<![<![` made the standard library's parser raise on every poll; it is text now."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write("2025-07-02-bad.html", b"<h1>T</h1><p>Kyiv a tenu.</p><![<![")(inbox)
    write("2025-07-02-comment.html", b"<h1>U</h1><p>Odessa.</p><!-- never closed")(inbox)
    report = ingest_inbox(db, inbox, Limits())
    assert [o.status for o in report.outcomes] == ["added", "added"]


def test_an_unexpected_error_rejects_that_file_only(
    tmp_path: Path, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault injection: whatever a parser might still raise, the file is rejected with the
    error as its reason and the files after it are ingested."""
    import bot.ingest.pipeline as pipeline

    real = pipeline.parse_text

    def flaky(raw: str, *args: object, **kwargs: object) -> object:
        if "BOOM" in raw:
            raise AssertionError("expected name token")
        return real(raw, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "parse_text", flaky)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write("2025-07-01-a.txt", b"Titre\n\nBOOM.")(inbox)
    for good in GOOD:
        (inbox / good.name).write_bytes(good.read_bytes())
    report = ingest_inbox(db, inbox, Limits())
    assert report.count("added") == len(GOOD) and report.count("rejected") == 1
    reason = (inbox / "rejected" / "2025-07-01-a.txt.reason.txt").read_text(encoding="utf-8")
    assert reason.startswith("could not be processed (AssertionError: expected name token")


@pytest.mark.parametrize("case", list(SLOW_ONCE), ids=list(SLOW_ONCE))
def test_inputs_that_were_quadratic_are_read(tmp_path: Path, db: Database, case: str) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    suffix = ".md" if "markdown" in case else ".html" if "html" in case else ".txt"
    write(f"2025-07-04-case{suffix}", SLOW_ONCE[case])(inbox)
    report = ingest_inbox(db, inbox, Limits())
    assert [o.status for o in report.outcomes] == ["added"], report.outcomes
    assert problems(db) == []


def test_invisible_and_spoofing_characters_are_stripped(tmp_path: Path, db: Database) -> None:
    text = "Titre \u202eevil\u202c \u2066x\u2069\n\nKyiv \ue000a tenu\ue001. Odessa\u200f aussi."
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write("2025-07-05-bidi.txt", text.encode())(inbox)
    (outcome,) = ingest_inbox(db, inbox, Limits()).outcomes
    title, body = db.execute("SELECT title, clean_text FROM bulletins").fetchone()
    assert outcome.status == "added" and title == "Titre evil x"
    for ch in "\u202e\u202c\u2066\u2069\ue000\ue001\u200f":
        assert ch not in body


def test_a_file_that_vanishes_mid_run(tmp_path: Path, db: Database) -> None:
    """Listed, then gone before it is read (another process took it): reported, nothing
    raised, the next file still ingested."""
    from bot.ingest.pipeline import _file_away, ingest_paths

    inbox = tmp_path / "inbox"
    (inbox / "rejected").mkdir(parents=True)
    (inbox / "done").mkdir()
    good = inbox / GOOD[0].name
    good.write_bytes(GOOD[0].read_bytes())
    report = ingest_paths(db, [inbox / "2025-07-06-gone.txt", good], Limits(),
                          on_done=_file_away, known_suffix=True, follow_links=False)  # fmt: skip
    assert [o.status for o in report.outcomes] == ["rejected", "added"]
    assert "unreadable" in (report.outcomes[0].reason or "")
    assert (inbox / "done" / good.name).exists()


def test_a_name_too_long_for_a_suffix_is_filed_under_a_short_one(
    tmp_path: Path, db: Database
) -> None:
    """A 255-byte name leaves no room for `.reason.txt` nor for `.1`: the file is filed
    under a short name of its own, its original name kept in the reason; a second file of
    that name is filed too, nothing stays in the inbox to be read again at every poll."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    name = "2025-07-03-" + "x" * 240 + ".txt"  # 255 bytes
    for round_ in range(2):
        (inbox / name).write_bytes(b"")
        (outcome,) = ingest_inbox(db, inbox, Limits()).outcomes
        assert outcome.status == "rejected" and "empty" in outcome.reason
        assert sorted(os.listdir(inbox)) == ["done", "rejected"], round_
    filed = sorted(os.listdir(inbox / "rejected"))
    reasons = [n for n in filed if n.endswith(".reason.txt")]
    assert len(filed) == 4 and len(reasons) == 2
    for reason in reasons:
        text = (inbox / "rejected" / reason).read_text(encoding="utf-8")
        assert "empty" in text and f"original name: {name}" in text
