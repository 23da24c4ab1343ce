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
    """New bulletins in one message: each one's headline items (a few each when there are
    several), or, for a chat that only follows words, the items that mention them."""
    payload = delivery.payload
    ids = payload.get("bulletins") or [delivery.content_id]
    details = [
        d for b in ids if (d := get_bulletin(db, b)) is not None and not d.bulletin.deleted_at
    ]
    if not details:
        raise LookupError(f"bulletin {delivery.content_id} is gone")
    chat = get_subscriber(db, delivery.chat_id)
    language = chat.language if chat else "fr"
    terms = payload.get("terms") or []
    found = payload.get("items") or {}
    if isinstance(found, list):  # a row queued before pushes were grouped
        found = {str(delivery.content_id): found}
    alert_only = bool(terms) and (chat is None or chat.mode == "weekly")
    if alert_only:
        header = t(language, "alert", terms=", ".join(terms))
    else:
        header = (
            t(language, "new_bulletin")
            if len(details) == 1 and not payload.get("more")
            else t(language, "new_bulletins", n=len(details) + int(payload.get("more") or 0))
        )
        if terms:
            header += "\n" + t(language, "alert", terms=", ".join(terms))
    each = 5 if len(details) == 1 else 2
    blocks = [header]
    for detail in details:
        b = detail.bulletin
        wanted = set(found.get(str(b.id)) or [])
        items = [i for i in detail.items if i.id in wanted] if alert_only else detail.headlines
        blocks.append(
            f"{bulletin_link(b.id, b.title, bot_username, b.link)} · "
            f"<i>{esc(b.published_at[:10])}</i>"
        )
        blocks += [f"• {esc(shorten(i.text))}" for i in items[:each]]
    if payload.get("more"):
        blocks.append(t(language, "more_bulletins", n=payload["more"]))
    return split_blocks(blocks)
