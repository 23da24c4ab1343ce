"""Bulk ingestion: an archive of many files at once (`python -m bot ingest --bulk`).

The same pipeline as `ingest_paths`, organised for throughput:

- files are read and prepared (decoded, parsed, summarised) in a pool of processes, one a
  core, a batch ahead of the one being stored, so memory holds two batches whatever the
  archive's size;
- the store writes a batch of `BATCH` bulletins in one transaction: one commit (and one
  write of each full-text index page touched) for the batch, not three or four for each
  bulletin. Each bulletin is a savepoint inside it: one the database refuses is rolled
  back alone and reported, the others are kept.

Outcomes are reported (`on_done`) once their batch is committed. The database failing
(full, locked, read-only), or a worker dying (killed, out of memory: `BrokenProcessPool`),
stops the import: the batch being written is rolled back, the batches before it stay. For
the command line only: the pool forks the process.
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from itertools import islice
from pathlib import Path

from sqlite_utils import Database

from bot.ingest.errors import Rejected
from bot.ingest.pipeline import (
    Limits,
    Outcome,
    Report,
    Submission,
    prepare_or_reject,
    printable,
    read_file,
    rejected,
    store,
)
from storage.models import NewBulletin
from storage.tx import transaction

BATCH = 256  # bulletins a transaction
BULK_FROM = 1000  # `ingest` given this many files or more goes bulk by itself

Source = Path | Submission
Prepared = tuple[str, NewBulletin | Outcome]  # (name, bulletin or why not)


class _Job:
    """What every worker needs, inherited through fork (an analyser does not pickle)."""

    limits: Limits | None = None
    known_suffix = False
    follow_links = True


def _prepare(source: Source) -> Prepared:
    """In a worker: read (a path) and prepare one source; what is wrong is its outcome."""
    limits = _Job.limits
    assert limits is not None
    if isinstance(source, Path):
        try:
            source = read_file(source, limits, known_suffix=_Job.known_suffix,
                               follow_links=_Job.follow_links)  # fmt: skip
        except Rejected as exc:
            return printable(source.name), Outcome(printable(source.name), "rejected",
                                                   reason=exc.reason)  # fmt: skip
    return source.name, prepare_or_reject(source, limits)


def _store(db: Database, bulletin: NewBulletin, name: str) -> Outcome:
    """One bulletin in a savepoint of the batch's transaction."""
    try:
        with transaction(db):
            return store(db, bulletin, name)
    except sqlite3.OperationalError:
        raise  # the database, not the bulletin: nothing else could be stored either
    except Exception as exc:
        return rejected(name, f"could not be processed ({type(exc).__name__}: {exc})"[:300])


def _batches(sources: Iterable[Source], size: int) -> Iterator[list[Source]]:
    it = iter(sources)
    while chunk := list(islice(it, size)):
        yield chunk


def ingest_bulk(
    db: Database,
    sources: Iterable[Source],
    limits: Limits,
    *,
    on_done: Callable[[Source, Outcome], None] | None = None,
    known_suffix: bool = False,
    follow_links: bool = True,
    batch: int = BATCH,
    workers: int | None = None,
) -> Report:
    """Ingest many files (or submissions), prepared on every core and stored `batch` to a
    transaction; report every one's outcome, in order."""
    _Job.limits, _Job.known_suffix, _Job.follow_links = limits, known_suffix, follow_links
    report = Report()
    chunks = _batches(sources, max(1, batch))
    processes = max(1, workers or os.cpu_count() or 1)
    # a pool that notices a worker dying (killed, out of memory): the import stops with
    # BrokenProcessPool instead of waiting for ever for the batch that worker held
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork")) as pool:
        chunk = next(chunks, None)
        ahead = pool.map(_prepare, chunk, chunksize=8) if chunk else None
        while chunk is not None and ahead is not None:
            prepared: list[Prepared] = list(ahead)
            done, chunk = chunk, next(chunks, None)
            # the next batch is prepared while this one is stored
            ahead = pool.map(_prepare, chunk, chunksize=8) if chunk else None
            outcomes = []
            with transaction(db):
                for name, got in prepared:
                    outcomes.append(got if isinstance(got, Outcome) else _store(db, got, name))
            for source, outcome in zip(done, outcomes, strict=True):
                report.outcomes.append(outcome)
                if on_done is not None:
                    on_done(source, outcome)
    return report
