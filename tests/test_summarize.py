"""The summariser on real bulletins: picks, redundancy, offsets, edge cases, stored headlines."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from sqlite_utils import Database

from bot.cli import main
from bot.headlines import refresh_summaries
from bot.ingest import Limits, Submission, ingest, ingest_paths, prepare
from bot.summarize import (
    MAX_AUTO_ITEMS,
    REDUNDANT,
    SUMMARY_VERSION,
    Pick,
    Sentence,
    pick_for_coverage,
    summarize,
)
from bot.text.analyze import terms
from bot.text.similarity import Similarity
from storage.bulletins import get_bulletin
from storage.models import NewBulletin
from tests.conftest import SAMPLE_FR, SAMPLES


def sample(name: str = SAMPLE_FR.name) -> NewBulletin:
    path = SAMPLES / name
    return prepare(Submission("file", path.name, data=path.read_bytes()), Limits())


def picks(bulletin: NewBulletin) -> list[str]:
    ranked = sorted(
        (i for i in bulletin.items if i.headline_rank), key=lambda i: i.headline_rank or 0
    )
    return [i.text for i in ranked]


def test_sample_picks_cover_the_week() -> None:
    chosen = picks(sample())
    assert 8 <= len(chosen) <= 10
    assert any("741" in p and "record" in p for p in chosen)
    assert any("Trump" in p and "OTAN" in p for p in chosen)  # from the second article
    assert any("recrutement" in p for p in chosen)
    assert any("Thales" in p for p in chosen)


def test_picks_are_never_near_duplicates() -> None:
    for path in SAMPLES.iterdir():
        bulletin = sample(path.name)
        chosen = picks(bulletin)
        sims = Similarity([Counter(terms(t, bulletin.language)) for t in chosen]).dense()
        assert (sims < REDUNDANT).all(), path.name


@pytest.mark.wall_clock
def test_repeated_sentence_picked_once() -> None:
    text = (
        "Bilan de la semaine\n\n"
        "La Russie a lancé 741 drones contre l’Ukraine, un record. Kyiv a été touchée.\n\n"
        "La Russie a lancé 741 drones contre l’Ukraine, un record absolu.\n\n"
        "Le Royaume-Uni livre 5000 missiles Thales. L’Allemagne finance des Patriot."
    )
    bulletin = prepare(Submission("admin:1", "x", text=text), Limits())
    assert sum("741 drones" in p for p in picks(bulletin)) == 1


def test_offsets_point_at_the_text() -> None:
    bulletin = sample()
    for item in bulletin.items:
        assert bulletin.clean_text[item.start : item.end] == item.text
        paragraph = bulletin.clean_text[item.paragraph_start : item.paragraph_end]
        assert item.text in paragraph
        assert "\n\n" not in paragraph


def test_every_item_scored_and_ranks_contiguous() -> None:
    bulletin = sample()
    assert all(i.score is not None for i in bulletin.items)
    ranks = sorted(i.headline_rank for i in bulletin.items if i.headline_rank)
    assert ranks == list(range(1, len(ranks) + 1))


SEVEN_FACTS = (
    "Bilan du jour\n\n"
    "La semaine a été marquée par de nouveaux combats. "
    "La Russie a lancé 480 drones contre Kyiv dans la nuit de mardi. "
    "Pour rappel, la situation reste tendue. "
    "Le Parlement a nommé Ioulia Svyrydenko Première ministre. "
    "L’Allemagne finance deux systèmes Patriot supplémentaires. "
    "Les combats continuent. "
    "Le Royaume-Uni a signé un accord pour 5000 missiles Thales. "
    "L’Union européenne a adopté son 18e paquet de sanctions. "
    "Une frappe sur Odessa a fait 12 blessés. "
    "Le FMI a débloqué 500 millions de dollars pour l’Ukraine."
)


@pytest.mark.wall_clock
def test_count_follows_the_facts_not_the_sentences() -> None:
    bulletin = prepare(Submission("admin:1", "x", text=SEVEN_FACTS), Limits())
    chosen = picks(bulletin)
    assert len(chosen) == 7  # ten sentences, seven facts: seven items
    assert not any(p.startswith(("La semaine", "Pour rappel", "Les combats")) for p in chosen)


@pytest.mark.wall_clock
def test_every_topic_before_a_second_item() -> None:
    # four paragraphs; the first holds three strong facts, the others one each
    text = (
        "Bilan\n\n"
        "Kyiv a reçu 10 missiles Patriot. Berlin a promis 5 systèmes IRIS-T. Paris a livré 30 canons Caesar.\n\n"
        "Le Parlement a nommé Ioulia Svyrydenko Première ministre.\n\n"
        "L’Union européenne a adopté son 18e paquet de sanctions.\n\n"
        "Une frappe sur Odessa a fait 12 blessés."
    )
    bulletin = prepare(Submission("admin:1", "x", text=text), Limits(summary_items=4))
    chosen = picks(bulletin)
    assert len(chosen) == 4
    assert sum(p.split()[0] in ("Kyiv", "Berlin", "Paris") for p in chosen) == 1


def test_coverage_rule_caps_groups_and_skips_repeats() -> None:
    texts = ["Kyiv a reçu 10 missiles Patriot.", "Kyiv a reçu 10 missiles Patriot hier.",
             "Berlin a promis 5 systèmes IRIS-T.", "Paris a livré 30 canons Caesar."]  # fmt: skip
    offered = [Pick(t, "fr", n, n // 2 if n < 3 else 1, 1.0 - n / 10) for n, t in enumerate(texts)]
    assert pick_for_coverage(offered, 10) == [0, 2, 3]  # the repeat (1) is left out
    assert pick_for_coverage(offered, 10, per_group=1) == [0, 2]  # 3 shares 2's group
    assert len(pick_for_coverage(offered, 10, fill=True)) == 3  # never a near-duplicate


def test_similarity_is_linear_and_exact() -> None:
    bags = [Counter(terms(t, "fr")) for t in ("Kyiv missiles Patriot", "Patriot Kyiv", "Odessa")]
    dense = Similarity(bags).dense()
    assert dense.shape == (3, 3) and dense[0, 0] == 0 and dense[2, 0] == 0
    assert dense[0, 1] == pytest.approx(dense[1, 0]) and dense[0, 1] > 0.5
    # 20,000 sentences: a dense matrix would take 3.2 GB; the sparse product takes a few MB
    many = [Counter({f"w{i % 50}": 1, f"v{i}": 1}) for i in range(20_000)]
    out = Similarity(many).times(np.ones(20_000))
    assert out.shape == (20_000,)
    assert len(picks(sample())) <= MAX_AUTO_ITEMS


def test_count_is_configurable() -> None:
    path = SAMPLE_FR
    bulletin = prepare(
        Submission("file", path.name, data=path.read_bytes()), Limits(summary_items=2)
    )
    assert len(picks(bulletin)) == 2


def test_empty_and_one_sentence() -> None:
    assert summarize([], language="fr") == summarize([], language="fr")
    assert summarize([], language="fr").picks == []
    one = summarize([Sentence("Kharkiv a été frappée.")], language="fr")
    assert one.picks == [0]
    only_stopwords = summarize([Sentence("Il y a."), Sentence("Et le.")], language="fr")
    assert sorted(only_stopwords.picks) == [0, 1]


def test_deterministic() -> None:
    assert picks(sample()) == picks(sample())


@pytest.mark.parametrize(
    ("text", "language"),
    [
        (
            "Weekly review\n\nRussia launched 741 drones. Kyiv was hit. The UK sent 5,000 missiles.",
            "en",
        ),
        (
            "Тижневий огляд\n\nРосія запустила 741 дрон. Київ зазнав ударів. Британія передала 5000 ракет.",
            "uk",
        ),
    ],
)
@pytest.mark.wall_clock
def test_other_languages(text: str, language: str) -> None:
    bulletin = prepare(Submission("admin:1", "x", text=text), Limits())
    assert bulletin.language == language
    assert len(picks(bulletin)) == 3


def test_stale_summaries_are_recomputed(db: Database, limits: Limits) -> None:
    report = ingest_paths(db, [SAMPLE_FR], limits)
    bulletin_id = report.outcomes[0].bulletin_id
    before = get_bulletin(db, bulletin_id or 0)
    db.execute("UPDATE items SET headline_rank = NULL, score = NULL")
    db.execute("UPDATE bulletins SET summary_version = ?", [SUMMARY_VERSION - 1])
    assert refresh_summaries(db) == 1
    assert refresh_summaries(db) == 0
    after = get_bulletin(db, bulletin_id or 0)
    assert before is not None and after is not None
    assert [(i.headline_rank, i.score) for i in after.items] == [
        (i.headline_rank, i.score) for i in before.items
    ]


def test_stored_at_ingest(db: Database, limits: Limits) -> None:
    out = ingest(db, Submission("file", SAMPLE_FR.name, data=SAMPLE_FR.read_bytes()), limits)
    detail = get_bulletin(db, out.bulletin_id or 0)
    assert detail is not None
    stored = [
        i.text for i in sorted(detail.items, key=lambda i: i.headline_rank or 99) if i.headline_rank
    ]
    assert stored == picks(sample())


def test_cli_summarize_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summarize", str(SAMPLE_FR), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["title"] == "Bilan de la semaine. 1230-1234 jours de résistance"
    assert data["language"] == "fr"
    text = SAMPLE_FR.read_text(encoding="utf-8")
    for item in data["items"]:
        assert set(item) == {
            "text", "section", "sentence_start", "sentence_end", "paragraph_start", "paragraph_end", "score",
        }  # fmt: skip
        assert text[item["sentence_start"] : item["sentence_end"]] == item["text"]
    sections = {i["section"] for i in data["items"]}
    assert (
        "Trump a déclaré que les États-Unis fourniraient des armes à l’Ukraine via l’OTAN"
        in sections
    )


def test_cli_summarize_bad_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert main(["summarize", str(empty)]) == 1
    assert "empty" in capsys.readouterr().err
    assert main(["summarize", str(tmp_path / "missing.txt")]) == 1
    assert "unreadable" in capsys.readouterr().err
