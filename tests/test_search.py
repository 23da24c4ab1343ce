"""Search: one text pipeline for index and queries, variants, safe parsing, ranking, snippets."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.config import Settings
from bot.ingest import Limits, Submission, expand_paths, ingest, ingest_paths
from bot.maintenance import prepare_database
from bot.query import parse_query
from bot.search import HIGHLIGHT_END, HIGHLIGHT_START, QueryError, search
from bot.text.analyze import Analyzer, analyzer_for, load_variants
from storage.bulletins import set_deleted
from storage.search import SearchSyntaxError, bulletin_ranges, index_fingerprint
from tests.conftest import SAMPLES

NOW = datetime(2025, 7, 20, tzinfo=UTC)
EXTRA = (
    "Revue des régions\n\n"
    "Un missile a frappé un dépôt à Zaporijia dans la nuit. "
    "Les autorités de Kharkov évoquent une frappe de drones. "
    "La capitale, Kyiv, a été visée par des Shaheds. "
    "Le C++ n'a rien à voir ici, ni l'OTAN du reste."
)
UKRAINIAN = "Огляд тижня\n\nУдари по Харкову тривають. НАТО обговорює нові поставки для Києва."


@pytest.fixture
def archive(db: Database, limits: Limits) -> Database:
    ingest_paths(db, list(expand_paths([SAMPLES])), limits)
    for name, text in (("2025-07-16-regions.txt", EXTRA), ("2025-07-17-uk.txt", UKRAINIAN)):
        assert ingest(db, Submission("file", name, data=text.encode()), limits).status == "added"
    return db


def found(db: Database, query: str, **kwargs: object) -> list[str]:
    """The text of every item the query finds: each result's bulletin, item by item."""
    results = search(db, query, analyzer_for(), now=NOW, per_page=50, **kwargs)  # type: ignore[arg-type]
    texts = []
    for hit in results.hits:
        within = search(db, query, analyzer_for(), now=NOW, per_page=50,
                        bulletin=hit.bulletin_id, **kwargs)  # type: ignore[arg-type]  # fmt: skip
        texts += [h.text for h in within.hits]
    return texts


# Each query and a phrase that an item it must find contains.
VARIANTS = [
    ("frappe", "nouveau record de frappes"),
    ("frappe", "Un missile a frappé un dépôt"),
    ("frappés", "une frappe de drones"),
    ("missile", "5000 missiles de défense aérienne Thales"),
    ("missiles", "Un missile a frappé"),
    ("Zaporijia", "à Kharkiv et à Zaporijjia"),
    ("Zaporijjia", "dépôt à Zaporijia"),
    ("Zaporizhzhia", "dépôt à Zaporijia"),
    ("Zaporijjia", "in Kharkiv and Zaporizhzhia"),
    ("Kharkiv", "Les autorités de Kharkov"),
    ("Kharkov", "à Kharkiv et à Zaporijjia"),
    ("Харків", "contre Kharkiv, Dnipro"),
    ("Kharkiv", "Удари по Харкову тривають."),
    ("otan", "secrétaire général de l'OTAN"),
    ("nato", "l’OTAN paie ces armes"),
    ("OTAN", "НАТО обговорює"),
    ("Kiev", "La capitale, Kyiv"),
    ("l'OTAN", "l’OTAN paie ces armes"),
    ("d'armes", "livraison d’armes américaines"),
    ("Shahed", "visée par des Shaheds"),
    ("ELECTRONIQUE chinoise", "part de l’électronique chinoise"),
    ('"accord historique"', "concluent un accord historique"),
    ("patri*", "10 missiles pour Patriot"),
]


@pytest.mark.parametrize(("query", "expected"), VARIANTS)
def test_variants_find_each_other(archive: Database, query: str, expected: str) -> None:
    assert any(expected in text for text in found(archive, query)), query


def test_phrase_needs_adjacent_words(archive: Database) -> None:
    assert found(archive, '"historique accord"') == []
    assert found(archive, "historique accord")


def test_exclusion(archive: Database) -> None:
    with_germany = found(archive, "patriot")
    without = found(archive, "patriot -allemagne")
    assert any("Allemagne" in t for t in with_germany)
    assert without and not any("Allemagne" in t for t in without)
    assert not any("OTAN" in t for t in found(archive, 'patriot -"l\'OTAN"'))


def test_filters(archive: Database) -> None:
    assert all("Patriot" in t for t in found(archive, "patriot lang:en"))
    assert len(found(archive, "patriot lang:en")) == 1
    later = search(archive, "patriot since:2025-07-15", analyzer_for(), now=NOW)
    assert {h.published_at[:10] for h in later.hits} == {"2025-07-18"}
    earlier = search(archive, "patriot until:2025-07-12", analyzer_for(), now=NOW)
    assert {h.published_at[:10] for h in earlier.hits} == {"2025-07-11"}
    july = search(archive, "patriot until:2025-07", analyzer_for(), now=NOW)
    assert {h.published_at[:10] for h in july.hits} == {"2025-07-11", "2025-07-18"}


HOSTILE = ['"', '""', "AND", "OR(", "NEAR(", "C++", "l'", "-", "*", "x" * 5000, "🙂🙂", "‏שלום עולם‏",
           "'; DROP TABLE items; --", "body:patriot", "patriot OR", "NOT patriot", "^patriot", "(", ")",
           "patriot NEAR(otan, 2)", "-patriot", "since:", "lang:de", "since:2025-13", "a" * 50 + "*"]  # fmt: skip


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_raise_anything_else(archive: Database, query: str) -> None:
    before = archive.execute("SELECT count(*) FROM items").fetchone()[0]
    try:
        results = search(archive, query, analyzer_for(), now=NOW)
    except QueryError as exc:
        assert str(exc)  # a usage hint
    else:
        assert results.total >= 0
    assert archive.execute("SELECT count(*) FROM items").fetchone()[0] == before


def test_operators_are_literal(archive: Database) -> None:
    with pytest.raises(QueryError):
        search(archive, "C++", analyzer_for(), now=NOW)  # "c" alone is not a word
    # a column filter would find Patriot; here "body" is a word no item has
    assert search(archive, "body:patriot", analyzer_for(), now=NOW).hits == []
    # NOT and OR are words (English stop words), not operators
    plain = found(archive, "patriot")
    assert found(archive, "NOT patriot") == plain
    assert found(archive, "patriot OR") == plain


def test_long_query_is_capped(archive: Database) -> None:
    query = parse_query(" ".join(["patriot"] * 1000), analyzer_for())
    assert len(query.groups) <= 12


def test_raw_fts_for_admins_only(archive: Database) -> None:
    raw = search(archive, "raw: patriot NOT otan", analyzer_for(), admin=True, now=NOW)
    assert raw.hits and not any("OTAN" in h.text for h in raw.hits)
    with pytest.raises(SearchSyntaxError):
        search(archive, "raw: patriot AND (", analyzer_for(), admin=True, now=NOW)
    # without admin rights "raw:" is just a word
    assert search(archive, "raw: patriot", analyzer_for(), now=NOW).total >= 0


def test_headlines_rank_first_and_bulletins_do_not_flood(archive: Database) -> None:
    results = search(archive, "trump", analyzer_for(), now=NOW, per_page=5)
    first_page = [h.bulletin_id for h in results.hits]
    assert max(first_page.count(b) for b in set(first_page)) <= 2
    assert results.hits[0].headline


def test_recency_breaks_ties(db: Database, limits: Limits) -> None:
    text = "Bilan\n\nLes drones ont visé Odessa pendant la nuit."
    ingest(db, Submission("file", "2024-01-05-old.txt", data=text.encode()), limits)
    ingest(
        db,
        Submission("file", "2025-07-18-new.txt", data=(text + " ").encode() + b"Encore."),
        limits,
    )
    hits = search(db, "odessa", analyzer_for(), now=NOW).hits
    assert [h.published_at[:4] for h in hits] == ["2025", "2024"]


def test_snippet_highlights_words_not_stems(archive: Database) -> None:
    (hit,) = [
        h
        for h in search(archive, "frappé kharkov", analyzer_for(), now=NOW, per_page=50).hits
        if "Kharkov" in h.text
    ]
    assert f"{HIGHLIGHT_START}Kharkov{HIGHLIGHT_END}" in hit.snippet
    assert f"{HIGHLIGHT_START}frappe{HIGHLIGHT_END}" in hit.snippet


@pytest.mark.wall_clock
def test_long_item_snippet_is_cut_around_the_match(db: Database, limits: Limits) -> None:
    long = (
        "Bilan\n\n"
        + "Du texte sans intérêt, " * 60
        + "puis enfin Odessa est citée"
        + ", encore" * 60
        + "."
    )
    ingest(db, Submission("file", "x.txt", data=long.encode()), limits)
    (hit,) = search(db, "odessa", analyzer_for(), now=NOW).hits
    assert len(hit.snippet) < 300
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    words = long.split()
    assert (
        hit.snippet[1:].split()[0] in words and hit.snippet[:-1].split()[-1] in words
    )  # whole words
    assert f"{HIGHLIGHT_START}Odessa{HIGHLIGHT_END}" in hit.snippet


def test_deleted_bulletins_not_found(archive: Database) -> None:
    archive.execute("UPDATE bulletins SET deleted_at = '2025-07-19'")
    assert found(archive, "patriot") == []


def test_pages(archive: Database) -> None:
    first = search(archive, "ukraine", analyzer_for(), now=NOW, per_page=2)
    second = search(archive, "ukraine", analyzer_for(), now=NOW, per_page=2, page=1)
    assert first.has_next and first.total == 3  # one result per bulletin (the 3 samples)
    assert not {h.bulletin_id for h in first.hits} & {h.bulletin_id for h in second.hits}
    # within one bulletin: every matching item, a page at a time
    bulletin = first.hits[0].bulletin_id
    inside = search(archive, "ukraine", analyzer_for(), now=NOW, per_page=3, bulletin=bulletin)
    after = search(archive, "ukraine", analyzer_for(), now=NOW, per_page=3, page=1,
                   bulletin=bulletin)  # fmt: skip
    assert inside.total == first.hits[0].also + len(first.hits[0].passage) > 3
    assert {h.bulletin_id for h in inside.hits + after.hits} == {bulletin}
    assert not {h.item_id for h in inside.hits} & {h.item_id for h in after.hits}


@pytest.mark.wall_clock
def test_variants_file_change_rebuilds_index(db: Database, limits: Limits, tmp_path: Path) -> None:
    ingest(db, Submission("file", "x.txt", data=b"Bilan\n\nLes drones visent Marioupol."), limits)
    variants = tmp_path / "variants.txt"
    settings = Settings(database_path=tmp_path / "x.db", variants_file=variants)
    prepare_database(db, settings)
    assert search(db, "Маріуполь", analyzer_for(variants), now=NOW).hits == []
    # one edit away, but held by one item only: no guess either
    assert search(db, "Mariupol", analyzer_for(variants), now=NOW).hits == []
    variants.write_text("Marioupol, Mariupol, Маріуполь\n", encoding="utf-8")
    analyzer_for.cache_clear()
    prepare_database(db, settings)
    assert index_fingerprint(db) == analyzer_for(variants).fingerprint
    after = search(db, "Mariupol", analyzer_for(variants), now=NOW)
    assert after.hits and after.corrections == []  # a variant now, no guess needed
    assert search(db, "Маріуполь", analyzer_for(variants), now=NOW).hits


def test_variant_file_ignores_junk(tmp_path: Path) -> None:
    path = tmp_path / "v.txt"
    path.write_text(
        "# comment\n\nlonely\nSan Francisco, SF city\nAlpha, Betas # note\n", encoding="utf-8"
    )
    variants = Analyzer(load_variants(path)).variants
    assert variants.key("beta") == "alpha"
    assert set(variants.mapping.values()) == {"alpha"}


def test_bm25_prefers_rare_words_and_headings(db: Database, limits: Limits) -> None:
    common = "Bilan\n\n" + " ".join(f"Les drones visent la ville numéro {n}." for n in range(30))
    ingest(db, Submission("file", "2025-07-10-a.txt", data=common.encode()), limits)
    rare = "Revue du soir\n\nLes drones visent Marioupol cette nuit."
    ingest(db, Submission("file", "2025-07-10-b.txt", data=rare.encode()), limits)
    titled = "Marioupol sous les drones\n\nLa ville a passé une nuit difficile sous les tirs."
    ingest(db, Submission("file", "2025-07-10-c.txt", data=titled.encode()), limits)
    hits = search(db, "drones marioupol", analyzer_for(), now=NOW, per_page=10).hits
    assert [h.bulletin_title for h in hits[:2]] == ["Marioupol sous les drones", "Revue du soir"]
    assert all(h.score > 0 for h in hits)


@pytest.mark.parametrize("language", ["fr", "en", "uk"])
def test_every_example_in_welcome_and_help_finds_something(db: Database, limits: Limits,
                                                          language: str) -> None:  # fmt: skip
    """The searches the bot suggests work on the shared sample archive, in every language."""
    import re

    from bot.i18n import CATALOGUES

    ingest_paths(db, list(expand_paths([SAMPLES])), limits)
    texts = CATALOGUES[language]
    examples = re.findall(r"<i>(.*?)</i>", texts["help"]) + re.findall(
        r"[«“](.*?)[»”]", texts["welcome"]
    )
    assert len(examples) >= 3
    for example in examples:
        results = search(db, example, analyzer_for(), now=NOW, per_page=5)
        assert results.hits, f"{language}: {example!r} finds nothing"


def test_bulletin_ranges_are_the_items_counted(archive: Database) -> None:
    """Each live bulletin's first and last item and item count, as a plain count gives them."""
    ids = [b for (b,) in archive.execute("SELECT id FROM bulletins")]
    assert set_deleted(archive, ids[1], True)
    counted = {
        b: (first, last, n)
        for b, first, last, n in archive.execute(
            "SELECT bulletin_id, min(id), max(id), count(*) FROM items GROUP BY bulletin_id"
        )
        if b != ids[1]
    }
    assert bulletin_ranges(archive, [*ids, 10**6]) == counted
    assert len(counted) == len(ids) - 1 >= 4


def test_pages_beyond_the_first_four_show_what_one_long_page_shows(
    db: Database, limits: Limits
) -> None:
    """Results past the 20 scored in detail are read only when their page is shown: page by
    page they are the same, in the same order, as one page of all of them; a bulletin
    deleted since is left out of its page."""
    for n in range(32):
        text = (f"Bilan {n}\n\nDes drones ont visé la ville numéro {n} cette nuit. "
                f"Les secours ont dégagé {n + 3} immeubles après les frappes de drones.")  # fmt: skip
        day = 1 + n % 28
        ingest(db, Submission("file", f"2025-06-{day:02d}-bilan-{n}.txt", data=text.encode()),
               limits)  # fmt: skip
    analyzer = analyzer_for()
    whole = search(db, "drones", analyzer, now=NOW, per_page=100).hits
    assert len(whole) == 32
    paged = [h for page in range(7)
             for h in search(db, "drones", analyzer, now=NOW, page=page, per_page=5).hits]  # fmt: skip
    assert [(h.item_id, h.text, h.bulletin_title, h.published_at) for h in paged] == [
        (h.item_id, h.text, h.bulletin_title, h.published_at) for h in whole]  # fmt: skip
    set_deleted(db, whole[-1].bulletin_id, True)
    last = search(db, "drones", analyzer, now=NOW, page=6, per_page=5).hits
    assert whole[-1].bulletin_id not in [h.bulletin_id for h in last]
