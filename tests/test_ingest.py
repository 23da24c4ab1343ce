"""Ingestion end to end on a real SQLite file: samples, dedupe, encodings, bad input, inbox."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.ingest import Limits, Submission, expand_paths, ingest, ingest_inbox, ingest_paths
from storage.bulletins import get_bulletin, list_bulletins
from tests.conftest import SAMPLE_FR, SAMPLES, table_counts

FRENCH = (
    "Bilan de la semaine\n\n"
    "Les frappes sur Kharkiv ont continué. Le bilan s’alourdit à Zaporijjia.\n\n"
    "Kyiv a reçu des missiles Patriot supplémentaires."
)
UKRAINIAN = (
    "Тижневий огляд подій\n\nУкраїна отримала нові системи Patriot. Удари по Харкову тривають."
)


def test_samples_added_once(db: Database, limits: Limits) -> None:
    paths = list(expand_paths([SAMPLES]))
    first = ingest_paths(db, paths, limits)
    assert first.count("added") == 3
    before = table_counts(db)
    again = ingest_paths(db, paths, limits)
    assert again.count("added") == 0
    assert again.count("duplicate") == 3
    assert table_counts(db) == before


def test_sample_structure(db: Database, limits: Limits) -> None:
    report = ingest_paths(db, [SAMPLE_FR], limits)
    bulletin_id = report.outcomes[0].bulletin_id
    assert bulletin_id is not None
    detail = get_bulletin(db, bulletin_id)
    assert detail is not None
    b = detail.bulletin
    assert b.title == "Bilan de la semaine. 1230-1234 jours de résistance"
    assert b.language == "fr"
    assert b.published_at.startswith("2025-07-11")
    headings = {i.heading for i in detail.items}
    assert "Trump a déclaré que les États-Unis fourniraient des armes à l’Ukraine via l’OTAN" in (
        headings
    )
    assert {i.section for i in detail.items} == {0, 1}
    for item in detail.items:
        assert detail.clean_text[item.start : item.end] == item.text
        paragraph = detail.clean_text[item.paragraph_start : item.paragraph_end]
        assert item.text in paragraph
    assert any("741 moyens" in i.text for i in detail.items)


@pytest.mark.wall_clock
def test_languages_detected(db: Database, limits: Limits) -> None:
    ingest_paths(db, list(expand_paths([SAMPLES])), limits)
    langs = {b.title: b.language for b in list_bulletins(db)}
    assert langs["Weekly review. Days 1230-1234 of resistance"] == "en"
    out = ingest(db, Submission("admin:1", "post", text=UKRAINIAN), limits)
    detail = get_bulletin(db, out.bulletin_id or 0)
    assert detail is not None and detail.bulletin.language == "uk"


@pytest.mark.wall_clock
def test_whitespace_and_case_changes_are_duplicates(db: Database, limits: Limits) -> None:
    ingest(db, Submission("file", "a.txt", data=FRENCH.encode()), limits)
    variant = FRENCH.replace("\n\n", "\r\n\r\n  ").replace("Les frappes", "LES FRAPPES")
    out = ingest(db, Submission("file", "b.txt", data=variant.encode("utf-16")), limits)
    assert out.status == "duplicate"
    assert table_counts(db)["bulletins"] == 1


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252", "latin-1"]
)
@pytest.mark.wall_clock
def test_french_encodings(db: Database, limits: Limits, encoding: str) -> None:
    text = FRENCH if encoding != "latin-1" else FRENCH.replace("’", "'")
    out = ingest(db, Submission("file", "x.txt", data=text.encode(encoding)), limits)
    assert out.status == "added", out.reason
    detail = get_bulletin(db, out.bulletin_id or 0)
    assert detail is not None
    assert "Zaporijjia" in detail.clean_text
    assert "s’alourdit" in detail.clean_text or "s'alourdit" in detail.clean_text
    assert "supplémentaires" in detail.clean_text


@pytest.mark.wall_clock
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "cp1251", "koi8-u"])
def test_ukrainian_encodings(db: Database, limits: Limits, encoding: str) -> None:
    out = ingest(db, Submission("file", "x.txt", data=UKRAINIAN.encode(encoding)), limits)
    assert out.status == "added", out.reason
    detail = get_bulletin(db, out.bulletin_id or 0)
    assert detail is not None
    assert "Україна отримала нові системи Patriot." in detail.clean_text
    assert detail.bulletin.language == "uk"


@pytest.mark.wall_clock
def test_nfc_normalisation(db: Database, limits: Limits) -> None:
    decomposed = "Bilan\n\nLe ministre a été reçu à Kyiv. Il a parlé.".replace("é", "e\u0301")
    out = ingest(db, Submission("file", "x.txt", data=decomposed.encode()), limits)
    detail = get_bulletin(db, out.bulletin_id or 0)
    assert detail is not None
    assert "été reçu" in detail.clean_text
    assert "\u0301" not in detail.clean_text


BAD_INPUTS = [
    ("empty.txt", b"", "empty"),
    ("blank.txt", b"  \n\n\t \r\n", "empty"),
    ("binary.txt", bytes(range(256)) * 8, "binary"),
    ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(512), "binary"),
    ("huge.txt", b"Bilan. " * 400_000, "too large"),
    ("scripts.html", b"<script>alert(1)</script><style>p{}</style>", "empty"),
    ("bad-bom.txt", b"\xef\xbb\xbfBilan \xff\xfe\xfa invalide", "invalid UTF-8"),
]


@pytest.mark.parametrize(("name", "data", "reason"), BAD_INPUTS)
def test_bad_input_rejected_and_nothing_lost(
    db: Database, limits: Limits, tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    ingest_paths(db, [SAMPLE_FR], limits)
    before = table_counts(db)
    bad = tmp_path / name
    bad.write_bytes(data)
    good = tmp_path / "2025-07-20-good.txt"
    good.write_text(FRENCH, encoding="utf-8")
    report = ingest_paths(db, [bad, good], limits)
    rejected, added = report.outcomes
    assert rejected.status == "rejected"
    assert reason in (rejected.reason or "")
    assert added.status == "added"
    after = table_counts(db)
    assert after["bulletins"] == before["bulletins"] + 1
    assert bad.read_bytes() == data  # never touched outside the inbox


def test_size_limit_is_configurable(db: Database, tmp_path: Path) -> None:
    small = Limits(max_bytes=100)
    out = ingest(db, Submission("file", "x.txt", data=FRENCH.encode()), small)
    assert out.status == "rejected"
    assert "limit" in (out.reason or "")
    out = ingest(db, Submission("admin:1", "post", text=FRENCH), small)
    assert out.status == "rejected"


def test_unreadable_file(db: Database, limits: Limits, tmp_path: Path) -> None:
    link = tmp_path / "gone.txt"
    link.symlink_to(tmp_path / "missing.txt")
    report = ingest_paths(db, [link], limits)
    assert report.outcomes[0].status == "rejected"
    assert "unreadable" in (report.outcomes[0].reason or "")
    assert table_counts(db)["bulletins"] == 0


@pytest.mark.wall_clock
def test_hostile_html_becomes_clean_text(db: Database, limits: Limits) -> None:
    page = (
        "<html><head><title>Bilan &amp; perspectives</title><script>steal()</script>"
        "<style>body{}</style></head><body><h1>Bilan &amp; perspectives</h1>"
        "<p onclick='x()'>Les frappes <b>continuent</b> à Kharkiv.<br>Deuxième ligne.</p>"
        "<iframe src='evil'>bad</iframe><noscript>no</noscript>"
        "<h2>Second article</h2><p>Un accord pour <i>5 000</i> missiles Thales.</p>"
        "<img src=x onerror=alert(1)><p>&lt;script&gt;alert(2)&lt;/script&gt; est du texte.</p>"
        "</body></html>"
    )
    out = ingest(db, Submission("file", "page.html", data=page.encode()), limits)
    detail = get_bulletin(db, out.bulletin_id or 0)
    assert detail is not None
    text = detail.clean_text
    assert detail.bulletin.title == "Bilan & perspectives"
    for banned in ("steal", "body{}", "onclick", "evil", "bad", "no\n", "onerror"):
        assert banned not in text
    assert "Les frappes continuent à Kharkiv.\nDeuxième ligne." in text
    assert {i.heading for i in detail.items} == {"Bilan & perspectives", "Second article"}
    assert "<script>alert(2)</script> est du texte." in text  # text, not markup


@pytest.mark.wall_clock
def test_markdown(db: Database, limits: Limits) -> None:
    md = "# Titre du bilan\n\nLes **frappes** continuent [ici](http://x).\n\n## Suite\n\n* un\n* deux\n"
    out = ingest(db, Submission("file", "b.md", data=md.encode()), limits)
    detail = get_bulletin(db, out.bulletin_id or 0)
    assert detail is not None
    assert detail.bulletin.title == "Titre du bilan"
    assert "Les frappes continuent ici." in detail.clean_text
    assert "**" not in detail.clean_text and "http://x" not in detail.clean_text


@pytest.mark.wall_clock
def test_one_line_bulletin(db: Database, limits: Limits) -> None:
    out = ingest(db, Submission("admin:1", "post", text="Kharkiv sous les frappes"), limits)
    assert out.status == "added"
    detail = get_bulletin(db, out.bulletin_id or 0)
    assert detail is not None and len(detail.items) == 1


@pytest.mark.wall_clock
def test_inbox_moves_files(db: Database, limits: Limits, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "2025-07-11-a.txt").write_bytes(SAMPLE_FR.read_bytes())
    (inbox / "copy.txt").write_bytes(SAMPLE_FR.read_bytes())
    (inbox / "empty.md").write_bytes(b"")
    (inbox / "slides.pdf").write_bytes(b"%PDF-1.4 ...")
    report = ingest_inbox(db, inbox, limits)
    assert report.summary() == "added 1, duplicates 1, rejected 2"
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["2025-07-11-a.txt", "copy.txt"]
    rejected = sorted(p.name for p in (inbox / "rejected").iterdir())
    assert rejected == ["empty.md", "empty.md.reason.txt", "slides.pdf", "slides.pdf.reason.txt"]
    assert "empty" in (inbox / "rejected" / "empty.md.reason.txt").read_text()
    assert "unsupported" in (inbox / "rejected" / "slides.pdf.reason.txt").read_text()
    assert [p.name for p in inbox.iterdir() if p.is_file()] == []
    # the same name again is kept beside the first, never overwritten
    (inbox / "empty.md").write_bytes(b"")
    ingest_inbox(db, inbox, limits)
    assert (inbox / "rejected" / "empty.1.md").exists()
    assert ingest_inbox(db, inbox, limits).outcomes == []


@pytest.mark.wall_clock
def test_failed_insert_leaves_nothing(db: Database, limits: Limits) -> None:
    """A write that fails half-way (an item violating a constraint) rolls back whole."""
    from dataclasses import replace

    from bot.ingest import prepare
    from storage.bulletins import insert_bulletin

    bulletin = prepare(Submission("file", "x.txt", data=FRENCH.encode()), limits)
    broken = replace(bulletin, items=[*bulletin.items, replace(bulletin.items[0], text=None)])
    with pytest.raises(Exception, match="NOT NULL"):
        insert_bulletin(db, broken)
    assert table_counts(db) == {"bulletins": 0, "sections": 0, "items": 0, "search_fts": 0}


def test_a_story_that_cannot_be_filed_leaves_its_bulletin_stored(
    db: Database, limits: Limits, caplog: pytest.LogCaptureFixture
) -> None:
    """The bulletin and its story are one transaction, but filing the story in a savepoint
    of it: a story that fails is logged and left to the next start's filing; the bulletin
    is kept and reported added (it was once reported rejected though stored)."""
    from datetime import UTC, datetime

    from bot.stories import file_recent
    from bot.text.analyze import analyzer_for

    db.execute("CREATE TEMP TRIGGER refuse BEFORE INSERT ON story_members "
               "BEGIN SELECT RAISE(ABORT, 'no story today'); END")  # fmt: skip
    name = "2025-07-16-bilan.txt"
    outcome = ingest(db, Submission("file", name, data=FRENCH.encode()), limits)
    assert outcome.status == "added" and outcome.bulletin_id is not None
    assert "could not be filed in a story" in caplog.text
    assert db.execute("SELECT count(*) FROM story_members").fetchone()[0] == 0
    assert table_counts(db)["items"] > 0
    db.execute("DROP TRIGGER refuse")
    assert file_recent(db, analyzer_for(), datetime(2025, 7, 17, tzinfo=UTC)) == 1
    assert db.execute("SELECT bulletin_id FROM story_members").fetchall() == [
        (outcome.bulletin_id,)
    ]
