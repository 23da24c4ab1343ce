"""Weekly digests: windows in time zones, ranking across bulletins, storage, rendering."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

import pytest
from sqlite_utils import Database

from bot.cli import main
from bot.digest import (
    BadWeek,
    Digest,
    DigestItem,
    edition_for,
    parse_week,
    store_edition,
    week_bounds,
    week_digest,
    week_of,
    week_title,
)
from bot.ingest import Limits, Submission, expand_paths, ingest, ingest_paths
from bot.render import LIMIT, esc, render_digest, split_blocks, utf16_len
from storage.digests import load_digest_by_id
from tests.conftest import FIXTURES, SAMPLES

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def loaded(db: Database, limits: Limits) -> Database:
    ingest_paths(db, list(expand_paths([SAMPLES])), limits)
    return db


@pytest.mark.parametrize("text", ["2025-W28", "2025W28", "2025-w28", " 2025-W28 "])
def test_parse_week(text: str) -> None:
    assert parse_week(text) == (2025, 28)


@pytest.mark.parametrize("text", ["", "2025", "2025-W54", "2025-W00", "W28", "2025-28", "😀"])
def test_bad_week(text: str) -> None:
    with pytest.raises(BadWeek):
        parse_week(text)


def test_week_bounds_in_time_zones() -> None:
    start, end = week_bounds("2025-W28", PARIS)
    assert start.astimezone(UTC).isoformat() == "2025-07-06T22:00:00+00:00"
    assert end.astimezone(UTC).isoformat() == "2025-07-13T22:00:00+00:00"
    start, _ = week_bounds("2025-W28", ZoneInfo("Asia/Kathmandu"))
    assert start.astimezone(UTC).isoformat() == "2025-07-06T18:15:00+00:00"
    # Sunday 23:30 in Paris is still week 28, though UTC is on Sunday too and New York earlier
    moment = datetime(2025, 7, 13, 21, 30, tzinfo=UTC)
    assert week_of(moment, PARIS) == "2025-W28"
    assert week_of(datetime(2025, 7, 13, 22, 30, tzinfo=UTC), PARIS) == "2025-W29"


@pytest.mark.parametrize(
    ("week", "language", "title"),
    [
        ("2025-W28", "fr", "Semaine du 7 au 13 juillet 2025"),
        ("2025-W28", "en", "Week of 7–13 July 2025"),
        ("2025-W28", "uk", "Тиждень 7–13 липня 2025"),
        ("2025-W31", "fr", "Semaine du 28 juillet au 3 août 2025"),
        ("2026-W01", "en", "Week of 29 December – 4 January 2026"),
    ],
)
def test_titles(week: str, language: str, title: str) -> None:
    assert week_title(week, language) == title


def test_french_digest_of_the_sample_week(loaded: Database) -> None:
    digest = week_digest(loaded, "2025-W28", "fr", PARIS)
    assert digest.bulletin_count == 1
    assert 5 <= len(digest.items) <= 10
    assert {i.bulletin_id for i in digest.items} == {1}
    assert any("741" in i.text for i in digest.items)


def test_languages_are_not_merged(loaded: Database) -> None:
    english = week_digest(loaded, "2025-W28", "en", PARIS)
    assert english.bulletin_count == 1
    assert all(i.bulletin_title.startswith("Weekly review") for i in english.items)


def test_language_without_bulletins_falls_back_to_all(loaded: Database) -> None:
    ukrainian = week_digest(loaded, "2025-W28", "uk", PARIS)
    assert ukrainian.bulletin_count == 2
    assert ukrainian.title == "Тиждень 7–13 липня 2025"


def test_ranked_across_bulletins_without_repeats(db: Database, limits: Limits) -> None:
    first = (
        "Bilan du lundi\n\n"
        "La Russie a lancé 741 drones et missiles contre l’Ukraine, un record. "
        "Le Royaume-Uni livre 5000 missiles Thales à Kyiv."
    )
    second = (
        "Bilan du jeudi\n\n"
        "La Russie a lancé 741 drones et missiles contre l’Ukraine, un nouveau record. "
        "L’Allemagne financera deux systèmes Patriot supplémentaires."
    )
    for name, text in (("2025-07-07-a.txt", first), ("2025-07-10-b.txt", second)):
        assert ingest(db, Submission("file", name, data=text.encode()), limits).status == "added"
    digest = week_digest(db, "2025-W28", "fr", PARIS)
    texts = [i.text for i in digest.items]
    assert sum("741 drones" in t for t in texts) == 1
    assert any("Thales" in t for t in texts) and any("Patriot" in t for t in texts)
    assert {i.bulletin_id for i in digest.items} == {1, 2}


def test_stored_once_per_content(loaded: Database) -> None:
    now = datetime(2025, 7, 12, 7, tzinfo=UTC)
    edition = edition_for(loaded, 1, "fr", PARIS, now)
    first = store_edition(loaded, edition)
    assert store_edition(loaded, edition_for(loaded, 2, "fr", PARIS, now)) == first  # same content
    assert loaded.execute("SELECT count(*) FROM digests").fetchone()[0] == 1
    stored = load_digest_by_id(loaded, first)
    assert stored == json.loads(json.dumps(edition.digest.to_json()))
    assert Digest.from_json(stored or {}) == edition.digest
    # other content (the English reader's) is another row; the first is never rewritten
    other = store_edition(loaded, edition_for(loaded, 3, "en", PARIS, now))
    assert other != first and load_digest_by_id(loaded, first) == stored


def test_deleted_bulletins_left_out(loaded: Database) -> None:
    loaded.execute("UPDATE bulletins SET deleted_at = '2025-07-12' WHERE id = 1")
    digest = week_digest(loaded, "2025-W28", "fr", PARIS)
    assert 1 not in {i.bulletin_id for i in digest.items}


class TagChecker(HTMLParser):
    """Fails on tags Telegram does not know or that are not balanced."""

    ALLOWED: ClassVar[set[str]] = {
        "b",
        "i",
        "a",
        "u",
        "s",
        "code",
        "pre",
        "blockquote",
        "tg-spoiler",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in self.ALLOWED, tag
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag, tag


def assert_valid_html(message: str) -> None:
    assert utf16_len(message) <= LIMIT
    checker = TagChecker()
    checker.feed(message)
    checker.close()
    assert checker.stack == []


def test_render_sample_digest(loaded: Database) -> None:
    messages = render_digest(week_digest(loaded, "2025-W28", "fr", PARIS), bot_username="hebdo_bot")
    assert len(messages) == 1
    assert_valid_html(messages[0])
    assert messages[0].startswith("<b>Semaine du 7 au 13 juillet 2025</b>")
    assert 'href="https://t.me/hebdo_bot?start=b1"' in messages[0]


def test_render_escapes_and_splits() -> None:
    hostile = '<script>alert("x")</script> & <b>bold</b> 🇺🇦' * 20
    items = [
        DigestItem(n, n, f"Titre <i>{n}</i> & co", "2025-07-11T12:00:00+00:00", hostile, 1.0)
        for n in range(60)
    ]
    digest = Digest("2025-W28", "fr", "Semaine <du> 7", "2025-07-07", "2025-07-13", 60, items)
    messages = render_digest(digest)
    assert len(messages) > 1
    for message in messages:
        assert_valid_html(message)
        assert "<script>" not in message
    joined = "\n\n".join(messages)
    assert len(re.findall(r"^\d+\. ", joined, re.M)) == 60  # no item lost or cut in two


def test_empty_digest_renders() -> None:
    digest = Digest("2025-W28", "en", "Week of 7–13 July 2025", "2025-07-07", "2025-07-13", 0, [])
    (message,) = render_digest(digest)
    assert "Nothing new since your last digest." in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<b>", "&lt;b&gt;"),
        ("a & b", "a &amp; b"),
        ('"quoted"', '"quoted"'),
        ("l’OTAN", "l’OTAN"),
        (42, "42"),
    ],
)
def test_esc(value: object, expected: str) -> None:
    assert esc(value) == expected


def test_split_counts_utf16_units() -> None:
    blocks = ["🇺🇦" * 600, "🇺🇦" * 600, "é" * 1000]  # each flag is 4 UTF-16 units
    messages = split_blocks(blocks)
    assert [utf16_len(m) for m in messages] == [2400, 2400 + 2 + 1000]
    long_line = "mot " * 3000
    assert all(utf16_len(m) <= LIMIT for m in split_blocks([long_line]))


@pytest.mark.wall_clock
def test_cli_digest(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "d.db"))
    assert main(["ingest", str(SAMPLES)]) == 0
    capsys.readouterr()
    assert main(["digest", "--week", "2025-W28", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"week", "language", "title", "start", "end", "bulletin_count", "items",
                         "bulletin_ids", "more_stories"}  # fmt: skip
    assert data["title"] == "Semaine du 7 au 13 juillet 2025"
    assert set(data["items"][0]) == {
        "item_id",
        "bulletin_id",
        "bulletin_title",
        "published_at",
        "text",
        "score",
        "language",
        "link",
        "sources",
        "others",
    }
    assert main(["digest", "--week", "2025-W99"]) == 2
    assert capsys.readouterr().err.startswith("Usage:")
    assert main(["digest", "--week", "2020-W01"]) == 0
    assert capsys.readouterr().out == "Nothing published in 2020-W01.\n"  # one language
    assert main(["digest", "--now", "2031-01-04T12:00:00+00:00"]) == 0  # nothing that recent
    assert capsys.readouterr().out == "Nothing new: no digest would be sent.\n"


WEEKS = json.loads((FIXTURES / "week_facts.json").read_text(encoding="utf-8"))["weeks"]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Database:
    from storage import open_db

    db = open_db(tmp_path_factory.mktemp("facts") / "facts.db")
    paths = [*expand_paths([SAMPLES]), *expand_paths([FIXTURES / "bulletins"])]
    assert ingest_paths(db, paths, Limits()).count("added") == 5
    return db


def covered(fact: dict[str, object], texts: list[str]) -> bool:
    alternatives = fact["any"]
    assert isinstance(alternatives, list)
    return any(
        all(word.lower() in text.lower() for word in words)
        for words in alternatives
        for text in texts
    )


@pytest.mark.parametrize("week", WEEKS, ids=[w["name"] for w in WEEKS])
def test_digest_tells_the_weeks_facts(archive: Database, week: dict[str, object]) -> None:
    """At least 70 % of the week's main facts (written by hand) in at most 10 items."""
    moment = datetime.fromisoformat(str(week["at"]))
    digest = edition_for(archive, None, str(week["language"]), PARIS, moment).digest
    texts = [i.text for i in digest.items]
    facts = week["facts"]
    assert isinstance(facts, list)
    told = [f["fact"] for f in facts if covered(f, texts)]
    assert len(texts) <= 10
    assert len(told) >= 0.7 * len(facts), {"told": told, "items": texts}
    framing = ("La semaine a été", "The week was", "Les Forces armées ukrainiennes tiennent",
               "Pour rappel", "Il l’a déclaré")  # fmt: skip
    assert not any(t.startswith(framing) for t in texts)


def test_items_in_reading_order(archive: Database) -> None:
    moment = datetime(2025, 7, 19, 7, tzinfo=UTC)
    digest = edition_for(archive, None, "fr", PARIS, moment).digest
    ids = [i.item_id for i in digest.items]
    assert ids == sorted(ids)  # one bulletin: reading order is the items' order


def test_items_in_another_language_are_marked(loaded: Database) -> None:
    ukrainian = week_digest(loaded, "2025-W28", "uk", PARIS)  # no Ukrainian bulletin: fr and en
    (message, *_) = render_digest(ukrainian)
    assert " · FR</i>" in message and " · EN</i>" in message
    french = render_digest(week_digest(loaded, "2025-W28", "fr", PARIS))[0]
    assert " · FR</i>" not in french  # the reader's own language is not marked
