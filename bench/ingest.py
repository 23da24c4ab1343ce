"""Ingest 10,000 generated French bulletins (~4 KB each) into a fresh database.

Prints bulletins/s for the full pipeline (decode, parse, split, detect language, store with
FTS, file in a story), file by file as the inbox does it and in bulk (`ingest --bulk`:
prepared on every core, 256 bulletins a transaction), next to the floor: the same rows
inserted into the same schema (`insert_bulletin`) with all parsing done beforehand, one
transaction a bulletin and, as the bulk path batches, 256 a transaction. All are measured
in this run, on the same bulletins.

    .venv/bin/python -m bench.ingest [--count 10000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from bench.corpus import bulletins
from bot.ingest import Limits, Submission, ingest, prepare
from bot.ingest.bulk import BATCH, ingest_bulk
from storage import open_db
from storage.bulletins import insert_bulletin
from storage.tx import transaction


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    args = parser.parse_args()
    docs = bulletins(args.count)
    limits = Limits()
    total_bytes = sum(len(text.encode()) for _, text in docs)
    print(f"{len(docs)} bulletins, {total_bytes / len(docs) / 1000:.1f} KB each on average")

    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "pipeline.db")
        start = time.perf_counter()
        for name, text in docs:
            out = ingest(db, Submission("file", name, data=text.encode()), limits)
            assert out.status == "added", out
        pipeline_s = time.perf_counter() - start
        db.close()
        pipeline_size = os.path.getsize(Path(tmp) / "pipeline.db")

        db = open_db(Path(tmp) / "bulk.db")
        start = time.perf_counter()
        report = ingest_bulk(db, [Submission("file", n, data=t.encode()) for n, t in docs], limits)
        bulk_s = time.perf_counter() - start
        assert report.count("added") == len(docs), report.summary()
        db.close()

        prepared = [prepare(Submission("file", n, data=t.encode()), limits) for n, t in docs]
        db = open_db(Path(tmp) / "floor.db")
        start = time.perf_counter()
        for bulletin in prepared:
            insert_bulletin(db, bulletin)
        floor_s = time.perf_counter() - start
        db.close()

        db = open_db(Path(tmp) / "floor-batched.db")
        start = time.perf_counter()
        for first in range(0, len(prepared), BATCH):
            with transaction(db):
                for bulletin in prepared[first : first + BATCH]:
                    insert_bulletin(db, bulletin)
        batched_s = time.perf_counter() - start
        db.close()

    n = len(docs)
    print(f"pipeline:      {n / pipeline_s:6.0f} bulletins/s  ({pipeline_s:.2f} s, file by file)")
    print(f"bulk:          {n / bulk_s:6.0f} bulletins/s  ({bulk_s:.2f} s, ingest --bulk, "
          f"{os.cpu_count()} cores)")  # fmt: skip
    print(f"floor:         {n / floor_s:6.0f} bulletins/s  ({floor_s:.2f} s, inserts only, one "
          "transaction each)")  # fmt: skip
    print(f"floor batched: {n / batched_s:6.0f} bulletins/s  ({batched_s:.2f} s, inserts only, "
          f"{BATCH} a transaction)")  # fmt: skip
    print(f"ratio:    file by file {pipeline_s / floor_s:.2f}x the floor's time; bulk "
          f"{bulk_s / floor_s:.2f}x the floor's, {bulk_s / batched_s:.2f}x the batched floor's "
          "(target 2x)")  # fmt: skip
    print(f"database: {pipeline_size / 1e6:.1f} MB for {n} bulletins")


if __name__ == "__main__":
    main()
