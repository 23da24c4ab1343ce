"""The schema, as the list of migrations that builds it: each applied once, in order, in
its own transaction (`storage.db.migrate`), recorded in `PRAGMA user_version`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlite_utils import Database

from storage.search import HEAD_WEIGHT

FTS_TOKENIZE = "unicode61 remove_diacritics 2"


def _v1_core(db: Database) -> None:
    """Bulletins, sections, items and their full-text index."""
    db.table("bulletins").create(
        {
            "id": int,
            "source": str,
            "source_ref": str,
            "title": str,
            "published_at": str,
            "language": str,
            "raw_text": str,
            "clean_text": str,
            "content_hash": str,
            "summary_version": int,
            "created_at": str,
            "deleted_at": str,
        },
        pk="id",
        not_null={
            "source",
            "title",
            "published_at",
            "language",
            "raw_text",
            "clean_text",
            "content_hash",
            "created_at",
        },
    )
    db.table("bulletins").create_index(["content_hash"], unique=True)
    db.table("bulletins").create_index(["published_at"])
    db.execute(
        "CREATE UNIQUE INDEX idx_bulletins_source_ref ON bulletins(source, source_ref) "
        "WHERE source_ref IS NOT NULL"
    )
    db.table("sections").create(
        {"bulletin_id": int, "idx": int, "heading": str, "start": int, "end": int},
        pk=("bulletin_id", "idx"),
        foreign_keys=[("bulletin_id", "bulletins", "id")],
        not_null={"heading", "start", "end"},
    )
    db.table("items").create(
        {
            "id": int,
            "bulletin_id": int,
            "seq": int,
            "section": int,
            "heading": str,
            "paragraph": int,
            "text": str,
            "start": int,
            "end": int,
            "paragraph_start": int,
            "paragraph_end": int,
            "headline_rank": int,
            "score": float,
        },
        pk="id",
        foreign_keys=[("bulletin_id", "bulletins", "id")],
        not_null={"bulletin_id", "seq", "text", "start", "end"},
    )
    db.table("items").create_index(["bulletin_id", "seq"], unique=True)
    db.table("items").enable_fts(["text", "heading"], tokenize=FTS_TOKENIZE, create_triggers=True)


def _v1_people(db: Database) -> None:
    """Subscribers, follows, digests, outbox, feeds and the audit log."""
    db.table("subscribers").create(
        {
            "chat_id": int,
            "chat_type": str,
            "title": str,
            "language": str,
            "timezone": str,
            "digest_day": int,
            "digest_time": str,
            "mode": str,  # weekly | every | both
            "active": int,
            "inactive_reason": str,
            "subscribed": int,
            "created_at": str,
            "updated_at": str,
        },
        pk="chat_id",
        not_null={"chat_type", "language", "mode", "active", "subscribed", "created_at"},
        defaults={"mode": "weekly", "active": 1, "subscribed": 1},
    )
    db.table("follows").create(
        {"chat_id": int, "term": str, "normalized": str, "created_at": str},
        pk=("chat_id", "normalized"),
        foreign_keys=[("chat_id", "subscribers", "chat_id")],
        not_null={"term", "created_at"},
    )
    db.table("digests").create(
        {
            "id": int,
            "week": str,
            "language": str,
            "title": str,
            "payload": str,
            "bulletin_count": int,
            "created_at": str,
        },
        pk="id",
        not_null={"week", "language", "title", "payload", "created_at"},
    )
    db.table("digests").create_index(["week", "language"], unique=True)
    db.table("outbox").create(
        {
            "id": int,
            "kind": str,  # digest | bulletin | alert
            "content_id": int,
            "chat_id": int,
            "status": str,  # pending | sending | sent | failed | skipped
            "attempts": int,
            "next_attempt_at": str,
            "last_error": str,
            "message_ids": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"kind", "content_id", "chat_id", "status", "attempts", "created_at"},
        defaults={"status": "pending", "attempts": 0},
    )
    db.table("outbox").create_index(["kind", "content_id", "chat_id"], unique=True)
    db.table("outbox").create_index(["status", "next_attempt_at"])
    db.table("feeds").create(
        {
            "url": str,
            "etag": str,
            "last_modified": str,
            "last_checked_at": str,
            "last_ok_at": str,
            "last_error": str,
            "failures": int,
            "next_try_at": str,
        },
        pk="url",
        defaults={"failures": 0},
        not_null={"failures"},
    )
    db.table("audit_log").create(
        {"id": int, "at": str, "user_id": int, "action": str, "details": str},
        pk="id",
        not_null={"at", "action"},
    )


def _v2_search(db: Database) -> None:
    """Analysed search index (filled by the application), replacing the raw one."""
    for suffix in ("ai", "ad", "au"):
        db.execute(f"DROP TRIGGER IF EXISTS items_{suffix}")
    db.execute("DROP TABLE IF EXISTS items_fts")
    db.execute(
        "CREATE VIRTUAL TABLE search_fts USING fts5(body, head, "
        "tokenize = 'unicode61 remove_diacritics 0')"
    )
    db.execute("CREATE TABLE search_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    # the default rank of the index: bm25 with the heading weighing more than the text
    db.execute(
        "INSERT INTO search_fts (search_fts, rank) VALUES ('rank', ?)",
        [f"bm25(1.0, {HEAD_WEIGHT})"],
    )


def _v3_admin_feeds(db: Database) -> None:
    """Feeds added by admins from Telegram, beside those in FEED_URLS."""
    db.execute("ALTER TABLE feeds ADD COLUMN origin TEXT NOT NULL DEFAULT 'config'")
    db.execute("ALTER TABLE feeds ADD COLUMN removed_at TEXT")


def _v4_search_terms(db: Database) -> None:
    """The index's vocabulary, to expand prefix queries (the index is rebuilt at start)."""
    db.execute("CREATE TABLE search_terms (term TEXT PRIMARY KEY) WITHOUT ROWID")
    db.execute("DELETE FROM search_meta WHERE key = 'analyzer'")


def _v5_delivery(db: Database) -> None:
    """Outbox payloads and send times; which bulletins were announced to subscribers."""
    db.execute("ALTER TABLE outbox ADD COLUMN payload TEXT")
    db.execute("ALTER TABLE outbox ADD COLUMN sent_at TEXT")
    db.execute("ALTER TABLE bulletins ADD COLUMN announced_at TEXT")
    # what is already stored is not news: nothing of it is pushed on upgrade
    db.execute("UPDATE bulletins SET announced_at = created_at")
    db.execute("CREATE INDEX idx_outbox_chat ON outbox(chat_id, kind)")


def _v6_term_counts(db: Database) -> None:
    """How many items hold each term, for ranking (the index is rebuilt at start)."""
    db.execute("ALTER TABLE search_terms ADD COLUMN docs INTEGER NOT NULL DEFAULT 0")
    db.execute("DELETE FROM search_meta WHERE key = 'analyzer'")


def _v7_unannounced_index(db: Database) -> None:
    """Find bulletins not announced yet without scanning the table every minute."""
    db.execute("CREATE INDEX idx_bulletins_unannounced ON bulletins(id) WHERE announced_at IS NULL")


def _v8_editions(db: Database) -> None:
    """Digest editions per chat: digests keyed by content, the bulletins each one covers,
    and the period (ISO week of delivery) and cut-off moment of every digest row."""
    db.execute("DROP INDEX IF EXISTS idx_digests_week_language")
    db.execute("ALTER TABLE digests ADD COLUMN key TEXT")
    db.execute("CREATE UNIQUE INDEX idx_digests_key ON digests(key)")
    db.execute(
        "CREATE TABLE digest_bulletins (digest_id INTEGER NOT NULL REFERENCES digests(id), "
        "bulletin_id INTEGER NOT NULL, PRIMARY KEY (digest_id, bulletin_id)) WITHOUT ROWID"
    )
    # a week's digest of version 1 covered every bulletin published in that week
    db.execute(
        "INSERT OR IGNORE INTO digest_bulletins (digest_id, bulletin_id) "
        "SELECT d.id, b.id FROM digests d JOIN bulletins b "
        "ON b.published_at >= json_extract(d.payload, '$.start') "
        "AND b.published_at < date(json_extract(d.payload, '$.end'), '+1 day')"
    )
    db.execute("ALTER TABLE outbox ADD COLUMN period TEXT")
    db.execute("ALTER TABLE outbox ADD COLUMN cut_at TEXT")
    # an earlier digest row was cut about when it was queued: its period is that week (UTC)
    # (two in one week, as a manual send could make, keep the first; the other is history)
    rows = db.execute(
        "SELECT id, chat_id, coalesce(sent_at, created_at) FROM outbox WHERE kind = 'digest' "
        "ORDER BY id"
    ).fetchall()
    seen: set[tuple[int, str]] = set()
    for row_id, chat_id, at in rows:
        year, week, _ = datetime.fromisoformat(at).isocalendar()
        period = f"{year}-W{week:02d}"
        if (chat_id, period) in seen:
            period = f"{period}/{row_id}"
        seen.add((chat_id, period))
        db.execute("UPDATE outbox SET period = ?, cut_at = ? WHERE id = ?", [period, at, row_id])
    db.execute("DROP INDEX IF EXISTS idx_outbox_kind_content_id_chat_id")
    # pushes: one per bulletin and chat; digests: one per chat and period (week of delivery)
    db.execute(
        "CREATE UNIQUE INDEX idx_outbox_push ON outbox(kind, content_id, chat_id) "
        "WHERE kind != 'digest'"
    )
    db.execute(
        "CREATE UNIQUE INDEX idx_outbox_edition ON outbox(chat_id, period) WHERE kind = 'digest'"
    )


def _v9_leases(db: Database) -> None:
    """Outbox rows are claimed with a lease by a named sender, so two senders never send
    the same row and only an expired (or dead sender's) claim is taken back."""
    db.execute("ALTER TABLE outbox ADD COLUMN lease_until TEXT")
    db.execute("ALTER TABLE outbox ADD COLUMN claimed_by TEXT")


def _v10_links(db: Database) -> None:
    """Where a bulletin was published (a feed entry's link), to point readers to it."""
    db.execute("ALTER TABLE bulletins ADD COLUMN link TEXT")


def _v11_term_deletes(db: Database) -> None:
    """The vocabulary's one-letter deletions, to correct misspelt query words (the index
    is rebuilt at start, which fills them)."""
    db.execute(
        "CREATE TABLE term_deletes (key TEXT NOT NULL, term TEXT NOT NULL, "
        "PRIMARY KEY (key, term)) WITHOUT ROWID"
    )
    db.execute("DELETE FROM search_meta WHERE key = 'analyzer'")


def _v12_feeds_as_served(db: Database) -> None:
    """Feeds as servers serve them: where a feed moved (a permanent redirect, a page's feed
    link), a feed gone for good (410), its title, whether teasers are expanded from the
    article page; bulletins keyed by their article's canonical address and body text."""
    for column in ("fetch_url TEXT", "moved_at TEXT", "moved_why TEXT", "gone_at TEXT",
                   "title TEXT", "expand TEXT NOT NULL DEFAULT 'auto'"):  # fmt: skip
        db.execute(f"ALTER TABLE feeds ADD COLUMN {column}")
    db.execute("ALTER TABLE bulletins ADD COLUMN canonical_link TEXT")
    db.execute("ALTER TABLE bulletins ADD COLUMN body_hash TEXT")
    db.execute(
        "CREATE INDEX bulletins_canonical_link ON bulletins (canonical_link) "
        "WHERE canonical_link IS NOT NULL"
    )
    db.execute(
        "CREATE INDEX bulletins_body_hash ON bulletins (body_hash) WHERE body_hash IS NOT NULL"
    )


def _v13_stories(db: Database) -> None:
    """Stories: the bulletins that tell the same event. Each bulletin's story (its first
    bulletin's id), its outlet and signature; the signatures' terms by date, to find the
    candidates of a new bulletin (bot/stories.py)."""
    db.execute(
        "CREATE TABLE story_members (bulletin_id INTEGER PRIMARY KEY, story_id INTEGER NOT NULL, "
        "outlet TEXT NOT NULL, published_at TEXT NOT NULL, signature TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX story_members_story ON story_members (story_id)")
    db.execute(
        "CREATE TABLE story_postings (term TEXT NOT NULL, published_at TEXT NOT NULL, "
        "bulletin_id INTEGER NOT NULL, PRIMARY KEY (term, published_at, bulletin_id)) "
        "WITHOUT ROWID"
    )


def _v14_story_topics(db: Database) -> None:
    """A round-up's topics in stories: a section of a round-up is a report of its own,
    filed under a negative id with the bulletin and section it belongs to."""
    db.execute("ALTER TABLE story_members ADD COLUMN of_bulletin INTEGER")
    db.execute("ALTER TABLE story_members ADD COLUMN section INTEGER")
    db.execute(
        "CREATE INDEX story_members_topics ON story_members (of_bulletin) "
        "WHERE of_bulletin IS NOT NULL"
    )


def _v15_sender_lease(db: Database) -> None:
    """One sender at a time per database: Telegram's rate limit is per bot, not per process."""
    db.execute(
        "CREATE TABLE sender_lease (id INTEGER PRIMARY KEY CHECK (id = 1), holder TEXT NOT NULL, "
        "until TEXT NOT NULL)"
    )


def _v16_digest_length(db: Database) -> None:
    """Each chat's digest length (short, normal, long); NULL: the operator's default."""
    db.execute("ALTER TABLE subscribers ADD COLUMN digest_length TEXT")


def _v17_sources_off(db: Database) -> None:
    """The sources each chat turned off (`source_key`): a new source is on for everyone."""
    db.execute(
        "CREATE TABLE sources_off (chat_id INTEGER NOT NULL, source TEXT NOT NULL, "
        "PRIMARY KEY (chat_id, source)) WITHOUT ROWID"
    )


def _v18_topics(db: Database) -> None:
    """Forum topics as readers of their own: topic `n` is reader `TOPIC_BASE - n` in every
    table keyed by chat (subscribers, outbox, follows, sources)."""
    db.execute(
        "CREATE TABLE topics (n INTEGER PRIMARY KEY AUTOINCREMENT, chat_id INTEGER NOT NULL, "
        "thread_id INTEGER NOT NULL, UNIQUE (chat_id, thread_id))"
    )


MIGRATIONS: list[Callable[[Database], None]] = [
    _v1_core,
    _v1_people,
    _v2_search,
    _v3_admin_feeds,
    _v4_search_terms,
    _v5_delivery,
    _v6_term_counts,
    _v7_unannounced_index,
    _v8_editions,
    _v9_leases,
    _v10_links,
    _v11_term_deletes,
    _v12_feeds_as_served,
    _v13_stories,
    _v14_story_topics,
    _v15_sender_lease,
    _v16_digest_length,
    _v17_sources_off,
    _v18_topics,
]
