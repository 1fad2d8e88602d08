"""The command line: `python -m bot run`, `python -m bot db upgrade`, and friends."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Sequence

from telegram import Update

from bot.app import build_application
from bot.logs import configure_logging
from bot.settings import Settings, SettingsError, load_settings
from storage import migrate
from storage.engine import Database

log = logging.getLogger("bot")

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="A Telegram bot bringing a newsroom's articles, facts and polls to readers.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    commands.add_parser("run", help="run the bot with long polling")
    db = commands.add_parser("db", help="manage the database schema")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="apply pending migrations")
    down = db_commands.add_parser("downgrade", help="revert migrations down to a revision")
    down.add_argument("revision", help="target revision, e.g. -1 or base")
    db_commands.add_parser("current", help="print the schema revision in the database")
    return parser


def _run(settings: Settings) -> None:
    application = build_application(settings, Database.connect(settings.database_url))
    application.run_polling(allowed_updates=Update.ALL_TYPES)


async def _db(settings: Settings, args: argparse.Namespace) -> None:
    db = Database.connect(settings.database_url)
    try:
        if args.db_command == "upgrade":
            await migrate.upgrade(db)
        elif args.db_command == "downgrade":
            await migrate.downgrade(db, args.revision)
        print(f"schema revision: {await migrate.current_revision(db) or 'none'}")  # noqa: T201
    finally:
        await db.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    # python-telegram-bot's future behaviour now: RetryAfter.retry_after is a timedelta.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)  # noqa: T201
        return EXIT_USAGE
    token = settings.bot_token.get_secret_value()
    configure_logging(settings.log_level_number, secrets=(token, token.partition(":")[2]))
    actions: dict[str, Callable[[], None]] = {
        "run": lambda: _run(settings),
        "db": lambda: asyncio.run(_db(settings, args)),
    }
    actions[args.command]()
    return 0
