"""Who may do what: bot admins from ADMIN_IDS, and chat administrators as Telegram reports them.

Every bot admin's command is guarded by :func:`admin_command` and every admin button by
:func:`admin_button`: anyone else gets ADMIN_ONLY and the try is logged. A command is answered
in the admin's private chat with the bot, so one sent in a group or channel never shows its
answer (numbers, previews, ids) to readers.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

from telegram import Bot, CallbackQuery, Chat, ChatMember, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.services import BotContext
from bot.telegram.callback_data import CallbackValue, parse
from bot.telegram.command_input import echo
from bot.telegram.errors import UNREACHABLE, classify

log = logging.getLogger(__name__)

ADMIN_ONLY = "This command is for admins."
PRIVATE_ONLY = (
    "Admin commands work in a private chat with me: open @{bot}, press Start, and send it there."
)
ANSWERED_HERE = (
    "You sent {command} in {chat}. I answer admin commands here, where readers don't see them."
)
_CHAT_ADMIN_STATUSES = frozenset({ChatMember.ADMINISTRATOR, ChatMember.OWNER})

Handler: TypeAlias = Callable[[Update, BotContext], Coroutine[Any, Any, None]]
_Value = TypeVar("_Value", bound=CallbackValue)


def _is_bot_admin(update: Update, context: BotContext) -> bool:
    """True for users in ADMIN_IDS; anyone else's attempt is logged."""
    user = update.effective_user
    if context.services.settings.is_admin(user.id if user else None):
        return True
    log.warning(
        "refused admin command from user %s in chat %s",
        user.id if user else "?",
        update.effective_chat.id if update.effective_chat else "?",
    )
    return False


async def is_chat_admin(update: Update, context: BotContext) -> bool:
    """In groups, whether the sender administers the group (anonymous admins post as the chat)."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None:
        return False
    if chat.type in (Chat.PRIVATE, Chat.CHANNEL):
        # A private chat is its own admin; only a channel's admins can post commands in it.
        return True
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat.id
    if (user := update.effective_user) is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError as error:
        log.warning("could not check admin rights in chat %s: %s", chat.id, error)
        return False
    return member.status in _CHAT_ADMIN_STATUSES


@dataclass(frozen=True)
class AdminChat:
    """The bot admin's private chat, where every answer to their command goes."""

    bot: Bot
    chat_id: int

    @property
    def admin_id(self) -> int:
        """The admin's user id: a private chat's id is its user's."""
        return self.chat_id

    async def say(
        self,
        text: str,
        *,
        parse_mode: ParseMode | None = None,
        reply_markup: InlineKeyboardMarkup | None = None,
        disable_web_page_preview: bool | None = None,
    ) -> Message:
        return await self.bot.send_message(
            self.chat_id,
            text,
            parse_mode=parse_mode,
            reply_markup=reply_markup,
            disable_web_page_preview=disable_web_page_preview,
        )


async def _admin_chat(update: Update, context: BotContext) -> AdminChat | None:
    """Where to answer a bot admin's command; None once a refusal has been sent instead.

    Readers get ADMIN_ONLY. A command in a group or channel is answered in the admin's private
    chat, after a note there saying why; when the bot may not write to them there (they never
    pressed Start, or posted anonymously), the group gets PRIVATE_ONLY and nothing is done.
    """
    if (message := update.effective_message) is None:
        return None
    chat = message.chat
    anonymous = message.sender_chat is not None or message.from_user is None
    if chat.type != Chat.PRIVATE and anonymous:
        # A channel post or an anonymous group admin: no user to check, none to write to.
        log.info("admin command posted anonymously in chat %s: pointed to a private chat", chat.id)
        await message.reply_text(PRIVATE_ONLY.format(bot=context.bot.username))
        return None
    if not _is_bot_admin(update, context) or (user := update.effective_user) is None:
        await message.reply_text(ADMIN_ONLY)
        return None
    if chat.type == Chat.PRIVATE:
        return AdminChat(context.bot, chat.id)
    command = (message.text or "/command").split(maxsplit=1)[0].partition("@")[0]
    note = ANSWERED_HERE.format(command=echo(command, 40), chat=echo(chat.title or "a group", 60))
    try:
        # The note comes first: it is also what proves the bot may write to them there.
        await context.bot.send_message(user.id, note)
    except TelegramError as error:
        if classify(error) not in UNREACHABLE:
            raise
        log.info("admin %s sent a command in chat %s but has no private chat", user.id, chat.id)
        await message.reply_text(PRIVATE_ONLY.format(bot=context.bot.username))
        return None
    return AdminChat(context.bot, user.id)


def admin_command(
    handler: Callable[[Update, BotContext, AdminChat], Awaitable[None]],
) -> Handler:
    """A bot admin's command: ``handler`` runs with the chat to answer in, for bot admins only.

    Readers get ADMIN_ONLY, and a command sent in a group is answered in the admin's private
    chat (see :func:`_admin_chat`); when there is nowhere to answer, ``handler`` never runs.
    """

    @functools.wraps(handler)
    async def guarded(update: Update, context: BotContext) -> None:
        if (chat := await _admin_chat(update, context)) is None:
            return
        await handler(update, context, chat)

    return guarded


def admin_button(
    kind: type[_Value],
) -> Callable[[Callable[[CallbackQuery, BotContext, _Value], Awaitable[None]]], Handler]:
    """A bot admin's button carrying a ``kind`` value: the handler runs with the tap and it.

    Anyone else's tap is answered ADMIN_ONLY (the try is logged); a tap whose data is not a
    ``kind`` value is left alone, as the handler's pattern already keeps those away.
    """

    def guard(
        handler: Callable[[CallbackQuery, BotContext, _Value], Awaitable[None]],
    ) -> Handler:
        @functools.wraps(handler)
        async def guarded(update: Update, context: BotContext) -> None:
            query = update.callback_query
            if query is None or query.data is None:
                return
            if not isinstance(value := parse(query.data), kind):
                return
            if not _is_bot_admin(update, context):
                await query.answer(ADMIN_ONLY)
                return
            await handler(query, context, value)

        return guarded

    return guard
