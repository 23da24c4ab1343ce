"""Failures reported to the operator's chat (`ALERT_CHAT_ID`): grouped, rate-limited, and as
free of secrets as the logs (the same redacted records).

A logging handler collects the warnings and errors of Hebdo's own loggers (a feed failing,
a file rejected, a send failing, a crash in a handler); a job sends what it collected, at
most one message every `ALERT_MINUTES`, each kind of problem once with its count.
"""

from __future__ import annotations

import logging
import re
from collections import Counter

from bot.i18n import t
from bot.render import esc, split_blocks

ALERT_MINUTES = 5
MAX_KINDS = 15  # problems named in one report; the rest are counted
_NUMBERS = re.compile(r"\d+")


class AlertCollector(logging.Handler):
    """Keeps the WARNING-and-above records of the `bot` loggers until they are reported."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.kinds: Counter[str] = Counter()
        self.examples: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith("bot") or record.name == "bot.alerts":
            return
        try:
            message = " ".join(record.getMessage().split())[:300]
        except Exception:  # a record that cannot be formatted is still a problem
            message = str(record.msg)[:300]
        kind = f"{record.levelname} {record.name}: {_NUMBERS.sub('N', message)[:120]}"
        self.kinds[kind] += 1
        self.examples.setdefault(kind, message)

    def report(self, language: str) -> list[str]:
        """The grouped report (Telegram HTML parts, in `language`) of what was collected, and
        forget it. The examples are log lines, as the operator would read them in the log."""
        if not self.kinds:
            return []
        total = sum(self.kinds.values())
        blocks = [t(language, "alert_report", n=total, minutes=ALERT_MINUTES)]
        for kind, count in self.kinds.most_common(MAX_KINDS):
            level, _, _ = kind.partition(" ")
            blocks.append(f"• {count}× <i>{esc(level)}</i> {esc(self.examples[kind])}")
        if len(self.kinds) > MAX_KINDS:
            blocks.append(t(language, "alert_more", n=len(self.kinds) - MAX_KINDS))
        self.kinds.clear()
        self.examples.clear()
        return split_blocks(blocks, sep="\n")
