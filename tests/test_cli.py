"""The command line, run in-process against a temporary database (and once as a process)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import ROOT, SAMPLE_FR, SAMPLES


@pytest.fixture(autouse=True)
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in list(os.environ):
        if key.startswith(("TELEGRAM_", "DATABASE_", "INBOX_", "FEED_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "cli.db"))
    monkeypatch.setenv("INBOX_DIR", str(tmp_path / "inbox"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.wall_clock
def test_ingest_twice_then_search(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ingest", str(SAMPLES))
    assert code == 0
    assert out.strip().endswith("added 3, duplicates 0, rejected 0")
    code, out, _ = run(capsys, "ingest", str(SAMPLES))
    assert out.strip().endswith("added 0, duplicates 3, rejected 0")
    code, out, _ = run(capsys, "search", "Patriot", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["query"] == "Patriot"
    assert data["page"] == 0
    assert len(data["results"]) == 3  # one per bulletin
    for hit in data["results"]:
        assert "patriot" in hit["text"].lower()
        assert "**Patriot**" in hit["snippet"]
        assert set(hit) == {
            "item_id", "bulletin_id", "bulletin_title", "published_at", "language",
            "heading", "text", "snippet", "headline", "score", "passage", "more_in_bulletin",
            "words",
        }  # fmt: skip
    fr = next(
        h for h in data["results"] if h["bulletin_title"].startswith("Bilan de la semaine. 1230")
    )
    code, out, _ = run(capsys, "search", "Patriot", "--bulletin", str(fr["bulletin_id"]), "--json")
    within = json.loads(out)["results"]
    assert len(within) == fr["more_in_bulletin"] + len(fr["passage"]) >= 2
    assert any("10 missiles pour Patriot" in h["text"] for h in within)


def test_ingest_json_and_rejections(capsys: pytest.CaptureFixture[str], env: Path) -> None:
    (env / "empty.txt").write_bytes(b"")
    code, out, _ = run(capsys, "ingest", str(SAMPLE_FR), str(env / "empty.txt"), "--json")
    assert code == 1
    data = json.loads(out)
    assert (data["added"], data["duplicates"], data["rejected"]) == (1, 0, 1)
    assert data["files"][1] == {
        "name": "empty.txt",
        "status": "rejected",
        "bulletin_id": None,
        "title": None,
        "reason": "empty: the file has no content",
    }


def test_bulletins_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "bulletins")
    assert "No bulletins yet" in out
    run(capsys, "ingest", str(SAMPLES))
    code, out, _ = run(capsys, "bulletins", "--json")
    rows = json.loads(out)
    assert [r["published_at"][:10] for r in rows] == ["2025-07-18", "2025-07-11", "2025-07-11"]
    first = rows[-1]["id"]
    code, out, _ = run(capsys, "show", str(first), "--json")
    shown = json.loads(out)
    for item in shown["items"]:
        assert shown["text"][item["start"] : item["end"]] == item["text"]
    code, out, err = run(capsys, "show", "999")
    assert code == 1 and "No bulletin #999" in err


@pytest.mark.wall_clock
@pytest.mark.parametrize("query", ['"', "AND(", "*", "-", "🙂", "NEAR(", "x" * 5000, "' OR 1=1 --"])
def test_search_hostile_queries(capsys: pytest.CaptureFixture[str], query: str) -> None:
    run(capsys, "ingest", str(SAMPLES))
    code, out, err = run(capsys, "search", query)
    assert code in (0, 2)
    assert "Traceback" not in out + err
    if code == 2:
        assert err.startswith("Usage:")


def test_poll_reads_inbox(capsys: pytest.CaptureFixture[str], env: Path) -> None:
    inbox = env / "inbox"
    inbox.mkdir()
    (inbox / SAMPLE_FR.name).write_bytes(SAMPLE_FR.read_bytes())
    _code, out, _ = run(capsys, "poll")
    assert out.strip() == "added 1, duplicates 0, rejected 0"
    assert (inbox / "done" / SAMPLE_FR.name).exists()


def test_bad_config_is_one_clear_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLL_MINUTES", "often")
    code, _out, err = run(capsys, "bulletins")
    assert code == 2
    assert err.strip().splitlines() == [
        "Configuration error: POLL_MINUTES: expected a whole number, got 'often'"
    ]


def test_run_without_token_refuses_and_touches_nothing(env: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "run"], capture_output=True, text=True, cwd=env,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "TELEGRAM_BOT_TOKEN is not set; try `python -m bot console` to try Hebdo offline."
    ]
    assert not (env / "cli.db").exists()  # the bot's database was not even created


def test_console_keeps_to_its_own_database(env: Path) -> None:
    assert main(["ingest", str(SAMPLE_FR)]) == 0  # the bot's database, with one bulletin
    bot_db = env / "cli.db"
    before = bot_db.read_bytes()
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input="/start\n/search patriot\n/quit\n",
        capture_output=True,
        text=True,
        cwd=env,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "CONSOLE_SAMPLES": str(SAMPLES),
            "CONSOLE_DATABASE_PATH": str(env / "console.db"),
        },
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "added 3, duplicates 0, rejected 0" in proc.stderr  # into the console's own file
    assert "Hebdo offline console" in proc.stdout
    assert "Bonjour" in proc.stdout and "🔎 patriot" in proc.stdout
    assert bot_db.read_bytes() == before  # the bot's database is untouched
    assert (env / "console.db").exists()


def test_module_entry_point(env: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "ingest", str(SAMPLES)],
        capture_output=True,
        text=True,
        cwd=env,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "added 3, duplicates 0, rejected 0" in proc.stdout


REJECTED = "987654:this-token-is-refused-by-telegram-xyz"


@pytest.mark.parametrize("command", [["run"], ["send"]])
async def test_a_rejected_token_is_one_line_and_never_shown(env: Path, command: list[str]) -> None:
    from devtools.fakeapi import FakeBotApi

    fake = FakeBotApi(token_check="111:the-one-telegram-knows-abcdefghijk")
    await fake.start()
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--env-file", "/dev/null", *command,
            env={**os.environ, "PYTHONPATH": str(ROOT), "TELEGRAM_BOT_TOKEN": REJECTED,
                 "TELEGRAM_API_BASE_URL": f"{fake.url}/bot"},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        await fake.stop()
    assert process.returncode == 2
    text = (out + err).decode()
    assert REJECTED not in text and REJECTED.split(":")[1] not in text
    assert err.decode().strip().splitlines()[-1].startswith("Telegram refused TELEGRAM_BOT_TOKEN")


def test_newer_schema_and_read_only_database_are_one_line(
    capsys: pytest.CaptureFixture[str], env: Path
) -> None:
    import sqlite3

    path = env / "cli.db"
    assert main(["bulletins"]) == 0
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA user_version = 999")
    connection.close()
    capsys.readouterr()
    assert main(["bulletins"]) == 2
    err = capsys.readouterr().err.strip()
    assert "written by a newer Hebdo" in err and str(path) in err and "\n" not in err
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA user_version = 9")
    connection.close()
    path.chmod(0o444)
    (env / "cli.db-wal").unlink(missing_ok=True)
    try:
        code, _out, err = run(capsys, "ingest", str(SAMPLE_FR))
    finally:
        path.chmod(0o644)
    if os.geteuid() != 0:  # root writes through file permissions
        assert code in (1, 2) and "readonly" in err and "\n" not in err.strip()


def test_backup_and_check_commands(capsys: pytest.CaptureFixture[str], env: Path) -> None:
    assert main(["ingest", str(SAMPLE_FR)]) == 0
    (env / "copies").mkdir()  # a missing folder is refused, never made (BAD_INPUT)
    code, out, _ = run(capsys, "backup", str(env / "copies" / "hebdo.db"))
    assert code == 0 and "backed up" in out
    code, out, _ = run(capsys, "check")
    assert code == 0 and out.strip().endswith(": ok")
    code, _, err = run(capsys, "backup", str(env / "cli.db"))
    assert code == 2 and err.startswith("Usage: python -m bot backup PATH")


OPML = b"""<?xml version="1.0"?>
<opml version="1.0"><head><title>Mes flux</title></head><body>
<outline text="Ukraine"><outline type="rss" text="A" xmlUrl="https://a.example/rss"/>
<outline type="rss" text="B" xmlUrl="http://b.example/atom.xml"/></outline>
<outline type="rss" text="A again" xmlUrl="https://a.example/rss"/>
<outline type="rss" text="Bad" xmlUrl="javascript:alert(1)"/>
</body></opml>"""


def test_opml_round_trip(capsys: pytest.CaptureFixture[str], env: Path) -> None:
    (env / "in.opml").write_bytes(OPML)
    code, out, _ = run(capsys, "opml", "import", str(env / "in.opml"))
    assert code == 0 and out.strip().endswith("added 2, already polled 0, refused 1")
    code, out, _ = run(capsys, "opml", "export")
    assert code == 0 and 'xmlUrl="https://a.example/rss"' in out and "b.example/atom.xml" in out
    (env / "out.opml").write_text(out, encoding="utf-8")
    code, out, _ = run(capsys, "opml", "import", str(env / "out.opml"))
    assert out.strip().endswith("added 0, already polled 2, refused 0")  # the round trip holds
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(
            f'<!ENTITY {chr(98 + n)} "{("&" + chr(97 + n) + ";") * 10}">'.encode() for n in range(8)
        )
        + b"]><opml><body><outline xmlUrl='&i;'/></body></opml>"
    )
    for name, data in (("junk.opml", b"not xml at all"), ("bomb.opml", bomb),
                       ("html.opml", b"<html><body/></html>")):  # fmt: skip
        (env / name).write_bytes(data)
        code, _, err = run(capsys, "opml", "import", str(env / name))
        assert code == 1 and err.count("\n") == 1, (name, err)


def test_json_logs_one_object_a_line(env: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "poll"], capture_output=True, text=True, cwd=env,
        env={**os.environ, "PYTHONPATH": str(ROOT), "LOG_FORMAT": "json",
             "FEED_URLS": "http://127.0.0.1:9/feed.xml", "DATABASE_PATH": str(env / "j.db")},
        timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stderr.strip().splitlines()]
    assert records and {"time", "level", "logger", "message"} <= set(records[-1])
    assert any("feed http://127.0.0.1:9/feed.xml failed" in r["message"] for r in records)


BAD_INPUT = {  # argv → (exit code, what stderr or stdout says)
    "search --limit -1": (["search", "Patriot", "--limit", "-1"], 2, "from 1 to 100"),
    "search --limit 0": (["search", "Patriot", "--limit", "0"], 2, "from 1 to 100"),
    "search --page -1": (["search", "Patriot", "--page", "-1"], 2, "from 0 to"),
    "search --page 999": (["search", "Patriot", "--page", "999"], 0, "past the last one"),
    "summarize --items 0": (["summarize", str(SAMPLE_FR), "--items", "0"], 2, "from 1 to 20"),
    "summarize --items 100": (["summarize", str(SAMPLE_FR), "--items", "100"], 2, "from 1 to 20"),
    "trend --lang xx": (["trend", "drones", "--lang", "xx"], 2, "invalid choice"),
    "trend --png in no folder": (["trend", "drones", "--png", "/nonexistent/dir/x.png"], 2,
                                 "no folder /nonexistent/dir"),
    "trend --png a folder": (["trend", "drones", "--png", "."], 2, "is a folder"),
    "bulletins --offset 99": (["bulletins", "--offset", "99"], 0, "from offset 99"),
    "bulletins --limit 0": (["bulletins", "--limit", "0"], 2, "from 1 to 1000"),
    "backup in no folder": (["backup", "/nonexistent/dir/b.db"], 2, "no folder /nonexistent"),
    "backup to a folder": (["backup", "."], 2, "is a folder"),
    "opml export in no folder": (["opml", "export", "/nonexistent/dir/f.opml"], 2, "no folder"),
    "opml export to a folder": (["opml", "export", "."], 2, "is a folder"),
    "--env-file missing": (["--env-file", "/nonexistent.env", "bulletins"], 2, "no such file"),
    "health without HTTP_PORT": (["health"], 1, "HTTP_PORT is not set"),
}  # fmt: skip


SEARCHES = ["search --page 999"]  # a search ranks by recency: it reads the clock


@pytest.mark.parametrize("case", [c for c in BAD_INPUT if c not in SEARCHES])
def test_bad_input_is_one_line_and_the_documented_exit_code(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    bad_input_is_one_line(capsys, monkeypatch, case)


@pytest.mark.wall_clock
@pytest.mark.parametrize("case", SEARCHES)
def test_a_bad_page_is_one_line_and_exit_0(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    bad_input_is_one_line(capsys, monkeypatch, case)


def bad_input_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    monkeypatch.delenv("HTTP_PORT", raising=False)
    assert run(capsys, "ingest", str(SAMPLES))[0] == 0
    argv, expected, says = BAD_INPUT[case]
    try:
        code, out, err = run(capsys, *argv)
    except SystemExit as exit_:  # argparse's usage line
        code, (out, err) = int(exit_.code or 0), capsys.readouterr()
    assert code == expected, (out, err)
    assert "Traceback" not in err
    assert says in (err or out).strip().splitlines()[-1]  # one line says it (after a usage)


def test_a_latin1_env_file_is_one_line_naming_it(
    capsys: pytest.CaptureFixture[str], env: Path
) -> None:
    (env / "latin.env").write_bytes(b"# r\xe9glages\nDEFAULT_LANGUAGE=fr\n")
    code, _, err = run(capsys, "--env-file", "latin.env", "bulletins")
    assert code == 2 and "latin.env: line 1 is not UTF-8" in err


def test_ingest_refuses_unknown_types_and_reports_a_rejection_once(
    capsys: pytest.CaptureFixture[str], env: Path
) -> None:
    (env / "x.pdf").write_text("Plain text inside a PDF name.\n\nA sentence.", encoding="utf-8")
    code, out, err = run(capsys, "ingest", str(env / "x.pdf"))
    assert code == 1 and "rejected  x.pdf: unsupported file type .pdf" in out
    assert "x.pdf" not in err  # said once, on stdout


def test_a_closed_pipe_ends_quietly(env: Path) -> None:
    env_vars = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "bot", "ingest", str(SAMPLES)], env=env_vars,
                   capture_output=True, check=True, cwd=env)  # fmt: skip
    shell = f"{sys.executable} -m bot bulletins --limit 1000 | head -c 1"
    done = subprocess.run(["bash", "-o", "pipefail", "-c", shell], env=env_vars, cwd=env,
                          capture_output=True, text=True)  # fmt: skip
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
