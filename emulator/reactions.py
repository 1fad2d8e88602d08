"""Reactions on messages: people (and bots, with setMessageReaction) set, change and remove them,
and which bots hear of it, in Telegram's shapes.

A message keeps each reactor's current reactions by user id (`Message.reactions`). A person's
change reaches bots as Telegram sends it: `message_reaction` (the user, old and new reactions)
where reactions are not anonymous: to the bot of a private chat, to admin bots of a group or
supergroup; `message_reaction_count` (the message's full current counts, replacing any before)
where they are anonymous: to admin bots of a channel. Both are opt-in through allowed_updates,
and both are sent at once, never grouped, so tests see them deterministically. Reactions set by
bots are never reported, though they count in the counts sent later.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from emulator.access import ensure_member
from emulator.call import Call, Handler
from emulator.errors import ApiError
from emulator.events import ADMIN_STATUSES
from emulator.state import BotAccount, Chat, JsonObject, Message, User, World

# The emoji Telegram accepts as a ReactionTypeEmoji (Bot API 10.0).
STANDARD_EMOJI = frozenset(
    [
        "❤",
        "👍",
        "👎",
        "🔥",
        "🥰",
        "👏",
        "😁",
        "🤔",
        "🤯",
        "😱",
        "🤬",
        "😢",
        "🎉",
        "🤩",
        "🤮",
        "💩",
        "🙏",
        "👌",
        "🕊",
        "🤡",
        "🥱",
        "🥴",
        "😍",
        "🐳",
        "❤\u200d🔥",
        "🌚",
        "🌭",
        "💯",
        "🤣",
        "⚡",
        "🍌",
        "🏆",
        "💔",
        "🤨",
        "😐",
        "🍓",
        "🍾",
        "💋",
        "🖕",
        "😈",
        "😴",
        "😭",
        "🤓",
        "👻",
        "👨\u200d💻",
        "👀",
        "🎃",
        "🙈",
        "😇",
        "😨",
        "🤝",
        "✍",
        "🤗",
        "🫡",
        "🎅",
        "🎄",
        "☃",
        "💅",
        "🤪",
        "🗿",
        "🆒",
        "💘",
        "🙉",
        "🦄",
        "😘",
        "💊",
        "🙊",
        "😎",
        "👾",
        "🤷\u200d♂",
        "🤷",
        "🤷\u200d♀",
        "😡",
    ]
)
# A Premium user's limit of reactions on one message (paid stars aside).
MAX_REACTIONS = 3
PAID: JsonObject = {"type": "paid"}


def emoji(symbol: str) -> JsonObject:
    """A ReactionTypeEmoji."""
    return {"type": "emoji", "emoji": symbol}


def custom_emoji(custom_emoji_id: str) -> JsonObject:
    """A ReactionTypeCustomEmoji."""
    return {"type": "custom_emoji", "custom_emoji_id": custom_emoji_id}


def reaction_type(value: object) -> JsonObject:
    """One ReactionType as Telegram checks it; a bare string is a standard emoji."""
    if isinstance(value, str):
        value = emoji(value)
    if not isinstance(value, dict):
        raise ApiError.bad_request("REACTION_INVALID")
    kind = value.get("type")
    if kind == "emoji" and value.get("emoji") in STANDARD_EMOJI:
        return emoji(str(value["emoji"]))
    custom_id = value.get("custom_emoji_id")
    if kind == "custom_emoji" and isinstance(custom_id, str) and custom_id.isdigit():
        return custom_emoji(custom_id)
    if kind == "paid":
        return dict(PAID)
    raise ApiError.bad_request("REACTION_INVALID")


def reaction_list(values: Iterable[object]) -> tuple[JsonObject, ...]:
    """A reactor's whole new set of reactions: valid, without repeats, within the limit."""
    chosen: list[JsonObject] = []
    for value in values:
        reaction = reaction_type(value)
        if reaction not in chosen:
            chosen.append(reaction)
    if sum(r["type"] != "paid" for r in chosen) > MAX_REACTIONS:
        raise ApiError.bad_request("REACTIONS_TOO_MANY")
    return tuple(chosen)


def _key(reaction: JsonObject) -> tuple[str, str]:
    return str(reaction["type"]), str(reaction.get("emoji") or reaction.get("custom_emoji_id", ""))


def reaction_counts(message: Message) -> list[JsonObject]:
    """The message's ReactionCount list: every reaction present, most chosen first."""
    totals: Counter[tuple[str, str]] = Counter()
    types: dict[tuple[str, str], JsonObject] = {}
    for reactions in message.reactions.values():
        for reaction in reactions:
            key = _key(reaction)
            totals[key] += 1
            types.setdefault(key, reaction)
    return [
        {"type": dict(types[key]), "total_count": count} for key, count in totals.most_common()
    ]


def _admin_bots(world: World, chat: Chat) -> list[BotAccount]:
    return [bot for bot, member in world.bots_in(chat) if member.status in ADMIN_STATUSES]


def set_reactions(
    world: World, message: Message, reactor: User, reactions: Sequence[object]
) -> bool:
    """Store the reactor's new reactions on the message and tell the bots that would hear of it;
    False when nothing changed (then nothing is sent)."""
    chat = message.chat
    if chat is None or message.deleted:
        raise ApiError.bad_request("message to react not found")
    new = reaction_list(reactions)
    old = message.reactions.get(reactor.id, ())
    if new == old:
        return False
    if new:
        message.reactions[reactor.id] = new
    else:
        message.reactions.pop(reactor.id, None)
    message.reaction_changes += 1
    if not reactor.is_bot:
        _report(world, chat, message=message, reactor=reactor, old=old, new=new)
    world.signal.notify()
    return True


def _report(
    world: World,
    chat: Chat,
    *,
    message: Message,
    reactor: User,
    old: tuple[JsonObject, ...],
    new: tuple[JsonObject, ...],
) -> None:
    date = world.clock.unix()
    if chat.type == "channel":
        # Channel reactions are anonymous: only the counts, which replace the ones before.
        counted: JsonObject = {
            "chat": chat.to_api(),
            "message_id": message.message_id,
            "date": date,
            "reactions": reaction_counts(message),
        }
        for bot in _admin_bots(world, chat):
            world.enqueue(bot, "message_reaction_count", counted)
        return
    changed: JsonObject = {
        "chat": chat.to_api(),
        "message_id": message.message_id,
        "user": reactor.to_api(),
        "date": date,
        "old_reaction": [dict(r) for r in old],
        "new_reaction": [dict(r) for r in new],
    }
    if chat.type == "private":
        owner = world.bots.get(chat.bot_id or 0)
        bots = [owner] if owner is not None else []
    else:
        bots = _admin_bots(world, chat)
    for bot in bots:
        world.enqueue(bot, "message_reaction", changed)


async def set_message_reaction(call: Call) -> object:
    """setMessageReaction: the bot's own reactions on a message, never reported to bots."""
    world, bot = call.world, call.bot
    chat = world.chat_for_bot(bot, call.raw("chat_id"))
    ensure_member(bot, chat)
    message_id = call.integer("message_id")
    message = chat.messages.get(message_id) if message_id is not None else None
    if message is None:
        raise ApiError.bad_request("message to react not found")
    reactions = call.items("reaction") or []
    # Bots cannot pay stars for a reaction.
    if any(isinstance(r, dict) and r.get("type") == "paid" for r in reactions):
        raise ApiError.bad_request("REACTION_INVALID")
    set_reactions(world, message, bot.user, reactions)
    return True


HANDLERS: dict[str, Handler] = {"setMessageReaction": set_message_reaction}
