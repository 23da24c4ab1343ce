"""The languages Hebdo speaks: one table that settings, catalogues, text analysis, search
and dates read. Readers choose among `READER_LANGUAGES`; bulletins may also be Russian,
told apart from Ukrainian and searched with the Russian stemmer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    """One language: its code, its name in itself, its Snowball stemmer, its month names."""

    code: str
    name: str
    stemmer: str
    months: tuple[str, ...]  # as dates write them ("11 juillet", "11 July", "11 липня")
    alone: tuple[str, ...] = ()  # standing alone ("липень 2025"), where it differs

    def month_alone(self, month: int) -> str:
        """A month's name without a day (`juillet`, `July`, `липень`): 1 is January."""
        return (self.alone or self.months)[month - 1]


LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language("fr", "Français", "french", tuple(
            "janvier février mars avril mai juin juillet août septembre octobre novembre "
            "décembre".split())),
        Language("en", "English", "english", tuple(
            "January February March April May June July August September October November "
            "December".split())),
        # Snowball has no Ukrainian stemmer; the Russian one handles most Ukrainian endings.
        Language("uk", "Українська", "russian", tuple(
            "січня лютого березня квітня травня червня липня серпня вересня жовтня листопада "
            "грудня".split()), tuple(
            "січень лютий березень квітень травень червень липень серпень вересень жовтень "
            "листопад грудень".split())),
    )
}  # fmt: skip
READER_LANGUAGES = tuple(LANGUAGES)  # what a chat can choose, and DEFAULT_LANGUAGE
BULLETIN_LANGUAGES = (*READER_LANGUAGES, "ru")  # what detection tells apart
FALLBACK = "fr"


def stemmer_of(code: str) -> str:
    """The Snowball algorithm for a language (Russian for `ru`, French when unknown)."""
    if code == "ru":
        return "russian"
    return LANGUAGES.get(code, LANGUAGES[FALLBACK]).stemmer
