"""The bot's settings, read from the environment and `.env`; the names are a public contract."""

from __future__ import annotations

import logging
import re
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from newsroom.sections import section_names

# Telegram tokens are "<bot id>:<secret>"; anything else is a paste error worth catching at start.
_TOKEN_SHAPE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{10,}$")
# Telegram's alphabet for the secret it echoes in X-Telegram-Bot-Api-Secret-Token (up to 256
# characters); at least 32 of them, so that guessing it is out of reach.
_WEBHOOK_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,256}")
_HOW_TO_MAKE_ONE = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_WEB_ADDRESS = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.IGNORECASE)
_HOST_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# A tracked link's base: https, a host, an optional path; its own query or fragment would end up
# in the middle of every tracked link.
_TRACKING_BASE = re.compile(r"https://[^\s/?#@]+(?:/[^\s?#]*)?", re.IGNORECASE)
_HOSTNAME = re.compile(rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})*")


class SettingsError(Exception):
    """A missing or malformed setting, described in one line that names it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        # `.env.example` copied as it is leaves settings blank: blank means "the default".
        env_ignore_empty=True,
        frozen=True,
        populate_by_name=True,
    )

    bot_token: SecretStr = Field(validation_alias="BOT_TOKEN")
    telegram_base_url: str = Field(
        default="https://api.telegram.org/bot", validation_alias="TELEGRAM_BASE_URL"
    )
    database_url: str = Field(
        default="sqlite+aiosqlite:///data/bot.db", validation_alias="DATABASE_URL"
    )
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(
        default=frozenset(), validation_alias="ADMIN_IDS"
    )
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")
    timezone: str = Field(default="UTC", validation_alias="TIMEZONE")
    webhook_url: str | None = Field(default=None, validation_alias="WEBHOOK_URL")
    webhook_secret: SecretStr | None = Field(default=None, validation_alias="WEBHOOK_SECRET")
    webhook_listen: str = Field(default="127.0.0.1", validation_alias="WEBHOOK_LISTEN")
    webhook_port: int = Field(default=8443, ge=1, le=65535, validation_alias="WEBHOOK_PORT")
    send_rate_per_second: float = Field(
        default=25.0, gt=0, le=1000, validation_alias="SEND_RATE_PER_SECOND"
    )
    allow_paid_broadcast: bool = Field(default=False, validation_alias="ALLOW_PAID_BROADCAST")
    # Poll messages are edited at most once per this many seconds each (3 s: 20 a minute).
    poll_edit_interval: float = Field(
        default=3.0, ge=0.5, le=3600, validation_alias="POLL_EDIT_INTERVAL"
    )
    # A second tap on the option just chosen, this soon, is a double tap rather than a retraction.
    poll_double_tap_window: float = Field(
        default=1.0, ge=0, le=10, validation_alias="POLL_DOUBLE_TAP_WINDOW"
    )
    # More than TAP_LIMIT taps by one reader on one poll in TAP_WINDOW seconds: "slow down".
    tap_limit: int = Field(default=5, ge=1, le=100, validation_alias="TAP_LIMIT")
    tap_window: float = Field(default=3.0, gt=0, le=60, validation_alias="TAP_WINDOW")
    feeds: Annotated[tuple[str, ...], NoDecode] = Field(default=(), validation_alias="FEEDS")
    feed_interval: float = Field(default=600.0, ge=30, validation_alias="FEED_INTERVAL")
    summary_sentences: int = Field(default=3, ge=1, le=20, validation_alias="SUMMARY_SENTENCES")
    fetch_max_bytes: int = Field(default=5_000_000, gt=0, validation_alias="FETCH_MAX_BYTES")
    fetch_timeout: float = Field(default=10.0, gt=0, le=300, validation_alias="FETCH_TIMEOUT")
    # Pages and feeds on loopback or private addresses (an intranet CMS) are refused unless set.
    fetch_allow_private: bool = Field(default=False, validation_alias="FETCH_ALLOW_PRIVATE")
    # Sites whose links posted in autocard groups are ingested when the bot does not know them.
    autocard_sites: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), validation_alias="AUTOCARD_SITES"
    )
    # Pages read for autocards (fetches, not links already known): per reader and per group in
    # AUTOCARD_READS_WINDOW seconds, and at most AUTOCARD_READS_AT_ONCE at the same time.
    autocard_reads_per_reader: int = Field(
        default=5, ge=1, le=1000, validation_alias="AUTOCARD_READS_PER_READER"
    )
    autocard_reads_per_group: int = Field(
        default=20, ge=1, le=10_000, validation_alias="AUTOCARD_READS_PER_GROUP"
    )
    autocard_reads_window: float = Field(
        default=600.0, gt=0, le=86_400, validation_alias="AUTOCARD_READS_WINDOW"
    )
    autocard_reads_at_once: int = Field(
        default=4, ge=1, le=64, validation_alias="AUTOCARD_READS_AT_ONCE"
    )
    # A link whose page could not be read is not read again for this many seconds.
    autocard_retry_after: float = Field(
        default=600.0, ge=0, le=86_400, validation_alias="AUTOCARD_RETRY_AFTER"
    )
    # Cards' "Read the full article" goes through <LINK_TRACKING_URL>/r/<code>, which the webhook
    # server counts and redirects; unset, links go straight to the article.
    link_tracking_url: str | None = Field(default=None, validation_alias="LINK_TRACKING_URL")
    # Article links carry utm_source, utm_medium (the kind of chat) and utm_campaign (the slug).
    link_utm: bool = Field(default=False, validation_alias="LINK_UTM")
    # The sections readers choose from in /settings (normalised); unset: recent articles' topics.
    sections: Annotated[tuple[str, ...], NoDecode] = Field(default=(), validation_alias="SECTIONS")

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if not _TOKEN_SHAPE.match(value.get_secret_value()):
            # The value itself is never echoed: it is a secret even when malformed.
            raise ValueError(
                "does not look like a bot token: @BotFather gives <digits>:<35 characters>, "
                "e.g. 123456789:AAF... (letters, digits, _ and - after the colon)"
            )
        return value

    @field_validator("telegram_base_url")
    @classmethod
    def _base_url_shape(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url_shape(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be the public http(s) URL Telegram posts updates to")
        return value

    @field_validator("link_tracking_url")
    @classmethod
    def _tracking_url_shape(cls, value: str | None) -> str | None:
        if value is None:
            return None
        base = value.strip().rstrip("/")
        if not _TRACKING_BASE.fullmatch(base):
            raise ValueError(
                "must be a public https address without query or fragment, "
                "e.g. https://news.example.com/go (links become <it>/r/<code>)"
            )
        return base

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _WEBHOOK_SECRET_SHAPE.fullmatch(value.get_secret_value()):
            # The value itself is never echoed, as for the token.
            raise ValueError(
                f"must be 32-256 characters of A-Z, a-z, 0-9, _ and - (make one with: "
                f"{_HOW_TO_MAKE_ONE})"
            )
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        ids: set[int] = set()
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            if not re.fullmatch(r"-?\d+", part):
                raise ValueError(f"{part!r} is not a Telegram user id (comma-separated numbers)")
            ids.add(int(part))
        return frozenset(ids)

    @field_validator("feeds", mode="before")
    @classmethod
    def _split_feeds(cls, value: object) -> object:
        parts = value.split(",") if isinstance(value, str) else value
        if not isinstance(parts, (list, tuple)):
            return value
        feeds: list[str] = []
        for part in (str(p).strip() for p in parts):
            if not part:
                continue
            if not _WEB_ADDRESS.match(part):
                raise ValueError(f"{part!r} is not an http(s) feed address (comma-separated)")
            if part not in feeds:
                feeds.append(part)
        return tuple(feeds)

    @field_validator("autocard_sites", mode="before")
    @classmethod
    def _split_sites(cls, value: object) -> object:
        parts = value.split(",") if isinstance(value, str) else value
        if not isinstance(parts, (list, tuple)):
            return value
        sites: list[str] = []
        for part in (str(p).strip().lower().rstrip(".") for p in parts):
            if not part:
                continue
            if not _HOSTNAME.fullmatch(part):
                raise ValueError(f"{part!r} is not a hostname like news.example.com")
            if part not in sites:
                sites.append(part)
        return tuple(sites)

    @field_validator("sections", mode="before")
    @classmethod
    def _split_sections(cls, value: object) -> object:
        parts = value.split(",") if isinstance(value, str) else value
        if not isinstance(parts, (list, tuple)):
            return value
        return section_names(str(part) for part in parts)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in _LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(_LOG_LEVELS)}")
        return level

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name like Europe/Berlin)"
            ) from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def telegram_file_url(self) -> str:
        """Where the Bot API serves file downloads: `/file` inserted before the last segment."""
        root, _, last = self.telegram_base_url.rstrip("/").rpartition("/")
        return f"{root}/file/{last}"

    @property
    def log_level_number(self) -> int:
        return logging.getLevelNamesMapping()[self.log_level]

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.admin_ids


def describe_error(error: ValidationError) -> str:
    """One line naming the first bad setting by its environment name and what is wrong."""
    first = error.errors()[0]
    name = str(first["loc"][0]) if first["loc"] else "settings"
    field = Settings.model_fields.get(name)
    if field is not None and isinstance(field.validation_alias, str):
        name = field.validation_alias
    if first["type"] == "missing":
        return f"{name} is required but not set (see .env.example)"
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{name} is invalid: {message}"


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError(describe_error(error)) from None
