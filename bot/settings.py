"""The bot's settings, read from the environment and `.env`; the names are a public contract."""

from __future__ import annotations

import logging
import re
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Telegram tokens are "<bot id>:<secret>"; anything else is a paste error worth catching at start.
_TOKEN_SHAPE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{10,}$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(Exception):
    """A missing or malformed setting, described in one line that names it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
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
    send_rate_per_second: float = Field(
        default=25.0, gt=0, le=1000, validation_alias="SEND_RATE_PER_SECOND"
    )
    allow_paid_broadcast: bool = Field(default=False, validation_alias="ALLOW_PAID_BROADCAST")

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if not _TOKEN_SHAPE.match(value.get_secret_value()):
            # The value itself is never echoed: it is a secret even when malformed.
            raise ValueError("does not look like a bot token (expected <digits>:<secret>)")
        return value

    @field_validator("telegram_base_url")
    @classmethod
    def _base_url_shape(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
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
