"""Sentence segmentation and language detection, as parametrised tables."""

import itertools
import re

import pytest

from bot.text.facts import assess
from bot.text.language import detect_language
from bot.text.sentences import split_sentences, split_spans

CASES = [
    # French
    ("M. Dupont est arrivé. Il a parlé.", ["M. Dupont est arrivé.", "Il a parlé."]),
    ("Mme Martin et M. Durand ont signé.", ["Mme Martin et M. Durand ont signé."]),
    ("Des chars, des obus, etc. Le gouvernement répond.", None),
    ("Des armes, p. ex. des obus, arrivent. Puis la suite.", ["Des armes, p. ex. des obus, arrivent.", "Puis la suite."]),
    ("Bilan des jours 1230-1234. La suite.", ["Bilan des jours 1230-1234.", "La suite."]),
    ("La part atteint 65 %. Elle augmente.", ["La part atteint 65 %.", "Elle augmente."]),
    ("Un accord pour 5 000 missiles. Signé.", ["Un accord pour 5 000 missiles.", "Signé."]),
    ("Un paquet de 300 millions de dollars. Il arrive.", ["Un paquet de 300 millions de dollars.", "Il arrive."]),
    ("Le 11.07.2025 à 14 h. Rien.", ["Le 11.07.2025 à 14 h.", "Rien."]),
    ("Il a lu J. K. Rowling. Bien.", ["Il a lu J. K. Rowling.", "Bien."]),
    ("« Nous enverrons des Patriot. Puis l'OTAN paiera », a-t-il dit. Fin.",
     ["« Nous enverrons des Patriot. Puis l'OTAN paiera », a-t-il dit.", "Fin."]),
    ("Il a dit : « Je suis déçu. » Puis il est parti.", ["Il a dit : « Je suis déçu. »", "Puis il est parti."]),
    ("« Je suis déçu par la Russie… lundi, je parlerai. »", ["« Je suis déçu par la Russie… lundi, je parlerai. »"]),
    ("Il hésite… Puis il signe.", ["Il hésite…", "Puis il signe."]),
    ("« Citation « imbriquée » ici. » Ensuite.", ["« Citation « imbriquée » ici. »", "Ensuite."]),
    ("domestique.Consternant, le constat.", ["domestique.", "Consternant, le constat."]),
    ("Voir www.site.fr pour plus. Merci.", ["Voir www.site.fr pour plus.", "Merci."]),
    ("Ligne un.\nLigne deux\ncontinue.", ["Ligne un.", "Ligne deux\ncontinue."]),
    ("Points :\n- premier\n- second", ["Points :", "- premier", "- second"]),
    # English
    ("Mr. Smith met Dr. Jones. They talked.", ["Mr. Smith met Dr. Jones.", "They talked."]),
    ("The U.S. sent 10 Patriot missiles. Kyiv thanked them.", ["The U.S. sent 10 Patriot missiles.", "Kyiv thanked them."]),
    ("He said: “We will win.” Then he left.", ["He said: “We will win.”", "Then he left."]),
    ("Chinese parts make up 65%. That grows.", ["Chinese parts make up 65%.", "That grows."]),
    ("A deal worth $1.5 billion. Signed today!", ["A deal worth $1.5 billion.", "Signed today!"]),
    ("Is it over? No.", ["Is it over?", "No."]),
    # Ukrainian
    ("Вул. Хрещатик, 5. Київ — столиця.", ["Вул. Хрещатик, 5.", "Київ — столиця."]),
    ("Т. Шевченко писав. Це відомо.", ["Т. Шевченко писав.", "Це відомо."]),
    ("Збито 741 ціль, тис. людей в укриттях. Тривога триває.", ["Збито 741 ціль, тис. людей в укриттях.", "Тривога триває."]),
    ("«Ми переможемо», — сказав він. Далі.", ["«Ми переможемо», — сказав він.", "Далі."]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_split(text: str, expected: list[str] | None) -> None:
    got = split_sentences(text)
    if expected is None:  # "etc." before a capital ends the sentence
        expected = ["Des chars, des obus, etc.", "Le gouvernement répond."]
    assert got == expected


@pytest.mark.parametrize("text", [c[0] for c in CASES])
def test_spans_cover_text_without_overlap(text: str) -> None:
    spans = split_spans(text)
    assert spans == sorted(spans)
    for (_s1, e1), (s2, _e2) in itertools.pairwise(spans):
        assert e1 <= s2
        assert text[e1:s2].strip() == ""
    joined = "".join(text[s:e] for s, e in spans)
    assert re.sub(r"\s", "", joined) == re.sub(r"\s", "", text)


@pytest.mark.parametrize("text", ["", "   ", "\n\n"])
def test_split_empty(text: str) -> None:
    assert split_sentences(text) == []


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("La semaine a été marquée par la poursuite des combats et des frappes.", "fr"),
        ("The week was marked by continued fighting and by strikes in the rear.", "en"),
        ("Тиждень був позначений продовженням боїв і ударів по тилу України.", "uk"),
        ("Неделя была отмечена продолжением боёв и ударов по тылу.", "ru"),
        ("12345 67890", "fr"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_detect_language_default_when_no_signal() -> None:
    assert detect_language("1234 — 5678", default="en") == "en"


@pytest.mark.parametrize(
    ("text", "language", "framing"),
    [
        ("La semaine a été marquée par la poursuite des combats.", "fr", True),
        (
            "Les Forces armées ukrainiennes tiennent la défense et continuent de frapper.",
            "fr",
            True,
        ),
        ("Pour rappel, Trump prévoyait un paquet de 300 millions de dollars.", "fr", True),
        ("Il l’a déclaré lors d’une émission sur la chaîne NBC.", "fr", True),
        ("« Nous envoyons des armes à l’OTAN », a-t-il précisé.", "fr", True),
        ("Les frappes deviennent systématiques.", "fr", False),  # "frappes" reads as an act
        ("La situation reste tendue.", "fr", True),
        ("The week was marked by continued fighting.", "en", True),
        ("Ukraine's armed forces are holding the line.", "en", True),
        ("Massive night attacks are growing.", "en", False),  # a noun read as an act, too
        ("Нагадаємо, раніше Трамп обіцяв зброю.", "uk", True),
        ("Jeudi, la Verkhovna Rada a nommé Ioulia Svyrydenko Première ministre.", "fr", False),
        ("In the middle of the week Russia launched 741 means of air attack.", "en", False),
        ("Верховна Рада призначила Юлію Свириденко прем’єр-міністеркою.", "uk", False),
    ],
)
def test_framing_and_facts(text: str, language: str, framing: bool) -> None:
    found = assess(text, language)
    assert found.framing is framing
    assert 0.0 <= found.fact <= 1.0


def test_fact_strength_orders_sentences() -> None:
    strong = assess("Trump a promis à Zelensky 10 missiles Patriot.", "fr")
    weak = assess("Une brigade a mené un assaut.", "fr")
    assert strong.fact > weak.fact
    # the first word's capital is not a name; one inside the sentence is
    assert (
        assess("Kyiv a été frappée.", "fr").fact
        < assess("La ville de Kyiv a été frappée.", "fr").fact
    )
