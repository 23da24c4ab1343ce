"""Ingest 10,000 generated French bulletins (~4 KB each) into a fresh database.

Prints bulletins/s for the full pipeline (decode, parse, split, detect language, store with
FTS), next to the floor: the same rows inserted with plain SQLite into the same schema, one
transaction per bulletin, with all parsing done beforehand. Both are measured in this run.

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
from storage import open_db
from storage.bulletins import insert_bulletin


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

        prepared = [prepare(Submission("file", n, data=t.encode()), limits) for n, t in docs]
        db = open_db(Path(tmp) / "floor.db")
        start = time.perf_counter()
        for bulletin in prepared:
            insert_bulletin(db, bulletin)
        floor_s = time.perf_counter() - start
        db.close()

    print(f"pipeline: {len(docs) / pipeline_s:8.0f} bulletins/s  ({pipeline_s:.2f} s)")
    print(f"floor:    {len(docs) / floor_s:8.0f} bulletins/s  ({floor_s:.2f} s, inserts only)")
    print(f"ratio:    pipeline takes {pipeline_s / floor_s:.2f}x the floor's time")
    print(f"database: {pipeline_size / 1e6:.1f} MB for {len(docs)} bulletins")


if __name__ == "__main__":
    main()
