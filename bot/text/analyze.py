"""The text pipeline shared by the summariser and search: fold, split words, drop stop words, stem.

`terms(text, language)` gives the analysed terms of a text. The same function runs on
bulletins and on queries, so both meet on the same forms: `Frappés` and `frappe` give
`frap`, `l'OTAN` gives `otan`.
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import Stemmer

from bot.languages import READER_LANGUAGES, stemmer_of
from bot.text.stopwords import STOPWORDS
from bot.text.variants import DEFAULT_FILE, Variants, parse_groups

# A word, skipping an elided article before it (`l'`, `d'`, `qu'`, `lorsqu'`…).
_WORD = re.compile(r"(?:\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu|presqu)['’])?([^\W_]+)")


_STEMMERS = threading.local()  # a Snowball stemmer is not safe to share between threads


def _stemmer(language: str) -> Stemmer.Stemmer:
    """This thread's stemmer for `language` (search and ingestion run on several threads)."""
    mine: dict[str, Stemmer.Stemmer] = _STEMMERS.__dict__.setdefault("by_language", {})
    stemmer = mine.get(language)
    if stemmer is None:
        stemmer = mine[language] = Stemmer.Stemmer(stemmer_of(language))
        stemmer.maxCacheSize = 50_000
    return stemmer


@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """NFKC, case-folded, without accents (ё → е, й kept, ї → і)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


def words(text: str) -> list[str]:
    """Lower-cased words of `text`, elided articles (`l'`, `d'`, `qu'`) removed."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def terms(text: str, language: str) -> list[str]:
    """Stemmed, accent-folded content terms of `text` (stop words and 1-letter words out)."""
    stop = STOPWORDS.get(language, STOPWORDS["fr"])
    kept = [w for w in words(text) if w not in stop and (len(w) > 1 or w.isdigit())]
    return [_fold_stem(stem) for stem in _stemmer(language).stemWords(kept)]


@lru_cache(maxsize=200_000)
def _fold_stem(stem: str) -> str:
    return fold(stem) if not stem.isascii() else stem


ANALYZER_VERSION = 2
QUERY_LANGUAGES = READER_LANGUAGES


def is_stopword(word: str) -> bool:
    """A function word in any language we search."""
    return any(word in STOPWORDS[lang] for lang in STOPWORDS)


class Analyzer:
    """The index/query text pipeline with a spelling-variant table."""

    def __init__(self, variants: Variants | None = None) -> None:
        self.variants = variants or Variants()
        self._word_terms = lru_cache(maxsize=100_000)(self.index_terms)

    @property
    def fingerprint(self) -> str:
        """Changes whenever indexed terms would change."""
        return f"{ANALYZER_VERSION}:{self.variants.fingerprint}"

    def index_terms(self, text: str, language: str) -> list[str]:
        """Terms stored in the search index for `text` written in `language`."""
        return [self.variants.key(t) for t in terms(text, language)]

    def index_text(self, text: str, language: str) -> str:
        """`index_terms` joined by spaces, as stored in FTS."""
        return " ".join(self.index_terms(text, language))

    def index_text_of(self, analysed: Iterable[str]) -> str:
        """What `index_text` stores, from terms already computed by `terms`."""
        return " ".join(self.variants.key(t) for t in analysed)

    def word_terms(self, word: str, language: str) -> list[str]:
        """`index_terms` of one word, memoised (snippets analyse the same words often)."""
        return self._word_terms(word, language)

    def word_forms(self, word: str) -> list[tuple[str, set[str]]]:
        """For each sub-word of a query word: its folded form, and its analysed forms in
        every language. `l'OTAN` → [(otan, {otan})]; `Royaume-Uni` → two; a stop word → []."""
        forms = []
        for sub in words(word):
            if is_stopword(sub) or (len(sub) < 2 and not sub.isdigit()):
                continue
            found = {
                self.variants.key(_fold_stem(_stemmer(lang).stemWord(sub)))
                for lang in QUERY_LANGUAGES
            }
            forms.append((fold(sub), found))
        return forms


def load_variants(path: Path | None) -> Variants:
    """The variant table from `path` (or the shipped one), keyed on analysed forms."""
    source = path if path is not None and path.is_file() else DEFAULT_FILE
    text = source.read_text(encoding="utf-8")
    mapping: dict[str, str] = {}
    for group in parse_groups(text):
        first = terms(group[0], "fr")
        if len(first) != 1:
            continue
        key = first[0]
        for name in group:
            for lang in STOPWORDS:
                for term in terms(name, lang):
                    mapping[term] = key
    fingerprint = hashlib.sha256(repr(sorted(mapping.items())).encode()).hexdigest()[:16]
    return Variants(mapping, fingerprint)


@lru_cache(maxsize=4)
def analyzer_for(path: Path | None = None) -> Analyzer:
    """The analyzer for a variants file, built once per process."""
    return Analyzer(load_variants(path))
