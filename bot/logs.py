"""Logging set-up: one format, quiet HTTP client, and the bot token redacted from every line
and uncaught traceback.

The redaction is also the last resort for what nothing caught: an uncaught exception's traceback
in any thread (sys.excepthook, threading.excepthook). asyncio reports unhandled task errors
through logging, so the formatter already redacts those.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from types import TracebackType

# httpx logs every request URL at INFO, and Bot API URLs contain the token. Alembic announces
# each of its plugins at INFO on every run; the command line prints the schema revision itself.
_NOISY_LOGGERS = ("httpx", "httpcore", "aiosqlite", "alembic")


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """The text with every (non-empty) secret blanked out, longest first."""
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text


class RedactingFormatter(logging.Formatter):
    """Formats a record, traceback included, then blanks out every secret it was given."""

    def __init__(self, fmt: str, secrets: tuple[str, ...]) -> None:
        super().__init__(fmt)
        self._secrets = tuple(s for s in secrets if s)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self._secrets)


def redact_uncaught(secrets: tuple[str, ...]) -> None:
    """Uncaught exceptions, in the main thread or any other, print with the secrets blanked."""

    def print_redacted(
        kind: type[BaseException], error: BaseException, trace: TracebackType | None
    ) -> None:
        text = "".join(traceback.format_exception(kind, error, trace))
        sys.stderr.write(redact(text, secrets))

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        print_redacted(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = print_redacted
    threading.excepthook = thread_hook


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
