"""The offline console: a scripted terminal session against the real bot and the emulator."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Settings
from bot.ingest import Limits, expand_paths, ingest_paths
from devtools.console import Console, to_terminal
from storage import open_db
from tests.conftest import ROOT, SAMPLE_FR, SAMPLES


async def lines(*typed: str) -> AsyncIterator[str]:
    for line in typed:
        yield line


@pytest.mark.wall_clock
async def test_scripted_session(tmp_path: Path) -> None:
    settings = Settings(database_path=tmp_path / "c.db", variants_file=tmp_path / "v.txt")
    db = open_db(settings.database_path)
    ingest_paths(db, list(expand_paths([SAMPLES])), Limits())
    db.close()
    out = io.StringIO()
    console = Console(settings, out=out, color=False)
    await console.run(
        lines(
            "/start",
            "/tap 1",
            "/tap 9",
            "patriot",
            "/inline otan",
            "/stats",
            "/as admin",
            "/post",
            f"/file {SAMPLE_FR}",
            "/file /nonexistent/file.txt",
            "/quit",
            "/help",  # never read: /quit ended the session
        )
    )
    text = out.getvalue()
    assert "Hebdo offline console" in text
    assert "Bonjour" in text and "[1] 🔔 S’abonner" in text
    assert "Abonné" in text
    assert "(no such button" in text
    assert "🔎 patriot" in text and "Patriot" in text
    assert "(1) 20" in text  # an inline result, dated
    assert "réservée aux administrateurs" in text  # /stats as a user
    assert "(you are now the admin)" in text
    assert "Aperçu — rien n’est encore publié" in text and "[1] ✅ Publier" in text
    assert "(cannot read" in text
    assert "<b>" not in text and "Commandes" not in text


async def test_a_chart_is_written_beside_the_console_database(tmp_path: Path) -> None:
    """A terminal cannot show a picture: the console says where it wrote it, and a tapped
    button that redraws the chart rewrites the same file."""
    settings = Settings(database_path=tmp_path / "c.db", variants_file=tmp_path / "v.txt")
    db = open_db(settings.database_path)
    ingest_paths(db, list(expand_paths([SAMPLES])), Limits())
    db.close()
    out = io.StringIO()
    now = datetime(2025, 7, 18, 20, 0, tzinfo=UTC)
    console = Console(settings, out=out, color=False, clock=lambda: now)
    await console.run(lines("/trend drones, missiles", "/tap 6"))
    text = out.getvalue()
    pictures = sorted(tmp_path.glob("console-picture-*.png"))
    assert len(pictures) == 1 and pictures[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"🖼 {pictures[0]} (" in text and f"✏️ 🖼 {pictures[0]}" in text
    assert "drones : 3 bulletins en 26 semaines" in text  # the caption, under the picture
    assert "drones : " in text and "phrases en 26 semaines" in text  # after the tap


def test_html_to_terminal() -> None:
    assert (
        to_terminal("<b>Gras</b> &amp; <i>it</i> <a href='x'>lien</a>", color=False)
        == "Gras & it lien"
    )
    assert "\033[1m" in to_terminal("<b>x</b>")


@pytest.mark.wall_clock
async def test_the_first_run_shows_a_digest_results_and_a_chart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What `make run` does without a token, on a fresh database: the samples are from July
    2025, whatever today is; the console's clock starts the day after the newest one, so a
    new reader's /digest has items and /trend a non-zero series."""
    from bot.cli_service import prepare_console
    from bot.delivery.worker import clock_from

    settings = Settings(database_path=tmp_path / "c.db", variants_file=tmp_path / "v.txt")
    start = prepare_console(settings, SAMPLES, None)
    assert start is not None and start.date().isoformat() == "2025-07-19"
    out = io.StringIO()
    console = Console(settings, out=out, color=False, clock=clock_from(start))
    await console.run(lines("/digest", "patriot", "/trend drones"))
    text = out.getvalue()
    assert "The console's clock reads Saturday 19 July 2025" in text
    assert "\n1. " in text and "rien de nouveau" not in text.lower()  # a digest with items
    assert "🔎 patriot" in text  # search results
    assert "drones : 3 bulletins en 26 semaines" in text  # the chart's caption: non-zero
    assert sorted(tmp_path.glob("console-picture-*.png"))
    # a samples folder that is not there: one line, and the console still starts
    assert prepare_console(settings, tmp_path / "nowhere", None) == start
    assert f"CONSOLE_SAMPLES={tmp_path / 'nowhere'}: no such folder" in capsys.readouterr().err


@pytest.mark.parametrize("page", ["README.md", "docs/readers.md"])
def test_the_docs_console_sessions_are_what_the_console_prints(tmp_path: Path, page: str) -> None:
    """The README's first run and the reader's guide's /settings screens, typed into
    `python -m bot console` as `make run` starts it on a fresh clone (its own
    `data/console.db`, the samples): every line they show is printed (`…` marks a cut)."""
    text = (ROOT / page).read_text(encoding="utf-8")
    session = text.split("```console\n", 1)[1].split("```", 1)[0].splitlines()
    typed = [line[len("you> ") :] for line in session if line.startswith("you> ")]
    shown = [line for line in session if not line.startswith(("you> ", "$ "))]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CONSOLE_SAMPLES": str(SAMPLES)}
    env.pop("CONSOLE_DATABASE_PATH", None)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--env-file", "/dev/null", "console"],
        input="\n".join([*typed, "/quit"]) + "\n", capture_output=True, text=True, env=env,
        cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    printed = (done.stdout + done.stderr).replace(str(SAMPLES), "../shared/data/bulletins")
    for line in shown:
        pieces = [p.strip() for p in line.split("…") if p.strip()]
        pattern = ".*".join(re.escape(p) for p in pieces)
        assert re.search(pattern, printed), line
    assert (tmp_path / "data" / "console.db").exists()
