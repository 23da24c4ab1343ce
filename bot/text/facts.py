"""Facts and framing: what makes a sentence news, and what makes it scene-setting.

A fact carries numbers, names (of people, places, institutions), or a decision or act
("a nommé", "signed", "підписали"). Framing or background tells how the week felt or
leans on another sentence: "La semaine a été marquée…", "Les Forces armées ukrainiennes
tiennent la défense…", "Pour rappel…", "Il l'a déclaré…", a bare « quotation », a
sentence with no number, name or act. A digest prefers facts, and picks a
framing sentence only when its topic has nothing better.

Every pattern is anchored or bounded (no nested quantifiers), so matching is linear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGIT = re.compile(r"\d")
_FIRST_WORD = re.compile(r"\W*\w+")
_QUOTES = '«“"„'
# a capital starting a word that is not the sentence's first (names, places, institutions)
_NAME = re.compile(r"(?<=[\s(«“\"'’-])[A-ZÀ-ÖØ-ÞА-ЯЄІЇҐ][\w’'-]*")

_NUMBER_WORDS = {
    "fr": r"deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|quinze|vingt|trente|"
    r"quarante|cinquante|soixante|cent|cents|mille|millions?|milliards?|dizaines?|centaines?|"
    r"milliers?|record|premi[eè]re?",
    "en": r"two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
    r"forty|fifty|sixty|hundreds?|thousands?|millions?|billions?|dozens?|record|first",
    "uk": r"два|дві|три|чотири|п[’']ять|шість|сім|вісім|дев[’']ять|десять|двадцять|тридцять|"
    r"п[’']ятдесят|сто|сотні|тисяч[аі]?|мільйон\w*|мільярд\w*|десятк\w*|рекорд\w*|вперше",
}
_ACTS = {
    "fr": r"annonc|adopt|nomm|sign|conclu|promi|décid|approuv|vot[eé]|reconn|frapp|attaqu|"
    r"lanc|livr|fourni|envoi|envoy|confirm|rejoin|repris|abatt|détrui|tué|bless|financ|"
    r"interdi|sanction|accord|condamn|arrêt|libér|captur|prisonni|évacu|endommag|produi|vend|"
    r"nomin|démission|expuls|saisi|mobilis",
    "en": r"announc|adopt|appoint|sign|agree|promis|decid|approv|vote|rul|found|struck|strik|"
    r"hit|attack|launch|deliver|suppl|send|sent|confirm|join|took|shot|destroy|kill|injur|"
    r"financ|fund|ban|sanction|deal|convict|arrest|releas|captur|prisoner|evacuat|damag|produc|"
    r"sell|sold|resign|expel|seiz|mobilis|mobiliz",
    "uk": r"оголос|ухвал|призначи|підписа|погоди|пообіця|виріши|схвали|удар|атакува|запусти|"
    r"постача|передал|надісла|підтверди|приєдна|збил|знищ|загину|поранен|фінансу|заборон|"
    r"санкці|угод|засуди|затрима|звільни|полон|евакуй|пошкодж|вироб|прода|відставк|вислал|"
    r"мобіліз",
}
_FRAMING = {
    "fr": (
        r"^(?:la|cette) semaine (?:a été|fut|s['’]est) (?:marquée|dominée|caractérisée)",
        r"^(?:pour rappel|rappelons|il convient de rappeler|on rappelle)\b",
        r"^(?:il|elle|ils|elles) (?:l['’]a|l['’]ont|a|ont) (?:déclaré|dit|affirmé|précisé|ajouté|"
        r"souligné|indiqué|expliqué)\b",
        r"\b(?:tiennent|tient|tenaient) (?:la défense|bon|le front|leurs positions)\b",
        r"^(?:la situation|les combats|la guerre) (?:reste|restent|continue|continuent|se poursui)",
    ),
    "en": (
        r"^the week (?:was|has been) (?:marked|dominated|defined|shaped)\b",
        r"^(?:as a reminder|recall that|it is worth recalling)\b",
        r"^(?:he|she|they) (?:said|added|stressed|noted|told|explained) (?:this|it|so)\b",
        r"\b(?:holding|hold|held) (?:the line|their positions|firm)\b",
        r"^(?:the situation|fighting|the war) (?:remains|continues|goes on)\b",
    ),
    "uk": (
        r"^(?:цей )?тиждень (?:був|пройшов|видався|позначився)",
        r"^(?:нагадаємо|нагадуємо|варто нагадати)\b",
        r"^(?:він|вона|вони) (?:заявив|заявила|заявили|додав|додала|наголосив|наголосила)\b",
        r"\bтримають (?:оборону|позиції|фронт)\b",
        r"^(?:ситуація|бої) (?:залишає|тривают|тривають|продовжу)",
    ),
}
# matched against the lower-cased text (case-insensitive matching is several times slower)
_COMPILED_NUMBERS = {k: re.compile(rf"\b(?:{v})\b") for k, v in _NUMBER_WORDS.items()}
# a verb's stem and a short ending: "annoncé", "signed", "підписали" (not "confirmation")
_COMPILED_ACTS = {k: re.compile(rf"\b(?:{v})\w{{0,4}}\b") for k, v in _ACTS.items()}
# openings are matched at the start only (fast to refuse); the other patterns anywhere
_COMPILED_OPENINGS = {
    k: re.compile("|".join(f"(?:{p[1:]})" for p in patterns if p.startswith("^")))
    for k, patterns in _FRAMING.items()
}
_COMPILED_ANYWHERE = {
    k: re.compile("|".join(f"(?:{p})" for p in patterns if not p.startswith("^")))
    for k, patterns in _FRAMING.items()
}
COMMENTARY = 0.15  # below this fact score (no number, name or act), a sentence is commentary


@dataclass(frozen=True)
class Assessment:
    """How much checkable news a sentence holds (0–1), and whether it is framing."""

    fact: float
    framing: bool


def assess(text: str, language: str) -> Assessment:
    """Facts: numbers, names and an act score up to 1. Framing: a framing pattern, or no
    number, name or act at all ("Les frappes deviennent systématiques.")."""
    lang = language if language in _COMPILED_ACTS else "fr"
    stripped = text.strip()
    lower = stripped.lower()
    score = 0.0
    if _DIGIT.search(stripped):
        score += 0.4
    elif _COMPILED_NUMBERS[lang].search(lower):
        score += 0.25
    first = _FIRST_WORD.match(stripped)
    start = first.end() if first else 0  # the first word's capital is no name
    names = {m.group(0) for m in _NAME.finditer(stripped, start)}
    score += min(0.45, 0.15 * len(names))
    if _COMPILED_ACTS[lang].search(lower):
        score += 0.2
    fact = min(1.0, score)
    framing = (
        fact < COMMENTARY
        # a bare quotation leans on the sentence that says who speaks, and retells its story
        or stripped[:1] in _QUOTES
        or _COMPILED_OPENINGS[lang].match(lower) is not None
        or _COMPILED_ANYWHERE[lang].search(lower) is not None
    )
    return Assessment(fact, framing)
