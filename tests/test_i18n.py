"""Every text the bot sends comes from the catalogues (bot/locales/*.toml), in every language.

The source scan fails when a handler (or the code that renders messages) puts prose in a
string literal instead of a catalogue key: a word of two letters or more, in any script,
outside docstrings, log lines, exceptions, the command tables and a short list of tokens
that are not prose (names of settings, formats, Telegram's own error text).
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from bot.i18n import CATALOGUES, t
from tests.conftest import ROOT

# modules whose string literals reach users
USER_FACING = sorted(
    [*(ROOT / "bot" / "handlers").glob("*.py"), ROOT / "bot" / "app.py",
     ROOT / "bot" / "render.py", ROOT / "bot" / "delivery" / "messages.py"]
)  # fmt: skip
NOT_PROSE = {
    "not modified",  # Telegram's error text, matched, never shown
    "FEED_URLS",  # a setting's name, shown as the origin of a feed
    "📤 OPML",  # a format's name, the same in every language
    "hebdo-feeds.opml",  # a file name
    "OPML",
    "UTC",  # a time zone's name
}
WORD = re.compile(r"[^\W\d_]{2,}")
# keys, callback data, patterns: ASCII, and lower case or with a separator in it
IDENTIFIER = re.compile(
    r"(?a:[a-z0-9]*|[\w.^$*+?()\[\]{}|\\/<>=#%,-]*[:_/%^\\.?=-][\w:.^$*+?()\[\]{}|\\/<>=#%,-]*)"
)
MARKUP = re.compile(r"<[^>]*(?:>|$)|https?://\S*")
SILENT_CALLS = {"t", "tr", "getLogger", "compile", "fullmatch", "match", "search", "sub",
                "CallbackQueryHandler", "CommandHandler", "audit", "strftime", "strptime",
                "FileExtension", "InputFile", "startswith", "removeprefix", "partition", "split",
                "filterwarnings"}  # fmt: skip
LOGGERS = {"log", "logging"}


def prose_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    silent: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            silent.add(id(body[0].value))  # docstrings
        quiet = isinstance(node, ast.Raise) or (
            isinstance(node, ast.Assign)
            and any(getattr(t_, "id", "") in ("COMMANDS", "HELP") for t_ in node.targets)
        )
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = getattr(func.value, "id", "") if isinstance(func, ast.Attribute) else ""
            quiet = name in SILENT_CALLS or owner in LOGGERS
        if quiet:
            silent.update(id(sub) for sub in ast.walk(node))
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        text = node.value
        if id(node) in silent or text.strip() in NOT_PROSE or IDENTIFIER.fullmatch(text):
            continue
        if WORD.search(MARKUP.sub("", text)):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {text!r}")
    return found


def test_no_user_facing_prose_outside_the_catalogues() -> None:
    found = [line for path in USER_FACING for line in prose_literals(path)]
    assert found == [], "put these texts in bot/locales/*.toml:\n" + "\n".join(found)


def test_the_scan_catches_prose(tmp_path: Path) -> None:
    sample = ROOT / "tests" / "fixtures" / "_prose_sample.py"
    sample.write_text('async def f(update, context):\n    """Doc."""\n'
                      '    log.info("fine")\n    await reply(update, context, f"Added {x}")\n'
                      '    await q.answer("Готово")\n    keys = ("ad:pub", "%H:%M", " · ")\n')  # fmt: skip
    try:
        found = sorted(line.split(": ", 1)[1] for line in prose_literals(sample))
        assert found == ["'Added '", "'Готово'"]
    finally:
        sample.unlink()


def placeholders(text: str | dict[str, str]) -> set[str]:
    forms = text.values() if isinstance(text, dict) else [text]
    return {name for form in forms for _, name, _, _ in string.Formatter().parse(form) if name}


NEEDED = {"fr": {"one", "other"}, "en": {"one", "other"}, "uk": {"one", "few", "many", "other"}}


def test_plural_tables_have_their_languages_forms() -> None:
    for language, catalogue in CATALOGUES.items():
        for key, message in catalogue.items():
            if isinstance(message, dict):
                assert set(message) == NEEDED[language], (language, key)
                assert all(placeholders(f) == placeholders(message) for f in message.values())


@pytest.mark.parametrize(
    ("language", "n", "expected"),
    [
        ("fr", 0, "0 bulletin en 0 semaine"), ("fr", 1, "1 bulletin en 1 semaine"),
        ("fr", 2, "2 bulletins en 2 semaines"), ("en", 1, "1 bulletin in 1 week"),
        ("en", 0, "0 bulletins in 0 weeks"), ("en", 21, "21 bulletins in 21 weeks"),
        ("uk", 1, "1 бюлетень за 1 тиждень"), ("uk", 2, "2 бюлетені за 2 тижні"),
        ("uk", 5, "5 бюлетенів за 5 тижнів"), ("uk", 11, "11 бюлетенів за 11 тижнів"),
        ("uk", 12, "12 бюлетенів за 12 тижнів"), ("uk", 21, "21 бюлетень за 21 тиждень"),
        ("uk", 22, "22 бюлетені за 22 тижні"), ("uk", 111, "111 бюлетенів за 111 тижнів"),
    ],
)  # fmt: skip
def test_counts_take_their_languages_plural(language: str, n: int, expected: str) -> None:
    said = f"{n} {t(language, 'trend_unit_b', n=n)} {t(language, 'trend_span', n=n)}"
    assert said == expected


def test_every_language_has_every_key_with_the_same_placeholders() -> None:
    french = CATALOGUES["fr"]
    assert set(CATALOGUES) == {"fr", "en", "uk"}
    for language, catalogue in CATALOGUES.items():
        assert set(catalogue) == set(french), language
        for key, text in catalogue.items():
            assert placeholders(text) == placeholders(french[key]), (language, key)


def keys_used() -> set[str]:
    """Catalogue keys named in the code: t(…, "key"), tr(…, "key"), and the prefixed families
    built from exception keys (QueryError → qerr_, OpmlError → opml_)."""
    used: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            args = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if name in ("t", "tr") and args and isinstance(args[-1], str):
                used.add(args[-1] if name == "t" or len(node.args) > 2 else args[0])
            if name in ("QueryError", "OpmlError") and args:
                used.add(("qerr_" if name == "QueryError" else "opml_") + str(args[0]))
    return used


def test_every_key_the_code_names_exists() -> None:
    used = keys_used()
    assert {"qerr_lang", "opml_not_opml", "adm_sources", "welcome"} <= used
    assert sorted(used - set(CATALOGUES["fr"])) == []


@pytest.mark.parametrize("language", ["fr", "en", "uk"])
def test_admin_texts_read_in_the_chat_language(language: str) -> None:
    text = t(language, "adm_bulletins_page", first=1, last=3, total=3)
    expected = {"fr": "Bulletins 1–3 sur 3", "en": "Bulletins 1–3 of 3", "uk": "Бюлетені 1–3 з 3"}
    assert re.sub(r"<[^>]+>", "", text) == expected[language]


@pytest.mark.parametrize("key", ["adm_preview", "adm_send_ask", "adm_opml_export", "alert_report",
                                 "alert_more"])  # fmt: skip
def test_a_message_with_one_count_agrees_with_it(key: str) -> None:
    """No "(s)" where the count is one number: "1 problème", "4 problèmes"."""
    for language in ("fr", "en", "uk"):
        for n in (0, 1, 2, 5, 21):
            said = t(language, key, n=n, language="fr", minutes=5)
            assert "(s)" not in said, (language, n, said)
    assert "1 problème ces" in t("fr", "alert_report", n=1, minutes=5)
    assert "4 problems in" in t("en", "alert_report", n=4, minutes=5)


def test_no_message_says_s_in_brackets() -> None:
    """A count agrees with its noun (plural forms), or stands after a colon ("doublons : 2"):
    no catalogue text hedges with "(s)"."""
    for language, catalogue in CATALOGUES.items():
        for key, message in catalogue.items():
            forms = message.values() if isinstance(message, dict) else [message]
            assert not any("(s)" in f.replace("http(s)", "") for f in forms), (language, key)


def test_the_command_line_counts_in_english() -> None:
    from bot.i18n import counted

    assert [counted(n, "result") for n in (0, 1, 2)] == ["0 results", "1 result", "2 results"]
