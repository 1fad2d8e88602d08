"""Logging set-up: one format, quiet HTTP client, and the bot token redacted from every line."""

from __future__ import annotations

import logging
import sys

# httpx logs every request URL at INFO, and Bot API URLs contain the token.
_NOISY_LOGGERS = ("httpx", "httpcore", "aiosqlite", "apscheduler")


class RedactingFormatter(logging.Formatter):
    """Formats a record, traceback included, then blanks out every secret it was given."""

    def __init__(self, fmt: str, secrets: tuple[str, ...]) -> None:
        super().__init__(fmt)
        self._secrets = tuple(s for s in secrets if s)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text


def configure_logging(level: int, *, secrets: tuple[str, ...] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
