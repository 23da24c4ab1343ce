"""Forgiving search: a word the index has never seen is read as its closest indexed term."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from bot.ingest import Limits, Submission, ingest
from bot.search import search
from bot.spelling import correction, distance
from bot.text.analyze import analyzer_for
from storage.spelling import correctable, deletions, near_terms
from tests.test_search import NOW, archive, found  # noqa: F401 — the fixture

# (misspelt query, how the results say it was read, a text one of the results contains)
MISSPELLINGS = [
    ("Harkiv", "Kharkiv", "à Kharkiv et à Zaporijjia"),
    ("Patriott", "Patriot", "10 missiles pour Patriot"),
    ("frapes", "frappes", "nouveau record de frappes"),
    ("Zaporojie", None, "à Kharkiv et à Zaporijjia"),  # a variant of the list: no correction
    ("Zelenski", None, "Trump a promis à Zelensky"),  # likewise
    ("Kharkivv", "Kharkiv", "à Kharkiv et à Zaporijjia"),  # a letter too many
    ("Krasnodra", "Krasnodar", "Krasnodar"),  # two letters swapped
]


@pytest.mark.parametrize(("query", "read_as", "expected"), MISSPELLINGS)
def test_misspelt_words_find_their_items(
    archive: Database,  # noqa: F811
    query: str,
    read_as: str | None,
    expected: str,
) -> None:
    results = search(archive, query, analyzer_for(), now=NOW, per_page=50)
    assert any(expected in text for text in found(archive, query))
    assert results.corrections == ([(query, read_as)] if read_as else [])


def test_a_word_of_the_index_is_never_corrected(archive: Database) -> None:  # noqa: F811
    for query in ("Kharkiv", "frappes", "patriot", "Svyrydenko"):
        assert search(archive, query, analyzer_for(), now=NOW).corrections == []


def test_what_is_not_corrected(archive: Database) -> None:  # noqa: F811
    analyzer = analyzer_for()
    # nothing near; two edits away; too short to guess; a prefix; an exclusion; a number;
    # a phrase
    for query in ("xqzwvk", "Svyridenka", "Kiv", "Harki*", "patriot -Harkiv", "12345",
                  '"Harkiv Dnipro"'):  # fmt: skip
        assert search(archive, query, analyzer, now=NOW).corrections == [], query
    assert found(archive, "patriot -Harkiv") == found(archive, "patriot")
    assert not correctable("a" * 31) and correctable("kharkiv") and not correctable("f16")


def test_several_words_each_corrected_and_the_reply_says_so(archive: Database) -> None:  # noqa: F811
    results = search(archive, "frapes Harkiv", analyzer_for(), now=NOW)
    assert results.corrections == [("frapes", "frappes"), ("Harkiv", "Kharkiv")]
    both = [h for h in results.hits if h.words == 2]  # first: frapper and Kharkiv (Kharkov)
    assert len(both) == 3 and results.hits[:3] == both
    assert all("frapp" in h.snippet and "Khark" in h.snippet for h in both)


def test_a_term_held_by_one_item_only_is_no_correction(archive: Database, limits: Limits) -> None:  # noqa: F811
    """One sentence of one bulletin is not enough to take a word as someone's intended
    spelling (and a file of junk words would swell the table): two items are."""
    assert correction(archive, {"svyridenko"}) is None  # "Svyrydenko": one item of the samples
    text = "Gouvernement\n\nIoulia Svyrydenko a présenté son programme au Parlement."
    ingest(archive, Submission("file", "2025-07-19-s.txt", data=text.encode()), limits)
    assert correction(archive, {"svyridenko"}) == "svyrydenko"


def test_terms_learnt_later_are_candidates_too(archive: Database, limits: Limits) -> None:  # noqa: F811
    assert correction(archive, {"bakhmout"}) is None  # not in the archive yet: nothing near
    text = "Bakhmout\n\nLes combats continuent autour de Bakhmout et de Tchassiv Iar."
    assert ingest(archive, Submission("file", "2025-07-19-b.txt", data=text.encode()),
                  limits).status == "added"  # fmt: skip
    assert correction(archive, {"bakmout"}) == "bakhmout"
    assert search(archive, "Bakmout", analyzer_for(), now=NOW).corrections == [
        ("Bakmout", "Bakhmout")
    ]


def test_frequency_breaks_ties_between_equally_near_terms(db: Database, limits: Limits) -> None:
    for n, text in enumerate(
        ["Le port de Marioupol.", "Marioupol encore.", "Le village de Mariopol."]
    ):
        ingest(db, Submission("file", f"2025-07-0{n + 1}-m.txt",
                              data=f"Titre {n}\n\n{text}".encode()), limits)  # fmt: skip
    # "mariupol" is one edit from both; "marioupol" is in two items, "mariopol" in one
    assert correction(db, {"mariupol"}) == "marioupol"


def test_distance_and_budget() -> None:
    assert distance("harkiv", "kharkiv", 2) == 1
    assert distance("patriott", "patriot", 2) == 1
    assert distance("zelenksy", "zelensky", 2) == 1  # two letters swapped: one edit
    assert distance("abcdef", "uvwxyz", 2) == 3  # stops past the limit
    assert distance("ab", "abcdefgh", 2) == 3
    assert deletions("kiv") == {"kiv", "iv", "kv", "ki"}


def test_candidates_come_from_the_index_not_a_scan(archive: Database) -> None:  # noqa: F811
    near = near_terms(archive, "harkiv")
    assert [term for term, _ in near] == ["kharkiv"]  # one deletion from "kharkiv" meets it
    assert all(abs(len(term) - len("patriott")) <= 2 for term, _ in near_terms(archive, "patriott"))


def test_hostile_queries_stay_bounded(archive: Database) -> None:  # noqa: F811
    analyzer = analyzer_for()
    many = " ".join(["Harkiv", "Patriott", "frapes"] * 20)  # 60 words to correct
    results = search(archive, many, analyzer, now=NOW)
    assert len(results.corrections) <= 12  # a query keeps at most MAX_TERMS words
    assert search(archive, "x" * 5000, analyzer, now=NOW).corrections == []  # no one's slip
    assert search(archive, "Харків" * 500, analyzer, now=NOW).hits == []
