"""Who may do what where: Telegram's refusals for blocked users, kicked bots and missing rights."""

from __future__ import annotations

from emulator.errors import ApiError
from emulator.limits import FloodControl
from emulator.state import BotAccount, Chat, Member


def ensure_member(bot: BotAccount, chat: Chat) -> Member | None:
    """A bot acting in a group, supergroup or channel must still be in it; its membership."""
    if chat.type == "private":
        return None
    member = chat.member(bot.id)
    if member is None:
        # A chat the bot was never in does not exist for it.
        raise ApiError.bad_request("chat not found")
    if member.status == "kicked":
        raise ApiError.forbidden(f"bot was kicked from the {chat.kind_name}")
    if not member.present:
        raise ApiError.forbidden(f"bot is not a member of the {chat.kind_name}")
    return member


def ensure_can_send(bot: BotAccount, chat: Chat) -> None:
    """Telegram's refusal, if any, for this bot posting (or editing) in this chat."""
    if chat.type == "private":
        if chat.blocked:
            raise ApiError.forbidden("bot was blocked by the user")
        if not chat.started:
            raise ApiError.forbidden("bot can't initiate conversation with a user")
        return
    member = ensure_member(bot, chat)
    if member is None:
        return
    if chat.type == "channel":
        if not member.right("can_post_messages"):
            raise ApiError.bad_request("need administrator rights in the channel chat")
        return
    if member.status == "restricted" and not member.rights.get("can_send_messages", False):
        raise ApiError.bad_request("not enough rights to send text messages to the chat")


def count_send(flood: FloodControl, bot: BotAccount, chat: Chat | None, *, paid: bool) -> None:
    """Count one send or edit toward the rates; inline messages count toward the bot only."""
    if chat is None:
        flood.check(bot_id=bot.id, chat_id=None, chat_kind=None, paid=paid)
    else:
        flood.check(bot_id=bot.id, chat_id=chat.id, chat_kind=chat.type, paid=paid)
