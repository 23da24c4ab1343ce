"""The chart described in the notes: the three sample bulletins plus 26 weeks of generated
history (tests/trend_history.py: one to three short bulletins a week, three weeks without
any), charted as of Friday 18 July 2025 for `drones, missiles, Kharkov` (French, bulletins)
and `Харків` (Ukrainian, sentences). Writes two PNG files and prints the captions.

    .venv/bin/python -m bench.trend_picture [OUT_DIR]
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.delivery.pacing import plain
from bot.ingest import Limits, expand_paths, ingest_paths
from bot.picture import render
from bot.text.analyze import analyzer_for
from bot.trend import caption, trend
from storage import open_db
from tests.conftest import SAMPLES
from tests.trend_history import add_history

NOW = datetime(2025, 7, 18, 20, 0, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", type=Path, default=Path("bench/out"), metavar="OUT_DIR")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "trend.db")
        ingest_paths(db, list(expand_paths([SAMPLES])), Limits())
        add_history(db)
        for text, mode, language, name in (("drones, missiles, Kharkov", "b", "fr", "trend.png"),
                                           ("Харків", "i", "uk", "trend-uk.png")):  # fmt: skip
            found = trend(db, text, analyzer_for(), weeks=26, now=NOW, tz=ZoneInfo("Europe/Paris"))
            (out / name).write_bytes(render(found, mode, language))
            print(f"{out / name}:\n{plain(caption(found, mode, '6m', language))}\n")
        db.close()


if __name__ == "__main__":
    main()
