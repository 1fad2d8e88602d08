"""Which bots hear about what: turning users' messages and membership changes into updates."""

from __future__ import annotations

from emulator.formatting import entity_text
from emulator.state import BotAccount, Chat, JsonObject, Member, Message, User, World

ADMIN_STATUSES = frozenset({"creator", "administrator"})


def _addressed_to(bot: BotAccount, message: Message) -> bool:
    """Privacy mode lets through commands (bare or /cmd@this_bot) and replies to the bot."""
    if message.reply_to is not None and message.reply_to.bot_id == bot.id:
        return True
    text = message.text or ""
    for entity in message.entities:
        if entity.type != "bot_command":
            continue
        command = entity_text(text, entity)
        _, _, target = command.partition("@")
        if not target or target.lower() == bot.username.lower():
            return True
    return False


def _sees(bot: BotAccount, member: Member, message: Message) -> bool:
    if not bot.privacy_mode or member.status in ADMIN_STATUSES or message.service:
        return True
    return _addressed_to(bot, message)


def audience(world: World, message: Message) -> list[BotAccount]:
    """The bots that receive a user's message (never the bot that sent it)."""
    chat = message.chat
    if chat is None:
        return []
    if chat.type == "private":
        bot = world.bots.get(chat.bot_id or 0)
        return [bot] if bot is not None and message.bot_id is None else []
    bots: list[BotAccount] = []
    for bot, member in world.bots_in(chat):
        if bot.id == message.bot_id:
            continue
        if chat.type == "channel":
            if member.status in ADMIN_STATUSES:
                bots.append(bot)
        elif _sees(bot, member, message):
            bots.append(bot)
    return bots


def deliver_message(world: World, message: Message, *, edited: bool = False) -> None:
    """Queue a new (or edited) message for every bot that sees it."""
    bots = audience(world, message)
    if not bots:
        return
    channel = message.chat is not None and message.chat.type == "channel"
    kind = "channel_post" if channel else "message"
    if edited:
        kind = f"edited_{kind}"
    payload = message.to_api()
    for bot in bots:
        world.enqueue(bot, kind, payload)


def member_change(
    world: World, chat: Chat, *, actor: User, old: Member, new: Member
) -> JsonObject:
    """Queue a ChatMemberUpdated: my_chat_member for the bot concerned, chat_member for admins."""
    payload: JsonObject = {
        "chat": chat.to_api(),
        "from": actor.to_api(),
        "date": world.clock.unix(),
        "old_chat_member": old.to_api(),
        "new_chat_member": new.to_api(),
    }
    subject = new.user
    if chat.type == "private":
        bot = world.bots.get(chat.bot_id or 0)
        if bot is not None:
            world.enqueue(bot, "my_chat_member", payload)
        return payload
    if subject.is_bot and (bot := world.bots.get(subject.id)) is not None:
        world.enqueue(bot, "my_chat_member", payload)
    for bot, member in world.bots_in(chat):
        if bot.user is not subject and member.status in ADMIN_STATUSES:
            world.enqueue(bot, "chat_member", payload)
    return payload
