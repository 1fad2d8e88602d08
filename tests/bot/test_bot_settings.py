"""Settings parsing and the token's secrecy in logs (pure: no network)."""

from __future__ import annotations

import io
import logging
import re
import secrets
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.logs import RedactingFormatter
from bot.secrets_check import warn_if_env_file_is_shared
from bot.settings import Settings, describe_error

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "4242:secret-part-of-the-token"


def test_defaults_match_the_documented_contract() -> None:
    """Unset settings take the defaults that .env.example documents."""
    settings = Settings(_env_file=None, bot_token=TOKEN)
    assert settings.telegram_base_url == "https://api.telegram.org/bot"
    assert settings.database_url == "sqlite+aiosqlite:///data/bot.db"
    assert settings.admin_ids == frozenset()
    assert (settings.log_level, settings.timezone) == ("INFO", "UTC")


def test_env_example_documents_every_setting() -> None:
    """Every setting's environment name appears in .env.example."""
    documented = (ROOT / ".env.example").read_text()
    for field in Settings.model_fields.values():
        assert f"{field.validation_alias}=" in documented


def test_env_example_copied_as_it_is_loads_with_a_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cp .env.example .env` and a token filled in gives the defaults for every blank line."""
    example = (ROOT / ".env.example").read_text()
    env_file = tmp_path / ".env"
    env_file.write_text(example.replace("BOT_TOKEN=\n", f"BOT_TOKEN={TOKEN}\n", 1))
    for field in Settings.model_fields.values():
        monkeypatch.delenv(str(field.validation_alias), raising=False)
    settings = Settings(_env_file=env_file)
    assert settings.webhook_url is None
    assert settings.webhook_secret is None
    assert settings.admin_ids == frozenset()
    assert settings.feeds == ()


def test_sections_are_comma_separated_and_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    """SECTIONS is split on commas, each name case folded with its spaces collapsed, once."""
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SECTIONS", " World  News, Sport,,sport , CULTURE")
    assert Settings(_env_file=None).sections == ("world news", "sport", "culture")


def test_admin_ids_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    """ADMIN_IDS from the environment is split on commas, blanks ignored."""
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("ADMIN_IDS", " 10, 20,,30 ")
    settings = Settings(_env_file=None)
    assert settings.admin_ids == frozenset({10, 20, 30})
    assert settings.is_admin(20)
    assert not settings.is_admin(None)


def test_the_token_is_not_in_the_settings_repr() -> None:
    """Printing the settings never shows the token."""
    settings = Settings(_env_file=None, bot_token=TOKEN)
    assert "secret-part" not in repr(settings)
    assert "secret-part" not in str(settings.model_dump())


def test_a_malformed_token_is_not_echoed() -> None:
    """The error for a malformed token names the setting but not its value."""
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, bot_token="oops this is my password")
    line = describe_error(caught.value)
    assert line.startswith("BOT_TOKEN is invalid")
    assert "password" not in line


def test_formatter_redacts_the_token_in_messages_and_tracebacks() -> None:
    """A log line or traceback that contains the token shows [redacted] instead."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter("%(message)s", (TOKEN,)))
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/getMe failed")
    except RuntimeError:
        logger.exception("request to /bot%s/sendMessage failed", TOKEN)
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert TOKEN not in output
    assert output.count("[redacted]") == 2


def test_a_dotenv_readable_by_others_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A .env readable by group or others gets a warning naming the fix; a private one does not."""
    env_file = tmp_path / ".env"
    env_file.write_text(f"BOT_TOKEN={TOKEN}\n")
    env_file.chmod(0o600)
    with caplog.at_level(logging.WARNING):
        assert not warn_if_env_file_is_shared(env_file)
    assert caplog.records == []
    env_file.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        assert warn_if_env_file_is_shared(env_file)
    assert "chmod 600" in caplog.text
    assert TOKEN not in caplog.text
    assert not warn_if_env_file_is_shared(tmp_path / "missing.env")


_SECRET_RULE = (
    "WEBHOOK_SECRET is invalid: must be 32-256 characters of A-Z, a-z, 0-9, _ and - "
    '(make one with: python -c "import secrets; print(secrets.token_urlsafe(32))")'
)


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("x", id="one-character"),
        pytest.param("a" * 31, id="31-characters"),
        pytest.param("a" * 257, id="257-characters"),
        pytest.param("a" * 40 + "!", id="outside-the-alphabet"),
        pytest.param("a" * 40 + "\n", id="trailing-newline"),
    ],
)
def test_a_short_or_malformed_webhook_secret_is_refused_with_how_to_make_one(secret: str) -> None:
    """WEBHOOK_SECRET needs 32-256 characters of Telegram's alphabet; the error says how to
    make one and does not echo the value."""
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, bot_token=TOKEN, webhook_secret=secret)
    assert describe_error(caught.value) == _SECRET_RULE


def test_a_webhook_secret_made_as_the_error_says_is_accepted() -> None:
    """The secret the error message's command makes, and the longest Telegram takes, are fine."""
    for secret in (secrets.token_urlsafe(32), "a" * 32, "A-z_9" * 51 + "x"):
        settings = Settings(_env_file=None, bot_token=TOKEN, webhook_secret=secret)
        assert settings.webhook_secret is not None
        assert settings.webhook_secret.get_secret_value() == secret


@pytest.mark.parametrize("name", ["README.md", ".env.example"])
def test_the_documented_example_token_is_accepted(name: str) -> None:
    """Every example token a new user reads in the README and .env.example passes the bot's own
    check, so copying its shape never ends in "does not look like a bot token"."""
    examples = re.findall(r"\b\d+:[A-Za-z0-9_-]{20,}", (ROOT / name).read_text(encoding="utf-8"))

    assert examples
    for example in examples:
        assert Settings(_env_file=None, bot_token=example).bot_token.get_secret_value() == example


def test_a_malformed_token_error_says_what_a_token_looks_like() -> None:
    """A token like 123:abc is refused with the shape @BotFather gives: digits, a colon, 35."""
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, bot_token="123:abc")
    assert "<digits>:<35 characters>" in describe_error(caught.value)
