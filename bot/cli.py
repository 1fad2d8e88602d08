"""The command line: `python -m bot run`, `db upgrade`, `publish`, `ingest`, `demo`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from telegram.error import InvalidToken, NetworkError

from bot.app import build_application
from bot.articles import publishing
from bot.logs import configure_logging, redact_uncaught
from bot.runtime.lifecycle import serve_polling
from bot.secrets_check import warn_if_env_file_is_shared
from bot.settings import Settings, SettingsError, load_settings
from newsroom.errors import IngestError
from storage import backup as storage_backup
from storage import migrate
from storage.engine import Database, DatabaseUnavailableError

log = logging.getLogger("bot")

EXIT_USAGE = 2
EXIT_FAILED = 1
# python-telegram-bot's own message quotes the token: this one is printed instead.
TELEGRAM_REFUSED = "Telegram rejected BOT_TOKEN (check the token and TELEGRAM_BASE_URL)"
TRACKING_NEEDS_WEBHOOK = (
    "LINK_TRACKING_URL is set, but only the webhook server (run --webhook) answers tracked "
    "links: while the bot long-polls, cards link straight to the article and clicks are not "
    "counted"
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="A Telegram bot bringing a newsroom's articles, facts and polls to readers.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    run = commands.add_parser("run", help="run the bot (long polling unless --webhook)")
    run.add_argument(
        "--webhook",
        action="store_true",
        help="take updates by webhook (WEBHOOK_URL, WEBHOOK_SECRET, WEBHOOK_LISTEN, WEBHOOK_PORT)",
    )
    db = commands.add_parser("db", help="manage the database schema")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="apply pending migrations")
    down = db_commands.add_parser("downgrade", help="revert migrations down to a revision")
    down.add_argument("revision", help="target revision, e.g. -1 or base")
    db_commands.add_parser("current", help="print the schema revision in the database")
    backup = db_commands.add_parser(
        "backup",
        help="copy the SQLite database to a file while the bot runs (PostgreSQL: pg_dump)",
    )
    backup.add_argument("path", type=Path, help="the backup file to write (replaced)")
    publish = commands.add_parser(
        "publish", help="publish an article to every subscriber (address, .md or .html file)"
    )
    publish.add_argument("source", help="http(s) address, Markdown file or saved HTML page")
    ingest = commands.add_parser(
        "ingest", help="show what would be extracted from an article, storing nothing"
    )
    ingest.add_argument("source", help="http(s) address, Markdown file or saved HTML page")
    demo = commands.add_parser(
        "demo", help="run the bot offline against the emulator with simulated readers; no token"
    )
    demo.add_argument("--readers", type=_positive_int, default=200, help="readers (default 200)")
    demo.add_argument(
        "--seconds", type=float, default=15.0, help="length of the voting phase (default 15)"
    )
    demo.add_argument(
        "--keep", action="store_true", help="keep running afterwards and print the web view URL"
    )
    demo.add_argument("--db", type=Path, help="SQLite file to use (default: a temporary one)")
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _run(settings: Settings, *, use_webhook: bool) -> int:
    if use_webhook and (settings.webhook_url is None or settings.webhook_secret is None):
        print("error: --webhook needs WEBHOOK_URL and WEBHOOK_SECRET", file=sys.stderr)  # noqa: T201
        return EXIT_USAGE
    try:
        asyncio.run(_serve(settings, use_webhook=use_webhook))
    except InvalidToken:
        print(f"error: {TELEGRAM_REFUSED}", file=sys.stderr)  # noqa: T201
        return EXIT_USAGE
    except NetworkError as error:
        # Only getMe gets here (everything after it retries): without it the bot cannot start.
        reason = f"Telegram did not answer at start ({error}); try again later"
        print(f"error: {reason}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


async def _serve(settings: Settings, *, use_webhook: bool) -> None:
    if not use_webhook and settings.link_tracking_url is not None:
        log.warning(TRACKING_NEEDS_WEBHOOK)
        # Nothing would answer the tracked links: cards get links that lead somewhere.
        settings = settings.model_copy(update={"link_tracking_url": None})
    application = build_application(settings, await _open_database(settings))
    if use_webhook:
        # Imported here: aiohttp's web server, which long polling never needs, is slow to load.
        from bot.runtime.webhook import serve_webhook  # noqa: PLC0415

        await serve_webhook(application, settings)
    else:
        await serve_polling(application)


async def _open_database(settings: Settings) -> Database:
    """The database, checked once: DatabaseUnavailableError if it cannot be opened or written."""
    db = Database.connect(settings.database_url)
    try:
        await db.check_open()
    except DatabaseUnavailableError:
        await db.dispose()
        raise
    return db


async def _backup(settings: Settings, path: Path) -> int:
    try:
        size = await storage_backup.backup(settings.database_url, path)
    except storage_backup.BackupNotSupportedError as error:
        print(f"error: {error}", file=sys.stderr)  # noqa: T201
        return EXIT_USAGE
    except OSError as error:
        print(f"error: cannot write the backup {path}: {error.strerror}", file=sys.stderr)  # noqa: T201
        return EXIT_FAILED
    print(f"backed up to {path} ({size} bytes)")  # noqa: T201
    return 0


async def _db(settings: Settings, args: argparse.Namespace) -> int | None:
    if args.db_command == "backup":
        return await _backup(settings, args.path)
    db = await _open_database(settings)
    try:
        if args.db_command == "upgrade":
            await migrate.upgrade(db)
        elif args.db_command == "downgrade":
            await migrate.downgrade(db, args.revision)
        print(f"schema revision: {await migrate.current_revision(db) or 'none'}")  # noqa: T201
    finally:
        await db.dispose()
    return None


async def _publish(settings: Settings, source: str) -> int:
    db = await _open_database(settings)
    try:
        await migrate.prepare_schema(db)
        async with publishing.fetch_client(settings) as client:
            try:
                result = await publishing.publish_source(
                    db, source, settings=settings, client=client
                )
            except IngestError as error:
                print(f"error: {publishing.describe_failure(error)}", file=sys.stderr)  # noqa: T201
                return EXIT_FAILED
    finally:
        await db.dispose()
    # The running bot's delivery engine picks the queued rows up (or does so when it starts).
    print(publishing.describe(result, zone=settings.zone))  # noqa: T201
    return 0


async def _ingest(settings: Settings, source: str) -> int:
    async with publishing.fetch_client(settings) as client:
        try:
            draft = await publishing.read_source(source, settings=settings, client=client)
        except IngestError as error:
            print(f"error: {error}", file=sys.stderr)  # noqa: T201
            return EXIT_FAILED
    print(publishing.preview(draft))  # noqa: T201
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    # python-telegram-bot's future behaviour now: RetryAfter.retry_after is a timedelta.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    args = _parser().parse_args(argv)
    if args.command == "demo":
        # Imported here: the demo pulls in the emulator and rich, which `run` never needs.
        from demo import run as demo  # noqa: PLC0415

        # The demo brings its own token, database and Telegram: it reads no settings.
        options = demo.DemoOptions(
            readers=args.readers, seconds=max(args.seconds, 0.0), keep=args.keep, db_path=args.db
        )
        return demo.main(options)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)  # noqa: T201
        return EXIT_USAGE
    token = settings.bot_token.get_secret_value()
    secrets = [token, token.partition(":")[2]]
    if settings.webhook_secret is not None:
        secrets.append(settings.webhook_secret.get_secret_value())
    configure_logging(settings.log_level_number, secrets=tuple(secrets))
    redact_uncaught(tuple(secrets))
    warn_if_env_file_is_shared()
    actions: dict[str, Callable[[], int | None]] = {
        "run": lambda: _run(settings, use_webhook=args.webhook),
        "db": lambda: asyncio.run(_db(settings, args)),
        "publish": lambda: asyncio.run(_publish(settings, args.source)),
        "ingest": lambda: asyncio.run(_ingest(settings, args.source)),
    }
    try:
        return actions[args.command]() or 0
    except DatabaseUnavailableError as error:
        print(f"error: {error}", file=sys.stderr)  # noqa: T201
        return EXIT_USAGE
