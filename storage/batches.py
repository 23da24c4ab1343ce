"""Reading the rows of many ids: one statement per 500 of them (SQLite's bound-parameter
limit is far above, but a statement's plan and memory stay small)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlite_utils import Database


def rows_for(db: Database, sql: str, ids: Sequence[Any]) -> Iterator[Any]:
    """The rows of `sql` (whose `{marks}` stands for the ids) for these ids, 500 at a time."""
    for start in range(0, len(ids), 500):
        part = list(ids[start : start + 500])
        yield from db.execute(sql.format(marks=",".join("?" * len(part))), part)
