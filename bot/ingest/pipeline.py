"""The one ingestion path used by the scheduler, the CLI and admin posts."""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import sqlite3
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Literal

from sqlite_utils import Database

from bot.headlines import analyse_items
from bot.ingest.decode import decode_bytes, normalize_text
from bot.ingest.errors import Rejected
from bot.ingest.markup import Format, guess_format
from bot.ingest.parse import content_hash, parse_text, published_at
from bot.ingest.urls import canonical_link
from bot.stories import file_story, story_terms, topic_terms
from bot.summarize import SUMMARY_VERSION
from bot.text.analyze import Analyzer, analyzer_for
from storage.bulletins import DuplicateBulletin, insert_bulletin
from storage.models import NewBulletin, NewItem, Terms
from storage.store import Writes, writes_to
from storage.tx import transaction

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
Status = Literal["added", "duplicate", "rejected"]


@dataclass(frozen=True)
class Limits:
    """What ingestion accepts."""

    max_bytes: int = 2_000_000
    default_language: str = "fr"
    summary_items: int | None = None  # headline items per bulletin; None = by length
    analyzer: Analyzer = field(default_factory=analyzer_for)


@dataclass(frozen=True)
class Submission:
    """Something to ingest: bytes from a file or feed, or text from an admin."""

    source: str  # "file", "feed:<url>", "admin:<user id>"
    name: str  # file name or a label; its date prefix dates the bulletin
    data: bytes | None = None
    text: str | None = None
    fmt: Format | None = None
    source_ref: str | None = None  # a feed entry id, for de-duplication
    title: str | None = None
    published: datetime | None = None
    retitle: bool = False  # `title` replaces the text's own first heading (an admin's edit)
    link: str | None = None  # the original (a feed entry's link)
    received: datetime | None = None  # when it came in: dates it when nothing else does


@dataclass(frozen=True)
class Outcome:
    """What happened to one submission."""

    name: str
    status: Status
    bulletin_id: int | None = None
    title: str | None = None
    reason: str | None = None
    merged: bool = False  # a duplicate of another source's bulletin (the same article)


@dataclass
class Report:
    """Outcomes of a batch, with counts."""

    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: Status) -> int:
        """How many outcomes have `status`."""
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def merged(self) -> int:
        """Duplicates that were the same article from another source."""
        return sum(1 for o in self.outcomes if o.merged)

    def summary(self) -> str:
        """`added 1, duplicates 0, rejected 0` (`duplicates 3 (2 merged)` when some were the
        same article from another source)."""
        merged = f" ({self.merged} merged)" if self.merged else ""
        return (
            f"added {self.count('added')}, duplicates {self.count('duplicate')}{merged}, "
            f"rejected {self.count('rejected')}"
        )


def prepare(sub: Submission, limits: Limits) -> NewBulletin:
    """Decode and parse a submission into a bulletin, without storing it.

    Raises `Rejected` with a one-line reason for anything that cannot become a bulletin.
    """
    if sub.data is not None:
        if len(sub.data) > limits.max_bytes:
            raise Rejected(_too_big(len(sub.data), limits.max_bytes))
        if not sub.data.strip():
            raise Rejected("empty: the file has no content")
        raw = decode_bytes(sub.data)
    elif sub.text is not None:
        encoded = sub.text.encode("utf-8", "replace")
        if len(encoded) > limits.max_bytes:
            raise Rejected(_too_big(len(encoded), limits.max_bytes))
        raw = normalize_text(encoded.decode("utf-8"))
    else:
        raise Rejected("empty: nothing was submitted")
    if not raw.strip():
        raise Rejected("empty: no text left after cleaning")
    fmt = sub.fmt or guess_format(sub.name, raw)
    parsed = parse_text(
        raw,
        fmt,
        name=sub.name,
        title=sub.title,
        default_language=limits.default_language,
        retitle=sub.retitle,
    )
    items = analyse_items(
        parsed.items,
        language=parsed.language,
        title=parsed.title,
        headings=[s.heading for s in parsed.sections],
        max_items=limits.summary_items,
        analyzer=limits.analyzer,
    )
    analyse = limits.analyzer.index_text
    sections = [
        replace(s, search_text=analyse(s.heading, parsed.language)) for s in parsed.sections
    ]
    terms = story_terms(parsed.clean_text, parsed.language, len(parsed.sections), limits.analyzer)
    topics: tuple[tuple[int, Terms], ...] = ()
    if terms is None:  # a round-up: its topics are found from its sections that tell something
        told = {item.section for item in parsed.items}
        spans = [(i, s.start, s.end) for i, s in enumerate(parsed.sections) if i in told]
        topics = tuple(topic_terms(parsed.clean_text, parsed.language, spans, limits.analyzer))
    return NewBulletin(
        source=sub.source,
        source_ref=sub.source_ref,
        title=parsed.title,
        published_at=published_at(sub.name, sub.published, sub.received),
        language=parsed.language,
        raw_text=raw,
        clean_text=parsed.clean_text,
        content_hash=parsed.content_hash,
        sections=sections,
        items=items,
        summary_version=SUMMARY_VERSION,
        link=sub.link,
        canonical_link=canonical_link(sub.link),
        body_hash=body_hash(parsed.items) if sub.source.startswith("feed:") else None,
        story_terms=terms,
        topic_terms=topics,
    )


BODY_HASH_WORDS = 40  # a shorter body (a teaser, a one-liner) is too generic to match on


def body_hash(items: Sequence[NewItem]) -> str | None:
    """The hash of a feed entry's sentences without its title and headings: a copy of an
    article under another title (syndication) matches it. None for short texts. Files and
    admin posts have none: an editor's new round-up may well repeat last week's body."""
    body = " ".join(item.text for item in items)
    return content_hash(body) if len(body.split()) >= BODY_HASH_WORDS else None


def _too_big(size: int, limit: int) -> str:
    return f"too large: {size / 1e6:.1f} MB is over the {limit / 1e6:.1f} MB limit"


def store(db: Database, bulletin: NewBulletin, name: str) -> Outcome:
    """Store a prepared bulletin and file it in its story, in one transaction (one commit,
    where the bulletin and each report filed took one each); a duplicate is reported, not
    raised. If filing it fails, the bulletin is kept, and filed at the next start."""
    with transaction(db):
        try:
            bulletin_id = insert_bulletin(db, bulletin)
        except DuplicateBulletin as dup:
            return Outcome(name, "duplicate", dup.existing_id, bulletin.title, merged=dup.merged)
        log.info("added bulletin %d %r (%s)", bulletin_id, bulletin.title, bulletin.language)
        try:
            with transaction(db):  # a savepoint: a story that fails leaves the bulletin
                file_story(db, bulletin_id, source=bulletin.source,
                           published_at=bulletin.published_at, terms=bulletin.story_terms,
                           topics=bulletin.topic_terms)  # fmt: skip
        except sqlite3.OperationalError:
            raise  # the database itself: nothing is stored
        except Exception:
            log.exception("bulletin %d could not be filed in a story (it will be at the "
                          "next start)", bulletin_id)  # fmt: skip
    return Outcome(name, "added", bulletin_id, bulletin.title)


def ingest(target: Database | Writes, sub: Submission, limits: Limits) -> Outcome:
    """Prepare one submission (in the calling thread), then store it (where `target`
    writes). Whatever is wrong with it is its outcome, never an exception: only the database
    failing (full, locked, read-only) stops the caller."""
    prepared = prepare_or_reject(sub, limits)
    if isinstance(prepared, Outcome):
        return prepared
    return store_or_reject(writes_to(target), prepared, sub.name)


def store_or_reject(write: Writes, bulletin: NewBulletin, name: str) -> Outcome:
    """`store` where `write` writes; a bulletin the database refuses is that bulletin's
    outcome, but the database failing (full, locked, read-only) stops the caller."""
    try:
        return write(store, bulletin, name)
    except sqlite3.OperationalError:
        raise  # the database, not the bulletin: nothing else could be stored either
    except Exception as exc:
        return rejected(name, f"could not be processed ({type(exc).__name__}: {exc})"[:300])


def prepare_or_reject(sub: Submission, limits: Limits) -> NewBulletin | Outcome:
    """`prepare`, with whatever is wrong with the submission as its (logged) outcome."""
    try:
        return prepare(sub, limits)
    except Rejected as exc:
        reason = exc.reason
    except Exception as exc:  # one bad input must never stop the others
        reason = f"could not be processed ({type(exc).__name__}: {exc})"[:300]
    return rejected(sub.name, reason)


def rejected(name: str, reason: str) -> Outcome:
    """The outcome of something refused, logged once."""
    log.warning("rejected %s: %s", printable(name), reason)
    return Outcome(name, "rejected", reason=reason)


def printable(name: str) -> str:
    """A file name as text: undecodable bytes (kept by the OS as surrogates) become U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def read_file(
    path: Path, limits: Limits, *, known_suffix: bool = False, follow_links: bool = True
) -> Submission:
    """A regular file as a submission; refuses oversized, unreadable and special files (and,
    unless `follow_links`, symbolic links) with a reason, reading at most the size limit."""
    name = printable(path.name)
    if known_suffix and path.suffix.lower() not in SUFFIXES:
        raise Rejected(f"unsupported file type {printable(path.suffix) or '(none)'}: send .txt, "
                       ".md or .html")  # fmt: skip
    try:  # what it is, before opening it: a pipe, a device or a link is never opened
        mode = (os.stat(path) if follow_links else os.lstat(path)).st_mode
    except OSError as exc:
        raise Rejected(f"unreadable: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise Rejected(f"not a regular file: {_kind(mode)}")
    flags = os.O_RDONLY | os.O_NONBLOCK | (0 if follow_links else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # it became a link since: still never followed
            raise Rejected(f"not a regular file: {_kind(stat.S_IFLNK)}") from None
        raise Rejected(f"unreadable: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Rejected(f"not a regular file: {_kind(info.st_mode)}")
        if info.st_size > limits.max_bytes:
            raise Rejected(_too_big(info.st_size, limits.max_bytes))
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limits.max_bytes + 1)
    except OSError as exc:
        raise Rejected(f"unreadable: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > limits.max_bytes:  # it grew while we read it
        raise Rejected(_too_big(len(data), limits.max_bytes))
    return Submission(source="file", name=name, data=data, source_ref=None)


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a plain file"


def expand_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """Files given directly, and bulletin files (by suffix) inside given folders."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES
            )
        else:
            yield path


def ingest_paths(
    target: Database | Writes,
    paths: Iterable[Path],
    limits: Limits,
    *,
    on_done: Callable[[Path, Outcome], None] | None = None,
    known_suffix: bool = False,
    follow_links: bool = True,
) -> Report:
    """Ingest files (not moving anything); report every file's outcome."""
    report = Report()
    for path in paths:
        try:
            sub = read_file(path, limits, known_suffix=known_suffix, follow_links=follow_links)
            outcome = ingest(target, sub, limits)
        except Rejected as exc:
            log.warning("rejected %s: %s", printable(path.name), exc.reason)
            outcome = Outcome(printable(path.name), "rejected", reason=exc.reason)
        report.outcomes.append(outcome)
        if on_done is not None:
            on_done(path, outcome)
    return report


FILED = ("done", "rejected")


def ingest_inbox(target: Database | Writes, inbox: Path, limits: Limits) -> Report:
    """Ingest every file in the inbox; move each to done/ or rejected/ (+ .reason.txt).

    Only regular files are opened: a symbolic link, a pipe or a device is moved to
    rejected/ as it is (never followed, never read). A stray file named `done` or `rejected`
    is moved aside so the folders can be made; a file that vanishes is reported."""
    if not inbox.is_dir():
        return Report()
    for name in FILED:
        _make_folder(inbox / name)
    entries: list[Path] = []
    for path in sorted(inbox.iterdir()):
        if path.name.startswith(".") or (path.name in FILED and path.is_dir()):
            continue
        if path.is_dir() and not path.is_symlink():
            continue  # an operator's sub-folder: not ours to touch
        entries.append(path)
    return ingest_paths(target, entries, limits, on_done=_file_away, known_suffix=True,
                        follow_links=False)  # fmt: skip


def _make_folder(folder: Path) -> None:
    """`folder` as a real folder; whatever stood in its way is renamed, never deleted."""
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        aside = _free_name(folder.with_name(f"{folder.name}.stray"))
        folder.rename(aside)
        log.warning("moved %s aside to %s to make the %s/ folder", folder, aside.name, folder.name)
    folder.mkdir(exist_ok=True)


def _file_away(path: Path, outcome: Outcome) -> None:
    folder = path.parent / ("rejected" if outcome.status == "rejected" else "done")
    try:
        name = _short_name(path.name)
        target = _free_name(folder / name)
        os.rename(path, target)  # on one file system: the entry moves, a link stays a link
        if name != path.name:
            log.info("filed %s as %s/%s (its name leaves no room for a suffix)",
                     printable(path.name), folder.name, target.name)  # fmt: skip
        if outcome.status == "rejected":
            reason = Path(f"{target}.reason.txt")
            original = f"original name: {printable(path.name)}\n" if name != path.name else ""
            reason.write_text(f"{outcome.reason}\n{original}", encoding="utf-8")
    except OSError as exc:
        log.warning("could not move %s to %s/: %s", printable(path.name), folder.name,
                    exc.strerror or exc)  # fmt: skip


NAME_MAX = 255  # bytes of a file name on the usual file systems (ext4, xfs, btrfs, tmpfs)
_ROOM = len(".reason.txt") + len(".99999")  # what filing may add to a name


def _short_name(name: str) -> str:
    """`name`, or, when it leaves no room for a counter and `.reason.txt` under
    `NAME_MAX`, a short name of its own (`long-name-<digest><suffix>`): a 255-byte name
    could be neither given a reason file nor moved beside an earlier one, and stayed in
    the inbox, read again at every poll."""
    raw = os.fsencode(name)
    if len(raw) + _ROOM <= NAME_MAX:
        return name
    suffix = Path(name).suffix if len(os.fsencode(Path(name).suffix)) <= 16 else ""
    return f"long-name-{hashlib.sha256(raw).hexdigest()[:16]}{suffix}"


def _free_name(target: Path) -> Path:
    """`x.txt`, else `x.1.txt`, `x.2.txt`…: never overwrite an earlier file."""
    n = 0
    candidate = target
    while os.path.lexists(candidate):
        n += 1
        candidate = target.with_name(f"{target.stem}.{n}{target.suffix}")
    return candidate
