"""The real Application, over real HTTP, against the fake Bot API on 127.0.0.1.

Every test plays users: it queues updates in the fake server, the bot fetches them with
getUpdates (long polling) and answers with real Bot API calls, which the fake records and
validates as Telegram does. No sleeps: tests wait on the fake's events.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlite_utils import Database
from telegram import Update
from telegram.ext import Application, CommandHandler, ConversationHandler

from bot.app import build_application
from bot.config import Settings
from bot.ingest import Limits, expand_paths, ingest_paths
from bot.logs import setup_logging
from bot.render import utf16_len
from bot.running import start_app, stop_app
from devtools.fakeapi import FakeBotApi
from devtools.telegram_rules import Sent
from storage import open_db
from tests.conftest import ROOT, SAMPLE_FR, SAMPLES, settled

TOKEN = "123456:TEST-token-never-logged-abcdefghij"
# The bot's "now" in these tests: Friday 18 July 2025, 22:00 in Paris — after the third sample
# bulletin, before the default Saturday 09:00 slot. Never the wall clock.
NOW = datetime(2025, 7, 18, 20, 0, tzinfo=UTC)
ADMIN, USER, OTHER = 1001, 2002, 3003
GROUP = -5005


@pytest.fixture
def settings(tmp_path: Path, fake: FakeBotApi) -> Settings:
    return Settings(
        telegram_bot_token=TOKEN,
        admin_ids=frozenset({ADMIN}),
        database_path=tmp_path / "bot.db",
        inbox_dir=tmp_path / "inbox",
        telegram_api_base_url=f"{fake.url}/bot",
        variants_file=tmp_path / "variants.txt",
    )


@pytest.fixture
async def app(settings: Settings, fake: FakeBotApi) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    db = open_db(settings.database_path)
    ingest_paths(db, list(expand_paths([SAMPLES])), Limits())
    db.execute("UPDATE bulletins SET announced_at = created_at")  # the archive, not news
    db.close()
    application = build_application(settings)
    application.bot_data.clock = lambda: NOW
    await start_app(application, poll_timeout=5)
    yield application
    await stop_app(application)


@pytest.fixture
def db(settings: Settings, app: Application) -> Iterator[Database]:  # type: ignore[type-arg]
    """The test's own connection to the bot's database (the bot writes through its store)."""
    database = open_db(settings.database_path)
    yield database
    database.close()


async def say(fake: FakeBotApi, user: int, text: str, *, chat: int | None = None, lang: str = "fr",
              chat_type: str = "private") -> Sent:  # fmt: skip
    """A user writes; return the bot's first answer in that chat."""
    chat_id = chat if chat is not None else user
    before = len(fake.messages_to(chat_id))
    fake.message(user, text, chat_id=chat_id, chat_type=chat_type, language=lang)
    return await fake.reply(chat_id, before)


async def tap(fake: FakeBotApi, user: int, sent: Sent, data: str) -> Sent:
    """A user taps a button; return the bot's next message or edit in that chat."""
    before = len(fake.messages_to(sent.chat_id))
    fake.tap(user, sent, data)
    return await fake.reply(sent.chat_id, before)


async def tap_answer(fake: FakeBotApi, user: int, sent: Sent, data: str) -> str:
    """A user taps a button; return the little notice the bot answers the tap with."""
    before = len(fake.calls("answerCallbackQuery"))
    fake.tap(user, sent, data)
    await fake.wait_calls("answerCallbackQuery", before + 1)
    return str(fake.calls("answerCallbackQuery")[before].get("text"))


def buttons(sent: Sent) -> dict[str, str]:
    """Label → callback data of a message's inline keyboard."""
    rows = (sent.reply_markup or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


# ---- subscribers -------------------------------------------------------------------------


async def digest_items(fake: FakeBotApi, user: int) -> list[str]:
    """Ask for /digest and return its numbered items, every part of it (a chat's updates are
    answered in order: the digest's last part comes before the answer to /help)."""
    before = len(fake.messages_to(user))
    await say(fake, user, "/digest")
    fake.message(user, "/help", chat_id=user, chat_type="private", language="fr")
    seen = before
    while not (await fake.reply(user, seen)).text.startswith("Commandes"):
        seen += 1
    texts = [m.text for m in fake.messages_to(user)[before:seen]]
    return [line for text in texts for line in text.splitlines() if re.match(r"\d+\. ", line)]


async def test_each_reader_chooses_the_length_of_their_digest(
    fake: FakeBotApi, app: Application, db: Database
) -> None:  # type: ignore[type-arg]
    """Short, normal, long: 5, 10, 20 stories (or all there are), chosen with buttons in
    /settings, honoured by /digest and by the weekly send; the operator's DIGEST_LENGTH for
    a chat that chose none."""
    from telegram.ext import CallbackContext

    from bot.ingest import Submission, ingest
    from bot.jobs import tick_job
    from tests.stories_week import UNRELATED

    for n, text in enumerate(UNRELATED[:25]):  # the week's news: 25 stories besides the round-up
        name = f"2025-07-{17 + n % 2}-news-{n}.txt"
        ingest(db, Submission("file", name, data=f"Brève {n}\n\n{text}".encode()), Limits())
    await say(fake, USER, "/subscribe")
    card = await say(fake, USER, "/settings")
    assert "Longueur : normal, 10 sujets" in card.text
    picker = await tap(fake, USER, card, "set:len")
    assert buttons(picker)["court, 5 sujets"] == "setv:len:short"
    assert buttons(picker)["long, 20 sujets"] == "setv:len:long"
    counts = {}
    for length in ("short", "long", "normal"):
        edited = await tap(fake, USER, picker, f"setv:len:{length}")
        assert "Longueur : " + {"short": "court, 5", "normal": "normal, 10",
                                "long": "long, 20"}[length] in edited.text  # fmt: skip
        items = await digest_items(fake, USER)
        assert [int(i.split(".")[0]) for i in items] == list(range(1, len(items) + 1))
        counts[length] = len(items)
    assert counts["short"] == 5 and counts["normal"] == 10
    assert counts["long"] == 20
    # the weekly send: the chat's own length
    await tap(fake, USER, picker, "setv:len:short")
    now = NOW.astimezone(ZoneInfo("Europe/Paris"))
    db.execute("UPDATE subscribers SET digest_day = ?, digest_time = ? WHERE chat_id = ?",
               [now.weekday(), now.strftime("%H:%M"), USER])  # fmt: skip
    before = len(fake.messages_to(USER))
    await tick_job(CallbackContext(app))
    sent = await fake.reply(USER, before)
    assert sent.text.startswith("Du 17 au 18 juillet 2025")
    assert len(re.findall(r"(?m)^\d+\. ", sent.text)) == 5
    forged = await tap_answer(fake, USER, picker, "setv:len:huge")
    assert forged and db.execute(
        "SELECT digest_length FROM subscribers WHERE chat_id = ?", [USER]
    ).fetchone() == ("short",)


async def test_a_reader_who_turns_a_source_off_never_gets_its_bulletins(
    fake: FakeBotApi, app: Application, db: Database
) -> None:  # type: ignore[type-arg]
    """/settings → Sources: a toggle a source. Off, its bulletins stay out of the chat's
    /digest, its pushes and its alerts; the other chats get them as before."""
    await say(fake, USER, "/subscribe")
    card = await say(fake, USER, "/settings")
    listed = await tap(fake, USER, card, buttons(card)["🗞 Sources"])
    assert "(2 sur 2)" in listed.text
    inbox = next(d for label, d in buttons(listed).items() if "Fichiers déposés" in label)
    assert "✅ 📂 Fichiers déposés" in buttons(listed)
    listed = await tap(fake, USER, listed, inbox)  # the samples came through the inbox
    assert "⬜ 📂 Fichiers déposés" in buttons(listed) and "(1 sur 2)" in listed.text
    assert (await say(fake, USER, "/digest")).text.startswith("Rien de nouveau")
    listed = await tap(fake, USER, listed, inbox)  # on again
    assert (await say(fake, USER, "/digest")).text.startswith("18 juillet 2025")
    # pushes and alerts: OTHER wants every bulletin and follows "patriot", admins' posts off
    for chat in (OTHER, ADMIN):
        await say(fake, chat, "/subscribe")
        db.execute("UPDATE subscribers SET mode = 'every' WHERE chat_id = ?", [chat])
    await say(fake, OTHER, "/follow patriot")
    card = await say(fake, OTHER, "/settings")
    listed = await tap(fake, OTHER, card, "src:p:0")
    admins = next(d for label, d in buttons(listed).items() if "administrateurs" in label)
    await tap(fake, OTHER, listed, admins)
    before_other, before_admin = len(fake.messages_to(OTHER)), len(fake.messages_to(ADMIN))
    await say(fake, ADMIN, "/post")
    preview = await say(  # a new story: the control chat, which has every source, is told
        fake, ADMIN, "Bilan express\n\nUne batterie Patriot venue de Norvège a abattu trois drones."
    )
    await tap(fake, ADMIN, preview, "ad:pub")
    pushed = [m.text for m in fake.messages_to(ADMIN)[before_admin:]]
    while not any(t.startswith("🆕") for t in pushed):  # the control chat gets it
        await fake.reply(ADMIN, before_admin + len(pushed))
        pushed = [m.text for m in fake.messages_to(ADMIN)[before_admin:]]
    await settled(db)
    assert [m.text for m in fake.messages_to(OTHER)[before_other:]] == []
    assert db.execute("SELECT count(*) FROM outbox WHERE chat_id = ? AND kind != 'digest'",
                      [OTHER]).fetchone()[0] == 0  # fmt: skip
    forged = await tap_answer(fake, OTHER, listed, "src:t:0123456789:0")
    assert forged  # "expired", and nothing changed


def test_the_sources_list_names_feeds_by_title_and_pages(db: Database) -> None:
    from bot.handlers.subscribe import reader_sources, sources_page
    from storage.feeds import add_admin_feed, record_title

    add_admin_feed(db, "https://news.example/rss")
    record_title(db, "https://news.example/rss", "Les Nouvelles")
    configured = [f"https://site{n}.example/feed" for n in range(30)]
    listed = reader_sources(db, configured)
    assert len(listed) == 33 and listed[-2:] == [("inbox", None), ("admin", None)]
    text, rows = sources_page("fr", listed, frozenset({"feed:https://site0.example/feed"}), 0)
    labels = [label for row in rows for label, _ in row]
    assert labels[0] == "⬜ site0.example" and "(32 sur 33)" in text
    assert labels[-2:] == ["▶", "↩️ Retour"]  # 20 a page, then the next page
    _, last = sources_page("fr", listed, frozenset(), 1)
    names = [label for row in last for label, _ in row]
    assert "✅ Les Nouvelles" in names and "✅ ✍️ Publications des administrateurs" in names
    assert all(len(data.encode()) <= 64 for row in last for _, data in row)


async def test_start_subscribe_and_settings(fake: FakeBotApi, db: Database) -> None:
    welcome = await say(fake, USER, "/start")
    assert "Bonjour Lecteur" in welcome.text
    assert buttons(welcome)["🔔 S’abonner"] == "sub"
    subscribed = await tap(fake, USER, welcome, "sub")
    assert "Abonné" in subscribed.text
    assert db.execute(
        "SELECT subscribed, active FROM subscribers WHERE chat_id = ?", [USER]
    ).fetchone() == (1, 1)

    card = await say(fake, USER, "/settings")
    assert "Jour : samedi" in card.text and "Fuseau : Europe/Paris" in card.text
    picker = await tap(fake, USER, card, "set:day")
    assert "Lundi" in buttons(picker)
    edited = await tap(fake, USER, picker, "setv:day:0")
    assert "Jour : lundi" in edited.text
    await tap(fake, USER, edited, "set:hour")
    edited = await tap(fake, USER, edited, "setv:hour:7")
    assert "Heure : 07:00" in edited.text
    await tap(fake, USER, edited, "set:mode")
    edited = await tap(fake, USER, edited, "setv:mode:both")
    assert "Envoi : les deux" in edited.text

    await tap(fake, USER, edited, "set:tz")
    ask = await tap(fake, USER, edited, "setv:tz:other")
    assert "IANA" in ask.text
    bad = await say(fake, USER, "Mars/Olympus_Mons")
    assert "Fuseau inconnu" in bad.text
    good = await say(fake, USER, "America/St_Johns")
    assert "Fuseau : America/St_Johns" in good.text

    english = await tap(fake, USER, good, "setv:lang:en")
    assert "Time zone: America/St_Johns" in english.text
    row = db.execute(
        "SELECT language, timezone, digest_day, digest_time, mode FROM subscribers WHERE chat_id = ?",
        [USER],
    ).fetchone()
    assert row == ("en", "America/St_Johns", 0, "07:00", "both")

    bye = await say(fake, USER, "/unsubscribe")
    assert "Unsubscribed" in bye.text
    again = await say(fake, USER, "/unsubscribe")
    assert "not subscribed" in again.text


@pytest.mark.parametrize(
    ("lang", "greeting"),
    [("en", "Hello"), ("uk", "Вітаємо"), ("fr-CA", "Bonjour"), ("de", "Hello"), ("", "Bonjour")],
)
async def test_welcome_in_user_language(
    fake: FakeBotApi, app: Application, lang: str, greeting: str
) -> None:  # type: ignore[type-arg]
    welcome = await say(fake, USER, "/start", lang=lang)
    assert welcome.text.startswith(greeting)


async def test_group_settings_for_chat_admins_only(fake: FakeBotApi, db: Database) -> None:
    refused = await say(fake, USER, "/subscribe", chat=GROUP, chat_type="group")
    assert "seuls les administrateurs" in refused.text
    fake.chat_admins[GROUP] = {USER}
    done = await say(fake, USER, "/subscribe", chat=GROUP, chat_type="group")
    assert "Abonné" in done.text
    assert db.execute(
        "SELECT subscribed FROM subscribers WHERE chat_id = ?", [GROUP]
    ).fetchone() == (1,)
    # a member who is not an admin taps the card's Length and Sources buttons: refused
    card = await say(fake, USER, "/settings", chat=GROUP, chat_type="group")
    listed = await tap(fake, USER, card, "src:p:0")
    inbox = next(d for label, d in buttons(listed).items() if "Fichiers" in label)
    for data in ("setv:len:long", inbox, "src:p:0"):
        assert "administrateurs" in await tap_answer(fake, OTHER, listed, data)
    assert db.execute("SELECT digest_length FROM subscribers WHERE chat_id = ?",
                      [GROUP]).fetchone() == (None,)  # fmt: skip
    assert db.execute("SELECT count(*) FROM sources_off").fetchone() == (0,)
    # plain text in a group is not a search
    before = len(fake.messages_to(GROUP))
    fake.message(OTHER, "patriot", chat_id=GROUP, chat_type="group")
    await say(fake, USER, "/help", chat=GROUP, chat_type="group")
    assert len(fake.messages_to(GROUP)) == before + 1


# ---- reading -------------------------------------------------------------------------------


async def test_latest_and_paragraph(fake: FakeBotApi, app: Application) -> None:  # type: ignore[type-arg]
    latest = await say(fake, USER, "/latest")
    assert latest.text.startswith("Bilan de la semaine. 1235-1241")
    read = buttons(latest)["📖 1"]
    paragraph = await tap(fake, USER, latest, read)
    assert "Bilan de la semaine. 1235-1241" in paragraph.text
    assert await tap_answer(fake, USER, latest, "rd:999999") == "Ce bouton a expiré."


async def test_digest_and_deep_link(fake: FakeBotApi, app: Application) -> None:  # type: ignore[type-arg]
    digest = await say(fake, USER, "/digest")
    assert digest.text.startswith("18 juillet 2025\n1 bulletin\n")  # its bulletin's day
    assert 'href="https://t.me/hebdo_test_bot?start=b3"' in digest.html
    opened = await say(fake, USER, "/start b1")
    assert opened.text.startswith("Bilan de la semaine. 1230-1234")
    assert "741" in opened.text


async def test_digest_all_of_a_week_of_one_round_up_is_all_its_headlines(
    fake: FakeBotApi, app: Application
) -> None:  # type: ignore[type-arg]
    """`/digest all` gave each story one item: a week of one editor's round-up (one story)
    was one item. It is every story once, then the round-ups' other headline items."""
    before = len(fake.messages_to(USER))
    fake.message(USER, "/digest all", chat_id=USER, chat_type="private", language="fr")
    first = await fake.reply(USER, before)
    numbered = re.findall(r"(?m)^\d+\. ", first.text)
    assert len(numbered) == 10  # the round-up's headline items, all there are


# ---- search ----------------------------------------------------------------------------------


async def test_a_misspelt_search_says_how_it_was_read(fake: FakeBotApi, app: Application) -> None:  # type: ignore[type-arg]
    answer = await say(fake, USER, "Harkiv")
    assert answer.text.splitlines()[1] == "Résultats pour Kharkiv (au lieu de Harkiv)"
    assert "<b>Kharkiv</b>" in answer.html
    english = await say(fake, OTHER, "/search Patriott", lang="en")
    assert english.text.splitlines()[1] == "Results for Patriot (instead of Patriott)"
    exact = await say(fake, USER, "Kharkiv")
    assert "au lieu de" not in exact.text


async def test_search_pages_and_paragraphs(fake: FakeBotApi, app: Application) -> None:  # type: ignore[type-arg]
    first = await say(fake, USER, "/search ukraine")
    assert first.text.startswith("🔎 ukraine — 1–3 sur 3")  # one result per bulletin
    assert "<b>" in first.html
    labels = buttons(first)
    assert "▶" not in labels and {"📖 1", "📖 2", "📖 3"} <= set(labels)
    more = next(label for label in labels if label.startswith("➕ 1 ("))
    inside = await tap(fake, USER, first, labels[more])  # more from this bulletin
    assert inside.text.startswith("🔎 ukraine — 1–5 sur")
    assert inside.text.splitlines()[1].startswith("Dans « ")
    second = await tap(fake, USER, inside, buttons(inside)["▶"])
    assert "— 6–" in second.text and second.text.splitlines()[1] == inside.text.splitlines()[1]
    assert second.method == "editMessageText" and second.message_id == first.message_id
    back = await tap(fake, USER, second, buttons(second)["◀"])
    assert "— 1–5 sur" in back.text
    paragraph = await tap(fake, USER, back, buttons(back)["📖 1"])
    assert "ukraine" in paragraph.text.lower()
    assert await tap_answer(fake, USER, first, "sp:00000000:1") == "Ce bouton a expiré."


async def test_search_with_a_missing_word_says_how_many_it_found(
    fake: FakeBotApi, app: Application
) -> None:  # type: ignore[type-arg]
    answer = await say(fake, USER, "robots Krasnodar xqzwvkj")
    assert answer.text.splitlines()[1] == (
        "Aucun résultat avec tous les mots ; résultats avec 2 mots sur 3."
    )
    assert "Bilan de la semaine. 1230-1234" in answer.text.split("\n\n")[1]  # French first
    english = await say(fake, OTHER, "robots Krasnodar", lang="en")
    assert "Weekly review" in english.text.split("\n\n")[1]  # the reader's language first


async def test_plain_text_is_a_question(fake: FakeBotApi, app: Application) -> None:  # type: ignore[type-arg]
    answer = await say(fake, USER, "frappes Kharkov")
    assert "🔎 frappes Kharkov" in answer.text
    assert "<b>Kharkiv</b>" in answer.html
    nothing = await say(fake, USER, "zzzyzx")
    assert "Rien trouvé" in nothing.text


@pytest.mark.parametrize(
    "query", ['"', "AND(", "*", "x" * 5000, "🙂🇺🇦", "NEAR(", "-", "' OR 1=1 --", "<b>", "&amp;"]
)
async def test_hostile_search_text(fake: FakeBotApi, app: Application, query: str) -> None:  # type: ignore[type-arg]
    answer = await say(fake, USER, f"/search {query}")
    assert "erreur" not in answer.text
    assert answer.text.startswith(("Utilisation", "Rien trouvé", "🔎"))
    assert (await say(fake, USER, "/help")).text.startswith("Commandes")


async def test_inline_mode(fake: FakeBotApi, app: Application) -> None:  # type: ignore[type-arg]
    fake.inline(USER, "patriot")
    await fake.wait_calls("answerInlineQuery", 1)
    results = fake.calls("answerInlineQuery")[0]["results"]
    assert results
    for result in results:
        assert "<b>Patriot</b>" in result["input_message_content"]["message_text"]
        assert "Patriot" in result["description"]
    fake.inline(USER, '"')
    await fake.wait_calls("answerInlineQuery", 2)
    assert fake.calls("answerInlineQuery")[1]["results"] == []


# ---- follows ---------------------------------------------------------------------------------


async def test_follow_list_unfollow(fake: FakeBotApi, db: Database) -> None:
    assert "Utilisation" in (await say(fake, USER, "/follow")).text
    assert "Utilisation" in (await say(fake, USER, "/follow ,,,")).text
    assert "prévenu" in (await say(fake, USER, "/follow OTAN")).text
    assert "déjà" in (await say(fake, USER, "/follow otan")).text
    await say(fake, USER, "/follow Kharkiv")
    listing = await say(fake, USER, "/following")
    assert "• OTAN" in listing.text and "• Kharkiv" in listing.text
    removed = await tap(fake, USER, listing, buttons(listing)["✖ OTAN"])
    assert "OTAN" not in removed.text
    assert "ne suiviez pas" in (await say(fake, USER, "/unfollow otan")).text
    assert "ne suivez plus" in (await say(fake, USER, "/unfollow kharkiv")).text
    assert db.execute("SELECT count(*) FROM follows").fetchone()[0] == 0


# ---- admins ----------------------------------------------------------------------------------


async def test_admin_posts_a_document(fake: FakeBotApi, db: Database) -> None:
    start = await say(fake, ADMIN, "/post")
    assert "aperçu" in start.text
    text = SAMPLE_FR.read_text(encoding="utf-8").replace("1230-1234", "1242-1248")
    before = db.execute("SELECT count(*) FROM bulletins").fetchone()[0]
    count = len(fake.messages_to(ADMIN))
    fake.document(ADMIN, "2025-07-25-bilan.txt", text.encode("utf-8"))
    preview = await fake.reply(ADMIN, count)
    assert preview.text.startswith("Aperçu — rien n’est encore publié")
    assert "Langue : fr · Date : 2025-07-25" in preview.text and "741" in preview.text
    assert db.execute("SELECT count(*) FROM bulletins").fetchone()[0] == before
    published = await tap(fake, ADMIN, preview, "ad:pub")
    assert published.text.startswith("✅ Publié sous le n° 4")
    assert db.execute("SELECT count(*) FROM bulletins").fetchone()[0] == before + 1
    assert await tap_answer(fake, ADMIN, preview, "ad:pub") == "Ce bouton a expiré."
    actions = [r[0] for r in db.execute("SELECT action FROM audit_log ORDER BY id")]
    assert actions[:2] == ["post", "document"] and "post_button" in actions
    assert (
        json.loads(
            db.execute(
                "SELECT details FROM audit_log WHERE action = 'post' AND details LIKE '%bulletin_id%'"
            ).fetchone()[0]
        )["bulletin_id"]
        == 4
    )


async def test_admin_posts_text_edits_title_and_cancels(fake: FakeBotApi, db: Database) -> None:
    await say(fake, ADMIN, "/post")
    first = await say(
        fake, ADMIN, "Revue du soir\n\nLes frappes continuent à Kharkiv. Kyiv répond."
    )
    assert "Revue du soir" in first.text
    # after the preview, the admin's text is a search again, not more of the post
    assert (await say(fake, ADMIN, "Kharkiv")).text.startswith("🔎 Kharkiv")
    asked = await tap(fake, ADMIN, first, "ad:more")
    assert "texte à ajouter" in asked.text
    second = await say(fake, ADMIN, "Un accord pour 5000 missiles a été signé.")
    assert "sections : 1" in second.text and "5000 missiles" in second.text
    ask = await tap(fake, ADMIN, second, "ad:title")
    assert "nouveau titre" in ask.text
    retitled = await say(fake, ADMIN, "Titre corrigé")
    assert "Titre corrigé" in retitled.text
    assert "Revue du soir" not in retitled.text and "sections : 1" in retitled.text  # replaced
    cancelled = await tap(fake, ADMIN, retitled, "ad:cancel")
    assert "rien n’a été publié" in cancelled.text
    assert db.execute("SELECT count(*) FROM bulletins WHERE title LIKE 'Titre%'").fetchone()[0] == 0


async def test_admin_post_date_line_and_untitled_post(fake: FakeBotApi, db: Database) -> None:
    await say(fake, ADMIN, "/post")
    preview = await say(
        fake,
        ADMIN,
        "date: 2025-07-18\nLa Rada a nommé Ioulia Svyrydenko Première ministre. "
        "Denys Chmyhal devient ministre de la Défense.",
    )
    assert "Date : 2025-07-18" in preview.text
    assert "La Rada a nommé Ioulia Svyrydenko" in preview.text.split("\n")[2]  # the title
    published = await tap(fake, ADMIN, preview, "ad:pub")
    assert "Publié" in published.text
    title, day = db.execute(
        "SELECT title, substr(published_at, 1, 10) FROM bulletins ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert title.startswith("La Rada a nommé") and title != "Post" and day == "2025-07-18"


async def test_a_files_date_line_dates_it_and_a_duplicate_is_said_in_the_preview(
    fake: FakeBotApi, db: Database
) -> None:
    """A posted file's `date:` first line is read as its date, never published as its first
    headline item; a file already in the archive says so in the preview, before Publish;
    a `date:` that is no calendar date is one line, the draft still open."""
    await say(fake, ADMIN, "/post")
    count = len(fake.messages_to(ADMIN))
    text = "date: 2026-12-01\n" + SAMPLE_FR.read_text(encoding="utf-8")  # in the archive
    fake.document(ADMIN, "bilan.txt", text.encode("utf-8"))
    preview = await fake.reply(ADMIN, count)
    assert "Date : 2026-12-01" in preview.text and "date:" not in preview.text
    assert "Déjà publié sous le n° 1 : Publier n’ajoutera rien." in preview.text
    await say(fake, ADMIN, "/post")
    bad = await say(fake, ADMIN, "date: 2025-13-45\nUn texte.")
    assert bad.text == ("La première ligne « date: 2025-13-45 » n’est pas une date du "
                        "calendrier (AAAA-MM-JJ).")  # fmt: skip
    count = len(fake.messages_to(ADMIN))
    fake.document(ADMIN, "new.txt", b"date: 2026-12-02\nRevue neuve\n\nUn fait nouveau du jour.")
    fresh = await fake.reply(ADMIN, count)
    assert "Date : 2026-12-02" in fresh.text and "Déjà publié" not in fresh.text
    assert "date:" not in fresh.text and "Un fait nouveau du jour." in fresh.text


async def test_admin_rejected_uploads(fake: FakeBotApi, db: Database) -> None:
    await say(fake, ADMIN, "/post")
    count = len(fake.messages_to(ADMIN))
    fake.document(ADMIN, "photo.png", b"\x89PNG\r\n")
    assert "Envoyez un fichier .txt" in (await fake.reply(ADMIN, count)).text
    count = len(fake.messages_to(ADMIN))
    fake.document(ADMIN, "empty.txt", b"")
    assert "Refusé : empty" in (await fake.reply(ADMIN, count)).text
    count = len(fake.messages_to(ADMIN))
    fake.document(ADMIN, "binary.txt", bytes(range(256)) * 4)
    assert "Refusé : binary" in (await fake.reply(ADMIN, count)).text
    count = len(fake.messages_to(ADMIN))
    fake.document(
        ADMIN, "x.html", b"<script>alert(1)</script><p>Un texte <b>propre</b> sur Kyiv.</p>"
    )
    preview = await fake.reply(ADMIN, count)
    assert "Un texte propre sur Kyiv." in preview.text and "alert" not in preview.text


async def test_admin_delete_undo_and_lists(fake: FakeBotApi, db: Database) -> None:
    listing = await say(fake, ADMIN, "/bulletins")
    assert "Bulletins 1–3 sur 3" in listing.text
    assert "Utilisation" in (await say(fake, ADMIN, "/delete")).text
    assert "Pas de bulletin n° 99" in (await say(fake, ADMIN, "/delete 99")).text
    deleted = await say(fake, ADMIN, "/delete 3")
    assert "Bulletin n° 3 retiré" in deleted.text
    assert "1235-1241" not in (await say(fake, USER, "/latest")).text
    restored = await tap(fake, ADMIN, deleted, "und:3")
    assert "Bulletin n° 3 rétabli" in restored.text
    assert db.execute("SELECT deleted_at FROM bulletins WHERE id = 3").fetchone() == (None,)

    count = len(fake.messages_to(ADMIN))
    fake.message(ADMIN, "/preview")
    await fake.reply(ADMIN, count)
    digest = await fake.reply(ADMIN, count + 1)
    assert digest.text.startswith("18 juillet 2025")
    stats = await say(fake, ADMIN, "/stats")
    assert "Abonnés par langue" in stats.text and "Bulletins des 7 derniers jours" in stats.text
    logged = [
        r[0]
        for r in db.execute("SELECT action FROM audit_log WHERE user_id = ? ORDER BY id", [ADMIN])
    ]
    for action in ("bulletins", "delete", "undo", "undelete", "preview", "stats"):
        assert action in logged, action


async def test_admin_sources(fake: FakeBotApi, db: Database) -> None:
    assert "Aucun flux" in (await say(fake, ADMIN, "/sources")).text
    assert "Utilisation" in (await say(fake, ADMIN, "/sources add ftp://x")).text
    assert "Ajouté" in (await say(fake, ADMIN, "/sources add https://example.org/feed.xml")).text
    assert (
        "Déjà relevé" in (await say(fake, ADMIN, "/sources add https://example.org/feed.xml")).text
    )
    listing = await say(fake, ADMIN, "/sources")
    assert "https://example.org/feed.xml" in listing.text and "Dossier" in listing.text
    assert "Retiré" in (await say(fake, ADMIN, "/sources remove https://example.org/feed.xml")).text


async def test_admin_adds_a_site_and_sees_what_became_of_its_feeds(
    fake: FakeBotApi, db: Database
) -> None:
    """/sources add with a site's address finds the feed its page announces; an address
    that is no feed is refused; a feed gone (410) or moved (301) says so in /sources."""
    from devtools.feedsite import FeedSite, Page, feed, page, redirect
    from storage.feeds import add_admin_feed
    from tests.test_feeds import HOME, RSS

    site = FeedSite().start()
    try:
        site.pages |= {"/": page(HOME), "/rss": feed(RSS), "/junk": page("<p>rien</p>"),
                       "/gone": Page(status=410, validators=False),
                       "/old": redirect(301, "/rss")}  # fmt: skip
        added = await say(fake, ADMIN, f"/sources add {site.url('/')}")
        assert added.text == (f"Ajouté : « Hebdo test » — {site.url('/rss')}, le flux qu'annonce "
                              f"{site.url('/')} (2 entrées en ce moment).")  # fmt: skip
        refused = await say(fake, ADMIN, f"/sources add {site.url('/junk')}")
        assert (
            refused.text == f"Pas ajouté : {site.url('/junk')} — a web page that announces no feed."
        )
        with db.conn:  # added before they moved or went: /sources add would now refuse /gone
            for path in ("/gone", "/old"):
                add_admin_feed(db, site.url(path))
        listing = await say(fake, ADMIN, "/sources")
        done = await tap(fake, ADMIN, listing, buttons(listing)["🔄 Relever maintenant"])
        assert "ajoutés : 2" in done.text and "doublons : 2" in done.text
        # /old now leads to /rss, polled as a feed of its own: its entries are merged
        assert "Dont doublons venus d'une autre source (le même article) : 2." in done.text
        listing = await say(fake, ADMIN, "/sources")
    finally:
        site.stop()
    text = listing.text
    assert "Hebdo test" in text and "✅ ok 20" in text
    assert "⛔ supprimé (HTTP 410) depuis 20" in text
    assert f"↪️ relevé à {site.url('/rss')} (redirection permanente" in text
    assert "📄 résumés complétés par la page de l'article" in text


async def test_admin_sources_opml_round_trip_through_telegram(
    fake: FakeBotApi, db: Database
) -> None:
    from bot.ingest.opml import import_opml

    opml = (ROOT / "tests" / "fixtures" / "feeds.opml").read_bytes()
    count = len(fake.messages_to(ADMIN))
    fake.document(ADMIN, "subscriptions.opml", opml, mime="text/x-opml")
    report = await fake.reply(ADMIN, count)
    assert report.text.startswith("📥 OPML importé : flux ajoutés : 2, déjà relevés : 0, refusés")
    listing = await say(fake, ADMIN, "/sources")
    labels = buttons(listing)
    assert "📤 OPML" in labels and "🔄 Relever maintenant" in labels
    assert sum(label.startswith("✖ http") for label in labels) == 2
    fake.tap(ADMIN, listing, labels["📤 OPML"])
    await fake.wait_calls("sendDocument", 1)
    chat, name, data, caption = fake.documents[0]
    assert (chat, name, caption) == (ADMIN, "hebdo-feeds.opml", "2 flux, au format OPML.")
    assert sorted(import_opml(data)[0]) == sorted(import_opml(opml)[0])  # the round trip
    expand = next(
        d for label, d in labels.items() if label.startswith("📄 ✓") and "/radio/" in label
    )
    switched = await tap(fake, ADMIN, listing, expand)  # 📄: teasers as the feed gives them
    assert "entrées telles que le flux les donne" in switched.text
    assert any(label.startswith("📄 ✗") and "/radio/" in label for label in buttons(switched))
    remove = next(d for label, d in labels.items() if label.startswith("✖") and "/news/" in label)
    updated = await tap(fake, ADMIN, listing, remove)  # ✖: stops polling it, list redrawn
    assert "/news/rss.xml" not in updated.text and "/radio/feed" in updated.text
    assert await tap_answer(fake, ADMIN, updated, remove) == "Ce bouton a expiré."
    count = len(fake.messages_to(ADMIN))
    fake.document(ADMIN, "page.xml", b"<html><body>not a feed list</body></html>")
    assert (
        "Fichier OPML illisible : du XML, mais pas de l’OPML"
        in (await fake.reply(ADMIN, count)).text
    )
    for name, data, why in (("huge.opml", b"<opml>" + b" " * 1_100_000 + b"</opml>", "plus de 1 Mo"),
                            ("latin1.opml", "<opml><body>é</body>".encode("latin-1"), "ce n’est pas du XML"),
                            ("empty.opml", b"", "ce n’est pas du XML")):  # fmt: skip
        count = len(fake.messages_to(ADMIN))
        fake.document(ADMIN, name, data)
        assert f"Fichier OPML illisible : {why}" in (await fake.reply(ADMIN, count)).text, name
    count = len(fake.messages_to(ADMIN))
    fake.document(USER, "feeds.opml", opml)  # a reader: refused, nothing added
    assert "administrateurs" in (await fake.reply(USER, 0)).text
    assert db.execute("SELECT count(*) FROM feeds WHERE removed_at IS NULL").fetchone()[0] == 1


ADMIN_COMMANDS = ["/post", "/bulletins", "/delete 1", "/preview", "/sources",
                  "/sources add https://evil.example/feed", "/stats"]  # fmt: skip


@pytest.mark.parametrize("command", ADMIN_COMMANDS)
async def test_non_admin_is_refused(fake: FakeBotApi, db: Database, command: str) -> None:
    answer = await say(fake, USER, command)
    assert answer.text == "Désolé, cette commande est réservée aux administrateurs."
    assert db.execute(
        "SELECT count(*) FROM audit_log WHERE action = 'refused' AND user_id = ?", [USER]
    ).fetchone() == (1,)
    assert db.execute("SELECT count(*) FROM bulletins WHERE deleted_at IS NOT NULL").fetchone() == (
        0,
    )
    assert db.execute("SELECT count(*) FROM feeds").fetchone() == (0,)


async def test_non_admin_cannot_upload_or_tap_admin_buttons(fake: FakeBotApi, db: Database) -> None:
    count = len(fake.messages_to(USER))
    fake.document(USER, "x.txt", b"Bilan\n\nTexte.")
    assert "administrateurs" in (await fake.reply(USER, count)).text
    anchor = await say(fake, USER, "/help")
    for data in ("ad:pub", "ad:poll", "und:1", "bl:0"):
        answer = await tap_answer(fake, USER, anchor, data)
        assert answer == "Désolé, cette commande est réservée aux administrateurs."
    assert db.execute("SELECT count(*) FROM bulletins").fetchone() == (3,)


@pytest.mark.parametrize(
    "data",
    [
        "set:zzz",
        "setv:day:9",
        "setv:tz:99",
        "setv:lang:xx",
        "sp:zz:1",
        "rd:abc",
        "unf:999",
        "x" * 64,
        "💥",
    ],
)
async def test_forged_buttons_expire(fake: FakeBotApi, app: Application, data: str) -> None:  # type: ignore[type-arg]
    anchor = await say(fake, USER, "/help")
    answer = await tap_answer(fake, USER, anchor, data)
    assert answer == "Ce bouton a expiré."


# ---- help, errors, secrets ---------------------------------------------------------------------


def registered_commands(app: Application) -> set[str]:  # type: ignore[type-arg]
    """Every command a handler answers, those that start a conversation included."""
    handlers = [h for group in app.handlers.values() for h in group]
    handlers += [e for h in handlers if isinstance(h, ConversationHandler) for e in h.entry_points]
    return {c for h in handlers if isinstance(h, CommandHandler) for c in h.commands}


async def test_help_lists_every_registered_command(fake: FakeBotApi, app: Application) -> None:  # type: ignore[type-arg]
    for_admin = await say(fake, ADMIN, "/help")
    for_user = await say(fake, USER, "/help")
    commands = registered_commands(app)
    assert commands >= {"start", "help", "search", "post", "stats"}
    for command in commands:
        assert f"/{command} " in for_admin.text
    assert "/post" not in for_user.text and "/search" in for_user.text
    guide = (ROOT / "docs" / "readers.md").read_text(encoding="utf-8")
    for command in commands:
        assert f"`/{command}" in guide, command
    menus = fake.calls("setMyCommands")
    published = menus[0]["commands"]
    assert {c["command"] for c in published} == {c for c in commands if f"/{c} " in for_user.text}
    by_language = {m.get("language_code"): m["commands"] for m in menus if "scope" not in m}
    assert set(by_language) == {None, "fr", "en", "uk"}
    french = {c["command"]: c["description"] for c in by_language["fr"]}
    assert french["help"] == "cette aide" and "post" not in french
    (admin_menu,) = [m for m in menus if "scope" in m]
    scope = admin_menu["scope"]
    scope = json.loads(scope) if isinstance(scope, str) else scope
    assert scope == {"type": "chat", "chat_id": ADMIN}
    assert {c["command"] for c in admin_menu["commands"]} == commands


async def test_unknown_command(fake: FakeBotApi, app: Application) -> None:  # type: ignore[type-arg]
    assert "Commande inconnue" in (await say(fake, USER, "/frobnicate")).text


async def test_forbidden_marks_chat_inactive(
    fake: FakeBotApi,
    app: Application,
    db: Database,  # type: ignore[type-arg]
) -> None:
    await say(fake, USER, "/subscribe")
    fake.fail("sendMessage", 403, chat_id=USER)
    fake.message(USER, "/help")
    await fake.wait_calls("sendMessage", len(fake.calls("sendMessage")) + 1)
    other = await say(fake, OTHER, "/help")  # the bot keeps serving others
    assert other.text.startswith("Commandes")

    def state() -> tuple[int, str | None]:
        found = db.execute(
            "SELECT active, inactive_reason FROM subscribers WHERE chat_id = ?", [USER]
        ).fetchone()
        return int(found[0]), found[1]

    for _ in range(200):  # the error handler's write goes through the writer thread
        if state()[0] == 0:
            break
        await app.bot_data.store.write(lambda _db: None)  # after the writes queued so far
    row = state()
    assert row[0] == 0 and "blocked" in row[1]
    # writing again brings the chat back
    await say(fake, USER, "/start")
    assert db.execute("SELECT active FROM subscribers WHERE chat_id = ?", [USER]).fetchone() == (1,)


@pytest.mark.parametrize("code", [429, 500, 502])
async def test_transient_errors_are_retried_or_survived(
    fake: FakeBotApi, app: Application, code: int
) -> None:  # type: ignore[type-arg]
    fake.fail("sendMessage", code, retry_after=1 if code == 429 else None)
    fake.message(USER, "/help")
    await fake.wait_calls("sendMessage", 1)
    if code == 429:  # the rate limiter waits as told and sends again
        answer = await fake.reply(USER, 0)
        assert answer.text.startswith("Commandes")
    assert (await say(fake, OTHER, "/help")).text.startswith("Commandes")


async def test_bad_html_answer_is_reported_not_fatal(
    fake: FakeBotApi, app: Application, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[type-arg]
    fake.fail(
        "sendMessage", 400, "Bad Request: can't parse entities: unsupported start tag", chat_id=USER
    )
    with caplog.at_level(logging.ERROR):
        fake.message(USER, "/help")
        await fake.wait_calls("sendMessage", 2)  # the answer, then the short error message
    assert "unhandled error" in caplog.text
    assert (await say(fake, OTHER, "/help")).text.startswith("Commandes")


async def test_token_never_logged(
    fake: FakeBotApi, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    setup_logging("DEBUG", secrets=[TOKEN])
    with caplog.at_level(logging.DEBUG):
        application = build_application(settings)  # PTB logs its URLs, token included, at DEBUG
        application.bot_data.clock = lambda: NOW
        await start_app(application, poll_timeout=5)
        try:
            await say(fake, USER, "/start")
            await say(fake, USER, "/search patriot")
            fake.fail("sendMessage", 500)
            fake.message(USER, "/help")
            await fake.wait_calls("sendMessage", 3)
            await say(fake, OTHER, "/help")
        finally:
            await stop_app(application)
    assert "Set Bot API URL" in caplog.text and "[redacted]" in caplog.text
    assert TOKEN not in caplog.text and TOKEN.split(":")[1] not in caplog.text
    logging.getLogger("x").error("boom %s", TOKEN, exc_info=RuntimeError(f"url /bot{TOKEN}/getMe"))
    assert TOKEN not in caplog.text


async def test_fake_api_refuses_what_telegram_refuses(fake: FakeBotApi) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=f"{fake.url}/bot{TOKEN}") as client:
        long = await client.post("/sendMessage", json={"chat_id": 1, "text": "é" * 4097})
        assert long.status_code == 400 and "too long" in long.json()["description"]
        bad = await client.post(
            "/sendMessage", json={"chat_id": 1, "text": "<b>x", "parse_mode": "HTML"}
        )
        assert "can't parse entities" in bad.json()["description"]
        ok = await client.post("/sendMessage", json={"chat_id": 1, "text": "🙂" * 2048})
        assert ok.json()["ok"]


def test_fake_api_validates_html() -> None:
    from devtools.telegram_rules import ApiError, parse_html

    assert parse_html("<b>a &amp; b</b> <a href='x'>l</a>") == "a & b l"
    for bad in ("<b>x", "<script>x</script>", "</b>", "a & b", "<b><i>x</b></i>"):
        with pytest.raises(ApiError):
            parse_html(bad)


async def test_a_slot_that_has_come_brings_the_digest_at_once(
    fake: FakeBotApi,
    app: Application,  # type: ignore[type-arg]
) -> None:
    """Subscribing, or moving one's slot, to a slot this week has passed brings the week's
    edition right after the answer — not at the next minute's tick (stopped here)."""
    assert app.job_queue is not None
    for job in app.job_queue.get_jobs_by_name("tick"):
        job.enabled = False

    def digest_to(chat: int) -> Callable[[Sent], bool]:
        return lambda s: s.chat_id == chat and s.text.startswith("18 juillet 2025")

    # NOW is Friday 22:00 in Paris: the slot set first, then the subscription
    card = await say(fake, USER, "/settings")
    await tap(fake, USER, card, "setv:hour:22")
    await tap(fake, USER, card, "setv:day:4")
    assert not [s for s in fake.sent if digest_to(USER)(s)]  # not subscribed: nothing
    answer = await say(fake, USER, "/subscribe")
    assert answer.text.startswith("🔔")
    digest = await fake.wait_for(digest_to(USER), timeout=10)
    assert fake.sent.index(digest) > fake.sent.index(answer)  # after the answer
    # subscribed first (Saturday 09:00: not yet), then the slot moved to now
    await say(fake, OTHER, "/subscribe")
    card = await say(fake, OTHER, "/settings")
    await tap(fake, OTHER, card, "setv:hour:22")
    assert not [s for s in fake.sent if digest_to(OTHER)(s)]  # Saturday 22:00: not yet
    await tap(fake, OTHER, card, "setv:day:4")
    await fake.wait_for(digest_to(OTHER), timeout=10)


async def test_tick_delivers_the_weekly_digest_and_pushes(
    fake: FakeBotApi, app: Application, db: Database
) -> None:  # type: ignore[type-arg]
    from telegram.ext import CallbackContext

    from bot.jobs import tick_job

    await say(fake, USER, "/subscribe")
    await say(fake, OTHER, "/subscribe")
    # USER's slot is now (this week's digest is due); OTHER wants every bulletin
    now = NOW.astimezone(ZoneInfo("Europe/Paris"))
    db.execute("UPDATE subscribers SET digest_day = ?, digest_time = ? WHERE chat_id = ?",
               [now.weekday(), now.strftime("%H:%M"), USER])  # fmt: skip
    db.execute("UPDATE subscribers SET mode = 'every', digest_day = ? WHERE chat_id = ?",
               [(now.weekday() + 3) % 7, OTHER])  # fmt: skip
    await say(fake, OTHER, "/follow patriot")
    before_user, before_other = len(fake.messages_to(USER)), len(fake.messages_to(OTHER))
    await tick_job(CallbackContext(app))
    digest = await fake.reply(USER, before_user)
    assert digest.text.startswith("18 juillet 2025")
    # an admin publishes a new story (dated by the bot's clock, the samples' week: Germany's
    # Patriots would be their story, told already): OTHER gets it once, though it follows
    # a word in it too
    await say(fake, ADMIN, "/post")
    preview = await say(
        fake,
        ADMIN,
        "Bilan express\n\nUne batterie Patriot venue de Norvège a abattu trois drones au-dessus de Lviv.",
    )
    await tap(fake, ADMIN, preview, "ad:pub")
    push = await fake.reply(OTHER, before_other)
    assert push.text.startswith("🆕 Nouveau bulletin") and "Patriot" in push.text
    await tick_job(CallbackContext(app))  # nothing new to send
    await say(fake, OTHER, "/help")
    assert [m.text.split()[0] for m in fake.messages_to(OTHER)[before_other:]] == [
        "🆕",
        "Commandes",
    ]
    await settled(db)  # the outcome of a message is written within a few ms of its answer
    statuses = db.execute("SELECT kind, chat_id, status FROM outbox ORDER BY id").fetchall()
    assert statuses == [("digest", USER, "sent"), ("bulletin", OTHER, "sent")]


async def test_no_sql_on_the_event_loop_and_every_write_on_the_writer(
    fake: FakeBotApi, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the bot serves — a subscription, its settings, a follow, a search, a digest, an
    admin's post, the tick and the sender — no SQL statement runs on the event loop's
    thread, and every write runs on the store's one writer thread."""
    import sqlite3
    import threading

    from telegram.ext import CallbackContext

    from bot.jobs import tick_job

    seen: list[tuple[str, str]] = []  # (thread, statement)
    real_connect = sqlite3.connect

    def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = real_connect(*args, **kwargs)
        conn.set_trace_callback(lambda sql: seen.append((threading.current_thread().name, sql)))
        return conn

    mine = open_db(settings.database_path)  # the test's own connection: not traced
    ingest_paths(mine, list(expand_paths([SAMPLES])), Limits())
    mine.execute("UPDATE bulletins SET announced_at = created_at")
    monkeypatch.setattr(sqlite3, "connect", traced)
    application = build_application(settings)
    application.bot_data.clock = lambda: NOW
    await start_app(application, poll_timeout=5)
    try:
        seen.clear()  # from here on the bot serves
        welcome = await say(fake, USER, "/start")
        await tap(fake, USER, welcome, "sub")
        card = await say(fake, USER, "/settings")
        await tap(fake, USER, card, "setv:mode:both")
        await say(fake, USER, "/follow Patriot")
        await say(fake, USER, "drones Kharkiv")
        await say(fake, USER, "/digest")
        now = NOW.astimezone(ZoneInfo("Europe/Paris"))
        mine.execute("UPDATE subscribers SET digest_day = ?, digest_time = ? WHERE chat_id = ?",
                     [now.weekday(), now.strftime("%H:%M"), USER])  # fmt: skip
        before = len(fake.messages_to(USER))
        await tick_job(CallbackContext(application))
        assert (await fake.reply(USER, before)).text.startswith("18 juillet 2025")
        await say(fake, ADMIN, "/post")
        preview = await say(
            fake,
            ADMIN,
            "Bilan express\n\nUne batterie Patriot venue de Norvège a abattu trois drones au-dessus de Lviv.",
        )
        before = len(fake.messages_to(USER))
        await tap(fake, ADMIN, preview, "ad:pub")
        assert "Patriot" in (await fake.reply(USER, before)).text  # pushed by the sender
    finally:
        await stop_app(application)
        mine.close()
    loop_thread = threading.current_thread().name
    assert seen, "nothing was traced"
    assert [sql for thread, sql in seen if thread == loop_thread] == []
    write = re.compile(
        r"\s*(?:INSERT(?: OR \w+)? INTO|UPDATE|DELETE FROM|REPLACE INTO)\s+(\w+)", re.I
    )
    writes = [(thread, found[1]) for thread, sql in seen if (found := write.match(sql))]
    assert {"audit_log", "subscribers", "follows", "outbox", "bulletins"} <= {t for _, t in writes}
    assert {thread for thread, _ in writes} == {"hebdo-write_0"}


async def test_channel_subscribes_with_a_post(fake: FakeBotApi, db: Database) -> None:
    channel = -1009
    before = len(fake.messages_to(channel))
    fake.push("channel_post", {"message_id": 77, "date": 0, "chat": {"id": channel, "type": "channel", "title": "Actu"},
                               "text": "/subscribe", "entities": [{"type": "bot_command", "offset": 0, "length": 10}]})  # fmt: skip
    answer = await fake.reply(channel, before)
    assert "Abonné" in answer.text
    assert db.execute(
        "SELECT chat_type, title, subscribed FROM subscribers WHERE chat_id = ?", [channel]
    ).fetchone() == ("channel", "Actu", 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/start b99999999999999999999", "Utilisation : /start b12"),  # as /delete answers
        ("/start b²", "Utilisation : /start b12"),
        ("/start b٣", "Utilisation : /start b12"),
        ("/start bxyz", "Utilisation : /start b12"),
        ("/start b999", "Pas de bulletin n° 999."),
        ("/search kyiv until:9999", "Utilisation"),
        ("/search kyiv since:0000-13", "Utilisation"),
    ],
)
async def test_numbers_from_users_are_range_checked(
    fake: FakeBotApi,
    app: Application,
    text: str,
    expected: str,  # type: ignore[type-arg]
) -> None:
    answer = await say(fake, USER, text)
    assert expected in answer.text
    assert "Désolé" not in answer.text  # no apology: the input was checked, not crashed on


async def test_admin_ids_are_range_checked(fake: FakeBotApi, app: Application) -> None:  # type: ignore[type-arg]
    for text in ("/delete 99999999999999999999", "/delete ²", "/delete -1"):
        assert (await say(fake, ADMIN, text)).text.startswith("Utilisation : /delete ID")


async def test_channel_readers_cannot_change_the_channel(fake: FakeBotApi, db: Database) -> None:
    channel, reader, owner = -1009, OTHER, USER
    before = len(fake.messages_to(channel))
    fake.push("channel_post", {"message_id": 78, "date": 0, "chat": {"id": channel, "type": "channel", "title": "Actu"},
                               "text": "/subscribe", "entities": [{"type": "bot_command", "offset": 0, "length": 10}]})  # fmt: skip
    card = await fake.reply(channel, before)
    for data in ("unsub", "set:menu", "setv:lang:en", "setv:mode:every"):
        answers = len(fake.calls("answerCallbackQuery"))
        fake.tap(reader, card, data, chat_type="channel")
        await fake.wait_calls("answerCallbackQuery", answers + 1)
    row = db.execute(
        "SELECT subscribed, language, mode FROM subscribers WHERE chat_id = ?", [channel]
    ).fetchone()
    assert row == (1, "fr", "weekly")  # a reader changed nothing
    fake.chat_admins[channel] = {owner}
    answers = len(fake.calls("answerCallbackQuery"))
    fake.tap(owner, card, "unsub", chat_type="channel")
    await fake.wait_calls("answerCallbackQuery", answers + 1)
    await fake.wait_for(lambda s: s.chat_id == channel and "Désabonné" in s.text)
    assert db.execute(
        "SELECT subscribed FROM subscribers WHERE chat_id = ?", [channel]
    ).fetchone() == (0,)


async def test_one_user_cannot_starve_the_others(fake: FakeBotApi, app: Application) -> None:  # type: ignore[type-arg]
    before = len(fake.messages_to(USER))
    for _ in range(60):
        fake.message(USER, "/search patriot")
    help_ = await say(fake, OTHER, "/help")  # answered although 60 searches came first
    assert help_.text.startswith("Commandes")
    await fake.wait_for(lambda m: m.chat_id == USER and m.text.startswith("⏳"))
    answered = fake.messages_to(USER)[before:]
    slow = [m for m in answered if m.text.startswith("⏳")]
    assert len(slow) == 1  # told once
    assert len(answered) <= 30  # a burst of twenty and the refill, not sixty
    admin_before = len(fake.messages_to(ADMIN))
    for _ in range(8):  # admins are not throttled
        fake.message(ADMIN, "/help")
    await fake.reply(ADMIN, admin_before + 7)


async def test_a_huge_paragraph_is_read_a_message_at_a_time(
    fake: FakeBotApi,
    app: Application,
    db: Database,  # type: ignore[type-arg]
) -> None:
    from bot.ingest import Submission, ingest

    words = " ".join(f"mot{n}" for n in range(8000))  # about 60,000 characters, one paragraph
    text = f"Bilan géant\n\nKyiv a été frappée par 40 drones. {words}."
    out = ingest(db, Submission("file", "2025-07-19-geant.txt", data=text.encode()), Limits())
    latest = await say(fake, USER, f"/start b{out.bulletin_id}")
    before = len(fake.messages_to(USER))
    first = await tap(fake, USER, latest, buttons(latest)["📖 1"])
    assert len(fake.messages_to(USER)) == before + 1 and first.text.endswith("…")
    assert utf16_len(first.html) <= 4096
    second = await tap(fake, USER, first, buttons(first)["📖 Suite"])
    assert second.text != first.text and "mot" in second.text


@pytest.mark.timing
async def test_the_bot_answers_while_a_2_mb_file_is_ingested(
    fake: FakeBotApi,
    app: Application,
    settings: Settings,  # type: ignore[type-arg]
) -> None:
    from telegram.ext import CallbackContext

    from bot.jobs import poll_job

    settings.inbox_dir.mkdir(parents=True, exist_ok=True)
    prose = "La Russie a lancé 741 drones contre Kyiv. Les combats continuent près de Pokrovsk. "
    (settings.inbox_dir / "2025-07-19-big.txt").write_text(
        "Gros bilan\n\n" + prose * (1_990_000 // len(prose.encode())), encoding="utf-8"
    )
    polling = asyncio.create_task(poll_job(CallbackContext(app)))
    help_ = await say(fake, OTHER, "/help")
    assert help_.text.startswith("Commandes")
    assert not polling.done()  # answered while the file was still being ingested
    await polling
    assert (settings.inbox_dir / "done" / "2025-07-19-big.txt").exists()


async def test_a_pending_time_zone_question_ends(fake: FakeBotApi, app: Application) -> None:  # type: ignore[type-arg]
    """After "Other…", a wrong name asks again (or /cancel); /cancel, or any command, ends the
    question and says so; then plain text is a search again. /cancel with nothing pending
    says so, for anyone."""
    assert (await say(fake, USER, "/cancel")).text == "Rien à annuler."
    card = await say(fake, USER, "/settings")
    picker = await tap(fake, USER, card, "set:tz")
    asked = await tap(fake, USER, picker, "setv:tz:other")
    assert "IANA" in asked.text
    wrong = await say(fake, USER, "Patriot")
    assert "Fuseau inconnu" in wrong.text and "/cancel" in wrong.text
    assert (await say(fake, USER, "/cancel")).text == "Question du fuseau horaire abandonnée."
    assert (await say(fake, USER, "Patriot")).text.startswith("🔎 Patriot")  # a search again
    await tap(fake, USER, picker, "setv:tz:other")
    before = len(fake.messages_to(USER))
    fake.message(USER, "/latest")
    closed = await fake.reply(USER, before)
    assert closed.text == "Question du fuseau horaire abandonnée."
    assert (await fake.reply(USER, before + 1)).text.startswith("Bilan")  # /latest still answered
    assert (await say(fake, USER, "Patriot")).text.startswith("🔎 Patriot")


async def test_start_up_waits_for_telegram_one_line_per_attempt(
    fake: FakeBotApi, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.running import wait_for_telegram

    fake.fail("getMe", 502, count=2)  # Telegram (or the network) is down for two attempts
    with caplog.at_level(logging.WARNING, logger="bot.app"):
        await wait_for_telegram(settings, first=0.01)
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.app"]
    assert [line.split(":")[0] for line in lines] == [
        "Telegram not reachable (attempt 1", "Telegram not reachable (attempt 2",
    ]  # fmt: skip
    assert all(TOKEN not in line for line in lines)


async def test_post_is_a_conversation_that_restarts_and_times_out(
    fake: FakeBotApi, app: Application
) -> None:  # type: ignore[type-arg]
    from telegram.ext import CallbackContext

    from bot.handlers import posting

    conversation = next(h for h in app.handlers[0] if isinstance(h, ConversationHandler))
    assert conversation.name == "post"
    assert conversation.conversation_timeout == posting.DRAFT_MINUTES * 60
    assert ConversationHandler.TIMEOUT in conversation.states
    await say(fake, ADMIN, "/post")
    await say(fake, ADMIN, "Bilan\n\nKyiv a tenu face à 40 drones.")
    restarted = await say(fake, ADMIN, "/post")  # /post again: a new, empty post
    assert "aperçu" in restarted.text and app.user_data[ADMIN].draft.parts == []
    # the conversation's time-out (PTB's job, after DRAFT_MINUTES): dropped, and said so
    last = {"message_id": 1, "date": 0, "chat": fake.chat(ADMIN), "from": fake.user(ADMIN),
            "text": "Kyiv"}  # the conversation's last update (not sent again)  # fmt: skip
    update = Update.de_json({"update_id": 10**6, "message": last}, app.bot)
    before = len(fake.messages_to(ADMIN))
    await posting.on_timeout(update, CallbackContext(app, chat_id=ADMIN, user_id=ADMIN))
    notice = await fake.reply(ADMIN, before)
    assert "inachevé plus de 30 minutes" in notice.text
    assert app.user_data[ADMIN].draft is None


async def test_another_command_ends_what_a_post_waits_for(
    fake: FakeBotApi, app: Application
) -> None:  # type: ignore[type-arg]
    await say(fake, ADMIN, "/post")
    before = len(fake.messages_to(ADMIN))
    fake.message(ADMIN, "/latest")  # nothing sent yet: the empty post is dropped, and said so
    assert (await fake.reply(ADMIN, before)).text.startswith("Bulletin abandonné")
    assert (await fake.reply(ADMIN, before + 1)).text.startswith("Bilan")
    assert app.user_data[ADMIN].draft is None
    await say(fake, ADMIN, "/post")
    preview = await say(fake, ADMIN, "Bilan\n\nKyiv a tenu face à 40 drones.")
    assert "nouveau titre" in (await tap(fake, ADMIN, preview, "ad:title")).text
    before = len(fake.messages_to(ADMIN))
    fake.message(ADMIN, "/stats")  # the title question ends; the draft and its buttons stay
    assert (await fake.reply(ADMIN, before)).text.startswith("Le bulletin n’attend plus")
    assert (await fake.reply(ADMIN, before + 1)).text.startswith("Statistiques")
    assert (await say(fake, ADMIN, "Kyiv")).text.startswith("🔎 Kyiv")  # a search, not a title
    assert "Publié" in (await tap(fake, ADMIN, preview, "ad:pub")).text


async def test_an_unfinished_post_expires_and_says_so(fake: FakeBotApi, app: Application) -> None:  # type: ignore[type-arg]
    await say(fake, ADMIN, "/post")
    preview = await say(fake, ADMIN, "Bilan\n\nKyiv a tenu face à 40 drones.")
    app.user_data[ADMIN].draft.started -= 31 * 60  # half an hour later
    notice = await tap_answer(fake, ADMIN, preview, "ad:pub")
    assert "inachevé plus de 30 minutes" in notice
    assert (await say(fake, ADMIN, "Kyiv")).text.startswith("🔎 Kyiv")  # a search, no draft


async def test_failures_reach_the_alert_chat_grouped(
    fake: FakeBotApi, settings: Settings, tmp_path: Path
) -> None:
    from dataclasses import replace

    from telegram.ext import CallbackContext

    from bot.jobs import alert_job, poll_job

    watched = replace(settings, alert_chat_id=ADMIN,
                      feed_urls=("http://127.0.0.1:9/feed.xml",))  # fmt: skip
    application = build_application(watched)
    application.bot_data.clock = lambda: NOW
    await start_app(application, poll_timeout=5)
    try:
        inbox = watched.inbox_dir
        inbox.mkdir(parents=True, exist_ok=True)
        for n in range(3):
            (inbox / f"2025-07-0{n + 1}-empty.txt").write_bytes(b"")
        await poll_job(CallbackContext(application))  # 3 files rejected, the feed fails
        before = len(fake.messages_to(ADMIN))
        await alert_job(CallbackContext(application))
        report = await fake.reply(ADMIN, before)
        assert report.text.startswith("⚠️ Hebdo : 4 problèmes ces 5 dernières minutes")
        assert (
            "3× WARNING rejected" in report.text
            and "feed http://127.0.0.1:9/feed.xml" in report.text
        )
        assert TOKEN not in report.html and TOKEN.split(":")[1] not in report.html
        count = len(fake.messages_to(ADMIN))
        await alert_job(CallbackContext(application))  # nothing new: nothing sent
        assert len(fake.messages_to(ADMIN)) == count
    finally:
        await stop_app(application)


FORUM = -100777  # a supergroup with topics on


async def in_topic(fake: FakeBotApi, text: str, thread: int | None, user: int = USER) -> Sent:
    """A user writes in a topic of the forum (None: General); the bot's next message there."""
    before = len(fake.messages_to(FORUM))
    fake.message(user, text, chat_id=FORUM, chat_type="supergroup", thread_id=thread)
    return await fake.reply(FORUM, before)


async def test_a_command_in_a_forum_topic_is_answered_in_that_topic(
    fake: FakeBotApi, app: Application
) -> None:  # type: ignore[type-arg]
    """In a forum, an answer goes to the topic the command came from (a reply, a settings
    card and its edits, a chart), General's to General; a closed topic's refusal of the
    answer stops nothing."""
    fake.forums.add(FORUM)
    fake.chat_admins[FORUM] = {USER}
    helped = await in_topic(fake, "/help", 7)
    assert helped.thread_id == 7 and helped.text.startswith("Commandes")
    assert (await in_topic(fake, "/help", None)).thread_id is None  # General
    card = await in_topic(fake, "/settings", 7)
    assert card.thread_id == 7
    picker = await tap(fake, USER, card, "set:day")
    assert picker.thread_id == 7 and picker.message_id == card.message_id  # edited in place
    chart = await in_topic(fake, "/trend drones", 12)
    assert chart.method == "sendPhoto" and chart.thread_id == 12
    fake.closed_topics.add((FORUM, 9))
    before = len(fake.calls("sendMessage"))
    fake.message(USER, "/help", chat_id=FORUM, chat_type="supergroup", thread_id=9)
    await fake.wait_calls("sendMessage", before + 1)  # refused: TOPIC_CLOSED
    assert not [m for m in fake.messages_to(FORUM) if m.thread_id == 9]
    assert (await in_topic(fake, "/help", 7)).thread_id == 7  # the bot still serves


async def test_two_topics_of_a_forum_each_get_their_own_digest(
    fake: FakeBotApi, app: Application, db: Database
) -> None:  # type: ignore[type-arg]
    """/subscribe in a topic subscribes that topic: each topic has its own day, language
    and digest, sent in its own thread; the group itself (General) gets nothing."""
    from telegram.ext import CallbackContext

    from bot.jobs import tick_job
    from storage.people import find_topic

    fake.forums.add(FORUM)
    fake.chat_admins[FORUM] = {USER}
    for thread in (7, 8):
        subscribed = await in_topic(fake, "/subscribe", thread)
        assert subscribed.thread_id == thread and "Abonné" in subscribed.text
    card = await in_topic(fake, "/settings", 7)
    english = await tap(fake, USER, card, "setv:lang:en")
    assert english.thread_id == 7 and "Time zone" in english.text
    assert "Fuseau" in (await in_topic(fake, "/settings", 8)).text  # topic 8 kept French
    seven, eight = find_topic(db, FORUM, 7), find_topic(db, FORUM, 8)
    assert seven is not None and eight is not None and seven != eight
    assert db.execute("SELECT count(*) FROM subscribers WHERE chat_id = ?", [FORUM]).fetchone()[
        0
    ] in (0, 1)
    now = NOW.astimezone(ZoneInfo("Europe/Paris"))
    due = [now.weekday(), now.strftime("%H:%M")]
    db.execute(
        "UPDATE subscribers SET digest_day = ?, digest_time = ? WHERE chat_id = ?", [*due, seven]
    )
    db.execute(
        "UPDATE subscribers SET digest_day = ? WHERE chat_id = ?",
        [(now.weekday() + 1) % 7, eight],  # later this week: not yet due
    )
    before = len(fake.messages_to(FORUM))
    await tick_job(CallbackContext(app))
    first = await fake.reply(FORUM, before)
    assert first.thread_id == 7 and first.text.startswith("18 July 2025")
    db.execute(
        "UPDATE subscribers SET digest_day = ?, digest_time = ? WHERE chat_id = ?", [*due, eight]
    )
    await tick_job(CallbackContext(app))
    second = await fake.reply(FORUM, before + 1)
    assert second.thread_id == 8 and second.text.startswith("18 juillet 2025")
    await settled(db)
    assert [m.thread_id for m in fake.messages_to(FORUM)[before:]] == [7, 8]


async def test_a_closed_topic_is_reported_once_and_skipped(
    fake: FakeBotApi, app: Application, db: Database
) -> None:  # type: ignore[type-arg]
    """Telegram refuses a digest for a topic closed since it subscribed (TOPIC_CLOSED): the
    row is skipped, the topic's subscription paused, the group told once in General."""
    from telegram.ext import CallbackContext

    from bot.jobs import tick_job
    from storage.people import find_topic

    fake.forums.add(FORUM)
    fake.chat_admins[FORUM] = {USER}
    await in_topic(fake, "/subscribe", 9)
    nine = find_topic(db, FORUM, 9)
    now = NOW.astimezone(ZoneInfo("Europe/Paris"))
    db.execute("UPDATE subscribers SET digest_day = ?, digest_time = ? WHERE chat_id = ?",
               [now.weekday(), now.strftime("%H:%M"), nine])  # fmt: skip
    fake.closed_topics.add((FORUM, 9))
    before = len(fake.messages_to(FORUM))
    await tick_job(CallbackContext(app))
    told = await fake.reply(FORUM, before)
    assert told.thread_id is None and told.text.startswith("Le sujet n° 9 de ce groupe est fermé")
    await settled(db)
    await tick_job(CallbackContext(app))  # nothing more: not again, not elsewhere
    await settled(db)
    assert len(fake.messages_to(FORUM)) == before + 1
    assert db.execute("SELECT status FROM outbox WHERE chat_id = ?", [nine]).fetchall() == [
        ("skipped",)
    ]
    assert db.execute("SELECT active FROM subscribers WHERE chat_id = ?", [nine]).fetchone() == (0,)
    assert db.execute("SELECT active FROM subscribers WHERE chat_id = ?", [FORUM]).fetchone() in (
        None,
        (1,),
    )
