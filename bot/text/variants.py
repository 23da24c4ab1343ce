"""Spelling variants of names (Kharkiv/Kharkov/Харків): one key for all, at index and query time."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_FILE = Path(__file__).with_name("variants.txt")


@dataclass(frozen=True)
class Variants:
    """Maps every analysed form of a variant to its group's key."""

    mapping: dict[str, str] = field(default_factory=dict)
    fingerprint: str = "none"

    def key(self, term: str) -> str:
        """The group key of an analysed term, or the term itself."""
        return self.mapping.get(term, term)


def parse_groups(text: str) -> list[list[str]]:
    """Groups of single-word names from the file's text (comments and blanks skipped)."""
    groups = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        names = [n.strip() for n in line.split(",") if n.strip()]
        names = [n for n in names if re.fullmatch(r"[^\W_]+(?:['’-][^\W_]+)*", n)]
        if len(names) >= 2:
            groups.append(names)
    return groups
