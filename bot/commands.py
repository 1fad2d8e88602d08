"""The command menus Telegram shows: one for readers, a longer one in each admin's private chat."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

log = logging.getLogger(__name__)

READER_COMMANDS = (
    BotCommand("start", "Welcome and what this bot does"),
    BotCommand("latest", "The newest article"),
    BotCommand("subscribe", "Get new articles in this chat"),
    BotCommand("unsubscribe", "Stop getting articles here"),
    BotCommand("autocards", "Groups: cards for our article links posted here (on/off)"),
    BotCommand("help", "What I can do"),
)
ADMIN_COMMANDS = (
    *READER_COMMANDS,
    BotCommand("publish", "Publish an article: /publish <address>, or reply to a .md file"),
    BotCommand("broadcast", "Message every subscriber: /broadcast <text>, or reply to a message"),
    BotCommand("cancel", "Stop the running broadcast"),
    BotCommand("queue", "What is scheduled, with Cancel buttons"),
    BotCommand("stats", "Subscribers, articles, deliveries and votes"),
    BotCommand("closepoll", "Close a poll: /closepoll <poll id>"),
    BotCommand("results", "A poll's results: /results <poll id>"),
    BotCommand("share", "An article's deep link and inline card: /share <article id>"),
)


async def publish_command_menus(bot: Bot, admin_ids: Iterable[int]) -> None:
    await bot.set_my_commands(READER_COMMANDS, scope=BotCommandScopeDefault())
    for admin_id in sorted(admin_ids):
        try:
            await bot.set_my_commands(ADMIN_COMMANDS, scope=BotCommandScopeChat(admin_id))
        except TelegramError as error:
            # An admin who never opened a chat with the bot has no chat to scope a menu to yet.
            log.warning("admin menu not set for %s: %s", admin_id, error)
