"""Sentence segmentation for French, English and Ukrainian news text.

Works on one paragraph at a time and returns character spans, so callers keep exact
offsets into the bulletin. Rules, in order:

- a sentence ends at `.`, `!`, `?` or `…` (possibly repeated, possibly followed by
  closing quotes or brackets) when what follows starts a new sentence: an upper-case
  letter, a digit, an opening quote or a dash;
- not inside « … » or “ … ” quotations that close later in the same paragraph, so a
  quotation and its attribution (`« … », a-t-il dit.`) stay one sentence;
- not after a known abbreviation (`M.`, `Mme`, `p. ex.`, `Dr.`, `вул.`) or an initial;
- a period glued to the next word (`domestique.Consternant`) still ends a sentence when
  a lower-case word precedes it and a capitalised word follows;
- a line break ends a sentence when the line ends with terminal punctuation or a colon,
  or the next line starts with a list marker.
"""

from __future__ import annotations

import re

# Abbreviations that never end a sentence (lower-cased, without the final period).
ABBREVIATIONS = frozenset(
    """
    m mm mme mmes mlle mlles dr pr me mgr st ste sts stes cf p pp ex env av apr
    j.-c jc art al ann chap fig vol éd ed no n° nos tél hab dép
    mr mrs ms messrs prof gen gov sen rep rev hon lt col capt sgt cmdr adm
    inc ltd co corp jr sr vs e.g i.e u.s u.k a.m p.m approx dept jan feb aug oct nov
    вул ім т.д т.п т.зв пр просп буд обл р рр ст ч див напр тис млн млрд грн
    акад доц проф ген п пп с
    """.split()
)
_TERMINATORS = ".!?…"
_CLOSERS = "»”’\"')]"
_OPENERS = "«“„\"'([—–-"
_LIST_MARKER = re.compile(r"\s*(?:[-•*–—]|\d{1,3}[.)])\s")
_SPACE = " \t\u00a0\u202f\u2009"
_SPECIAL = re.compile(r"[«“»”\n.!?…]")


def _is_sentence_start(ch: str) -> bool:
    return ch.isupper() or ch.isdigit() or ch in _OPENERS


def _abbreviation_before(text: str, dot: int) -> bool:
    """True if the period at `dot` closes an abbreviation or an initial."""
    k = dot
    while k > max(0, dot - 40) and (text[k - 1].isalnum() or text[k - 1] in "._-°"):
        k -= 1  # back to the word's start, at most 40 characters
    if k == dot:
        return False
    word = text[k:dot].strip("-")
    if word.lower() in ABBREVIATIONS:
        return True
    if len(word) == 1 and word.isupper():
        return True  # an initial: "J. K. Rowling", "Donald J. Trump"
    parts = [p for p in word.split(".") if p]
    return len(parts) > 1 and all(len(p) <= 2 for p in parts)  # "U.S", "e.g", "J.-C"


def _closing_quotes_ahead(text: str, start: int) -> dict[str, int]:
    """Count closing quotation marks in text[start:], to know whether a quote closes."""
    return {"»": text.count("»", start), "”": text.count("”", start)}


def split_spans(text: str) -> list[tuple[int, int]]:
    """Split one paragraph into sentences; return (start, end) spans, whitespace-trimmed."""
    spans: list[tuple[int, int]] = []
    n = len(text)
    start = 0
    depth = 0
    closers_left = _closing_quotes_ahead(text, 0)
    i = 0
    while True:
        found = _SPECIAL.search(text, i)
        if found is None:
            break
        i = found.start()
        ch = text[i]
        if ch in "«“":
            closer = "»" if ch == "«" else "”"
            if closers_left[closer] > 0:
                depth += 1
        elif ch in "»”":
            closers_left[ch] -= 1
            depth = max(0, depth - 1)
            if depth == 0 and (end := _end_after_quote(text, i)) is not None:
                spans.append((start, end))
                start = i = end
                continue
        elif ch == "\n":
            if depth == 0 and _line_break_ends_sentence(text, i):
                spans.append((start, i))
                start = i + 1
        elif ch in _TERMINATORS and depth == 0:
            end = _sentence_end(text, i)
            if end is not None:
                spans.append((start, end))
                start = end
                i = end
                continue
            # the rest of a run of terminators ("....") decides the same: skip it whole
            while i + 1 < n and text[i + 1] in _TERMINATORS:
                i += 1
        i += 1
    spans.append((start, n))
    return [trimmed for s, e in spans if (trimmed := _trim(text, s, e))]


def _char_before(text: str, i: int) -> str:
    """The last character before `i` that is not a space ("" if none), without copying."""
    k = i - 1
    while k >= 0 and text[k] in _SPACE:
        k -= 1
    return text[k] if k >= 0 else ""


def _line_break_ends_sentence(text: str, i: int) -> bool:
    before = _char_before(text, i)
    if before and before in _TERMINATORS + _CLOSERS + ":;":
        return True
    return bool(_LIST_MARKER.match(text, i + 1))


def _end_after_quote(text: str, i: int) -> int | None:
    """A quotation that ends a sentence inside it: `« … Patriot. » Puis …`."""
    before = _char_before(text, i)
    if not before or before not in _TERMINATORS:
        return None
    k = i + 1
    while k < len(text) and text[k] in _SPACE:
        k += 1
    if k == i + 1 or k >= len(text) or not _is_sentence_start(text[k]):
        return None
    return i + 1


def _sentence_end(text: str, i: int) -> int | None:
    """If the terminator at `i` ends a sentence, return the end offset (exclusive)."""
    n = len(text)
    j = i
    while j < n and text[j] in _TERMINATORS:
        j += 1
    if j + 1 < n and text[j] == '"' and text[j + 1].isupper() and i >= 1 and text[i - 1].islower():
        return j  # a glued opening quote: `… l'Economie."Les difficultés …`
    # closing quotes/brackets, possibly after a (French) space: `… fin. »`
    k = j
    while k < n:
        if text[k] in _CLOSERS:
            k += 1
            j = k
        elif text[k] in _SPACE and k + 1 < n and text[k + 1] in "»”)":
            k += 1
        else:
            break
    if j >= n:
        return None
    nxt = text[j]
    if nxt in _SPACE or nxt == "\n":
        k = j
        while k < n and text[k] in _SPACE:
            k += 1
        if k >= n or text[k] == "\n":
            return None  # the line break rule or the paragraph end decides
        if not _is_sentence_start(text[k]):
            return None
        if text[i] == "." and j == i + 1 and _abbreviation_before(text, i):
            return None
        return j
    # glued: "domestique.Consternant" (but not "5.000", "U.S.A", "www.site.fr")
    if (
        text[i] in ".!?"
        and j == i + 1
        and nxt.isupper()
        and j + 1 < n
        and text[j + 1].islower()
        and i >= 2
        and text[i - 1].islower()
        and text[i - 2].isalpha()
    ):
        return j
    return None


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def split_sentences(text: str) -> list[str]:
    """Split one paragraph into sentence strings."""
    return [text[s:e] for s, e in split_spans(text)]
