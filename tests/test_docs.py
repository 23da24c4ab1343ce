"""Documentation drift: every CLI command and every setting is documented."""

from __future__ import annotations

import argparse
import re

import pytest

from bot.cli import build_parser
from bot.config import Settings
from tests.conftest import ROOT, SAMPLES, SHARED_SAMPLES

README = (ROOT / "README.md").read_text(encoding="utf-8")
PAGES = {
    p: p.read_text(encoding="utf-8")
    for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
}
DOCS = "\n".join(PAGES.values())  # the README and its reference pages
ENV_EXAMPLE = (ROOT / ".env.example").read_text(encoding="utf-8")


def cli_commands() -> list[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return list(sub.choices)


def setting_keys() -> list[str]:
    return [name.upper() for name in Settings.__dataclass_fields__]


def test_readme_starts_with_the_two_commands() -> None:
    first_block = README.split("```")[1]
    assert "make run" in first_block and "make test" in first_block


def test_every_cli_command_documented() -> None:
    for command in cli_commands():
        assert re.search(rf"\| `{command}\b", DOCS), command


def test_every_setting_documented() -> None:
    for key in setting_keys():
        assert f"`{key}`" in DOCS, key
        assert re.search(rf"^(# )?{key}=", ENV_EXAMPLE, re.M), key  # commented: the image's


@pytest.mark.skipif(not SHARED_SAMPLES.is_dir(),
                    reason="../shared/data/bulletins is not beside this clone")  # fmt: skip
def test_the_sample_fixtures_are_the_shared_samples() -> None:
    shared = {p.name: p.read_bytes() for p in SHARED_SAMPLES.glob("*.txt")}
    copies = {p.name: p.read_bytes() for p in SAMPLES.glob("*.txt")}
    assert copies == shared, "copy ../shared/data/bulletins/*.txt to tests/fixtures/samples/"


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_between_the_pages_leads_somewhere() -> None:
    """The README is short and links to docs/: a moved or renamed section breaks no link."""
    for page, text in PAGES.items():
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if target.startswith(("http://", "https://")):
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            assert linked.exists(), f"{page.name}: {target}"
            if anchor and linked.suffix == ".md":
                headings = re.findall(r"^#+ (.+)$", linked.read_text(encoding="utf-8"), re.M)
                assert anchor in {_anchor(h) for h in headings}, f"{page.name}: {target}"


def test_the_readme_starts_small() -> None:
    """The first screen: what Hebdo is, the two commands, a first run, how to deploy; the
    reference (settings, commands, options, figures) is in docs/."""
    assert len(README.splitlines()) <= 100
    assert re.findall(r"^## (.+)$", README, re.M) == ["A first run", "Deploy", "Documentation"]
    assert not re.search(r"\d+(\.\d+)? ?(ms|s|MB|%)\b", README)  # no figures to go stale


def test_the_readmes_deploy_lines_are_the_files() -> None:
    """One line a platform, each what the files hold (the env-file replay, compose and
    systemd tests in test_deploy.py check what they then do)."""
    deploy = README.split("## Deploy", 1)[1].split("##", 1)[0]
    procfile = (ROOT / "Procfile").read_text(encoding="utf-8").strip()
    assert f"`{procfile}`" in deploy
    assert "docker run -d --name hebdo --env-file .env -v hebdo-data:/data" in deploy
    assert (ROOT / "compose.yaml").exists() and "`docker compose up -d`" in deploy
    unit = (ROOT / "deploy" / "hebdo.service").read_text(encoding="utf-8")
    assert "systemctl enable --now hebdo" in unit and "`systemctl enable --now hebdo`" in deploy
    assert "mkdir -p data && sudo chown hebdo:hebdo data" in unit
