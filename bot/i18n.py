"""Message catalogues: French (the fallback), English, Ukrainian, in `bot/locales/*.toml`.

`t(lang, key, **values)` returns the text with `values` already HTML-escaped, so callers
can put user-provided strings in safely. Markup lives only in the catalogue.
"""

from __future__ import annotations

import html
import tomllib
from pathlib import Path
from typing import Any

from bot.languages import FALLBACK, LANGUAGES

LOCALES = Path(__file__).resolve().parent / "locales"


def _load() -> dict[str, dict[str, str]]:
    """The catalogues, one TOML file a language (`bot/locales/fr.toml`…)."""
    catalogues = {}
    for path in sorted(LOCALES.glob("*.toml")):
        with path.open("rb") as f:
            catalogues[path.stem] = {str(k): str(v) for k, v in tomllib.load(f).items()}
    return catalogues


CATALOGUES: dict[str, dict[str, str]] = _load()

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
    template = CATALOGUES.get(lang, CATALOGUES[FALLBACK]).get(key) or CATALOGUES[FALLBACK][key]
    return template.format(
        **{
            k: v if isinstance(v, Html) else html.escape(str(v), quote=False)
            for k, v in values.items()
        }
    )


def day_name(lang: str, day: int) -> str:
    """Monday = 0 … Sunday = 6, in language `lang`."""
    return t(lang, "days").split()[day]
