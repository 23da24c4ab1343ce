"""Cutting text to a length at a word boundary: the one rule for titles, items and snippets."""

from __future__ import annotations


def clip(text: str, limit: int) -> str:
    """`text` on one line, at most `limit` characters, cut at a word with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"
