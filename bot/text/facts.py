"""Facts and framing: what makes a sentence news, and what makes it scene-setting.

A fact carries numbers, names (of people, places, institutions), or a decision or act
("a nommé", "signed", "підписали"). Framing or background tells how the week felt or
leans on another sentence: "La semaine a été marquée…", "Les Forces armées ukrainiennes
tiennent la défense…", "Pour rappel…", "Il l'a déclaré…". A digest prefers facts, and picks a
framing sentence only when its topic has nothing better.

Every pattern is anchored or bounded (no nested quantifiers), so matching is linear.
"""

from __future__ import annotations

import re

_DIGIT = re.compile(r"\d")
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
_COMPILED_NUMBERS = {
    k: re.compile(rf"\b(?:{v})\b", re.IGNORECASE) for k, v in _NUMBER_WORDS.items()
}
# a verb's stem and a short ending: "annoncé", "signed", "підписали" (not "confirmation")
_COMPILED_ACTS = {k: re.compile(rf"\b(?:{v})\w{{0,4}}\b", re.IGNORECASE) for k, v in _ACTS.items()}
_COMPILED_FRAMING = {
    k: [re.compile(p, re.IGNORECASE) for p in patterns] for k, patterns in _FRAMING.items()
}


def fact_score(text: str, language: str) -> float:
    """0 (no fact) to 1 (numbers, names and an act): how much checkable news a sentence holds."""
    lang = language if language in _COMPILED_ACTS else "fr"
    score = 0.0
    if _DIGIT.search(text):
        score += 0.4
    elif _COMPILED_NUMBERS[lang].search(text):
        score += 0.25
    names = {m.group(0) for m in _NAME.finditer(text)}
    score += min(0.45, 0.15 * len(names))
    if _COMPILED_ACTS[lang].search(text):
        score += 0.2
    return min(1.0, score)


def is_framing(text: str, language: str) -> bool:
    """Scene-setting, background or a pointer to another sentence, rather than a fact."""
    lang = language if language in _COMPILED_FRAMING else "fr"
    stripped = text.strip()
    if any(p.search(stripped) for p in _COMPILED_FRAMING[lang]):
        return True
    # no number, no name and no act: commentary ("Les frappes deviennent systématiques.")
    return fact_score(stripped, lang) < 0.15
