"""The text pipeline shared by the summariser and search: fold, split words, drop stop words, stem.

`terms(text, language)` gives the analysed terms of a text. The same function runs on
bulletins and on queries, so both meet on the same forms: `Frappés` and `frappe` give
`frap`, `l'OTAN` gives `otan`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

from bot.text.stopwords import STOPWORDS

# Snowball has no Ukrainian stemmer; the Russian one handles most Ukrainian endings.
_STEMMERS = {"fr": "french", "en": "english", "uk": "russian", "ru": "russian"}
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_ELISION = re.compile(
    r"\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu|presqu)['’]", re.IGNORECASE
)


@lru_cache(maxsize=8)
def _stemmer(language: str) -> Stemmer.Stemmer:
    stemmer = Stemmer.Stemmer(_STEMMERS.get(language, "french"))
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
    text = _ELISION.sub(" ", unicodedata.normalize("NFKC", text).casefold())
    return _WORD.findall(text)


def terms(text: str, language: str) -> list[str]:
    """Stemmed, accent-folded content terms of `text` (stop words and 1-letter words out)."""
    stop = STOPWORDS.get(language, STOPWORDS["fr"])
    kept = [w for w in words(text) if w not in stop and (len(w) > 1 or w.isdigit())]
    return [_fold_stem(stem) for stem in _stemmer(language).stemWords(kept)]


@lru_cache(maxsize=200_000)
def _fold_stem(stem: str) -> str:
    return fold(stem) if not stem.isascii() else stem
