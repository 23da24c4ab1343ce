"""/trend: counts checked against SQL written here, the picture checked as a PNG, the bot
driven through the fake Bot API (sendPhoto, editMessageMedia), the command line."""

from __future__ import annotations

import asyncio
import json
import re
import struct
import warnings
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlite_utils import Database

from bot.cli import main
from bot.ingest import Limits, expand_paths, ingest_paths
from bot.picture import HEIGHT, WIDTH, render
from bot.query import QueryError
from bot.text.analyze import analyzer_for
from bot.trend import Series, Trend, Week, caption, split_topics, trend
from devtools.fakeapi import FakeBotApi
from devtools.telegram_rules import Sent
from storage import open_db
from storage.bulletins import set_deleted
from storage.trend import archive_version
from tests.conftest import SAMPLES
from tests.test_bot import USER, app, db, say, settings, tap  # noqa: F401  (fixtures)
from tests.test_search import HOSTILE
from tests.trend_history import FIRST_MONDAY, GAPS, add_history

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2025, 7, 18, 20, 0, tzinfo=UTC)  # Friday of 2025-W29, after the samples
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def archive(db_path: Path, limits: Limits) -> Iterator[Database]:
    """The samples and the history in a database of their own: no bot (this module's `db`
    is the running bot's)."""
    database = open_db(db_path)
    ingest_paths(database, list(expand_paths([SAMPLES])), limits)
    assert add_history(database, limits) > 30
    yield database
    database.close()


def monday_of(moment: str) -> date:
    year, week, _ = datetime.fromisoformat(moment).astimezone(PARIS).isocalendar()
    return date.fromisocalendar(year, week, 1)


def sql_count(archive: Database, like: list[str]) -> tuple[Counter[date], Counter[date], set[date]]:
    """Independently of the index: per week, bulletins with an item whose text or section
    heading (the index holds both) contains one of the `like` patterns (case-insensitive),
    those items, and the weeks with bulletins."""
    pattern = " OR ".join("lower(i.text || ' ' || coalesce(i.heading, '')) LIKE ?" for _ in like)
    rows = archive.execute(
        f"SELECT b.id, b.published_at, count(i.id) FROM bulletins b JOIN items i "
        f"ON i.bulletin_id = b.id AND ({pattern}) WHERE b.deleted_at IS NULL GROUP BY b.id",
        like,
    ).fetchall()
    bulletins: Counter[date] = Counter()
    items: Counter[date] = Counter()
    for _, published, n in rows:
        bulletins[monday_of(published)] += 1
        items[monday_of(published)] += n
    weeks = {monday_of(r[0]) for r in archive.execute("SELECT published_at FROM bulletins")}
    return bulletins, items, weeks


def test_the_series_equals_an_independent_count(archive: Database) -> None:
    found = trend(archive, "drones", analyzer_for(), weeks=52, now=NOW, tz=PARIS)
    bulletins, items, live = sql_count(archive, ["%drone%"])
    assert len(found.topics) == 1 and found.weeks == 52
    weeks = found.topics[0].weeks
    assert [w.monday for w in weeks] == [date(2025, 7, 14) - timedelta(weeks=n)
                                         for n in range(51, -1, -1)]  # fmt: skip
    for w in weeks:
        if w.monday in live:
            assert (w.bulletins, w.items) == (bulletins[w.monday], items[w.monday]), w
        else:
            assert (w.bulletins, w.items) == (None, None), w
    assert sum(w.bulletins or 0 for w in weeks) == sum(bulletins.values()) > 20
    assert found.topics[0].total("b") == sum(bulletins.values())


def test_weeks_without_any_bulletin_are_gaps_not_zeros(archive: Database) -> None:
    found = trend(archive, "Patriot", analyzer_for(), weeks=52, now=NOW, tz=PARIS)
    by_monday = {w.monday: w for w in found.topics[0].weeks}
    for gap in GAPS:
        week = by_monday[FIRST_MONDAY + timedelta(weeks=gap)]
        assert week.bulletins is None and week.items is None
    quiet = by_monday[FIRST_MONDAY + timedelta(weeks=1)]  # bulletins, no Patriot in them
    assert quiet.bulletins == 0 and quiet.items == 0
    before_history = by_monday[FIRST_MONDAY - timedelta(weeks=3)]
    assert before_history.bulletins is None
    assert len(found.gaps) == 52 - len({w.monday for w in found.topics[0].weeks
                                        if w.bulletins is not None})  # fmt: skip
    assert by_monday[date(2025, 7, 7)].bulletins == 2  # both samples of 11 July name it


def test_variants_and_stems_are_counted(archive: Database) -> None:
    analyzer = analyzer_for()
    kharkov = trend(archive, "Kharkov", analyzer, weeks=26, now=NOW, tz=PARIS).topics[0]
    kharkiv = trend(archive, "Kharkiv", analyzer, weeks=26, now=NOW, tz=PARIS).topics[0]
    assert [w.bulletins for w in kharkov.weeks] == [w.bulletins for w in kharkiv.weeks]
    bulletins, _, _ = sql_count(archive, ["%kharkiv%", "%kharkov%", "%kharkiw%", "%харків%"])
    assert (
        kharkov.total("b")
        == sum(n for monday, n in bulletins.items() if monday >= kharkov.weeks[0].monday)
        > 5
    )
    singular = trend(archive, "drone", analyzer, weeks=26, now=NOW, tz=PARIS).topics[0]
    plural = trend(archive, "DRONES", analyzer, weeks=26, now=NOW, tz=PARIS).topics[0]
    assert singular.weeks == plural.weeks


def test_three_topics_and_the_limit(archive: Database) -> None:
    found = trend(archive, "drones, missiles, Kharkov", analyzer_for(), weeks=26, now=NOW,
                  tz=PARIS)  # fmt: skip
    assert [s.query for s in found.topics] == ["drones", "missiles", "Kharkov"]
    missiles, _, _ = sql_count(archive, ["%missile%"])
    assert found.topics[1].total("b") == sum(
        n for monday, n in missiles.items() if monday >= found.topics[1].weeks[0].monday
    )
    assert split_topics('"frappe, massive", drones') == ['"frappe, massive"', "drones"]
    with pytest.raises(QueryError) as raised:
        split_topics("a, b, c, d")
    assert raised.value.key == "topics"
    with pytest.raises(QueryError):
        split_topics(" , ,")


def test_a_topic_of_several_words_needs_each_in_the_bulletin(archive: Database) -> None:
    both = trend(archive, "drones Odesa", analyzer_for(), weeks=26, now=NOW, tz=PARIS).topics[0]
    rows = archive.execute(
        "SELECT b.published_at FROM bulletins b WHERE EXISTS (SELECT 1 FROM items i WHERE "
        "i.bulletin_id = b.id AND lower(i.text || ' ' || coalesce(i.heading, '')) LIKE '%drone%') "
        "AND EXISTS (SELECT 1 FROM items i WHERE i.bulletin_id = b.id "
        "AND lower(i.text || ' ' || coalesce(i.heading, '')) LIKE '%odesa%')"
    ).fetchall()
    expected = Counter(monday_of(r[0]) for r in rows)
    assert [w.bulletins or 0 for w in both.weeks] == [expected[w.monday] for w in both.weeks]
    excluded = trend(archive, "drones -Odesa", analyzer_for(), weeks=26, now=NOW, tz=PARIS)
    assert excluded.topics[0].total("i") < both.total("i")


def test_deleting_a_bulletin_changes_the_count_and_the_version(archive: Database) -> None:
    before = trend(archive, "drones", analyzer_for(), weeks=26, now=NOW, tz=PARIS)
    version = archive_version(archive)
    newest = archive.execute("SELECT max(id) FROM bulletins").fetchone()[0]
    bulletin = next(b for b in range(newest, 0, -1)
                    if "drone" in archive.execute("SELECT lower(clean_text) FROM bulletins "
                                                  "WHERE id = ?", [b]).fetchone()[0])  # fmt: skip
    assert set_deleted(archive, bulletin, True)
    assert archive_version(archive) != version
    after = trend(archive, "drones", analyzer_for(), weeks=26, now=NOW, tz=PARIS)
    assert after.topics[0].total("b") == before.topics[0].total("b") - 1


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


@pytest.mark.parametrize("language", ["fr", "en", "uk"])
def test_the_picture_is_a_phone_sized_png_with_every_glyph(
    archive: Database, language: str, caplog: pytest.LogCaptureFixture
) -> None:
    found = trend(archive, "drones, missiles, Kharkov", analyzer_for(), weeks=26, now=NOW,
                  tz=PARIS)  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = render(found, "b", language)
    assert png_size(data) == (WIDTH, HEIGHT) == (1280, 720)
    problems = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
    assert not [p for p in problems if "missing from" in p or "Glyph" in p], problems
    assert len(data) > 20_000  # lines, labels and text, not a blank canvas


LAYOUTS = [  # (topics, weeks, now, mode, language, samples only)
    ("drones, missiles, Kharkov", 26, NOW, "b", "fr", False),
    ("drones, missiles", 0, datetime(2026, 11, 29, tzinfo=UTC), "b", "fr", True),  # all at start
    ("Харків, drones", 0, datetime(2026, 3, 29, tzinfo=UTC), "i", "uk", False),
    ("drones, Patriot, missiles", 13, NOW, "i", "en", False),  # the peak in the last week
    ("drones", 52, NOW, "b", "uk", True),
]


@pytest.mark.parametrize(("topics", "weeks", "now", "mode", "language", "samples"), LAYOUTS)
def test_every_label_is_on_the_canvas_and_clear_of_the_others(
    archive: Database, tmp_path: Path, topics: str, weeks: int, now: datetime, mode: str,
    language: str, samples: bool,
) -> None:  # fmt: skip
    """Readable on a phone: no label runs off the picture, the dates under the axis do not
    run into each other, and a peak's label does not cover the axis or its title."""
    from matplotlib import rc_context
    from matplotlib.text import Text

    from bot.picture import STYLE, draw
    from storage import open_db

    source = archive
    if samples:
        source = open_db(tmp_path / "samples.db")
        ingest_paths(source, list(expand_paths([SAMPLES])), Limits())
    found = trend(source, topics, analyzer_for(), weeks=weeks, now=now, tz=PARIS)
    with rc_context(STYLE):  # type: ignore[arg-type]
        figure = draw(found, mode, language)
        figure.canvas.draw()
        renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
        axes = figure.axes[0]

        def shown(axis: Any) -> list[Text]:  # the ticks in view (the others are not drawn)
            low, high = sorted(axis.get_view_interval())
            return [tick.label1 for tick in axis.get_major_ticks()
                    if low <= tick.get_loc() <= high and tick.label1.get_text()]  # fmt: skip

        dates = shown(axes.xaxis)
        texts = [axes.title, axes._left_title, axes.yaxis.label, *dates, *shown(axes.yaxis),
                 *axes.texts, *axes.get_legend().get_texts()]  # fmt: skip
        texts = [x for x in texts if x.get_text().strip()]
        assert any(x.get_text() for x in texts if x in axes.get_legend().get_texts())
        peaks = [x for x in axes.texts if " · " in x.get_text()]
        assert len(dates) >= 4 and len(peaks) == len(found.topics)
        for text in texts:
            box = text.get_window_extent(renderer)
            assert box.x0 >= -1 and box.y0 >= -1, text
            assert box.x1 <= WIDTH + 1 and box.y1 <= HEIGHT + 1, text
        boxes = sorted((x.get_window_extent(renderer) for x in dates), key=lambda b: b.x0)
        for left, right in pairwise(boxes):
            assert left.x1 < right.x0, (left, right)
        axis_side = [axes.yaxis.label, *shown(axes.yaxis)]
        for peak in peaks:
            box = peak.get_window_extent(renderer)
            for other in axis_side:
                assert not box.overlaps(other.get_window_extent(renderer)), (peak, other)


def _weeks(values: list[int]) -> list[Week]:
    monday = date(2025, 1, 6)
    return [Week(f"2025-W{n + 2:02d}", monday + timedelta(weeks=n), v, v)
            for n, v in enumerate(values)]  # fmt: skip


@pytest.mark.parametrize(
    "shapes",
    [
        [[1, 2, 9, 3, 1, 0, 2, 1], [0, 1, 8, 2, 0, 1, 1, 0]],  # two peaks in one week
        [[1, 2, 9, 3, 1, 0, 2, 1], [0, 1, 9, 2, 0, 1, 1, 0], [2, 1, 9, 1, 0, 0, 0, 1]],
        [[9, 2, 1, 3, 1, 0, 2, 1], [8, 1, 1, 2, 0, 1, 1, 0]],  # peaks under the legend
        [[1] * 25 + [9], [0] * 25 + [9]],  # at the right edge, a long range
    ],
)
def test_peak_labels_never_cover_each_other_or_the_legend(shapes: list[list[int]]) -> None:
    from matplotlib import rc_context

    from bot.picture import STYLE, draw

    found = Trend([Series(f"sujet {n}", _weeks(v)) for n, v in enumerate(shapes)],
                  weeks=len(shapes[0]))  # fmt: skip
    with rc_context(STYLE):  # type: ignore[arg-type]
        figure = draw(found, "b", "fr")
        figure.canvas.draw()
        renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
        axes = figure.axes[0]
        peaks = [x.get_window_extent(renderer) for x in axes.texts if " · " in x.get_text()]
        legend = axes.get_legend().get_window_extent(renderer)
    assert len(peaks) == len(shapes)
    for n, box in enumerate(peaks):
        assert not box.overlaps(legend), n
        assert box.y1 <= HEIGHT + 1 and box.x0 >= -1 and box.x1 <= WIDTH + 1, n
        for other in peaks[n + 1 :]:
            assert not box.overlaps(other), (box, other)


def test_the_missing_glyph_check_can_fail() -> None:
    """The check above would see matplotlib's warning: a glyph DejaVu Sans lacks (Tamil)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure()
    FigureCanvasAgg(figure)
    figure.add_subplot().set_title("தமிழ்")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure.savefig(Path("/dev/null"), format="png")
    assert any("missing from" in str(w.message) for w in caught)


def test_captions_in_each_language(archive: Database) -> None:
    found = trend(archive, "drones, zzzyzx", analyzer_for(), weeks=26, now=NOW, tz=PARIS)
    peak = found.topics[0].peak("b")
    assert peak is not None
    french = caption(found, "b", "6m", "fr")
    assert re.search(r"<b>drones</b> : \d+ bulletins en 26 semaines, au plus \d la semaine du ",
                     french)  # fmt: skip
    assert "<b>zzzyzx</b> : aucune mention en 26 semaines" in french
    assert "sentences in 26 weeks" in caption(found, "i", "6m", "en")
    assert "за 26 тижнів" in caption(found, "b", "6m", "uk")
    assert caption(found, "b", "all", "fr").count("depuis le") == 2


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_topics_behave_as_in_search(archive: Database, query: str) -> None:
    before = archive.execute("SELECT count(*) FROM items").fetchone()[0]
    try:
        found = trend(archive, query, analyzer_for(), weeks=26, now=NOW, tz=PARIS)
    except QueryError as exc:
        assert str(exc)
    else:
        assert 1 <= len(found.topics) <= 3
    assert archive.execute("SELECT count(*) FROM items").fetchone()[0] == before


# ---- the bot ---------------------------------------------------------------------------------


def labels(sent: Sent) -> dict[str, str]:
    rows = (sent.reply_markup or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


async def chart(fake: FakeBotApi, user: int, text: str) -> tuple[str, bytes, dict[str, str]]:
    """A user asks; the chart's caption, picture and buttons."""
    sent = await say(fake, user, text)
    assert sent.method == "sendPhoto", sent.text
    return sent.text, fake.photos[sent.message_id], labels(sent)


async def test_trend_sends_a_chart_and_its_buttons_edit_it(
    fake: FakeBotApi,
    db: Database,
) -> None:
    add_history(db)
    text, picture, buttons = await chart(fake, USER, "/trend drones, missiles, Kharkov")
    assert png_size(picture) == (1280, 720)
    assert text.startswith("drones : ") and "en 26 semaines" in text and "Kharkov : " in text
    assert set(buttons) == {"3 mois", "• 6 mois", "1 an", "Tout", "• Bulletins", "Phrases"}
    sent = fake.messages_to(USER)[-1]
    year = await tap(fake, USER, sent, buttons["1 an"])
    assert year.method == "editMessageMedia" and year.message_id == sent.message_id
    assert "en 52 semaines" in year.text and fake.photos[sent.message_id] != picture
    assert labels(year)["• 1 an"].endswith(":1y:b")
    items = await tap(fake, USER, year, labels(year)["Phrases"])
    assert items.method == "editMessageMedia" and " phrases en 52 semaines" in items.text
    everything = await tap(fake, USER, items, labels(items)["Tout"])
    assert labels(everything)["• Phrases"].endswith(":all:i")
    assert "depuis le" in everything.text
    calls = fake.calls("editMessageMedia")
    assert len(calls) == 3 and all(json.loads(json.dumps(c["media"]))["type"] == "photo"
                                   for c in calls)  # fmt: skip


async def test_a_ukrainian_chat_gets_ukrainian_words(fake: FakeBotApi, db: Database) -> None:
    card = await say(fake, USER, "/settings")
    await tap(fake, USER, card, "setv:lang:uk")
    text, picture, buttons = await chart(fake, USER, "/trend Харків")
    assert text.startswith("Харків: 3 бюлетені") and "за 26 тижнів" in text
    assert "• 6 місяців" in buttons and "• Бюлетені" in buttons
    assert png_size(picture) == (1280, 720)


async def test_a_cached_chart_is_not_drawn_again(
    fake: FakeBotApi,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import bot.chart

    drawn: list[str] = []
    real = bot.chart._painter.draw

    def counting(found: object, mode: str, language: str) -> bytes:
        drawn.append(mode)
        return real(found, mode, language)  # type: ignore[arg-type]

    monkeypatch.setattr(bot.chart._painter, "draw", counting)
    first = await chart(fake, USER, "/trend drones")
    second = await chart(fake, USER, "/trend   drones")
    assert drawn == ["b"] and first[1] == second[1]
    add_history(db)  # the archive changed: drawn again
    third = await chart(fake, USER, "/trend drones")
    assert drawn == ["b", "b"] and third[1] != first[1]


@pytest.mark.wall_clock
async def test_search_results_chart_their_query(fake: FakeBotApi, db: Database) -> None:
    results = await say(fake, USER, "/search Patriot")
    buttons = {b["text"]: b["callback_data"]
               for row in (results.reply_markup or {})["inline_keyboard"] for b in row}  # fmt: skip
    drawn = await tap(fake, USER, results, buttons["📈"])
    assert drawn.method == "sendPhoto" and drawn.text.startswith("Patriot : ")


async def test_nothing_found_is_a_sentence_not_a_chart(fake: FakeBotApi, db: Database) -> None:
    answer = await say(fake, USER, "/trend zzzyzx")
    assert answer.method == "sendMessage"
    assert answer.text.startswith("Aucun bulletin ne parle de zzzyzx en 26 semaines")
    assert not fake.calls("sendPhoto")
    usage = await say(fake, USER, "/trend")
    assert usage.text.startswith("Utilisation : /trend")
    too_many = await say(fake, USER, "/trend a, b, c, d")
    assert "Au plus 3 sujets" in too_many.text


async def test_a_chart_that_cannot_be_drawn_gets_a_sentence(
    fake: FakeBotApi, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.chart

    def broken(*_: object) -> bytes:
        raise bot.chart.ChartError("the drawing process stopped twice")

    monkeypatch.setattr(bot.chart._painter, "draw", broken)
    answer = await say(fake, USER, "/trend drones")
    assert answer.text.startswith("Le graphique n’a pas pu être dessiné pour l’instant")
    assert not fake.calls("sendPhoto")
    monkeypatch.undo()
    text, _, _ = await chart(fake, USER, "/trend drones")  # drawn now: nothing was cached
    assert text.startswith("drones : ")


@pytest.mark.parametrize("query", ['"', "AND(", "x" * 5000, "🙂🇺🇦", "-", "' OR 1=1 --", "<b>"])
async def test_hostile_trend_text(fake: FakeBotApi, db: Database, query: str) -> None:
    answer = await say(fake, USER, f"/trend {query}")
    assert answer.text.startswith(("Utilisation", "Aucun bulletin")) or (
        answer.method == "sendPhoto"
    ), answer.text
    assert (await say(fake, USER, "/help")).text.startswith("Commandes")


# ---- the command line ------------------------------------------------------------------------


@pytest.mark.wall_clock
def test_cli_json_and_png(
    archive: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    path = archive.execute("PRAGMA database_list").fetchone()[2]
    monkeypatch.setenv("DATABASE_PATH", path)
    monkeypatch.setenv("TIMEZONE", "Europe/Paris")
    picture = tmp_path / "trend.png"
    argv = ["--env-file", "/dev/null", "trend", "drones,", "Kharkov", "--weeks", "13",
            "--now", NOW.isoformat(), "--json", "--png", str(picture)]  # fmt: skip
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert [t["query"] for t in out["topics"]] == ["drones", "Kharkov"]
    weeks = out["topics"][0]["weeks"]
    assert len(weeks) == 13 and weeks[-1]["week"] == "2025-W29"
    assert set(weeks[0]) == {"week", "bulletins", "items"}
    assert png_size(picture.read_bytes()) == (1280, 720)
    assert main(["--env-file", "/dev/null", "trend", "AND(", "--now", NOW.isoformat()]) in (0, 2)
    assert main(["--env-file", "/dev/null", "trend", "a,b,c,d"]) == 2
    assert "at most 3 topics" in capsys.readouterr().err


@pytest.mark.parametrize(
    "topic", ["drones", "Kharkov", '"défenses antiaériennes"', "drones -Odesa"]
)
def test_both_counting_plans_agree(archive: Database, topic: str) -> None:
    from bot.search import read_query
    from bot.trend import frame
    from storage.trend import items_per_bulletin

    where = frame(archive, weeks=52, now=NOW, tz=PARIS)
    fts = read_query(archive, topic, analyzer_for()).fts()
    by_span = items_per_bulletin(archive, fts, where.spans, by_span=True)
    listed = items_per_bulletin(archive, fts, where.spans, by_span=False)
    assert by_span == listed and sum(by_span.values()) > 0


def test_listed_matches_land_in_their_own_bulletin(archive: Database) -> None:
    """The rows between two bulletins of the range belong to bulletins out of it or deleted:
    a match there is counted for nobody."""
    from bot.search import read_query
    from bot.trend import frame
    from storage.trend import items_per_bulletin

    where = frame(archive, weeks=13, now=NOW, tz=PARIS)
    in_range = {span[0] for span in where.spans.rows}
    deleted = max(in_range)
    assert set_deleted(archive, deleted, True)
    where = frame(archive, weeks=13, now=NOW, tz=PARIS)
    firsts = [span[2] for span in where.spans.rows]
    assert firsts == sorted(firsts) and deleted not in {span[0] for span in where.spans.rows}
    outside = archive.execute(
        "SELECT count(*) FROM items WHERE id BETWEEN ? AND ? AND bulletin_id NOT IN "
        f"({','.join('?' * len(where.spans.rows))})",
        [firsts[0], where.spans.rows[-1][3], *(span[0] for span in where.spans.rows)],
    ).fetchone()[0]
    assert outside > 0  # the case is there: rows of other bulletins between the spans
    fts = read_query(archive, "drones", analyzer_for()).fts()
    listed = items_per_bulletin(archive, fts, where.spans, by_span=False)
    weeks = set(where.mondays)
    expected = {bulletin: n for bulletin, published, n in archive.execute(
        "SELECT b.id, b.published_at, count(*) FROM items i JOIN bulletins b "
        "ON b.id = i.bulletin_id WHERE b.deleted_at IS NULL "
        "AND lower(i.text || ' ' || coalesce(i.heading, '')) LIKE '%drone%' GROUP BY 1"
    ).fetchall() if monday_of(published) in weeks}  # fmt: skip
    assert listed == expected and len(listed) > 3


def test_forms_no_item_holds_are_not_asked_for() -> None:
    from bot.trend import _pruned

    docs = {"dron": 12, "drone": 0}
    assert _pruned('("dron" OR "drone" OR "drones")', docs) == '"dron"'
    assert _pruned('("drone" OR "drones")', docs) is None
    assert _pruned('"dron"', docs) == '"dron"'
    assert _pruned('"défense aérienne"', docs) == '"défense aérienne"'  # a phrase: as is
    assert _pruned('("a""b" OR "dron")', docs) == '("a""b" OR "dron")'  # an odd term: as is


def test_a_long_topic_is_cut_on_the_picture_not_in_the_caption(archive: Database) -> None:
    long = "drones " + "x" * 150
    found = trend(archive, f"drones, {long}", analyzer_for(), weeks=26, now=NOW, tz=PARIS)
    assert png_size(render(found, "b", "fr")) == (1280, 720)
    assert long.strip() in caption(found, "b", "6m", "fr") or "aucune mention" in caption(
        found, "b", "6m", "fr"
    )


def test_a_bulletin_stored_between_the_frame_and_the_count_is_left_out(
    archive: Database, limits: Limits
) -> None:
    """The bot reads the weeks' bulletins, then counts each topic in another call: a
    bulletin stored in between is not in the frame, and must not break the count."""
    from bot.ingest import Submission, ingest
    from bot.search import read_query
    from bot.trend import frame, topic_series

    where = frame(archive, weeks=4, now=NOW, tz=PARIS)
    query = read_query(archive, "drones", analyzer_for())
    before = topic_series(archive, "drones", query, where)
    text = "Bilan tardif\n\nDes drones ont encore frappé Odesa."
    ingest(archive, Submission("file", "2025-07-16-tardif.txt", data=text.encode()), limits)
    assert topic_series(archive, "drones", query, where) == before


async def test_charts_are_counted_one_at_a_time_on_one_reader(
    archive: Database, db_path: Path
) -> None:
    """However many charts are asked for at once, counting holds one reader thread (the
    other stays free for searches and the chats' own reads), and a chart asked for twice
    meanwhile is counted once."""
    from bot.chart import ChartCache, make_chart
    from storage.store import Store

    counting: list[str] = []
    busy = most = 0

    class Watched(Store):
        async def read(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
            nonlocal busy, most
            if getattr(fn, "__name__", "") != "trend":
                return await super().read(fn, *args, **kwargs)
            counting.append(args[0])
            busy += 1
            most = max(most, busy)
            try:
                return await super().read(fn, *args, **kwargs)
            finally:
                busy -= 1

    store, cache = Watched(db_path), ChartCache()
    try:
        asked = ["drones", "missiles", "drones", "Kharkov, drones"]
        charts = await asyncio.gather(*(
            make_chart(store, cache, analyzer_for(), PARIS, NOW, text, "6m", "b", "fr")
            for text in asked
        ))  # fmt: skip
    finally:
        store.close()
    assert most == 1
    assert sorted(counting) == ["Kharkov, drones", "drones", "missiles"]
    assert all(c.png is not None for c in charts) and charts[0] is charts[2]


def test_charts_are_drawn_in_a_process_of_their_own(archive: Database) -> None:
    """Drawing holds Python's lock for its whole length: it runs in another process, which
    survives a chart that fails and is replaced when it dies or hangs."""
    import os
    import signal

    import bot.chart
    from bot.chart import ChartError, Painter
    from bot.trend import Trend

    found = trend(archive, "drones", analyzer_for(), weeks=26, now=NOW, tz=PARIS)
    painter = Painter()
    try:
        assert png_size(painter.draw(found, "b", "fr")) == (WIDTH, HEIGHT)
        process = painter.process
        assert process is not None and process.pid != os.getpid()
        with pytest.raises(ChartError, match="IndexError"):  # no topic: render fails there
            painter.draw(Trend([]), "b", "fr")
        assert painter.process is process and process.poll() is None  # still drawing
        process.kill()
        process.wait()
        assert png_size(painter.draw(found, "i", "uk")) == (WIDTH, HEIGHT)  # a new one
        assert painter.process is not None and painter.process.pid != process.pid
        hung = painter.process
        os.kill(hung.pid, signal.SIGSTOP)  # it never answers
        bot.chart.DRAW_TIMEOUT, before = 0.3, bot.chart.DRAW_TIMEOUT
        try:
            assert png_size(painter.draw(found, "b", "en")) == (WIDTH, HEIGHT)
        finally:
            bot.chart.DRAW_TIMEOUT = before
        assert painter.process is not hung and hung.poll() is not None  # replaced, ended
    finally:
        painter.stop()
    assert painter.process is None


def test_a_drawing_process_that_stops_reading_cannot_hold_the_bot() -> None:
    """A request larger than a pipe holds, to a process that no longer reads: the send
    gives up at its deadline instead of blocking the chart thread for ever."""
    import os
    import time

    from bot.chart import ChartError, _receive, _send

    unread, full = os.pipe()
    silent, mute = os.pipe()
    try:
        with pytest.raises(ChartError):
            _send(full, b"x" * 1_000_000, time.monotonic() + 0.2)
        with pytest.raises(ChartError):  # and an answer that never comes
            _receive(silent, time.monotonic() + 0.1)
        os.close(mute)
        mute = -1
        assert _receive(silent, time.monotonic() + 1) is None  # the process ended: no answer
    finally:
        for fd in (unread, full, silent, mute):
            if fd >= 0:
                os.close(fd)
