"""Plain data passed in and out of the repositories."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class NewSection:
    """A run of paragraphs under one heading (the first section's heading is the title)."""

    heading: str
    start: int
    end: int
    search_text: str = ""  # the heading's analysed terms


@dataclass(frozen=True)
class NewItem:
    """One sentence of a bulletin, with its offsets and its paragraph's offsets."""

    section: int
    paragraph: int
    text: str
    start: int
    end: int
    paragraph_start: int
    paragraph_end: int
    headline_rank: int | None = None
    score: float | None = None
    search_text: str = ""  # the analysed terms stored in the search index


@dataclass(frozen=True)
class Terms:
    """A text's analysed terms with their counts, and which of them are names: what its
    story signature is weighed from (bot/stories.py), computed where the text is prepared."""

    counts: dict[str, int]
    names: frozenset[str]
    language: str


@dataclass(frozen=True)
class NewBulletin:
    """A parsed bulletin ready to be stored."""

    source: str
    source_ref: str | None
    title: str
    published_at: str  # ISO 8601, UTC
    language: str
    raw_text: str
    clean_text: str
    content_hash: str
    sections: list[NewSection] = field(default_factory=list)
    items: list[NewItem] = field(default_factory=list)
    summary_version: int | None = None
    link: str | None = None  # the original, for a feed entry
    canonical_link: str | None = None  # `link` normalised: the same article from elsewhere
    body_hash: str | None = None  # the text without its title, for copies retitled
    story_terms: Terms | None = None  # what its story is found from (None: a story alone)
    topic_terms: tuple[tuple[int, Terms], ...] = ()  # a round-up's: each section's (index, terms)


@dataclass(frozen=True)
class Bulletin:
    """A stored bulletin, without its full text."""

    id: int
    source: str
    source_ref: str | None
    title: str
    published_at: str
    language: str
    created_at: str
    deleted_at: str | None
    item_count: int
    link: str | None = None


@dataclass(frozen=True)
class Item:
    """A stored item (sentence) of a bulletin."""

    id: int
    bulletin_id: int
    seq: int
    section: int
    heading: str
    paragraph: int
    text: str
    start: int
    end: int
    paragraph_start: int
    paragraph_end: int
    headline_rank: int | None
    score: float | None


@dataclass(frozen=True)
class BulletinDetail:
    """A stored bulletin with its text, sections and items."""

    bulletin: Bulletin
    clean_text: str
    content_hash: str
    items: list[Item]

    @property
    def headlines(self) -> list[Item]:
        """The headline items, in reading order."""
        return [i for i in self.items if i.headline_rank is not None]
