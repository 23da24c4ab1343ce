"""Settings: read once from the environment (and `.env`) into a frozen, typed object."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from bot.languages import READER_LANGUAGES

LANGUAGES = READER_LANGUAGES
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"


class ConfigError(ValueError):
    """A setting has a bad value; the message names the key."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key


@dataclass(frozen=True)
class Settings:
    """Everything the process needs to know, parsed and validated."""

    telegram_bot_token: str | None = None
    admin_ids: frozenset[int] = frozenset()
    database_path: Path = Path("data/hebdo.db")
    inbox_dir: Path = Path("data/inbox")
    feed_urls: tuple[str, ...] = ()
    poll_minutes: int = 15
    timezone: str = "Europe/Paris"
    default_language: str = "fr"
    digest_day: int = 5  # 0 = Monday … 6 = Sunday
    digest_time: time = time(9, 0)
    telegram_api_base_url: str = DEFAULT_API_BASE_URL
    max_bulletin_bytes: int = 2_000_000
    feed_timeout_seconds: float = 20.0
    summary_items: int | None = None  # None: as the topics and facts call for, up to 10
    variants_file: Path = Path("data/variants.txt")
    send_rate: float = 29.4  # messages/s overall: Telegram's 30, less 2 % for network jitter
    send_concurrency: int = 32  # requests in flight at once (what a crash may send twice)
    catch_up_hours: float = 6.0  # a digest slot missed by less than this is still sent
    empty_digest_notice: bool = False  # a week with nothing new: a short note instead of silence
    digest_length: str = "normal"  # short (5 stories), normal (10), long (20): a chat may change it
    alert_chat_id: int | None = None  # a chat (or user) told of failures, grouped
    console_database_path: Path = Path("data/console.db")  # the offline console's own file
    console_samples: Path | None = None  # a folder of bulletins the console loads at start
    search_half_life_days: float = 90.0
    log_level: str = "INFO"
    log_format: str = "text"  # or "json": one JSON object a line
    webhook_url: str | None = None  # set: Telegram posts updates there instead of long polling
    webhook_secret: str | None = None  # required with webhook_url; checked on every request
    http_listen: str = "0.0.0.0"  # the webhook's and /healthz's address
    http_port: int | None = None  # None: no HTTP server (polling without /healthz)

    @property
    def mode(self) -> str:
        """ "webhook" or "long polling"."""
        return "webhook" if self.webhook_url else "long polling"

    @property
    def serves_http(self) -> bool:
        """Whether the process listens for HTTP (the webhook, /healthz)."""
        return self.webhook_url is not None or self.http_port is not None

    @property
    def tz(self) -> ZoneInfo:
        """The configured time zone as a `ZoneInfo`."""
        return ZoneInfo(self.timezone)

    @property
    def telegram_file_base_url(self) -> str:
        """The file-download base URL derived from the API base URL."""
        return file_base_url(self.telegram_api_base_url)

    def __repr__(self) -> str:  # never show the token
        token = "set" if self.telegram_bot_token else "unset"
        return f"Settings(token={token}, database_path={str(self.database_path)!r})"


def file_base_url(api_base_url: str) -> str:
    """`https://host/bot` → `https://host/file/bot`, as the Bot API lays out file URLs."""
    head, _, last = api_base_url.rstrip("/").rpartition("/")
    return f"{head}/file/{last}"


def _int(key: str, raw: str, minimum: int, maximum: int | None = None) -> int:
    try:
        value = int(raw.strip().replace("_", ""))
    except ValueError:
        raise ConfigError(key, f"expected a whole number, got {raw!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and at most {maximum}" if maximum is not None else ""
        raise ConfigError(key, f"must be at least {minimum}{upper}, got {value}")
    return value


def _admin_ids(raw: str) -> frozenset[int]:
    ids = set()
    for part in re.split(r"[,\s;]+", raw.strip()):
        if not part:
            continue
        if not re.fullmatch(r"-?\d+", part):
            raise ConfigError("ADMIN_IDS", f"expected numeric Telegram user ids, got {part!r}")
        ids.add(int(part))
    return frozenset(ids)


def _url(key: str, raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(key, f"expected an http(s) URL, got {raw!r}")
    return raw


def _day(raw: str) -> int:
    value = raw.strip().lower()[:3]
    if value.isdigit() and 1 <= int(value) <= 7:
        return int(value) - 1
    if value in DAYS:
        return DAYS.index(value)
    raise ConfigError("DIGEST_DAY", f"expected mon…sun or 1…7, got {raw!r}")


def _time(raw: str) -> time:
    match = re.fullmatch(r"\s*(\d{1,2})(?::(\d{2}))?\s*", raw)
    if not match or int(match[1]) > 23 or int(match[2] or 0) > 59:
        raise ConfigError("DIGEST_TIME", f"expected HH:MM (24-hour), got {raw!r}")
    return time(int(match[1]), int(match[2] or 0))


def _zone(raw: str) -> str:
    try:
        ZoneInfo(raw.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("TIMEZONE", f"unknown IANA time zone {raw!r}") from None
    return raw.strip()


def _bool(key: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(key, f"expected true or false, got {raw!r}")


def _positive_float(key: str, raw: str, maximum: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(key, f"expected a number, got {raw!r}") from None
    if not 0 < value <= maximum:  # also refuses nan and inf
        raise ConfigError(key, f"must be greater than 0 and at most {maximum:g}, got {raw!r}")
    return value


def from_mapping(env: Mapping[str, str]) -> Settings:
    """Build `Settings` from a flat mapping of environment variables."""

    def get(key: str) -> str | None:
        value = env.get(key)
        return value if value is not None and value.strip() != "" else None

    kwargs: dict[str, object] = {}
    if (token := get("TELEGRAM_BOT_TOKEN")) is not None:
        if not re.fullmatch(r"\d+:[\w-]{20,}", token.strip()):
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN", "does not look like a bot token from @BotFather"
            )
        kwargs["telegram_bot_token"] = token.strip()
    if (raw := get("ADMIN_IDS")) is not None:
        kwargs["admin_ids"] = _admin_ids(raw)
    if (raw := get("DATABASE_PATH")) is not None:
        kwargs["database_path"] = Path(raw.strip())
    if (raw := get("INBOX_DIR")) is not None:
        kwargs["inbox_dir"] = Path(raw.strip())
    if (raw := get("FEED_URLS")) is not None:
        urls = [u for u in re.split(r"[,\s]+", raw.strip()) if u]
        kwargs["feed_urls"] = tuple(_url("FEED_URLS", u) for u in urls)
    if (raw := get("POLL_MINUTES")) is not None:
        kwargs["poll_minutes"] = _int("POLL_MINUTES", raw, 1, 7 * 24 * 60)
    if (raw := get("TIMEZONE")) is not None:
        kwargs["timezone"] = _zone(raw)
    if (raw := get("DEFAULT_LANGUAGE")) is not None:
        if raw.strip().lower() not in LANGUAGES:
            raise ConfigError("DEFAULT_LANGUAGE", f"expected one of {', '.join(LANGUAGES)}")
        kwargs["default_language"] = raw.strip().lower()
    if (raw := get("DIGEST_DAY")) is not None:
        kwargs["digest_day"] = _day(raw)
    if (raw := get("DIGEST_TIME")) is not None:
        kwargs["digest_time"] = _time(raw)
    if (raw := get("TELEGRAM_API_BASE_URL")) is not None:
        kwargs["telegram_api_base_url"] = _url("TELEGRAM_API_BASE_URL", raw.strip())
    if (raw := get("MAX_BULLETIN_BYTES")) is not None:
        kwargs["max_bulletin_bytes"] = _int("MAX_BULLETIN_BYTES", raw, 1)
    if (raw := get("FEED_TIMEOUT_SECONDS")) is not None:
        kwargs["feed_timeout_seconds"] = _positive_float("FEED_TIMEOUT_SECONDS", raw, 300)
    if (raw := get("DIGEST_LENGTH")) is not None:
        if raw.strip().lower() not in ("short", "normal", "long"):
            raise ConfigError("DIGEST_LENGTH", "expected short, normal or long")
        kwargs["digest_length"] = raw.strip().lower()
    if (raw := get("SUMMARY_ITEMS")) is not None and raw.strip().lower() != "auto":
        kwargs["summary_items"] = _int("SUMMARY_ITEMS", raw, 1, 20)
    if (raw := get("VARIANTS_FILE")) is not None:
        kwargs["variants_file"] = Path(raw.strip())
    if (raw := get("SEARCH_HALF_LIFE_DAYS")) is not None:
        kwargs["search_half_life_days"] = _positive_float("SEARCH_HALF_LIFE_DAYS", raw, 36_500)
    if (raw := get("SEND_RATE")) is not None:
        kwargs["send_rate"] = _positive_float("SEND_RATE", raw, 1000)
    if (raw := get("SEND_CONCURRENCY")) is not None:
        kwargs["send_concurrency"] = _int("SEND_CONCURRENCY", raw, 1, 256)
    if (raw := get("CATCH_UP_HOURS")) is not None:
        kwargs["catch_up_hours"] = _positive_float("CATCH_UP_HOURS", raw, 24 * 7)
    if (raw := get("ALERT_CHAT_ID")) is not None:
        if not re.fullmatch(r"-?\d{1,19}", raw.strip()):
            raise ConfigError("ALERT_CHAT_ID", f"expected a numeric chat id, got {raw!r}")
        kwargs["alert_chat_id"] = int(raw.strip())
    if (raw := get("CONSOLE_DATABASE_PATH")) is not None:
        kwargs["console_database_path"] = Path(raw.strip())
    if (raw := get("CONSOLE_SAMPLES")) is not None:
        kwargs["console_samples"] = Path(raw.strip())
    if (raw := get("EMPTY_DIGEST_NOTICE")) is not None:
        kwargs["empty_digest_notice"] = _bool("EMPTY_DIGEST_NOTICE", raw)
    if (raw := get("LOG_FORMAT")) is not None:
        if raw.strip().lower() not in ("text", "json"):
            raise ConfigError("LOG_FORMAT", f"expected text or json, got {raw!r}")
        kwargs["log_format"] = raw.strip().lower()
    if (raw := get("WEBHOOK_URL")) is not None:
        url = _url("WEBHOOK_URL", raw.strip())
        if not url.startswith("https://"):
            raise ConfigError("WEBHOOK_URL", "Telegram only posts to https:// addresses")
        kwargs["webhook_url"] = url
        secret = get("WEBHOOK_SECRET")
        if secret is None or not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", secret.strip()):
            raise ConfigError(
                "WEBHOOK_SECRET",
                "needed with WEBHOOK_URL: 16 to 256 characters among A-Z, a-z, 0-9, _ and -",
            )
        kwargs["webhook_secret"] = secret.strip()
        kwargs["http_port"] = 8080
    if (raw := get("HTTP_LISTEN")) is not None:
        kwargs["http_listen"] = raw.strip()
    if (raw := get("HTTP_PORT")) is not None:
        kwargs["http_port"] = _int("HTTP_PORT", raw, 1, 65535)
    if (raw := get("LOG_LEVEL")) is not None:
        level = raw.strip().upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ConfigError("LOG_LEVEL", f"expected DEBUG, INFO, WARNING or ERROR, got {raw!r}")
        kwargs["log_level"] = level
    return Settings(**kwargs)  # type: ignore[arg-type]


def _check_utf8(path: Path) -> None:
    """A settings file must be UTF-8: else a ConfigError naming it and its first bad line."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(str(path), f"line {line} is not UTF-8; save the file as UTF-8") from None


def load_settings(env_file: str | Path | None = ".env") -> Settings:
    """Read `.env` (if present) under the process environment, which wins."""
    merged: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        _check_utf8(Path(env_file))
        merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    merged.update(os.environ)
    return from_mapping(merged)
