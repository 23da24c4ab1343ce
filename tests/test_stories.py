"""Stories: the same event told by several outlets is one story; the digest tells the
most-covered stories first, once each, with their sources; different events that share a
place stay apart. Real SQLite, the real ingestion path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from bot.digest import edition_for
from bot.ingest import Limits, Submission, ingest
from bot.render import render_digest
from bot.stories import Clusters, Signature, file_recent, outlet
from bot.text.analyze import analyzer_for
from storage.stories import story_ids, topics_of
from tests.stories_week import (
    FR_EN,
    KHARKIV_CONCERT,
    KHARKIV_STRIKE_1,
    KHARKIV_STRIKE_2,
    STORY_THREE,
    UNRELATED,
)

MONDAY = datetime(2026, 11, 23, 7, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")


def add(db: Database, text: str, site: str, when: datetime, title: str | None = None) -> int:
    sub = Submission(f"feed:https://{site}/rss", title or text[:60], text=text, fmt="text",
                     source_ref=f"{site}:{when.isoformat()}:{title or text[:20]}",
                     title=title, published=when, link=f"https://{site}/a/{abs(hash(text))}")  # fmt: skip
    out = ingest(db, sub, Limits())
    assert out.status == "added" and out.bulletin_id is not None, out
    return out.bulletin_id


def test_sixty_unrelated_articles_and_one_story_told_three_times(db: Database) -> None:
    for n, text in enumerate(UNRELATED):
        add(db, text, f"site{n % 7}.example", MONDAY + timedelta(hours=2 * n), f"Article {n}")
    story = [add(db, text, f"outlet{n}.example", MONDAY + timedelta(days=2, hours=n))
             for n, text in enumerate(STORY_THREE)]  # fmt: skip
    stories = story_ids(db, story)
    assert len(set(stories.values())) == 1  # one story
    everything = story_ids(db, list(range(1, len(UNRELATED) + 4)))
    assert len(set(everything.values())) == len(UNRELATED) + 1  # and no other merged
    now = MONDAY + timedelta(days=6)
    digest = edition_for(db, None, "fr", PARIS, now).digest
    first, *rest = digest.items
    assert first.bulletin_id in story and first.sources == 3
    assert {o for _, o, _ in first.others} == {
        "outlet0.example",
        "outlet1.example",
        "outlet2.example",
    }
    assert all(item.bulletin_id not in story for item in rest)  # told once
    assert len(digest.items) == 10 and digest.more_stories == 61 - 10
    html = render_digest(digest, "hebdo_bot")[0]
    assert "📰 3 sources : " in html and 'href="https://outlet1.example/a/' in html
    assert "… et 51 autres sujets dans ces bulletins : /digest all" in html


def test_a_story_told_in_french_and_english_is_one(db: Database) -> None:
    fr = add(db, FR_EN[0], "lemonde.example", MONDAY)
    en = add(db, FR_EN[1], "kyivindependent.example", MONDAY + timedelta(hours=5))
    assert story_ids(db, [fr, en]) == {fr: fr, en: fr}


def test_events_that_share_a_place_are_not_one_story(db: Database) -> None:
    a = add(db, KHARKIV_STRIKE_1, "a.example", MONDAY)
    b = add(
        db, KHARKIV_STRIKE_1.replace("lundi", "lundi 30"), "b.example", MONDAY + timedelta(days=7)
    )
    c = add(db, KHARKIV_STRIKE_2, "c.example", MONDAY + timedelta(hours=10))
    d = add(db, KHARKIV_CONCERT, "d.example", MONDAY + timedelta(hours=14))
    assert len(set(story_ids(db, [a, b, c, d]).values())) == 4


def test_a_copy_is_no_second_source_and_sections_of_a_site_are_one_outlet() -> None:
    assert outlet("feed:https://www.lemonde.fr/international/rss") == "lemonde.fr"
    assert outlet("feed:https://lemonde.fr/ukraine/rss") == "lemonde.fr"
    assert outlet("file") == "file" and outlet("admin:42") == "admin"


def test_a_one_source_week_is_picked_as_before(db: Database) -> None:
    """The editor's round-ups (one outlet): no story has two sources, the items are the
    coverage picks of every bulletin, in reading order, and no "more stories" line."""
    from bot.digest import pick_items
    from storage.digests import source_items, window_bulletins

    for n, text in enumerate(UNRELATED[:12]):
        add(db, text, "one-editor.example", MONDAY + timedelta(hours=n), f"Bulletin {n}")
    now = MONDAY + timedelta(days=2)
    digest = edition_for(db, None, "fr", PARIS, now).digest
    window = window_bulletins(db, (now - timedelta(days=7)).isoformat(), now.isoformat())
    expected = pick_items(source_items(db, [b.id for b in window]), None)
    assert [i.item_id for i in digest.items] == [c.item_id for c in expected]
    assert digest.more_stories == 0 and all(i.sources == 1 for i in digest.items)


def test_pushes_and_alerts_once_per_story(db: Database) -> None:
    """A reader of every bulletin, and a reader following a word, hear of a story once:
    its later sources, in the same tick or later ones, are no second push or alert."""
    from bot.delivery.schedule import announce_new_bulletins
    from bot.text.analyze import analyzer_for
    from storage.people import add_follow
    from tests.test_delivery import subscriber

    subscriber(db, 1, mode="every")
    subscriber(db, 2, mode="weekly")
    add_follow(db, 2, "Krementchouk", "krementchouk")
    now = MONDAY + timedelta(days=2, hours=5)

    def pushed(chat: int) -> list[list[int]]:
        import json

        rows = db.execute("SELECT payload FROM outbox WHERE kind = 'bulletin' AND chat_id = ? "
                          "ORDER BY id", [chat]).fetchall()  # fmt: skip
        return [json.loads(r[0])["bulletins"] for r in rows]

    first = add(db, STORY_THREE[0], "outlet0.example", MONDAY + timedelta(days=2))
    add(db, STORY_THREE[1], "outlet1.example", MONDAY + timedelta(days=2, hours=1))
    assert announce_new_bulletins(db, analyzer_for(), now) == 2  # both, one message each
    assert pushed(1) == [[first]] and pushed(2) == [[first]]  # the story once, not twice
    third = add(db, STORY_THREE[2], "outlet2.example", MONDAY + timedelta(days=2, hours=3))
    other = add(db, UNRELATED[0], "sport.example", MONDAY + timedelta(days=2, hours=3))
    announce_new_bulletins(db, analyzer_for(), now + timedelta(minutes=1))
    everything = [b for push in pushed(1) for b in push]
    assert third not in everything and other in everything
    assert pushed(2) == [[first]]  # the follower: no second alert for the third source


def test_search_gives_a_story_once_with_its_sources(db: Database) -> None:
    from bot.handlers.search import hit_block
    from bot.search import search
    from bot.text.analyze import analyzer_for

    for n, text in enumerate(UNRELATED[:10]):
        add(db, text, f"site{n}.example", MONDAY + timedelta(hours=n), f"Article {n}")
    story = [add(db, text, f"outlet{n}.example", MONDAY + timedelta(days=1, hours=n))
             for n, text in enumerate(STORY_THREE)]  # fmt: skip
    follow_up = add(db, STORY_THREE[0].replace("mardi à mercredi", "mercredi à jeudi"),
                    "outlet0.example", MONDAY + timedelta(days=2))  # fmt: skip
    now = MONDAY + timedelta(days=3)
    results = search(db, "raffinerie Krementchouk blessés", analyzer_for(), now=now)
    lead, second = results.hits  # the story once (three outlets), and outlet0's other report
    assert len(lead.sources) == 3 and second.sources == ()
    listed = {b for b, *_ in lead.sources}
    assert listed | {second.bulletin_id} == {*story, follow_up}
    assert {o for _, o, _ in lead.sources} == {"outlet0.example", "outlet1.example",
                                                   "outlet2.example"}  # fmt: skip
    assert lead.sources[0][0] == lead.bulletin_id  # the result's own outlet first
    html = hit_block(1, lead, "en", "hebdo_bot")
    assert "📰 3 sources: " in html and 'href="https://outlet2.example/a/' in html
    plain = search(db, "Lens Nantes", analyzer_for(), now=MONDAY + timedelta(days=3))
    assert len(plain.hits) == 1 and plain.hits[0].sources == ()


def _report(*terms: str) -> Signature:
    """A report's signature: these terms, equally rare."""
    return Signature({t: 2.0 for t in terms}, frozenset(), "fr", frozenset(terms))


def test_a_report_sharing_words_with_one_member_of_two_stories_does_not_link_them() -> None:
    """Single-link chaining is what made one story of unrelated reports: a report like one
    member of a story of three and one member of another of three joins one of them, it
    does not make them one. A report about both as a whole (each a lone report, both
    inside it: an article whose halves were filed first) does."""
    when = datetime(2026, 11, 23, 8, tzinfo=UTC)
    flood, festival = [f"crue{n}" for n in range(8)], [f"jazz{n}" for n in range(8)]
    clusters = Clusters()
    clusters.add(1, when, _report(*flood, "gymnase", "arene", "lanvin"))
    clusters.add(2, when, _report(*flood))
    clusters.add(3, when, _report(*flood[:6]))
    clusters.add(4, when, _report(*festival, "delmotte", "zaz", "scene"))
    clusters.add(5, when, _report(*festival))
    clusters.add(6, when, _report(*festival[:6]))
    assert len({clusters.story_of[b] for b in (1, 2, 3)}) == 1 != clusters.story_of[4]
    bridge = clusters.add(
        7, when, _report("gymnase", "arene", "lanvin", "delmotte", "zaz", "scene")
    )
    assert clusters.story_of[1] != clusters.story_of[4]  # still two stories
    assert bridge in (clusters.story_of[1], clusters.story_of[4])
    # two halves filed apart, then the article holding both: one event, merged
    clusters.add(8, when, _report(*[f"nord{n}" for n in range(6)]))
    clusters.add(9, when, _report(*[f"sud{n}" for n in range(6)]))
    whole = [f"nord{n}" for n in range(6)] + [f"sud{n}" for n in range(6)]
    assert clusters.add(10, when, _report(*whole)) == clusters.story_of[8] == clusters.story_of[9]


ROUND_UP = (
    "Bilan de la semaine\n\n"
    "Énergie en Ukraine\n\n{story}\n\n"
    "Sport du week-end\n\nLe club de Brest a gagné son derby face à Guingamp devant 15 000 "
    "spectateurs.\n\n"
    "Culture et musées\n\nLe château de Chambord rouvre son escalier à double révolution "
    "après deux ans de restauration.\n\n"
    "Économie et marchés\n\nLe port du Havre a battu son record de conteneurs traités en octobre."
)


def test_a_round_ups_topic_joins_the_story_other_outlets_tell(db: Database) -> None:
    """A round-up is a story alone, but its section on an event is a report of that event:
    it finds the article published before it, a later article finds it, and the digest tells
    the story once, with the round-up among its sources, its section not again."""
    for n, text in enumerate(UNRELATED[:30]):
        add(db, text, f"site{n % 7}.example", MONDAY + timedelta(hours=3 * n), f"Article {n}")
    before = add(db, STORY_THREE[0], "outlet0.example", MONDAY + timedelta(days=1))
    text = ROUND_UP.format(story=STORY_THREE[2]).encode()
    out = ingest(db, Submission("file", "2026-11-25-bilan.txt", data=text,
                                published=MONDAY + timedelta(days=2)), Limits())  # fmt: skip
    assert out.status == "added" and out.bulletin_id is not None
    after = add(db, STORY_THREE[1], "outlet1.example", MONDAY + timedelta(days=3))
    stories = story_ids(db, [before, after, out.bulletin_id])
    assert stories[before] == stories[after] != stories[out.bulletin_id]  # the round-up: alone
    (topic,) = [
        t for t in topics_of(db, [out.bulletin_id]).values() if t.story_id == stories[before]
    ]
    digest = edition_for(db, None, "fr", PARIS, MONDAY + timedelta(days=6)).digest
    first, *rest = digest.items
    assert first.sources == 3 and first.bulletin_id in (before, after, out.bulletin_id)
    assert [o for _, o, _ in first.others if "." not in o] == ["Bilan de la semaine"]
    told = [i.text for i in digest.items if "Krementchouk" in i.text or "Poltava" in i.text]
    assert len(told) == 1  # the round-up's section is not told again
    assert any(i.bulletin_id == out.bulletin_id for i in rest)  # its other topics still are
    assert topic.bulletin_id < 0  # a topic's report id is its own
    # an archive from before stories (or filed while filing failed): filed again at start
    with db.conn:
        db.execute("DELETE FROM story_members")
        db.execute("DELETE FROM story_postings")
    assert file_recent(db, analyzer_for(), MONDAY + timedelta(days=6)) == 33
    again = story_ids(db, [before, after, out.bulletin_id])
    assert again[before] == again[after] != again[out.bulletin_id]
    assert again[before] in {t.story_id for t in topics_of(db, [out.bulletin_id]).values()}
