"""Deployment: the lock file, the container, compose and systemd files, `health`, one instance.

The image itself is built and run only where a Docker engine answers (CI machines without
one skip that test and say why); everything the image relies on is checked here anyway.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp import ClientError, ClientSession
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot.app import build_application
from bot.config import Settings
from bot.running import start_app, stop_app
from devtools.fakeapi import FakeBotApi
from storage.db import StorageError, single_instance
from tests.conftest import ROOT
from tests.test_bot import NOW, TOKEN
from tests.test_web import free_port


def locked() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version and re.fullmatch(r"[\w.+]+", version), f"not pinned: {line!r}"
            pins[canonicalize_name(name)] = version
    return pins


def test_the_lock_pins_every_runtime_dependency_within_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = locked()
    for spec in project["dependencies"]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is missing from requirements.txt (run `make lock`)"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} vs {spec}"
    # the extras of python-telegram-bot (job queue, rate limiter) come with their packages
    assert {"apscheduler", "aiolimiter"} <= set(pins)
    dev = {canonicalize_name(Requirement(s).name) for s in project["optional-dependencies"]["dev"]}
    assert not dev & set(pins) - {"packaging"}, "the lock holds runtime packages only"


def test_the_container_runs_as_a_user_with_data_on_a_volume_and_a_health_check() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
    assert re.search(r"^USER hebdo$", dockerfile, re.M)
    assert 'VOLUME ["/data"]' in dockerfile and "DATABASE_PATH=/data/hebdo.db" in dockerfile
    assert "pip install -r requirements.txt" in dockerfile
    assert 'CMD ["python", "-m", "bot", "health"]' in dockerfile
    assert dockerfile.rstrip().endswith('CMD ["python", "-m", "bot", "run"]')
    for copied in re.findall(r"^COPY (\S+)", dockerfile, re.M):
        assert (ROOT / copied).exists(), copied
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".venv", "data", ".git"} <= set(ignored)  # no secret or database in the image
    compose = (ROOT / "compose.yaml").read_text()
    assert "hebdo-data:/data" in compose and "env_file: .env" in compose
    unit = (ROOT / "deploy" / "hebdo.service").read_text()
    assert "ExecStart=/opt/hebdo/.venv/bin/python -m bot run" in unit
    assert "RestartPreventExitStatus=2" in unit and "User=hebdo" in unit
    assert (ROOT / ".python-version").read_text().strip() == "3.11"
    assert (ROOT / "Procfile").read_text().strip() == "worker: python -m bot run"


async def health(port: int | None) -> tuple[int, str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("HTTP_PORT", None)
    if port is not None:
        env["HTTP_PORT"] = str(port)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--env-file", "/dev/null", "health", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return int(process.returncode or 0), out.decode(), err.decode()


async def test_the_health_command_asks_the_running_bot(fake: FakeBotApi, tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(
        telegram_bot_token=TOKEN, database_path=tmp_path / "bot.db",
        telegram_api_base_url=f"{fake.url}/bot", variants_file=tmp_path / "v.txt",
        http_listen="127.0.0.1", http_port=port,
    )  # fmt: skip
    application = build_application(settings)
    application.bot_data.clock = lambda: NOW  # its poll and its updates are dated by it
    await start_app(application, poll_timeout=5)
    try:
        code, out, _ = await health(port)
        assert code == 0 and json.loads(out)["status"] == "ok"
    finally:
        await stop_app(application)
    code, _, err = await health(port)  # nobody listens any more
    assert code == 1 and "no answer" in err
    code, _, err = await health(None)
    assert code == 1 and "HTTP_PORT is not set" in err  # documented: 0 healthy, 1 not


def test_a_second_bot_on_the_same_database_stops_at_once(tmp_path: Path) -> None:
    database = tmp_path / "bot.db"
    with single_instance(database):
        with pytest.raises(StorageError, match="already running"):
            single_instance(database)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TELEGRAM_BOT_TOKEN": TOKEN,
               "DATABASE_PATH": str(database),
               "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot"}  # fmt: skip
        proc = subprocess.run(
            [sys.executable, "-m", "bot", "--env-file", "/dev/null", "run"],
            capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip
        assert proc.returncode == 2
        assert f"another Hebdo bot is already running on {database} (pid {os.getpid()})" in (
            proc.stderr
        )
    with single_instance(database):  # released: the next start may take it
        pass


def _docker_engine() -> str | None:
    if shutil.which("docker") is None:
        return "no docker command on this machine"
    probe = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        return "no Docker engine answers on this machine (`docker info` failed)"
    return None


NO_DOCKER = _docker_engine()


@pytest.mark.skipif(NO_DOCKER is not None, reason=f"the image is not built here: {NO_DOCKER}")
async def test_the_image_builds_and_the_container_answers(fake: FakeBotApi) -> None:
    tag = "hebdo-test:latest"
    build = subprocess.run(["docker", "build", "-t", tag, str(ROOT)], capture_output=True,
                           text=True, timeout=1800)  # fmt: skip
    assert build.returncode == 0, build.stderr[-2000:]
    port = free_port()
    run = subprocess.run(
        ["docker", "run", "-d", "--rm", "--network", "host",
         "-e", f"TELEGRAM_BOT_TOKEN={TOKEN}", "-e", f"TELEGRAM_API_BASE_URL={fake.url}/bot",
         "-e", f"HTTP_PORT={port}", tag],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    container = run.stdout.strip()
    try:
        report: dict[str, object] = {}
        async with ClientSession() as session:
            for _ in range(120):  # bounded: the container has two minutes to start
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                        report = await response.json()
                        break
                except ClientError:
                    await asyncio.sleep(1)
        assert report.get("status") == "ok", report
        fake.message(2002, "/help")
        assert "/search" in (await fake.reply(2002, 0, timeout=30)).text
        check = subprocess.run(["docker", "exec", container, "python", "-m", "bot", "check"],
                               capture_output=True, text=True, timeout=120)  # fmt: skip
        assert check.stdout.strip() == "ok"
    finally:
        subprocess.run(["docker", "stop", container], capture_output=True, timeout=120)


def test_settings_for_a_container_are_read_from_the_environment() -> None:
    from bot.config import from_mapping

    env = dict(re.findall(r"^\s+(\w+)=(\S+?)(?: \\)?$", (ROOT / "Dockerfile").read_text(), re.M))
    settings = from_mapping({**env, "TELEGRAM_BOT_TOKEN": TOKEN})
    assert settings.database_path == Path("/data/hebdo.db")
    assert settings.http_port == 8080 and settings.http_listen == "0.0.0.0"
    assert replace(settings, http_port=None).serves_http is False


def docker_env_file(text: str) -> dict[str, str]:
    """An env file as `docker run --env-file` reads it: `KEY=VALUE` taken as it is (no
    quotes removed; an empty value is a value), `#` lines and blank lines skipped, a bare
    `KEY` taken from the host (absent here), the later line winning."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.lstrip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        values[key.strip()] = value
    return values


def dockerfile_env(text: str) -> dict[str, str]:
    """The `ENV KEY=VALUE …` instructions of a Dockerfile (continued lines joined)."""
    joined = re.sub(r"\\\n", " ", text)
    values: dict[str, str] = {}
    for instruction in re.findall(r"^ENV\s+(.*)$", joined, re.M):
        values.update(re.findall(r"(\w+)=(\S+)", instruction))
    return values


def compose_environment(text: str) -> dict[str, str]:
    """The `environment:` mapping of compose.yaml's service (`KEY: value` lines)."""
    block = re.search(r"^(\s+)environment:\n((?:\1\s+.*\n)+)", text, re.M)
    assert block is not None
    pairs = re.findall(r"^\s+(\w+):\s*\"?([^\"\n]*?)\"?\s*$", block.group(2), re.M)
    return dict(pairs)


def assert_on_the_volume_and_served(env: dict[str, str]) -> None:
    from bot.config import from_mapping

    settings = from_mapping({**env, "TELEGRAM_BOT_TOKEN": TOKEN})
    assert settings.database_path == Path("/data/hebdo.db")
    assert settings.inbox_dir == Path("/data/inbox")
    assert settings.variants_file == Path("/data/variants.txt")
    assert settings.console_database_path == Path("/data/console.db")
    assert settings.http_port == 8080 and settings.serves_http  # the health check's /healthz


def test_the_readme_docker_run_with_the_example_env_file_keeps_the_images_settings() -> None:
    """`cp .env.example .env` then `docker run --env-file .env …`, replayed as Docker reads
    them: the image's ENV, then the env file over it (an empty `HTTP_PORT=` used to blank
    the image's 8080: no /healthz, the container unhealthy for ever; relative paths put the
    database off the volume)."""
    image = dockerfile_env((ROOT / "Dockerfile").read_text())
    example = docker_env_file((ROOT / ".env.example").read_text())
    assert_on_the_volume_and_served({**image, **example})
    assert "docker run -d --name hebdo --env-file .env" in (ROOT / "README.md").read_text()


def test_compose_keeps_the_volume_and_the_port_whatever_the_env_file_says() -> None:
    """compose: the image's ENV, then `env_file`, then `environment`, which wins — even over
    an .env whose every line was uncommented with the example's own values."""
    image = dockerfile_env((ROOT / "Dockerfile").read_text())
    compose = compose_environment((ROOT / "compose.yaml").read_text())
    example = (ROOT / ".env.example").read_text()
    for env_file in (example, re.sub(r"^# ([A-Z_]+=)", r"\1", example, flags=re.M)):
        assert_on_the_volume_and_served({**image, **docker_env_file(env_file), **compose})


def test_the_systemd_steps_make_what_the_unit_needs() -> None:
    """The unit starts on a fresh install that follows its steps: the data folder it may
    write is made and owned by the service user, and `.env` is optional."""
    unit = (ROOT / "deploy" / "hebdo.service").read_text()
    steps = [line[1:].strip() for line in unit.splitlines() if line.startswith("#")]
    assert any("mkdir -p data" in s and "chown hebdo:hebdo data" in s for s in steps)
    assert re.search(r"^EnvironmentFile=-/opt/hebdo/\.env$", unit, re.M)  # optional
    assert re.search(r"^ReadWritePaths=-?/opt/hebdo/data$", unit, re.M)
    assert re.search(r"^WorkingDirectory=/opt/hebdo$", unit, re.M)
    from bot.config import from_mapping

    settings = from_mapping({"TELEGRAM_BOT_TOKEN": TOKEN})  # no .env: the code's defaults
    for written in (settings.database_path, settings.inbox_dir, settings.variants_file):
        assert written.parts[0] == "data", written  # under the one writable folder


def test_the_wheel_the_container_installs_carries_the_data_files(tmp_path: Path) -> None:
    """`pip install .` (the container, systemd) builds a wheel: the catalogues and the
    variants list must be in it, or the installed bot cannot speak or search by variants."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in ("bot", "storage"):
        shutil.copytree(ROOT / package, source / package,
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "-q", "-w", str(tmp_path / "dist"), str(source)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-2000:]
    import zipfile

    (wheel,) = (tmp_path / "dist").glob("hebdo-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"bot/locales/fr.toml", "bot/locales/en.toml", "bot/locales/uk.toml",
            "bot/text/variants.txt", "bot/app.py", "storage/db.py"} <= names  # fmt: skip
    assert not any(n.startswith(("devtools/", "tests/")) for n in names)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_the_systemd_unit_passes_systemd_analyze(tmp_path: Path) -> None:
    unit = (ROOT / "deploy" / "hebdo.service").read_text()
    # the unit as installed, its interpreter pointed at one that exists on this machine
    local = unit.replace("/opt/hebdo/.venv/bin/python", sys.executable)
    (tmp_path / "hebdo.service").write_text(local)
    checked = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "hebdo.service")],
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr.strip() == ""
