"""Logging set-up: stderr, quiet HTTP libraries, and secrets redacted from every record.

The bot token is part of every Bot API URL, so python-telegram-bot's own debug lines and
HTTP error messages can carry it. Besides keeping `httpx` at WARNING, every log record is
rewritten at creation — message, arguments and traceback — so the token can reach no
handler, whatever its level.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"
_NOISY = ("httpx", "httpcore", "telegram.ext.Updater", "apscheduler", "aiohttp.access",
          "aiohttp.client")  # fmt: skip


def install_redaction(secrets: Iterable[str | None]) -> None:
    """Replace these strings with `[redacted]` in every log record from now on."""
    hidden = [s for s in secrets if s]
    if not hidden:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        message = record.getMessage()
        exc_text = "".join(traceback.format_exception(*record.exc_info)) if record.exc_info else ""
        if any(s in message or s in exc_text for s in hidden):
            for secret in hidden:
                message = message.replace(secret, REDACTED)
                exc_text = exc_text.replace(secret, REDACTED)
            record.msg, record.args = message, ()
            if exc_text:
                record.exc_text = exc_text.rstrip("\n")
        return record

    logging.setLogRecordFactory(factory)


def install_excepthook(secrets: Iterable[str | None]) -> None:
    """An uncaught exception is printed with these strings redacted, like a log record."""
    hidden = [s for s in secrets if s]
    if not hidden:
        return

    def hook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        text = "".join(traceback.format_exception(kind, value, tb))
        for secret in hidden:
            text = text.replace(secret, REDACTED)
        sys.stderr.write(text)

    sys.excepthook = hook


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """`text` with these strings replaced by `[redacted]`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message (and the traceback, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info or record.exc_text:
            entry["traceback"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(
    level: str, secrets: Iterable[str | None] = (), json_format: bool = False
) -> None:
    """Log to stderr at `level` (one JSON object a line with `json_format`); HTTP libraries
    at WARNING; `secrets` redacted."""
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    if json_format:
        for handler in logging.getLogger().handlers:
            handler.setFormatter(JsonFormatter())
    logging.getLogger().setLevel(level)
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    secrets = list(secrets)
    install_redaction(secrets)
    install_excepthook(secrets)
