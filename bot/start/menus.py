"""The command menus Telegram shows: one for readers, a longer one in each admin's private chat."""

from __future__ import annotations

from collections.abc import Iterable

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from bot.runtime.niceties import Nicety

READER_COMMANDS = (
    BotCommand("start", "Welcome and what this bot does"),
    BotCommand("latest", "The newest article"),
    BotCommand("subscribe", "Get new articles in this chat"),
    BotCommand("unsubscribe", "Stop getting articles here"),
    BotCommand("settings", "Sections, daily or weekly digest, quiet hours, time zone"),
    BotCommand("timezone", "Your time zone: /timezone Europe/Berlin"),
    BotCommand("quiet", "Quiet hours: /quiet 22:30-07:00, or /quiet off"),
    BotCommand("autocards", "Groups: cards for our article links posted here (on/off)"),
    BotCommand("help", "What I can do"),
)
ADMIN_COMMANDS = (
    *READER_COMMANDS,
    BotCommand("publish", "Publish an article: /publish <address>, or reply to a .md file"),
    BotCommand("update", "Correct an article on every copy: /update <article id> [note]"),
    BotCommand("retract", "Withdraw an article from every chat: /retract <article id> [reason]"),
    BotCommand("broadcast", "Message every subscriber: /broadcast <text>, or reply to a message"),
    BotCommand("cancel", "Stop running broadcasts: /cancel, or /cancel <broadcast id>"),
    BotCommand("queue", "What is scheduled, with Cancel buttons"),
    BotCommand("stats", "Subscribers, articles, deliveries and votes"),
    BotCommand("closepoll", "Close a poll: /closepoll <poll id>"),
    BotCommand("results", "A poll's results: /results <poll id>"),
    BotCommand("report", "An article's engagement chart: /report <article id>, or the week"),
    BotCommand("export", "An article's engagement as a CSV file: /export <article id>"),
    BotCommand("share", "An article's deep link and inline card: /share <article id>"),
)


def command_menus(admin_ids: Iterable[int]) -> list[Nicety]:
    """The reader menu and each admin's, set at start in the background (runtime/niceties.py)."""

    async def reader_menu(bot: Bot) -> object:
        return await bot.set_my_commands(READER_COMMANDS, scope=BotCommandScopeDefault())

    def admin_menu(admin_id: int) -> Nicety:
        async def call(bot: Bot) -> object:
            # An admin who never opened a chat with the bot has no chat to scope a menu to yet:
            # Telegram says "chat not found", which is logged and not retried.
            return await bot.set_my_commands(ADMIN_COMMANDS, scope=BotCommandScopeChat(admin_id))

        return Nicety(f"admin menu for {admin_id}", call)

    return [
        Nicety("reader menu", reader_menu),
        *(admin_menu(admin_id) for admin_id in sorted(admin_ids)),
    ]
