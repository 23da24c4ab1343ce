"""Search with several words: they may be spread over a paragraph or a bulletin, a
bulletin with most of them comes next when none has all, and each bulletin is one result."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from bot.ingest import Limits, Submission, ingest
from bot.search import HIGHLIGHT_START, search
from bot.text.analyze import analyzer_for
from tests.test_search import NOW, archive, found  # noqa: F401 — the fixture

FR_11, EN_11, FR_18 = (
    "Bilan de la semaine. 1230-1234 jours de résistance",
    "Weekly review. Days 1230-1234 of resistance",
    "Bilan de la semaine. 1235-1241 jours de résistance",
)


def titles(db: Database, query: str, **kwargs: object) -> list[str]:
    results = search(db, query, analyzer_for(), now=NOW, reader_language="fr", **kwargs)  # type: ignore[arg-type]
    return [h.bulletin_title for h in results.hits]


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("robots Krasnodar", FR_11),  # one paragraph, two sentences
        ("Kharkiv raffinerie", FR_11),  # one bulletin, two paragraphs
        ("Trump Thales", FR_11),
        ("Svyrydenko Pokrovsk", FR_18),
    ],
)
def test_words_in_one_bulletin_find_it_first(archive: Database, query: str, title: str) -> None:  # noqa: F811
    assert titles(archive, query)[0] == title


def test_closer_words_rank_higher_and_the_passage_shows_both(archive: Database) -> None:  # noqa: F811
    results = search(archive, "robots Krasnodar", analyzer_for(), now=NOW, reader_language="fr")
    best = results.hits[0]
    assert best.words == 2 and len(best.passage) == 2  # two sentences of one paragraph
    marked = best.snippet.count(HIGHLIGHT_START)
    assert marked >= 2 and "…" in best.snippet
    assert "robots" in best.snippet and "Krasnodar" in best.snippet
    assert titles(archive, "robots Krasnodar")[:2] == [FR_11, EN_11]  # the reader's language


def test_a_missing_word_gives_partial_results_and_says_so(archive: Database) -> None:  # noqa: F811
    results = search(archive, "Patriot raffinerie xqzwvk", analyzer_for(), now=NOW)
    assert results.hits and results.partial
    assert (results.best, results.words) == (2, 3)
    assert results.hits[0].bulletin_title == FR_11  # Patriot and raffinerie both there
    assert [h.words for h in results.hits] == sorted((h.words for h in results.hits), reverse=True)


def test_rarer_words_weigh_more_among_partial_matches(db: Database, limits: Limits) -> None:
    texts = {
        "2025-07-01-a.txt": "Revue Alpha\n\nLes drones ont visé Tchassiv Iar.",  # drones (common)
        "2025-07-02-b.txt": "Revue Bravo\n\nLe port de Berdiansk a été touché.",  # Berdiansk (rare)
        "2025-07-03-c.txt": "Revue Charlie\n\nDes drones partout.",
        "2025-07-04-d.txt": "Revue Delta\n\nEncore des drones.",
    }
    for name, text in texts.items():
        ingest(db, Submission("file", name, data=text.encode()), limits)
    results = search(db, "drones Berdiansk", analyzer_for(), now=NOW)
    assert results.partial and results.hits[0].bulletin_title == "Revue Bravo"


def test_the_bulletin_about_the_words_beats_one_holding_each_in_passing(
    db: Database, limits: Limits
) -> None:
    """Ranked by the bulletin's own BM25 over all the words, not "every word first": a short
    report about a crane falling in Berdiansk (two of the three words, each twice) comes
    before long reviews that hold all three once each, in passing."""
    about = (
        "Revue Grue\n\nUne grue est tombée sur le quai de Berdiansk. La grue de Berdiansk gisait."
    )
    ingest(db, Submission("file", "2025-07-01-grue.txt", data=about.encode()), limits)
    filler = " ".join(f"La ville numéro {n} a passé une nuit calme." for n in range(14))
    for n in range(6):
        text = (f"Revue longue {n}\n\n{filler} Une grue neuve au port. On a parlé de Berdiansk. "
                "Le port reste ouvert.")  # fmt: skip
        ingest(db, Submission("file", f"2025-07-{n + 2:02d}-long.txt", data=text.encode()), limits)
    for n in range(8):  # "port" is a common word of the archive
        text = f"Revue du port {n}\n\nLe port de la ville numéro {n} a rouvert."
        ingest(db, Submission("file", f"2025-07-{n + 10}-port.txt", data=text.encode()), limits)
    results = search(db, "Berdiansk grue port", analyzer_for(), now=NOW)
    assert results.hits[0].bulletin_title == "Revue Grue" and results.hits[0].words == 2
    assert {h.words for h in results.hits[1:]} == {3}  # the reviews follow, not gone


def test_never_nothing_while_a_word_is_in_the_archive(archive: Database) -> None:  # noqa: F811
    for query in ("zzzqqq Kharkiv", "Kharkiv zzzqqq yyyxxx", "Kyiv wwwvvv"):
        results = search(archive, query, analyzer_for(), now=NOW)
        assert results.hits and results.partial, query
    assert search(archive, "zzzqqq yyyxxx", analyzer_for(), now=NOW).hits == []


def test_one_result_per_bulletin_and_more_from_it(archive: Database) -> None:  # noqa: F811
    results = search(archive, "Patriot", analyzer_for(), now=NOW, per_page=20)
    ids = [h.bulletin_id for h in results.hits]
    assert len(ids) == len(set(ids)) == results.total
    rich = next(h for h in results.hits if h.also)
    within = search(archive, "Patriot", analyzer_for(), now=NOW, per_page=50,
                    bulletin=rich.bulletin_id)  # fmt: skip
    assert within.total == rich.also + len(rich.passage)
    assert all("Patriot" in h.text for h in within.hits)
    # within a bulletin holding both words in different sentences: not a "partial" result
    both = search(archive, "robots Krasnodar", analyzer_for(), now=NOW)
    inside = search(archive, "robots Krasnodar", analyzer_for(), now=NOW,
                    bulletin=both.hits[0].bulletin_id)  # fmt: skip
    assert not both.partial and not inside.partial and inside.total == 2


def test_phrases_stay_exact_and_exclusions_hold(archive: Database) -> None:  # noqa: F811
    assert found(archive, '"accord historique"')
    assert not found(archive, '"historique accord"')
    everything = set(found(archive, "Patriot"))
    without = set(found(archive, "Patriot -Allemagne"))
    assert without < everything and not any("Allemagne" in t for t in without)


def test_filters_apply_to_every_word(archive: Database) -> None:  # noqa: F811
    assert set(titles(archive, "Trump Thales lang:en")) == {EN_11}
    assert FR_18 not in titles(archive, "Trump Thales until:2025-07-12")


def test_a_word_too_common_for_its_list_is_still_found_in_older_bulletins(
    db: Database, limits: Limits, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each word's list stops at the newest UNIT_POOL items; a bulletin in contention is
    then read for the words its lists did not reach, so it keeps its rank."""
    from bot import passages

    old = "Revue ancienne\n\nLes drones ont frappé Berdiansk.\n\nUn autre paragraphe, sans rien."
    ingest(db, Submission("file", "2025-06-01-old.txt", data=old.encode()), limits)
    for n in range(6):  # newer bulletins that mention drones only
        text = f"Revue {n} du jour\n\nDes drones au-dessus de la ville numéro {n}."
        ingest(db, Submission("file", f"2025-07-{n + 10}-new.txt", data=text.encode()), limits)
    monkeypatch.setattr(passages, "UNIT_POOL", 3)  # "drones": only the 3 newest items listed
    results = search(db, "Berdiansk drones", analyzer_for(), now=NOW)
    first = results.hits[0]
    assert first.bulletin_title == "Revue ancienne" and first.words == 2 and not results.partial
    assert "drones" in first.snippet and "Berdiansk" in first.snippet
    # the same through the index when the query excludes a word (only the index applies it)
    results = search(db, "Berdiansk drones -Kherson", analyzer_for(), now=NOW)
    assert results.hits[0].bulletin_title == "Revue ancienne" and results.hits[0].words == 2


def test_a_two_sentence_passage_has_one_ellipsis_between() -> None:
    from bot.search import _joined

    assert _joined(["…la fin.", "…début de l'autre…"]) == "…la fin. … début de l'autre…"
    assert _joined(["Une phrase.", "Une autre."]) == "Une phrase. … Une autre."
    assert _joined(["Seule…"]) == "Seule…"
