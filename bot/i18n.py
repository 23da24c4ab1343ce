"""Message catalogues: French (the fallback), English, Ukrainian, in `bot/locales/*.toml`.

`t(lang, key, **values)` returns the text with `values` already HTML-escaped, so callers
can put user-provided strings in safely. Markup lives only in the catalogue.

A message that names a count can be a table of plural forms, CLDR's categories for the
language (`one`, `few`, `many`, `other`): `t` picks the form for `n`. French: one for 0
and 1; English: one for 1; Ukrainian: one for 1, 21, 31… (not 11), few for 2–4, 22–24…
(not 12–14), many for the rest.
"""

from __future__ import annotations

import html
import tomllib
from pathlib import Path
from typing import Any

from bot.languages import FALLBACK, LANGUAGES

LOCALES = Path(__file__).resolve().parent / "locales"


Message = str | dict[str, str]  # a text, or its plural forms by category


def _load() -> dict[str, dict[str, Message]]:
    """The catalogues, one TOML file a language (`bot/locales/fr.toml`…)."""
    catalogues: dict[str, dict[str, Message]] = {}
    for path in sorted(LOCALES.glob("*.toml")):
        with path.open("rb") as f:
            catalogues[path.stem] = {
                str(k): {str(f): str(x) for f, x in v.items()} if isinstance(v, dict) else str(v)
                for k, v in tomllib.load(f).items()
            }
    return catalogues


CATALOGUES: dict[str, dict[str, Message]] = _load()


def plural(lang: str, n: int) -> str:
    """CLDR's plural category of the whole number `n` in `lang`."""
    n = abs(n)
    if lang == "uk":
        if n % 10 == 1 and n % 100 != 11:
            return "one"
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return "few"
        return "many"
    if lang == "fr":
        return "one" if n in (0, 1) else "other"
    return "one" if n == 1 else "other"


def counted(n: int, noun: str) -> str:
    """`1 result`, `3 results`: an English count, for the command line (which speaks English)."""
    return f"{n} {noun}" if plural("en", n) == "one" else f"{n} {noun}s"


LANGUAGE_NAMES = {code: lang.name for code, lang in LANGUAGES.items()}


def language_of(code: str | None) -> str:
    """A catalogue language for a Telegram `language_code` (`fr-CA` → fr): French, English or
    Ukrainian as the user's; any other language gets English; no code at all, French."""
    if not code:
        return FALLBACK
    base = code.split("-")[0].lower()
    return base if base in CATALOGUES else "en"


class Html(str):
    """Already-rendered Telegram HTML: interpolated as is."""


def t(lang: str, key: str, /, **values: Any) -> str:
    """The message `key` in language `lang` (French if missing), values escaped unless `Html`."""
    message = CATALOGUES.get(lang, CATALOGUES[FALLBACK]).get(key) or CATALOGUES[FALLBACK][key]
    if isinstance(message, dict):  # the form for `n` (its language's, else French's)
        language = lang if key in CATALOGUES.get(lang, {}) else FALLBACK
        message = message.get(plural(language, int(values.get("n", 0))), message["other"])
    return message.format(
        **{
            k: v if isinstance(v, Html) else html.escape(str(v), quote=False)
            for k, v in values.items()
        }
    )


def day_name(lang: str, day: int) -> str:
    """Monday = 0 … Sunday = 6, in language `lang`."""
    return t(lang, "days").split()[day]
