"""Forum supergroups' topics: createForumTopic, closeForumTopic, reopenForumTopic and
deleteForumTopic with Telegram's rights checks, the service messages a topic's life posts
(forum_topic_created, forum_topic_closed, forum_topic_reopened), and which topic a send lands in.

A topic's id (``message_thread_id``) is the id of the message that opened it. Sending with the
id of a topic that is unknown or deleted answers "message thread not found", into a closed one
"TOPIC_CLOSED" unless the sender may manage topics; without an id a send goes to the topic of
the message it replies to, or else the General topic. Outside forums a ``message_thread_id`` is
ignored: the message lands in the chat itself.
Texts the Bot API documents nowhere follow TDLib's (lower-cased, as the Bot API sends them).
"""

from __future__ import annotations

from emulator.access import ensure_member
from emulator.call import Call, Handler
from emulator.errors import ApiError
from emulator.events import deliver_message
from emulator.state import BotAccount, Chat, ForumTopic, JsonObject, Member, Message, User, World

# The colours the Bot API accepts for a topic's icon; the first is the default.
ICON_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)
MAX_NAME_CHARS = 128
THREAD_NOT_FOUND = "message thread not found"
TOPIC_CLOSED = "TOPIC_CLOSED"


def topic_for_send(chat: Chat, sender: Member | None, thread_id: int | None) -> int | None:
    """The topic a message sent with ``thread_id`` lands in (None: the chat or General topic)."""
    if not chat.is_forum or thread_id is None:
        return None
    topic = chat.topics.get(thread_id)
    if topic is None:
        raise ApiError.bad_request(THREAD_NOT_FOUND)
    # Admins who may manage topics still write in closed ones, as in Telegram.
    if topic.closed and not (sender is not None and sender.right("can_manage_topics")):
        raise ApiError.bad_request(TOPIC_CLOSED)
    return topic.thread_id


def topic_service(
    world: World,
    chat: Chat,
    *,
    actor: User,
    service: JsonObject,
    thread_id: int | None = None,
    bot: BotAccount | None = None,
) -> Message:
    """A topic's service message (by a user, or by the bot that called the method), delivered
    to the chat's other bots; without ``thread_id`` it opens a topic of its own id."""
    message_id = chat.next_message_id()
    message = Message(
        message_id=message_id,
        chat=chat,
        date=world.clock.unix(),
        sender=actor,
        text=None,
        entities=[],
        from_bot=bot is not None,
        bot_id=bot.id if bot is not None else None,
        service=service,
        thread_id=message_id if thread_id is None else thread_id,
    )
    chat.messages[message_id] = message
    deliver_message(world, message)
    world.signal.notify()
    return message


def open_topic(
    world: World,
    chat: Chat,
    *,
    name: str,
    creator: User,
    icon_color: int = ICON_COLORS[0],
    icon_custom_emoji_id: str | None = None,
    bot: BotAccount | None = None,
) -> ForumTopic:
    """A new topic in the forum, opened by its forum_topic_created message."""
    created: JsonObject = {"name": name, "icon_color": icon_color}
    if icon_custom_emoji_id is not None:
        created["icon_custom_emoji_id"] = icon_custom_emoji_id
    opening = topic_service(
        world, chat, actor=creator, service={"forum_topic_created": created}, bot=bot
    )
    topic = ForumTopic(
        thread_id=opening.message_id,
        name=name,
        icon_color=icon_color,
        creator=creator,
        icon_custom_emoji_id=icon_custom_emoji_id,
    )
    chat.topics[topic.thread_id] = topic
    return topic


def set_topic_closed(
    world: World,
    chat: Chat,
    topic: ForumTopic,
    *,
    closed: bool,
    actor: User,
    bot: BotAccount | None = None,
) -> None:
    """Close or reopen the topic, with its service message inside it."""
    topic.closed = closed
    service = "forum_topic_closed" if closed else "forum_topic_reopened"
    topic_service(
        world, chat, actor=actor, service={service: {}}, thread_id=topic.thread_id, bot=bot
    )


def remove_topic(world: World, chat: Chat, topic: ForumTopic) -> None:
    """Delete the topic with every message in it; sends to it then find no thread."""
    chat.topics.pop(topic.thread_id, None)
    for message in chat.messages.values():
        if message.thread_id == topic.thread_id:
            message.deleted = True
    world.signal.notify()


# --- the Bot API methods ---------------------------------------------------------------------


def _forum(call: Call) -> tuple[Chat, Member]:
    chat = call.world.chat_for_bot(call.bot, call.raw("chat_id"))
    member = ensure_member(call.bot, chat)
    if member is None or not chat.is_forum:
        raise ApiError.bad_request("the chat is not a forum")
    return chat, member


def _topic(call: Call, chat: Chat) -> ForumTopic:
    thread_id = call.integer("message_thread_id")
    topic = chat.topics.get(thread_id) if thread_id is not None else None
    if topic is None:
        raise ApiError.bad_request("TOPIC_ID_INVALID")
    return topic


async def create_forum_topic(call: Call) -> object:
    chat, member = _forum(call)
    if not member.right("can_manage_topics"):
        raise ApiError.bad_request("not enough rights to create a topic")
    name = (call.string("name") or "").strip()
    if not name:
        raise ApiError.bad_request("title must be non-empty")
    icon_color = call.integer("icon_color")
    if icon_color is not None and icon_color not in ICON_COLORS:
        raise ApiError.bad_request("invalid icon color specified")
    topic = open_topic(
        call.world,
        chat,
        # Telegram cuts a longer name to the limit rather than refusing it.
        name=name[:MAX_NAME_CHARS],
        creator=call.bot.user,
        icon_color=icon_color if icon_color is not None else ICON_COLORS[0],
        icon_custom_emoji_id=call.string("icon_custom_emoji_id"),
        bot=call.bot,
    )
    return topic.to_api()


async def _toggle(call: Call, *, closed: bool) -> object:
    chat, member = _forum(call)
    topic = _topic(call, chat)
    # Documented: the right to manage topics, unless the bot opened this topic itself.
    if not member.right("can_manage_topics") and topic.creator is not call.bot.user:
        raise ApiError.bad_request("not enough rights to close or open the topic")
    if topic.closed == closed:
        raise ApiError.bad_request("TOPIC_NOT_MODIFIED")
    set_topic_closed(call.world, chat, topic, closed=closed, actor=call.bot.user, bot=call.bot)
    return True


async def close_forum_topic(call: Call) -> object:
    return await _toggle(call, closed=True)


async def reopen_forum_topic(call: Call) -> object:
    return await _toggle(call, closed=False)


async def delete_forum_topic(call: Call) -> object:
    chat, member = _forum(call)
    topic = _topic(call, chat)
    if not member.right("can_delete_messages"):
        raise ApiError.bad_request("not enough rights to delete the topic")
    remove_topic(call.world, chat, topic)
    return True


HANDLERS: dict[str, Handler] = {
    "createForumTopic": create_forum_topic,
    "closeForumTopic": close_forum_topic,
    "reopenForumTopic": reopen_forum_topic,
    "deleteForumTopic": delete_forum_topic,
}
