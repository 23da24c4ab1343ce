"""The suite's own guarantee: a test whose code reads the wall clock to decide something is
marked `wall_clock` and played at every frozen moment, or it fails loudly."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = Path(__file__).resolve().parent / "conftest.py"

READS = """
import pytest
from bot.ingest.parse import published_at
from storage.bulletins import now_iso


def test_reads_unmarked():
    assert published_at("untitled.txt", None)  # "now" decides the bulletin's week


@pytest.mark.wall_clock
def test_reads_marked():
    assert published_at("untitled.txt", None)


def test_only_stamps():
    assert now_iso()  # when a row was written: decides nothing a test sees
"""


def test_a_test_that_reads_the_clock_unmarked_fails_loudly(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(CONFTEST.parents[1]))  # devtools/ is not installed
    pytester.makeini("[pytest]\nasyncio_mode = auto\n")
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8"))
    pytester.makepyfile(test_reads=READS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA")
    # the marked one at the real clock and at the five frozen moments; the stamp passes
    result.assert_outcomes(passed=8, errors=1)  # the unmarked one fails at teardown
    result.stdout.fnmatch_lines(["*read the wall clock at bot.ingest.parse:*"])
    result.stdout.fnmatch_lines(["*test_reads_marked?dst-autumn?*"])
