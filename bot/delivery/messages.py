"""The text of an outbox row: a digest, a new bulletin, or an alert for followed words."""

from __future__ import annotations

from dataclasses import replace

from sqlite_utils import Database

from bot.digest import Digest
from bot.i18n import t
from bot.render import bulletin_link, esc, render_digest, shorten, split_blocks
from storage.bulletins import deleted_among, get_bulletin
from storage.digests import load_digest_by_id
from storage.outbox import Delivery
from storage.people import get_subscriber


def render_delivery(db: Database, delivery: Delivery, bot_username: str | None) -> list[str]:
    """Telegram HTML messages for one row (several when long)."""
    if delivery.kind == "digest":
        payload = load_digest_by_id(db, delivery.content_id)
        if payload is None:
            raise LookupError(f"digest {delivery.content_id} is gone")
        digest = Digest.from_json(payload)
        # a bulletin deleted since the digest was cut is not sent
        gone = deleted_among(db, {i.bulletin_id for i in digest.items})
        if gone:
            digest = replace(digest, items=[i for i in digest.items if i.bulletin_id not in gone])
            if not digest.items:
                raise LookupError(f"every bulletin of digest {delivery.content_id} was deleted")
        return render_digest(digest, bot_username)
    return render_bulletin_push(db, delivery, bot_username)


def render_bulletin_push(db: Database, delivery: Delivery, bot_username: str | None) -> list[str]:
    """A new bulletin's headline items, or the items matching the chat's followed words."""
    detail = get_bulletin(db, delivery.content_id)
    if detail is None:
        raise LookupError(f"bulletin {delivery.content_id} is gone")
    chat = get_subscriber(db, delivery.chat_id)
    language = chat.language if chat else "fr"
    b = detail.bulletin
    link = bulletin_link(b.id, b.title, bot_username)
    terms = delivery.payload.get("terms") or []
    wanted = set(delivery.payload.get("items") or [])
    if terms and (chat is None or chat.mode == "weekly"):
        header = t(language, "alert", terms=", ".join(terms))
        items = [i for i in detail.items if i.id in wanted][:5]
    else:
        header = t(language, "new_bulletin")
        if terms:
            header += "\n" + t(language, "alert", terms=", ".join(terms))
        items = detail.headlines
    blocks = [f"{header}\n{link} · <i>{esc(b.published_at[:10])}</i>"]
    blocks += [f"• {esc(shorten(i.text))}" for i in items]
    return split_blocks(blocks)
