"""Documentation drift: every CLI command and every setting is documented."""

from __future__ import annotations

import argparse
import re

import pytest

from bot.cli import build_parser
from bot.config import Settings
from tests.conftest import ROOT, SAMPLES, SHARED_SAMPLES

README = (ROOT / "README.md").read_text(encoding="utf-8")
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


def test_every_cli_command_in_readme() -> None:
    for command in cli_commands():
        assert re.search(rf"\| `{command}\b", README), command


def test_every_setting_documented() -> None:
    for key in setting_keys():
        assert f"`{key}`" in README, key
        assert re.search(rf"^(# )?{key}=", ENV_EXAMPLE, re.M), key  # commented: the image's


@pytest.mark.skipif(not SHARED_SAMPLES.is_dir(),
                    reason="../shared/data/bulletins is not beside this clone")  # fmt: skip
def test_the_sample_fixtures_are_the_shared_samples() -> None:
    shared = {p.name: p.read_bytes() for p in SHARED_SAMPLES.glob("*.txt")}
    copies = {p.name: p.read_bytes() for p in SAMPLES.glob("*.txt")}
    assert copies == shared, "copy ../shared/data/bulletins/*.txt to tests/fixtures/samples/"
