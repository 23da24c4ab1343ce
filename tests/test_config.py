from datetime import time
from pathlib import Path

import pytest

from bot.config import ConfigError, from_mapping, load_settings

TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345678"


def test_defaults() -> None:
    s = from_mapping({})
    assert s.database_path == Path("data/hebdo.db")
    assert s.inbox_dir == Path("data/inbox")
    assert s.timezone == "Europe/Paris"
    assert s.default_language == "fr"
    assert s.telegram_bot_token is None
    assert s.telegram_file_base_url == "https://api.telegram.org/file/bot"


def test_every_key_parsed() -> None:
    s = from_mapping(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "ADMIN_IDS": "42, 7;9",
            "DATABASE_PATH": "/tmp/x.db",
            "INBOX_DIR": "/tmp/in",
            "FEED_URLS": "https://a.example/rss http://b.example/atom",
            "POLL_MINUTES": "5",
            "TIMEZONE": "Asia/Kathmandu",
            "DEFAULT_LANGUAGE": "UK",
            "DIGEST_DAY": "sunday",
            "DIGEST_TIME": "7:30",
            "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/bot",
            "MAX_BULLETIN_BYTES": "1_000",
            "FEED_TIMEOUT_SECONDS": "2.5",
            "LOG_LEVEL": "debug",
            "EMPTY_DIGEST_NOTICE": "yes",
            "ALERT_CHAT_ID": "-1001234",
            "LOG_FORMAT": "JSON",
        }
    )
    assert s.alert_chat_id == -1001234
    assert s.log_format == "json"
    assert s.empty_digest_notice is True
    assert s.admin_ids == {42, 7, 9}
    assert s.feed_urls == ("https://a.example/rss", "http://b.example/atom")
    assert s.poll_minutes == 5
    assert s.default_language == "uk"
    assert s.digest_day == 6
    assert s.digest_time == time(7, 30)
    assert s.telegram_file_base_url == "http://127.0.0.1:8081/file/bot"
    assert s.max_bulletin_bytes == 1000
    assert s.feed_timeout_seconds == 2.5
    assert s.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("TELEGRAM_BOT_TOKEN", "not-a-token"),
        ("ADMIN_IDS", "42,bob"),
        ("FEED_URLS", "ftp://x.example/feed"),
        ("POLL_MINUTES", "0"),
        ("POLL_MINUTES", "ten"),
        ("TIMEZONE", "Mars/Olympus"),
        ("DEFAULT_LANGUAGE", "de"),
        ("DIGEST_DAY", "someday"),
        ("DIGEST_TIME", "25:00"),
        ("TELEGRAM_API_BASE_URL", "127.0.0.1:8081/bot"),
        ("MAX_BULLETIN_BYTES", "-1"),
        ("FEED_TIMEOUT_SECONDS", "0"),
        ("LOG_LEVEL", "LOUD"),
        ("EMPTY_DIGEST_NOTICE", "maybe"),
        ("ALERT_CHAT_ID", "@ops"),
        ("LOG_FORMAT", "xml"),
        ("CATCH_UP_HOURS", "inf"),
        ("CATCH_UP_HOURS", "nan"),
        ("FEED_TIMEOUT_SECONDS", "1e300"),
        ("SEND_RATE", "1e9"),
        ("SEARCH_HALF_LIFE_DAYS", "-inf"),
    ],
)
def test_bad_value_names_the_key(key: str, value: str) -> None:
    with pytest.raises(ConfigError) as err:
        from_mapping({key: value})
    assert err.value.key == key
    assert str(err.value).startswith(f"{key}: ")
    assert "\n" not in str(err.value)


def test_env_file_is_read_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = tmp_path / ".env"
    env.write_text("POLL_MINUTES=7\nDEFAULT_LANGUAGE=en\n# comment\n", encoding="utf-8")
    monkeypatch.delenv("POLL_MINUTES", raising=False)
    monkeypatch.setenv("DEFAULT_LANGUAGE", "uk")
    s = load_settings(env)
    assert s.poll_minutes == 7
    assert s.default_language == "uk"


def test_token_never_in_repr() -> None:
    s = from_mapping({"TELEGRAM_BOT_TOKEN": TOKEN})
    assert TOKEN not in repr(s)
    assert TOKEN.split(":")[1] not in str(s)
